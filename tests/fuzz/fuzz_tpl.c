/* fuzz_tpl.c - libFuzzer target for the template parser and renderer. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "tpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A small data model that the names a fuzzed template is likely to use
 * all find something in: strings needing escapes, numbers, booleans, an
 * empty and a nested list, maps, and names of templates for {{>*d}}.
 */
static struct tv *fuzz_data(struct arena *a)
{
	struct tv *root = tv_map(a), *l = tv_list(a), *m = tv_map(a), *n = tv_map(a);
	struct tv *inner = tv_list(a);

	tv_set_str(a, root, "a", "<a href=\"x\">&'</a>");
	tv_set_str(a, root, "b", "b\nline");
	tv_set_str(a, root, "s", "");
	tv_set_num(a, root, "x", 1.21);
	tv_set_num(a, root, "y", 85);
	tv_set_bool(a, root, "t", 1);
	tv_set_bool(a, root, "f", 0);
	tv_set(a, root, "z", tv_null(a));
	tv_set_str(a, root, "d", "a");
	tv_set_str(a, root, "e", "b");
	tv_set(a, root, "e0", tv_list(a));
	tv_push(a, l, tv_str(a, "one"));
	tv_push(a, l, tv_num(a, 2));
	tv_push(a, l, m);
	tv_push(a, inner, tv_bool(a, 1));
	tv_push(a, l, inner);
	tv_set(a, root, "l", l);
	tv_set_str(a, m, "x", "in m");
	tv_set_str(a, m, "d", "b");
	tv_set(a, m, "n", n);
	tv_set_num(a, n, "x", -3);
	tv_set(a, root, "m", m);
	return root;
}

/* 1 if `err` looks like "NAME:LINE: message". */
static int error_ok(const struct buf *err)
{
	const char *colon = err->data ? strchr(err->data, ':') : NULL;

	return colon != NULL && colon[1] >= '0' && colon[1] <= '9' &&
	       strstr(colon + 1, ": ") != NULL;
}

/* 1 if the `len` bytes at `s` contain "{{". */
static int has_tag(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == '{' && s[i + 1] == '{')
			return 1;
	return 0;
}

static const char *const names[] = { "main", "a", "b", "c", "d", "e" };
#define NNAMES (sizeof(names) / sizeof(names[0]))

/* Adds the NUL-separated templates of the input under names[]; a parse
 * error must be reported as "name:line: message". */
static void add_all(struct tpl_set *set, const char *s, size_t size, struct buf *err)
{
	const char *end = s + size;

	for (size_t k = 0; k < NNAMES && s <= end; k++) {
		const char *nul = memchr(s, '\0', (size_t)(end - s));
		size_t len = nul ? (size_t)(nul - s) : (size_t)(end - s);

		buf_reset(err);
		if (tpl_add(set, names[k], names[k], s, len, err) < 0 && !error_ok(err))
			__builtin_trap();
		s += len + 1;
	}
}

/* Renders template `name` twice into `out` and `again`: both must give
 * the same result, and an error must say where. Returns the status. */
static int render_twice(struct tpl_set *set, const char *name, const struct tv *root,
			struct buf *out, struct buf *again, struct buf *err)
{
	int rc;

	buf_reset(out);
	buf_reset(again);
	buf_reset(err);
	rc = tpl_render(set, name, root, out, err);
	if (rc < 0 && !error_ok(err))
		__builtin_trap();
	if (tpl_render(set, name, root, again, err) != rc ||
	    (rc == 0 && (out->len != again->len ||
			 (out->len && memcmp(out->data, again->data, out->len) != 0))))
		__builtin_trap();
	return rc;
}

/*
 * The input is templates separated by NUL bytes: the first is "main",
 * the next "a", "b", "c", ... so that {{>a}} and {{<b}} find them. Every
 * template that parses is rendered; a render must give the same result
 * twice, and a main template without tags must come out unchanged.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(4096);
	struct tpl_set *set = tpl_set_new();
	struct buf out = BUF_INIT, again = BUF_INIT, err = BUF_INIT;
	const char *s = (const char *)data;
	const char *nul = memchr(s, '\0', size);
	size_t len = nul ? (size_t)(nul - s) : size;
	struct tv *root = fuzz_data(a);

	add_all(set, s, size, &err);
	for (size_t k = 0; k < NNAMES; k++) {
		if (!tpl_has(set, names[k]))
			continue;
		if (render_twice(set, names[k], root, &out, &again, &err) == 0 && k == 0 &&
		    !has_tag(s, len) && (out.len != len || (len && memcmp(out.data, s, len) != 0)))
			__builtin_trap();
	}
	tpl_set_free(set);
	buf_free(&out);
	buf_free(&again);
	buf_free(&err);
	arena_free(a);
	return 0;
}
