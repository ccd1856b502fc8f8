/* totp.h - two-step sign-in's codes: RFC 6238 time-based one-time codes
 * (liboath: 6 digits, 30-second steps, HMAC-SHA1, as every authenticator
 * app), secrets sealed at rest with the server key, and recovery codes. */
#ifndef CAREBOX_TOTP_H
#define CAREBOX_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TOTP_SECRET_BYTES 20		/* 160 bits, RFC 4226's recommendation */
#define TOTP_BASE32_MAX 40		/* 32 base32 letters, grouped by 4 with spaces */
#define TOTP_SEALED_HEX 200		/* nonce + MAC + secret as hex, with room */
#define TOTP_DIGITS 6
#define TOTP_STEP 30
#define TOTP_RECOVERY_LEN 10		/* letters of a recovery code, printed "xxxxx-xxxxx" */

/* Reads CAREBOX_SECRET_KEY (64 hex digits: 32 random bytes, e.g. from
 * `openssl rand -hex 32`), the key that seals the secrets; it is never in
 * the database. Returns 0, or -1 after logging what is wrong. */
int totp_init(void);

/* Sets the server key from `hex` (totp_init's work, for tests). Returns 0
 * or -1. */
int totp_set_key(const char *hex);

/* A fresh secret in `secret`. */
void totp_new_secret(unsigned char secret[TOTP_SECRET_BYTES]);

/* The secret as base32 (what authenticator apps take), grouped by four
 * letters for typing: "ABCD EFGH ...". */
void totp_base32(const unsigned char secret[TOTP_SECRET_BYTES], char out[TOTP_BASE32_MAX + 1]);

/* The otpauth:// URI an app reads from the QR code, for `account` (an
 * e-mail address) at `issuer` (the clinic's name), URI-escaped, in `out`
 * of `n` bytes. Returns 0, or -1 if it does not fit. */
int totp_uri(const unsigned char secret[TOTP_SECRET_BYTES], const char *issuer,
	     const char *account, char *out, size_t n);

/* Seals `secret` with the server key, bound to `user_id` (a secret moved
 * to another account does not open), as hex in `out`. */
void totp_seal(const unsigned char secret[TOTP_SECRET_BYTES], const char *user_id,
	       char out[TOTP_SEALED_HEX + 1]);

/* Opens what totp_seal() made for `user_id`. Returns 0, or -1 if it does
 * not open (another key, another user, tampered). */
int totp_open(const char *sealed, const char *user_id, unsigned char secret[TOTP_SECRET_BYTES]);

/* Checks `code` (6 digits; spaces ignored) against `secret` at time `now`,
 * allowing one step of clock drift either way. Returns the time step the
 * code belongs to (a step already used must not be taken again), or -1. */
int64_t totp_check(const unsigned char secret[TOTP_SECRET_BYTES], const char *code, time_t now);

/* The code of `secret` at time `now` (tests and the demo). */
void totp_code(const unsigned char secret[TOTP_SECRET_BYTES], time_t now, char out[TOTP_DIGITS + 1]);

/* A fresh recovery code, "xxxxx-xxxxx" of lower-case letters and digits
 * without look-alikes. */
void totp_recovery_code(char out[TOTP_RECOVERY_LEN + 2]);

/* The form of a recovery code as typed (any case, dashes and spaces
 * ignored) that is hashed and compared, in `out`. Returns 0, or -1 if it
 * cannot be one. */
int totp_recovery_normal(const char *typed, char out[TOTP_RECOVERY_LEN + 1]);

#endif
