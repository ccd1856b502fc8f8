/* totp.c - two-step sign-in's codes (totp.h). */
#include "totp.h"

#include <ctype.h>
#include <liboath/oath.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static unsigned char server_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
static int have_key;

/* Recovery codes: lower-case letters and digits people do not confuse. */
static const char recovery_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

int totp_set_key(const char *hex)
{
	size_t n = 0;

	if (oath_init() != OATH_OK)
		return -1;
	if (hex == NULL || strlen(hex) != 2 * sizeof(server_key) ||
	    sodium_hex2bin(server_key, sizeof(server_key), hex, strlen(hex), NULL, &n, NULL) != 0 ||
	    n != sizeof(server_key))
		return -1;
	have_key = 1;
	return 0;
}

int totp_init(void)
{
	if (totp_set_key(getenv("CAREBOX_SECRET_KEY")) == 0)
		return 0;
	log_msg("CAREBOX_SECRET_KEY must be 64 hex digits (32 random bytes: "
		"openssl rand -hex 32); it seals the two-step secrets");
	return -1;
}

void totp_new_secret(unsigned char secret[TOTP_SECRET_BYTES])
{
	randombytes_buf(secret, TOTP_SECRET_BYTES);
}

void totp_base32(const unsigned char secret[TOTP_SECRET_BYTES], char out[TOTP_BASE32_MAX + 1])
{
	char *b32 = NULL;
	size_t n = 0, o = 0;

	out[0] = '\0';
	if (oath_base32_encode((const char *)secret, TOTP_SECRET_BYTES, &b32, &n) != OATH_OK)
		return;
	for (size_t i = 0; i < n && b32[i] != '=' && o < TOTP_BASE32_MAX; i++) {
		if (i && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = b32[i];
	}
	out[o] = '\0';
	sodium_memzero(b32, n);
	free(b32);
}

/* Appends `s` percent-encoded (all but RFC 3986's unreserved characters)
 * to `out` at *o, of `n` bytes. Returns 0, or -1 if it does not fit. */
static int put_escaped(char *out, size_t n, size_t *o, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c)) {
			if (*o + 1 >= n)
				return -1;
			out[(*o)++] = (char)c;
		} else {
			if (*o + 3 >= n)
				return -1;
			*o += (size_t)snprintf(out + *o, 4, "%%%02X", c);
		}
	}
	out[*o] = '\0';
	return 0;
}

/* Appends the plain string `s` to `out` at *o. Returns 0 or -1. */
static int put_plain(char *out, size_t n, size_t *o, const char *s)
{
	size_t len = strlen(s);

	if (*o + len >= n)
		return -1;
	memcpy(out + *o, s, len + 1);
	*o += len;
	return 0;
}

int totp_uri(const unsigned char secret[TOTP_SECRET_BYTES], const char *issuer,
	     const char *account, char *out, size_t n)
{
	char b32[TOTP_BASE32_MAX + 1], plain[TOTP_BASE32_MAX + 1];
	size_t o = 0, p = 0;
	int rc;

	totp_base32(secret, b32);
	for (const char *c = b32; *c; c++)
		if (*c != ' ')
			plain[p++] = *c;
	plain[p] = '\0';
	rc = put_plain(out, n, &o, "otpauth://totp/") || put_escaped(out, n, &o, issuer) ||
	     put_plain(out, n, &o, ":") || put_escaped(out, n, &o, account) ||
	     put_plain(out, n, &o, "?secret=") || put_plain(out, n, &o, plain) ||
	     put_plain(out, n, &o, "&issuer=") || put_escaped(out, n, &o, issuer) ||
	     put_plain(out, n, &o, "&algorithm=SHA1&digits=6&period=30");
	sodium_memzero(b32, sizeof(b32));
	sodium_memzero(plain, sizeof(plain));
	return rc ? -1 : 0;
}

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEALED (NONCE + TOTP_SECRET_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)

void totp_seal(const unsigned char secret[TOTP_SECRET_BYTES], const char *user_id,
	       char out[TOTP_SEALED_HEX + 1])
{
	unsigned char box[SEALED];
	unsigned long long len = 0;

	randombytes_buf(box, NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(box + NONCE, &len, secret, TOTP_SECRET_BYTES,
		(const unsigned char *)user_id, strlen(user_id), NULL, box, server_key);
	sodium_bin2hex(out, TOTP_SEALED_HEX + 1, box, NONCE + (size_t)len);
}

int totp_open(const char *sealed, const char *user_id, unsigned char secret[TOTP_SECRET_BYTES])
{
	unsigned char box[SEALED];
	unsigned long long len = 0;
	size_t n = 0;

	if (!have_key || sealed == NULL || strlen(sealed) != 2 * SEALED ||
	    sodium_hex2bin(box, sizeof(box), sealed, strlen(sealed), NULL, &n, NULL) != 0 ||
	    n != SEALED)
		return -1;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, &len, NULL, box + NONCE, SEALED - NONCE,
		(const unsigned char *)user_id, strlen(user_id), box, server_key) != 0 ||
	    len != TOTP_SECRET_BYTES)
		return -1;
	return 0;
}

int64_t totp_check(const unsigned char secret[TOTP_SECRET_BYTES], const char *code, time_t now)
{
	char digits[TOTP_DIGITS + 1];
	size_t n = 0;
	int pos = 0;
	uint64_t counter = 0;

	for (; code && *code; code++) {
		if (*code == ' ')
			continue;
		if (!isdigit((unsigned char)*code) || n == TOTP_DIGITS)
			return -1;
		digits[n++] = *code;
	}
	digits[n] = '\0';
	if (n != TOTP_DIGITS)
		return -1;
	if (oath_totp_validate3((const char *)secret, TOTP_SECRET_BYTES, now, TOTP_STEP, 0, 1,
				&pos, &counter, digits) < 0)
		return -1;
	return (int64_t)counter;
}

void totp_code(const unsigned char secret[TOTP_SECRET_BYTES], time_t now, char out[TOTP_DIGITS + 1])
{
	if (oath_totp_generate((const char *)secret, TOTP_SECRET_BYTES, now, TOTP_STEP, 0,
			       TOTP_DIGITS, out) != OATH_OK)
		out[0] = '\0';
}

void totp_recovery_code(char out[TOTP_RECOVERY_LEN + 2])
{
	size_t o = 0;

	for (int i = 0; i < TOTP_RECOVERY_LEN; i++) {
		if (i == TOTP_RECOVERY_LEN / 2)
			out[o++] = '-';
		out[o++] = recovery_alphabet[randombytes_uniform(sizeof(recovery_alphabet) - 1)];
	}
	out[o] = '\0';
}

int totp_recovery_normal(const char *typed, char out[TOTP_RECOVERY_LEN + 1])
{
	size_t n = 0;

	for (; typed && *typed; typed++) {
		char c = (char)tolower((unsigned char)*typed);

		if (c == '-' || c == ' ')
			continue;
		if (!strchr(recovery_alphabet, c) || n == TOTP_RECOVERY_LEN)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return n == TOTP_RECOVERY_LEN ? 0 : -1;
}
