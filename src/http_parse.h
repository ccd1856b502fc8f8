/* http_parse.h - parsers for untrusted request bytes: forms, queries, cookies. */
#ifndef CAREBOX_HTTP_PARSE_H
#define CAREBOX_HTTP_PARSE_H

#include <stddef.h>

#include "arena.h"

/* Limits on what a request may carry; past them the request gets a 400. */
#define FORM_MAX_FIELDS 256
#define FORM_MAX_KEY 128
#define FORM_MAX_VALUE (256 * 1024)
#define COOKIE_MAX_COUNT 50
#define COOKIE_MAX_VALUE 4096

/* One decoded name=value pair. Both are NUL-terminated arena strings; the
 * lengths are kept too because a value may legitimately be empty. */
struct kv {
	const char *key;
	const char *val;
	size_t key_len;
	size_t val_len;
};

struct kvlist {
	struct kv *items;
	size_t n;
};

/* Parses an application/x-www-form-urlencoded string (a query string or a
 * form body) of `len` bytes into `out`, in the arena. '+' is a space, %XX a
 * byte. Repeated keys are all kept, in order. Returns NULL on success or a
 * static message fit to show the user: malformed percent-encoding, NUL
 * bytes, invalid UTF-8, too many fields, a key or value over the limits. On
 * error `out` is empty. */
const char *http_parse_urlencoded(struct arena *a, const char *s, size_t len,
				  struct kvlist *out);

/* Parses a Cookie header ("a=1; b=2") into `out`. Cookies are not
 * percent-decoded. Malformed or overlong cookies are skipped rather than
 * refused: another site on the same host may set junk the user cannot see.
 * At most COOKIE_MAX_COUNT are kept. */
void http_parse_cookies(struct arena *a, const char *s, size_t len,
			struct kvlist *out);

/* Returns the value of the first pair named `key`, or NULL. */
const char *kv_get(const struct kvlist *l, const char *key);

/* 1 if `n` bytes at `s` are well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), else 0. */
int utf8_valid(const char *s, size_t n);

/* Characters (code points) of the valid UTF-8 string `s`. */
size_t utf8_chars(const char *s);

/* 1 if `s` is a UUID in canonical lower- or upper-case 8-4-4-4-12 form. */
int uuid_valid(const char *s, size_t n);

#endif
