/* auth.h - passwords (Argon2id), random tokens and constant-time comparison. */
#ifndef CAREBOX_AUTH_H
#define CAREBOX_AUTH_H

#include <sodium.h>

#define TOKEN_HEX 64		/* 32 random bytes as lower-case hex */
#define PASSWORD_MIN 12
#define PASSWORD_MAX 128
#define HASH_MAX crypto_pwhash_STRBYTES

/* Initialises libsodium and reads the hashing cost from the environment:
 * CAREBOX_PWHASH_OPS (passes, default and minimum 2) and
 * CAREBOX_PWHASH_MEM_MB (MiB, default and minimum 19, OWASP's minimum for
 * Argon2id). CAREBOX_PWHASH_TESTING=1 (the test suite's setting, never
 * for real passwords) hashes at libsodium's lowest cost instead; a hash
 * made so is upgraded at the next login of a carebox without it.
 * Returns 0, or -1 if libsodium cannot start. */
int auth_init(void);

/* Writes TOKEN_HEX hex digits of fresh randomness and a NUL to `out`. */
void auth_token(char out[TOKEN_HEX + 1]);

/* 1 if `s` is exactly TOKEN_HEX lower-case hex digits. */
int auth_token_valid(const char *s);

/* Hashes `pw` with Argon2id at the configured cost into `out`. Returns 0,
 * or -1 when out of memory. */
int auth_hash(const char *pw, char out[HASH_MAX]);

/* 1 if `pw` matches the stored `hash`, else 0. With hash NULL (unknown
 * user, or no password set yet) it verifies against a dummy hash so that
 * the answer takes as long, and returns 0. */
int auth_verify(const char *hash, const char *pw);

/* 1 if `hash` was made with another cost than the configured one. */
int auth_needs_rehash(const char *hash);

/* Constant-time equality of two NUL-terminated strings (the lengths are
 * not secret). NULLs are never equal. */
int auth_equal(const char *a, const char *b);

/* Why `pw` is not an acceptable password for this person, as a sentence
 * for the form; NULL if it is. Length is counted in characters. */
const char *auth_password_problem(const char *pw, const char *email,
				  const char *first, const char *last);

#endif
