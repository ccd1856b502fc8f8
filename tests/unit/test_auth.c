/* test_auth.c - tokens, password hashing and policy, constant-time compare. */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "form.h"
#include "tap.h"

static void test_tokens(void)
{
	char a[TOKEN_HEX + 1], b[TOKEN_HEX + 1];

	auth_token(a);
	auth_token(b);
	ok(strlen(a) == TOKEN_HEX && auth_token_valid(a), "a token is 64 hex digits");
	ok(strcmp(a, b) != 0, "two tokens differ");
	ok(!auth_token_valid("abc"), "a short token is invalid");
	ok(!auth_token_valid(NULL), "no token is invalid");
	b[10] = 'G';
	ok(!auth_token_valid(b), "a non-hex digit makes a token invalid");
	a[5] = 'A';
	ok(!auth_token_valid(a), "upper-case hex is not what we issue");
}

static void test_equal(void)
{
	ok(auth_equal("secret-token", "secret-token"), "equal strings compare equal");
	ok(!auth_equal("secret-token", "secret-tokem"), "a different last byte differs");
	ok(!auth_equal("secret", "secret-token"), "a prefix differs");
	ok(!auth_equal(NULL, "x") && !auth_equal("x", NULL), "NULL never matches");
}

static void test_hashing(void)
{
	char hash[HASH_MAX];

	ok(auth_hash("correct horse battery staple", hash) == 0, "hashing works");
	ok(strncmp(hash, "$argon2id$", 10) == 0, "the hash is Argon2id");
	ok(strstr(hash, "m=19456") != NULL && strstr(hash, "t=2") != NULL,
	   "the cost is OWASP's minimum: 19 MiB, 2 passes (%s)", hash);
	ok(strstr(hash, "correct horse") == NULL, "the password is not in the hash");
	ok(auth_verify(hash, "correct horse battery staple"), "the right password verifies");
	ok(!auth_verify(hash, "correct horse battery stapler"), "a wrong password does not");
	ok(!auth_verify(NULL, "anything at all"), "no hash (unknown user) never verifies");
	ok(!auth_needs_rehash(hash), "a fresh hash needs no rehash");
	setenv("CAREBOX_PWHASH_OPS", "3", 1);
	auth_init();
	ok(auth_needs_rehash(hash), "a hash of an older cost needs a rehash");
	setenv("CAREBOX_PWHASH_OPS", "1", 1);
	auth_init();
	ok(auth_hash("correct horse battery staple", hash) == 0 && strstr(hash, "t=2") != NULL,
	   "a cost below the minimum is raised to it");
	unsetenv("CAREBOX_PWHASH_OPS");
	setenv("CAREBOX_PWHASH_TESTING", "yes", 1);
	auth_init();
	ok(auth_hash("correct horse battery staple", hash) == 0 && strstr(hash, "m=19456") != NULL,
	   "the test setting takes effect only as CAREBOX_PWHASH_TESTING=1");
	setenv("CAREBOX_PWHASH_TESTING", "1", 1);
	auth_init();
	ok(auth_hash("correct horse battery staple", hash) == 0 && strstr(hash, "m=8,t=1,") != NULL,
	   "CAREBOX_PWHASH_TESTING=1 hashes at the lowest cost (%s)", hash);
	ok(auth_verify(hash, "correct horse battery staple"), "and such a hash verifies");
	unsetenv("CAREBOX_PWHASH_TESTING");
	auth_init();
	ok(auth_needs_rehash(hash), "without the setting, it is upgraded at the next login");
}

static void test_policy(void)
{
	ok(auth_password_problem("short", NULL, NULL, NULL) != NULL, "5 characters are too few");
	ok(auth_password_problem("elevenchars", NULL, NULL, NULL) != NULL, "11 are too few");
	ok(auth_password_problem("twelve chars", NULL, NULL, NULL) == NULL, "12 are enough");
	ok(auth_password_problem("ééééééééééé", NULL, NULL, NULL) != NULL,
	   "length counts characters, not bytes (11 é are 22 bytes)");
	{
		char big[200];

		/* Words of a passphrase, not one letter repeated (refused below). */
		for (int i = 0; i < 129; i++)
			big[i] = "tea with milk and honey "[i % 24];
		big[129] = '\0';
		ok(auth_password_problem(big, NULL, NULL, NULL) != NULL, "129 are too many");
		big[128] = '\0';
		ok(auth_password_problem(big, NULL, NULL, NULL) == NULL, "128 are accepted");
	}
	ok(auth_password_problem("Maria.Example@clinic.test", "maria.example@clinic.test", "Maria", "Example") != NULL,
	   "the user's own e-mail is refused, whatever the case");
	ok(auth_password_problem("Bartholomew1", "b@x.test", "Bartholomew1", "Smith") != NULL,
	   "the first name is refused");
	ok(auth_password_problem("MariaExamplesson", "m@x.test", "Maria", "Examplesson") != NULL,
	   "first and last name together are refused");
	ok(auth_password_problem("Maria Examplesson", "m@x.test", "Maria", "Examplesson") != NULL,
	   "first and last name with a space are refused");
	ok(auth_password_problem("Maria likes tea a lot", "m@x.test", "Maria", "Examplesson") == NULL,
	   "a password merely containing the name is fine");
	/* The common and trivial ones (libpwquality), each with its reason. */
	{
		static const struct { const char *pw, *why; } weak[] = {
			{ "111111111111", "reads the same backwards" },
			{ "aaaa1111bbbb", "repeats a character" },
			{ "password1234", "run like 1234" },
			{ "qwerty123456", "run like 1234" },
			{ "administrator", "too common or too simple" },
			{ "12121212121212", "too common or too simple" },
		};

		for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
			const char *why = auth_password_problem(weak[i].pw, NULL, NULL, NULL);

			ok(why && strstr(why, weak[i].why), "%s is refused: %s", weak[i].pw,
			   why ? why : "(accepted)");
		}
	}
	ok(auth_password_problem("a long enough password", NULL, NULL, NULL) == NULL,
	   "a passphrase is fine");
	ok(auth_password_problem("Cedar bread 42 lamp", NULL, NULL, NULL) == NULL,
	   "words and a number are fine");
}

static void test_email(void)
{
	ok(form_email_problem("someone@clinic.example") == NULL, "a normal address is fine");
	ok(form_email_problem("") != NULL, "an empty address is refused");
	ok(form_email_problem("no-at-sign.example") != NULL, "an address without @ is refused");
	ok(form_email_problem("a@b@c.example") != NULL, "two @ are refused");
	ok(form_email_problem("a b@c.example") != NULL, "a space is refused");
	ok(form_email_problem("a@localhost") != NULL, "a domain without a dot is refused");
	ok(form_email_problem("@c.example") != NULL, "an empty local part is refused");
}

int main(void)
{
	if (auth_init() < 0)
		return 1;
	test_tokens();
	test_equal();
	test_hashing();
	test_policy();
	test_email();
	return tap_done();
}
