/* test_totp.c - RFC 6238's test vectors, drift, sealing, recovery codes. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "totp.h"

/* RFC 6238 appendix B: the SHA-1 secret and, per time, the 8-digit code,
 * of which an authenticator app shows the last 6. */
static const unsigned char rfc_secret[TOTP_SECRET_BYTES] = "12345678901234567890";
static const struct { time_t t; const char *code; } rfc[] = {
	{ 59, "94287082" }, { 1111111109, "07081804" }, { 1111111111, "14050471" },
	{ 1234567890, "89005924" }, { 2000000000, "69279037" }, { 20000000000, "65353130" },
};

static void test_vectors(void)
{
	for (size_t i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		char code[TOTP_DIGITS + 1];
		const char *six = rfc[i].code + 2;

		totp_code(rfc_secret, rfc[i].t, code);
		is_str(code, six, "RFC 6238 at %lld", (long long)rfc[i].t);
		ok(totp_check(rfc_secret, six, rfc[i].t) == rfc[i].t / TOTP_STEP,
		   "its code is accepted, as step %lld", (long long)(rfc[i].t / TOTP_STEP));
	}
}

static void test_check(void)
{
	time_t now = 1234567890;
	char before[TOTP_DIGITS + 1], after[TOTP_DIGITS + 1], far[TOTP_DIGITS + 1], spaced[16];

	totp_code(rfc_secret, now - TOTP_STEP, before);
	totp_code(rfc_secret, now + TOTP_STEP, after);
	totp_code(rfc_secret, now - 2 * TOTP_STEP, far);
	ok(totp_check(rfc_secret, before, now) == now / TOTP_STEP - 1, "one step slow is accepted, as its own step");
	ok(totp_check(rfc_secret, after, now) == now / TOTP_STEP + 1, "one step fast is accepted");
	ok(totp_check(rfc_secret, far, now) == -1, "two steps off is refused");
	snprintf(spaced, sizeof(spaced), "%.3s %s", "005924", "005924" + 3);
	ok(totp_check(rfc_secret, spaced, now) == now / TOTP_STEP, "a space in the code is fine");
	ok(totp_check(rfc_secret, "00592", now) == -1, "five digits are refused");
	ok(totp_check(rfc_secret, "0059245", now) == -1, "seven digits are refused");
	ok(totp_check(rfc_secret, "00592a", now) == -1, "a letter is refused");
	ok(totp_check(rfc_secret, "", now) == -1 && totp_check(rfc_secret, NULL, now) == -1, "nothing is refused");
}

static void test_text(void)
{
	char b32[TOTP_BASE32_MAX + 1], uri[300];

	totp_base32(rfc_secret, b32);
	is_str(b32, "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", "base32, grouped by four");
	ok(totp_uri(rfc_secret, "Demo Clinic & Co", "ann@example.org", uri, sizeof(uri)) == 0, "the URI fits");
	is_str(uri, "otpauth://totp/Demo%20Clinic%20%26%20Co:ann%40example.org?secret="
	       "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Demo%20Clinic%20%26%20Co"
	       "&algorithm=SHA1&digits=6&period=30", "the otpauth URI, escaped");
	ok(totp_uri(rfc_secret, "Clinic", "ann@example.org", uri, 40) == -1, "a URI that does not fit is refused");
}

static void test_seal(void)
{
	unsigned char secret[TOTP_SECRET_BYTES], back[TOTP_SECRET_BYTES];
	char sealed[TOTP_SEALED_HEX + 1], again[TOTP_SEALED_HEX + 1];
	const char *ann = "0b9c7a52-7f3e-4a57-9d25-1f0c0b3f6a11", *bob = "5f1a0d9e-2c44-4b8e-8d36-0a7e9b1c2d33";

	totp_new_secret(secret);
	totp_seal(secret, ann, sealed);
	totp_seal(secret, ann, again);
	ok(strcmp(sealed, again) != 0, "each seal has a fresh nonce");
	{
		char hex[2 * TOTP_SECRET_BYTES + 1];

		sodium_bin2hex(hex, sizeof(hex), secret, sizeof(secret));
		ok(strstr(sealed, hex) == NULL, "the sealed text does not hold the secret");
	}
	ok(totp_open(sealed, ann, back) == 0 && memcmp(back, secret, sizeof(secret)) == 0, "it opens for its user");
	ok(totp_open(sealed, bob, back) == -1, "not for another user");
	sealed[10] = sealed[10] == 'a' ? 'b' : 'a';
	ok(totp_open(sealed, ann, back) == -1, "not when tampered with");
	ok(totp_open("abc", ann, back) == -1, "nor when malformed");
	ok(totp_set_key("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff") == 0, "another key");
	ok(totp_open(again, ann, back) == -1, "a secret sealed with another key does not open");
	ok(totp_set_key("short") == -1, "a key must be 64 hex digits");
}

static void test_recovery(void)
{
	char code[TOTP_RECOVERY_LEN + 2], other[TOTP_RECOVERY_LEN + 2], norm[TOTP_RECOVERY_LEN + 1];

	totp_recovery_code(code);
	totp_recovery_code(other);
	ok(strlen(code) == TOTP_RECOVERY_LEN + 1 && code[5] == '-', "xxxxx-xxxxx: %s", code);
	ok(strcmp(code, other) != 0, "each is new");
	ok(totp_recovery_normal(code, norm) == 0 && strlen(norm) == TOTP_RECOVERY_LEN, "it reads back");
	ok(totp_recovery_normal("ABCDE EFGHJ", norm) == 0 && strcmp(norm, "abcdeefghj") == 0,
	   "typed in capitals with a space");
	ok(totp_recovery_normal("abcde-fghj", norm) == -1, "nine letters are refused");
	ok(totp_recovery_normal("abcde-fghjl", norm) == -1, "a look-alike letter is refused");
}

int main(void)
{
	if (totp_set_key("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100") < 0)
		return 1;
	test_vectors();
	test_check();
	test_text();
	test_seal();
	test_recovery();
	return tap_done();
}
