/* http_parse.c - parsers for untrusted request bytes: forms, queries, cookies. */
#include "http_parse.h"

#include <string.h>

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p++;
		unsigned need, min, cp;

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1; min = 0x80; cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2; min = 0x800; cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3; min = 0x10000; cp = c & 0x07;
		} else {
			return 0;
		}
		if ((size_t)(end - p) < need)
			return 0;
		while (need--) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (*p++ & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

int uuid_valid(const char *s, size_t n)
{
	if (n != 36)
		return 0;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (hexval((unsigned char)s[i]) < 0) {
			return 0;
		}
	}
	return 1;
}

/* Decodes `n` bytes of one urlencoded component into a new arena string;
 * sets *outlen. Returns NULL (with *err set) on a malformed escape, a NUL
 * byte or invalid UTF-8. */
static char *decode(struct arena *a, const char *s, size_t n, size_t *outlen,
		    const char **err)
{
	char *out = arena_alloc(a, n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (i + 2 >= n) {
				*err = "malformed percent-encoding";
				return NULL;
			}
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0) {
				*err = "malformed percent-encoding";
				return NULL;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0') {
			*err = "NUL byte in a field";
			return NULL;
		}
		*o++ = (char)c;
	}
	*o = '\0';
	*outlen = (size_t)(o - out);
	if (!utf8_valid(out, *outlen)) {
		*err = "invalid UTF-8 in a field";
		return NULL;
	}
	return out;
}

/* Counts the pairs a urlencoded string of `len` bytes may hold. */
static size_t count_pairs(const char *s, size_t len)
{
	size_t n = 1;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '&';
	return n;
}

const char *http_parse_urlencoded(struct arena *a, const char *s, size_t len,
				  struct kvlist *out)
{
	size_t max = count_pairs(s, len), i = 0;
	const char *err = NULL;

	out->n = 0;
	out->items = NULL;
	if (len == 0)
		return NULL;
	if (max > FORM_MAX_FIELDS)
		return "too many fields";
	out->items = arena_alloc(a, max * sizeof(*out->items));
	while (i <= len) {
		const char *pair = s + i, *amp = memchr(pair, '&', len - i);
		size_t plen = amp ? (size_t)(amp - pair) : len - i;
		const char *eq = memchr(pair, '=', plen);
		size_t klen = eq ? (size_t)(eq - pair) : plen;
		struct kv *kv = &out->items[out->n];

		i += plen + 1;
		if (plen == 0)
			continue;	/* "a=1&&b=2" and a trailing '&' */
		if (klen > FORM_MAX_KEY * 3 || (plen - klen) > FORM_MAX_VALUE * 3) {
			err = klen > FORM_MAX_KEY * 3 ? "field name too long" : "field too long";
			break;
		}
		kv->key = decode(a, pair, klen, &kv->key_len, &err);
		if (kv->key == NULL)
			break;
		if (eq)
			kv->val = decode(a, eq + 1, plen - klen - 1, &kv->val_len, &err);
		else
			kv->val = "", kv->val_len = 0;
		if (kv->val == NULL)
			break;
		if (kv->key_len > FORM_MAX_KEY) {
			err = "field name too long";
			break;
		}
		if (kv->val_len > FORM_MAX_VALUE) {
			err = "field too long";
			break;
		}
		out->n++;
	}
	if (err)
		out->n = 0;
	return err;
}

static int cookie_byte_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != ';' && c != ',' && c != '"' && c != '\\';
}

void http_parse_cookies(struct arena *a, const char *s, size_t len,
			struct kvlist *out)
{
	size_t i = 0;

	out->n = 0;
	out->items = arena_alloc(a, COOKIE_MAX_COUNT * sizeof(*out->items));
	while (i < len && out->n < COOKIE_MAX_COUNT) {
		const char *p = s + i, *semi = memchr(p, ';', len - i);
		size_t plen = semi ? (size_t)(semi - p) : len - i;
		const char *eq;
		size_t klen, vlen, j;
		int good = 1;

		i += plen + 1;
		while (plen && (*p == ' ' || *p == '\t'))
			p++, plen--;
		while (plen && (p[plen - 1] == ' ' || p[plen - 1] == '\t'))
			plen--;
		eq = memchr(p, '=', plen);
		if (eq == NULL || eq == p)
			continue;
		klen = (size_t)(eq - p);
		vlen = plen - klen - 1;
		if (klen > FORM_MAX_KEY || vlen > COOKIE_MAX_VALUE)
			continue;
		for (j = 0; j < plen && good; j++)
			good = j == klen || cookie_byte_ok((unsigned char)p[j]);
		if (!good)
			continue;
		out->items[out->n].key = arena_strndup(a, p, klen);
		out->items[out->n].key_len = klen;
		out->items[out->n].val = arena_strndup(a, eq + 1, vlen);
		out->items[out->n].val_len = vlen;
		out->n++;
	}
}

const char *kv_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return l->items[i].val;
	return NULL;
}
