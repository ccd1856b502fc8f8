/* test_parse.c - the form, query and cookie parsers against hostile input. */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "http_parse.h"
#include "tap.h"

static struct arena *A;

/* Parses `s` as urlencoded; returns the error (NULL if none). */
static const char *form(const char *s, size_t len, struct kvlist *out)
{
	return http_parse_urlencoded(A, s, len, out);
}

static void test_plain_forms(void)
{
	struct kvlist l;

	ok(form("a=1&b=two+words&c=%C3%A9t%C3%A9", 31, &l) == NULL && l.n == 3,
	   "a simple form parses into three fields");
	is_str(kv_get(&l, "b"), "two words", "'+' decodes to a space");
	is_str(kv_get(&l, "c"), "été", "percent-encoded UTF-8 decodes");
	ok(form("", 0, &l) == NULL && l.n == 0, "an empty body has no fields");
	ok(form("a=1&&b=2&", 9, &l) == NULL && l.n == 2, "empty pairs are skipped");
	ok(form("flag&x=", 7, &l) == NULL && l.n == 2 && strcmp(kv_get(&l, "flag"), "") == 0 &&
	   l.items[1].val_len == 0, "a key without '=' or value is an empty value");
	ok(form("k=1&k=2&k=3", 11, &l) == NULL && l.n == 3, "repeated keys are all kept");
	is_str(kv_get(&l, "k"), "1", "kv_get returns the first of repeated keys");
	ok(form("=v", 2, &l) == NULL && l.n == 1 && l.items[0].key_len == 0,
	   "an empty key is kept (handlers ignore it)");
	ok(form("a=%0D%0Aline", 12, &l) == NULL && strcmp(kv_get(&l, "a"), "\r\nline") == 0,
	   "CR LF in a textarea survives");
	ok(kv_get(&l, "missing") == NULL, "an absent key is NULL");
}

static void test_hostile_forms(void)
{
	struct kvlist l;
	static const char *bad[] = {
		"a=%", "a=%4", "a=%G1", "a=%4g", "a%=1", "a=%%41",
		"a=%00", "a%00b=1", "a=%C3", "a=%C3%28", "a=%C0%AF",
		"a=%ED%A0%80", "a=%F4%90%80%80", "a=%FF", "a=\xff",
	};
	char *big;
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = form(bad[i], strlen(bad[i]), &l);

		ok(err != NULL && l.n == 0, "refused: \"%s\" (%s)", bad[i], err ? err : "accepted");
	}
	ok(form("a=1\0b=2", 7, &l) != NULL && l.n == 0, "a raw NUL byte in the body is refused");
	ok(form("a=x%00", 6, &l) != NULL, "an encoded NUL is refused");

	/* Huge fields and field counts. */
	n = FORM_MAX_VALUE + 10;
	big = malloc(n + 3);
	memcpy(big, "v=", 2);
	memset(big + 2, 'x', n);
	ok(form(big, n + 2, &l) != NULL && l.n == 0, "a value over the limit is refused");
	ok(form(big, FORM_MAX_VALUE + 2, &l) == NULL && l.items[0].val_len == FORM_MAX_VALUE,
	   "a value exactly at the limit is accepted");
	memset(big, 'k', FORM_MAX_KEY + 1);
	big[FORM_MAX_KEY + 1] = '=';
	ok(form(big, FORM_MAX_KEY + 2, &l) != NULL, "a key over the limit is refused");
	free(big);

	n = (FORM_MAX_FIELDS + 1) * 4;
	big = malloc(n);
	for (size_t i = 0; i < FORM_MAX_FIELDS + 1; i++)
		memcpy(big + i * 4, "a=1&", 4);
	ok(form(big, n - 1, &l) != NULL, "more than %d fields are refused", FORM_MAX_FIELDS);
	ok(form(big, FORM_MAX_FIELDS * 4 - 1, &l) == NULL && l.n == FORM_MAX_FIELDS,
	   "exactly %d fields are accepted", FORM_MAX_FIELDS);
	free(big);
}

static void test_cookies(void)
{
	struct kvlist l;
	char *big;
	const char *hdr;

	hdr = "sid=abc123; theme=dark;  lang=en ";
	http_parse_cookies(A, hdr, strlen(hdr), &l);
	ok(l.n == 3, "three cookies parse");
	is_str(kv_get(&l, "sid"), "abc123", "first cookie value");
	is_str(kv_get(&l, "lang"), "en", "spaces around a cookie are trimmed");

	hdr = "junk; =novalue; a=\"quoted\"; b=ok; c=x y; d=\x01; e=";
	http_parse_cookies(A, hdr, strlen(hdr), &l);
	is_str(kv_get(&l, "b"), "ok", "a good cookie survives junk around it");
	ok(kv_get(&l, "a") == NULL && kv_get(&l, "c") == NULL && kv_get(&l, "d") == NULL,
	   "malformed cookies are skipped");
	is_str(kv_get(&l, "e"), "", "an empty cookie value is kept");

	big = malloc(COOKIE_MAX_VALUE + 100);
	strcpy(big, "huge=");
	memset(big + 5, 'x', COOKIE_MAX_VALUE + 1);
	strcpy(big + 5 + COOKIE_MAX_VALUE + 1, "; sid=s");
	http_parse_cookies(A, big, strlen(big), &l);
	ok(kv_get(&l, "huge") == NULL, "an overlong cookie is skipped");
	is_str(kv_get(&l, "sid"), "s", "the cookie after an overlong one still parses");
	free(big);

	big = malloc(20 * (COOKIE_MAX_COUNT + 10));
	big[0] = '\0';
	for (int i = 0; i < COOKIE_MAX_COUNT + 10; i++)
		sprintf(big + strlen(big), "c%d=v; ", i);
	http_parse_cookies(A, big, strlen(big), &l);
	ok(l.n == COOKIE_MAX_COUNT, "at most %d cookies are kept", COOKIE_MAX_COUNT);
	free(big);

	http_parse_cookies(A, "a=1\0b=2", 7, &l);
	ok(l.n == 0, "a cookie holding a NUL byte is skipped");
	http_parse_cookies(A, "", 0, &l);
	ok(l.n == 0, "no cookie header, no cookies");
}

static void test_validators(void)
{
	ok(utf8_valid("plain ascii", 11), "ASCII is UTF-8");
	ok(utf8_valid("\xe2\x82\xac \xf0\x9f\x98\x80", 8), "euro sign and emoji are UTF-8");
	ok(!utf8_valid("\xe2\x82", 2), "a truncated sequence is not");
	ok(!utf8_valid("\xc1\xbf", 2), "an overlong form is not");
	ok(!utf8_valid("\xed\xa0\x80", 3), "a surrogate is not");
	ok(uuid_valid("0f8fad5b-d9cb-469f-a165-70867728950e", 36), "a UUID is valid");
	ok(!uuid_valid("0f8fad5b-d9cb-469f-a165-70867728950", 35), "a short UUID is not");
	ok(!uuid_valid("0f8fad5b-d9cb-469f-a165_70867728950e", 36), "a misplaced dash is not");
	ok(!uuid_valid("0f8fad5b-d9cb-469f-a165-70867728950g", 36), "a non-hex digit is not");
}

int main(void)
{
	A = arena_new(4096);
	test_plain_forms();
	test_hostile_forms();
	test_cookies();
	test_validators();
	arena_free(A);
	return tap_done();
}
