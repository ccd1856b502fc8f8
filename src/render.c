/* render.c - carebox-render: renders a template with a JSON file as its data. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arena.h"
#include "buf.h"
#include "tpl.h"

static const char usage[] =
	"usage: carebox-render [--partials DIR] TEMPLATE DATA.json\n"
	"Renders TEMPLATE with DATA.json as its data to standard output.\n"
	"{{>name}} and {{<name}} load DIR/name.mustache (default DIR: the\n"
	"template's own folder).\n";

/* Where the loader looks, and the names it found missing (so that a
 * dynamic partial that is not there is looked for once, not per use). */
struct loader {
	const char *dir;
	struct buf misses;	/* "\nNAME\n" for each name found missing */
};

/* 1 if `name` is a plain file name: no folders, not hidden. */
static int name_ok(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL;
}

/*
 * tpl_loader_fn: adds DIR/NAME.mustache as template NAME. Returns 1, 0 if
 * the file is not there (or the name is not a plain file name), -1 on a
 * read or parse error.
 */
static int load(void *arg, struct tpl_set *set, const char *name, struct buf *err)
{
	struct loader *l = arg;
	struct buf path = BUF_INIT, key = BUF_INIT;
	int rc = 0;

	buf_printf(&key, "\n%s\n", name);
	if (!name_ok(name) || (l->misses.len && strstr(l->misses.data, key.data)))
		goto out;
	buf_printf(&path, "%s/%s.mustache", l->dir, name);
	if (access(path.data, F_OK) != 0) {
		buf_put(&l->misses, key.data, key.len);
		goto out;
	}
	rc = tpl_add_file(set, name, path.data, err) == 0 ? 1 : -1;
out:
	buf_free(&path);
	buf_free(&key);
	return rc;
}

/* Converts a json-c value into a value of the template data model, with
 * every string and key copied into the arena. */
static struct tv *from_json(struct arena *a, struct json_object *j)
{
	struct tv *v;

	switch (json_object_get_type(j)) {
	case json_type_boolean:
		return tv_bool(a, json_object_get_boolean(j));
	case json_type_int:
	case json_type_double:
		return tv_num(a, json_object_get_double(j));
	case json_type_string:
		return tv_strn(a, arena_strndup(a, json_object_get_string(j),
						(size_t)json_object_get_string_len(j)),
			       (size_t)json_object_get_string_len(j));
	case json_type_array:
		v = tv_list(a);
		for (size_t i = 0; i < json_object_array_length(j); i++)
			tv_push(a, v, from_json(a, json_object_array_get_idx(j, i)));
		return v;
	case json_type_object:
		v = tv_map(a);
		json_object_object_foreach(j, key, val)
			tv_set(a, v, arena_strdup(a, key), from_json(a, val));
		return v;
	default:
		return tv_null(a);
	}
}

/* The line (from 1) of byte `off` of `s`. */
static unsigned line_of(const char *s, size_t off)
{
	unsigned line = 1;

	for (size_t i = 0; i < off; i++)
		line += s[i] == '\n';
	return line;
}

/*
 * Parses the JSON file `path` into a data value in the arena; NULL with
 * "file:line: message" in `err`. Nothing may follow the value but space.
 */
static struct tv *read_json(struct arena *a, const char *path, struct buf *err)
{
	struct buf text = BUF_INIT;
	struct json_tokener *tok;
	struct json_object *j = NULL;
	struct tv *v = NULL;
	size_t end;

	if (buf_read_file(&text, path, err) < 0)
		return NULL;
	tok = json_tokener_new();
	/* The terminating NUL goes in too: it is what ends a top value
	 * without a closing mark of its own (85), which the tokener would
	 * otherwise wait to see continue. */
	j = json_tokener_parse_ex(tok, text.data, (int)text.len + 1);
	end = json_tokener_get_parse_end(tok);
	if (j == NULL) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		buf_printf(err, "%s:%u: %s", path, line_of(text.data, end),
			   e == json_tokener_error_parse_eof || e == json_tokener_continue ?
			   "unexpected end of file"
			   : json_tokener_error_desc(e));
	} else if (end + strspn(text.data + end, " \t\r\n") != text.len) {
		buf_printf(err, "%s:%u: unexpected text after the JSON value", path,
			   line_of(text.data, end));
	} else {
		v = from_json(a, j);
	}
	json_object_put(j);
	json_tokener_free(tok);
	buf_free(&text);
	return v;
}

/* The folder part of `path` ("." if none), in the arena. */
static const char *dir_of(struct arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return ".";
	if (slash == path)
		return "/";
	return arena_strndup(a, path, (size_t)(slash - path));
}

/* The template name of `path`: its file name without ".mustache". */
static const char *name_of(struct arena *a, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 9 && strcmp(base + len - 9, ".mustache") == 0)
		len -= 9;
	return arena_strndup(a, base, len);
}

/* Loads the template and what it names, reads the data, renders into
 * `out`. Returns 0, or -1 with a message in `err`. */
static int run(struct arena *a, const char *tpl_path, const char *json_path,
	       const char *dir, struct buf *out, struct buf *err)
{
	struct loader l = { dir ? dir : dir_of(a, tpl_path), BUF_INIT };
	struct tpl_set *set = tpl_set_new();
	const char *name = name_of(a, tpl_path);
	struct tv *data;
	int rc = -1;

	tpl_set_loader(set, load, &l);
	if (tpl_add_file(set, name, tpl_path, err) < 0 || tpl_check(set, err) < 0)
		goto out;
	data = read_json(a, json_path, err);
	if (data != NULL)
		rc = tpl_render(set, name, data, out, err);
out:
	tpl_set_free(set);
	buf_free(&l.misses);
	return rc;
}

/* carebox-render [--partials DIR] TEMPLATE DATA.json: exit status 0, 1 on
 * a template, data or output error, 2 on a usage error. */
int main(int argc, char **argv)
{
	const char *dir = NULL;
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct arena *a;
	int i = 1, rc;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "--partials") == 0) {
		dir = argv[2];
		i = 3;
	}
	if (argc - i != 2) {
		fputs(usage, stderr);
		return 2;
	}
	a = arena_new(1 << 16);
	rc = run(a, argv[i], argv[i + 1], dir, &out, &err);
	if (rc == 0 && (fwrite(out.data ? out.data : "", 1, out.len, stdout) != out.len ||
			fflush(stdout) != 0)) {
		buf_printf(&err, "carebox-render: writing: %s", strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		fprintf(stderr, "%s\n", err.data ? err.data : "carebox-render: failed");
	buf_free(&out);
	buf_free(&err);
	arena_free(a);
	return rc == 0 ? 0 : 1;
}
