/* tpl.h - mustache templates: the data model handlers fill, parsing, rendering. */
#ifndef CAREBOX_TPL_H
#define CAREBOX_TPL_H

#include <stddef.h>

#include "arena.h"
#include "buf.h"

/*
 * The data model. Handlers build a tree of values in the request arena; the
 * renderer only reads it. Strings are not copied by the constructors that
 * take a length-less `const char *` unless their name says so.
 */
enum tv_kind { TV_NULL, TV_BOOL, TV_NUM, TV_STR, TV_LIST, TV_MAP };

struct tv;

struct tv_pair {
	const char *key;
	struct tv *val;
};

struct tv {
	enum tv_kind kind;
	union {
		int b;
		double num;
		struct { const char *s; size_t len; } str;
		struct { struct tv **items; size_t n, cap; } list;
		struct { struct tv_pair *pairs; size_t n, cap; } map;
	} u;
};

struct tv *tv_null(struct arena *a);
struct tv *tv_bool(struct arena *a, int b);
struct tv *tv_num(struct arena *a, double n);
/* A string value pointing at `s` (not copied: it must live as long as the
 * arena, e.g. a literal, an arena string or a PGresult kept until render). */
struct tv *tv_str(struct arena *a, const char *s);
struct tv *tv_strn(struct arena *a, const char *s, size_t len);
/* A string value holding a copy of `s` in the arena. */
struct tv *tv_strdup(struct arena *a, const char *s);
struct tv *tv_list(struct arena *a);
struct tv *tv_map(struct arena *a);

/* Appends `val` to the list `list`. */
void tv_push(struct arena *a, struct tv *list, struct tv *val);
/* Sets `key` (not copied) in the map `map` to `val`, replacing an earlier
 * value of the same key. Returns `val`. */
struct tv *tv_set(struct arena *a, struct tv *map, const char *key, struct tv *val);
/* Shorthands for tv_set(a, map, key, tv_str(a, s)) and friends. */
void tv_set_str(struct arena *a, struct tv *map, const char *key, const char *s);
void tv_set_num(struct arena *a, struct tv *map, const char *key, double n);
void tv_set_bool(struct arena *a, struct tv *map, const char *key, int b);
/* Looks `key` up in `map` (no dots, no context stack); NULL if absent or if
 * `map` is not a map. */
struct tv *tv_get(const struct tv *map, const char *key);

/*
 * Templates. A set holds parsed templates by name; partials {{>name}} and
 * parents {{<name}} refer to other templates of the same set by name.
 */
struct tpl_set;

/* Parses every NAME.mustache file in `dir` into a new set under the name
 * NAME, and checks that every static partial and parent they name exists.
 * On error returns NULL and appends "file:line: message" to `err`. The
 * caller frees the set with tpl_set_free(). */
struct tpl_set *tpl_load_dir(const char *dir, struct buf *err);

/* An empty set, for adding templates one by one. */
struct tpl_set *tpl_set_new(void);

/* Parses `src` (`len` bytes) as template `name`; `file` is only used in
 * error messages. Returns 0, or -1 with "file:line: message" in `err`. */
int tpl_add(struct tpl_set *set, const char *name, const char *file,
	    const char *src, size_t len, struct buf *err);

/* Renders template `name` with `data` as the root context, appending to
 * `out`. Returns 0, or -1 with a message in `err` (unknown template). A
 * missing dynamic partial renders as nothing, as the spec says. Does no heap
 * allocation other than growing `out`. */
int tpl_render(const struct tpl_set *set, const char *name,
	       const struct tv *data, struct buf *out, struct buf *err);

/* 1 if the set has a template called `name`. */
int tpl_has(const struct tpl_set *set, const char *name);

/* Reads the file `path` and adds it with tpl_add() as template `name`.
 * Returns 0, or -1 with "file:line: message" in `err`. */
int tpl_add_file(struct tpl_set *set, const char *name, const char *path,
		 struct buf *err);

/* Finds template `name` somewhere (say NAME.mustache in a folder) and adds
 * it to `set` with tpl_add(). Returns 1 if it added it, 0 if there is no
 * such template, -1 on an error with "file:line: message" in `err`. */
typedef int tpl_loader_fn(void *arg, struct tpl_set *set, const char *name,
			  struct buf *err);

/* Makes the set ask `fn` for a partial or parent it does not have, in
 * tpl_check() and while rendering (dynamic names). For tools such as
 * carebox-render that load templates on demand: a render that calls the
 * loader allocates. The server loads a whole folder and sets none. */
void tpl_set_loader(struct tpl_set *set, tpl_loader_fn *fn, void *arg);

/* Checks that every static partial and parent a template of the set names
 * exists, asking the loader for missing ones (and then for those they
 * name). Returns 0, or -1 with "file:line: message" in `err`.
 * tpl_load_dir() does this itself. */
int tpl_check(struct tpl_set *set, struct buf *err);

void tpl_set_free(struct tpl_set *set);

#endif
