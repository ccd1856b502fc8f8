/* fuzz_parse.c - libFuzzer target for the form, query and cookie parsers. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds the input to every parser; checks what they promise: decoded fields
 * hold valid UTF-8 without NUL bytes and within the limits. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(4096);
	const char *s = (const char *)data;
	struct kvlist l;

	if (http_parse_urlencoded(a, s, size, &l) == NULL) {
		for (size_t i = 0; i < l.n; i++) {
			const struct kv *kv = &l.items[i];

			if (kv->key_len > FORM_MAX_KEY || kv->val_len > FORM_MAX_VALUE ||
			    strlen(kv->key) != kv->key_len || strlen(kv->val) != kv->val_len ||
			    !utf8_valid(kv->key, kv->key_len) || !utf8_valid(kv->val, kv->val_len))
				__builtin_trap();
		}
	}
	http_parse_cookies(a, s, size, &l);
	if (l.n > COOKIE_MAX_COUNT)
		__builtin_trap();
	for (size_t i = 0; i < l.n; i++)
		if (l.items[i].val_len > COOKIE_MAX_VALUE)
			__builtin_trap();
	(void)uuid_valid(s, size);
	arena_free(a);
	return 0;
}
