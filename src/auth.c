/* auth.c - passwords (Argon2id via libsodium), random tokens, comparisons. */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pwquality.h>

#include "http_parse.h"
#include "log.h"

#define OPS_MIN 2
#define MEM_MIN_MB 19

static unsigned long long auth_ops = OPS_MIN;
static size_t auth_mem = (size_t)MEM_MIN_MB << 20;
static char auth_dummy[HASH_MAX];

/* Reads a whole-number setting, no smaller than `min`. */
static long setting(const char *name, long min)
{
	const char *v = getenv(name);
	long n = v ? strtol(v, NULL, 10) : min;

	if (n < min) {
		log_msg("%s below the minimum; using %ld", name, min);
		n = min;
	}
	return n;
}

int auth_init(void)
{
	if (sodium_init() < 0)
		return -1;
	auth_ops = (unsigned long long)setting("CAREBOX_PWHASH_OPS", OPS_MIN);
	auth_mem = (size_t)setting("CAREBOX_PWHASH_MEM_MB", MEM_MIN_MB) << 20;
	/* The test suite's stack logs in hundreds of times: at the real cost
	 * (150 ms a hash on a small machine) that alone would take a minute. */
	if (getenv("CAREBOX_PWHASH_TESTING") && strcmp(getenv("CAREBOX_PWHASH_TESTING"), "1") == 0) {
		auth_ops = crypto_pwhash_OPSLIMIT_MIN;
		auth_mem = crypto_pwhash_MEMLIMIT_MIN;
		log_msg("CAREBOX_PWHASH_TESTING=1: passwords are hashed at the lowest cost, for tests only");
	}
	auth_dummy[0] = '\0';
	return 0;
}

void auth_token(char out[TOKEN_HEX + 1])
{
	unsigned char raw[TOKEN_HEX / 2];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, TOKEN_HEX + 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}

int auth_token_valid(const char *s)
{
	return s && strlen(s) == TOKEN_HEX && strspn(s, "0123456789abcdef") == TOKEN_HEX;
}

int auth_hash(const char *pw, char out[HASH_MAX])
{
	return crypto_pwhash_str(out, pw, strlen(pw), auth_ops, auth_mem) == 0 ? 0 : -1;
}

int auth_verify(const char *hash, const char *pw)
{
	if (hash == NULL || *hash == '\0') {
		/* Made once per worker, on the first unknown e-mail. */
		if (auth_dummy[0] == '\0' && auth_hash("carebox dummy password", auth_dummy) < 0)
			return 0;
		if (crypto_pwhash_str_verify(auth_dummy, pw, strlen(pw)) == 0)
			log_msg("the dummy password was guessed");
		return 0;
	}
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

int auth_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, auth_ops, auth_mem) != 0;
}

int auth_equal(const char *a, const char *b)
{
	size_t n;

	if (a == NULL || b == NULL || (n = strlen(a)) != strlen(b))
		return 0;
	return n == 0 || sodium_memcmp(a, b, n) == 0;
}

/* The common and trivial passwords libpwquality knows (a dictionary word,
 * a keyboard row, "111111111111", "password1234"): why `pw` is one, as a
 * sentence for the form, or NULL. Its settings are ours, not the host's
 * /etc/security/pwquality.conf, so that every host refuses the same. */
static const char *password_quality(const char *pw)
{
	static pwquality_settings_t *pwq;
	static char why[PWQ_MAX_ERROR_MESSAGE_LEN + 64];
	void *aux = NULL;
	int score;

	if (pwq == NULL) {
		pwq = pwquality_default_settings();
		if (pwq == NULL)
			return "Passwords cannot be checked just now: please try again.";
		pwquality_set_int_value(pwq, PWQ_SETTING_MIN_LENGTH, PASSWORD_MIN);
		pwquality_set_int_value(pwq, PWQ_SETTING_MAX_REPEAT, 3);
		pwquality_set_int_value(pwq, PWQ_SETTING_MAX_SEQUENCE, 3);
		pwquality_set_int_value(pwq, PWQ_SETTING_DICT_CHECK, 1);
	}
	score = pwquality_check(pwq, pw, NULL, NULL, &aux);
	if (score >= 0)
		return NULL;
	switch (score) {
	case PWQ_ERROR_MAX_CONSECUTIVE:
		return "This password repeats a character too often in a row: choose one "
		       "that is harder to guess.";
	case PWQ_ERROR_MAX_SEQUENCE:
		return "This password contains a run like 1234 or abcd: choose one that is "
		       "harder to guess.";
	case PWQ_ERROR_PALINDROME:
		return "This password reads the same backwards: choose one that is harder "
		       "to guess.";
	case PWQ_ERROR_CRACKLIB_CHECK:
		snprintf(why, sizeof(why), "This password is too common or too simple (%s): "
			 "choose one that is harder to guess.",
			 aux ? (const char *)aux : "a word or pattern every attacker tries");
		return why;
	default:
		pwquality_strerror(why, sizeof(why), score, aux);
		return why;
	}
}

const char *auth_password_problem(const char *pw, const char *email,
				  const char *first, const char *last)
{
	size_t n = pw ? utf8_chars(pw) : 0;

	if (n < PASSWORD_MIN)
		return "Use at least 12 characters.";
	if (n > PASSWORD_MAX)
		return "Use at most 128 characters.";
	if ((email && strcasecmp(pw, email) == 0) ||
	    (first && *first && strcasecmp(pw, first) == 0) ||
	    (last && *last && strcasecmp(pw, last) == 0))
		return "Do not use your e-mail address or your name as the password.";
	if (first && last && *first && *last) {
		size_t f = strlen(first);

		if (strncasecmp(pw, first, f) == 0 &&
		    (strcasecmp(pw + f, last) == 0 ||
		     (pw[f] == ' ' && strcasecmp(pw + f + 1, last) == 0)))
			return "Do not use your e-mail address or your name as the password.";
	}
	return password_quality(pw);
}
