/* fuzz_multipart.c - libFuzzer target for the multipart/form-data parser and content sniffing. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "http_parse.h"
#include "multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Traps unless the fields hold what http_parse_urlencoded() would allow. */
static void check_fields(const struct kvlist *l)
{
	if (l->n > FORM_MAX_FIELDS)
		__builtin_trap();
	for (size_t i = 0; i < l->n; i++) {
		const struct kv *kv = &l->items[i];

		if (kv->key_len > FORM_MAX_KEY || kv->val_len > FORM_MAX_VALUE ||
		    strlen(kv->key) != kv->key_len || strlen(kv->val) != kv->val_len ||
		    !utf8_valid(kv->key, kv->key_len) || !utf8_valid(kv->val, kv->val_len))
			__builtin_trap();
	}
}

/* Traps unless every upload lies inside the body and has a clean name. */
static void check_files(const struct upload *f, size_t n, const char *body, size_t len)
{
	if (n > MULTIPART_MAX_FILES)
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		size_t fl = strlen(f[i].filename);

		if (f[i].len > MULTIPART_MAX_FILE || f[i].data < body ||
		    f[i].data + f[i].len > body + len || fl == 0 ||
		    fl > MULTIPART_MAX_FILENAME || !utf8_valid(f[i].filename, fl) ||
		    strpbrk(f[i].filename, "/\\\"\t\r\n") != NULL ||
		    !utf8_valid(f[i].field, strlen(f[i].field)))
			__builtin_trap();
		(void)multipart_sniff(f[i].data, f[i].len);
	}
}

/* The input is a Content-Type line, LF, then the body; an input that starts
 * with '-' or has no LF is all body, of a form with boundary "XyZ". */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(4096);
	const char *s = (const char *)data, *nl = memchr(s, '\n', size);
	const char *ct = "multipart/form-data; boundary=XyZ", *body = s, *err;
	size_t len = size, nfiles;
	struct kvlist fields;
	struct upload *files;
	int status = -1;

	if (nl && size && s[0] != '-') {
		ct = arena_strndup(a, s, (size_t)(nl - s));
		body = nl + 1;
		len = size - (size_t)(nl - s) - 1;
	}
	err = multipart_parse(a, ct, body, len, &fields, &files, &nfiles, &status);
	if (err == NULL) {
		if (status != 0)
			__builtin_trap();
		check_fields(&fields);
		check_files(files, nfiles, body, len);
	} else if ((status != 400 && status != 413) || fields.n != 0 || nfiles != 0) {
		__builtin_trap();
	}
	(void)multipart_sniff(s, size);
	arena_free(a);
	return 0;
}
