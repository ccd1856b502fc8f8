/* tpl.c - mustache templates: the value model, a parser to node arrays, a renderer. */
#include "tpl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirlist.h"

/*
 * Limits. Templates are ours, but a mistake (a partial that includes itself
 * forever) must end in an error, never in a crash or a hung worker.
 */
#define TPL_MAX_NEST	64		/* sections open at once in one template */
#define TPL_MAX_DEPTH	32		/* partials, parents, overrides inside each other */
#define TPL_MAX_LEVEL	512		/* node ranges being rendered inside each other */
#define TPL_MAX_CTX	128		/* context stack frames */
#define TPL_MAX_STEPS	(1UL << 22)	/* nodes visited by one render */
#define TPL_MAX_OUT	((size_t)64 << 20)	/* bytes appended by one render */
#define TPL_MAX_NAME	256		/* longest name handed to a loader */

/* ------------------------------------------------------------------ */
/* The value model                                                     */
/* ------------------------------------------------------------------ */

/* Returns a zeroed value of `kind` in the arena. */
static struct tv *tv_new(struct arena *a, enum tv_kind kind)
{
	struct tv *v = arena_alloc(a, sizeof(*v));

	memset(v, 0, sizeof(*v));
	v->kind = kind;
	return v;
}

struct tv *tv_null(struct arena *a)
{
	return tv_new(a, TV_NULL);
}

struct tv *tv_bool(struct arena *a, int b)
{
	struct tv *v = tv_new(a, TV_BOOL);

	v->u.b = b != 0;
	return v;
}

struct tv *tv_num(struct arena *a, double n)
{
	struct tv *v = tv_new(a, TV_NUM);

	v->u.num = n;
	return v;
}

/* A NULL `s` gives the empty string, so a missing value renders as nothing. */
struct tv *tv_str(struct arena *a, const char *s)
{
	return tv_strn(a, s ? s : "", s ? strlen(s) : 0);
}

struct tv *tv_strn(struct arena *a, const char *s, size_t len)
{
	struct tv *v = tv_new(a, TV_STR);

	v->u.str.s = s;
	v->u.str.len = len;
	return v;
}

struct tv *tv_strdup(struct arena *a, const char *s)
{
	return tv_str(a, s ? arena_strdup(a, s) : NULL);
}

struct tv *tv_list(struct arena *a)
{
	return tv_new(a, TV_LIST);
}

struct tv *tv_map(struct arena *a)
{
	return tv_new(a, TV_MAP);
}

/*
 * Makes room for one more element of `size` bytes in the arena array `*p`
 * holding `n` of `*cap`: copies it to a new arena block twice as large (at
 * least 8) when full. The old block stays in the arena until it is reset.
 */
static void arena_array_grow(struct arena *a, void **p, size_t n, size_t *cap,
			     size_t size)
{
	void *q;

	if (n < *cap)
		return;
	*cap = *cap ? *cap * 2 : 8;
	q = arena_alloc(a, *cap * size);
	if (n)
		memcpy(q, *p, n * size);
	*p = q;
}

/* Does nothing when `list` is not a list. */
void tv_push(struct arena *a, struct tv *list, struct tv *val)
{
	void *items;

	if (list == NULL || list->kind != TV_LIST)
		return;
	items = list->u.list.items;
	arena_array_grow(a, &items, list->u.list.n, &list->u.list.cap,
			 sizeof(struct tv *));
	list->u.list.items = items;
	list->u.list.items[list->u.list.n++] = val;
}

/* Returns the pair of `map` whose key is the `len` bytes at `key`, or NULL
 * (also when `map` is not a map). Linear: the maps handlers build are small. */
static const struct tv_pair *map_pair(const struct tv *map, const char *key,
				      size_t len)
{
	if (map == NULL || map->kind != TV_MAP)
		return NULL;
	for (size_t i = 0; i < map->u.map.n; i++) {
		const char *k = map->u.map.pairs[i].key;

		if (k[0] == key[0] && strncmp(k, key, len) == 0 && k[len] == '\0')
			return &map->u.map.pairs[i];
	}
	return NULL;
}

/* Does nothing (and returns `val`) when `map` is not a map. */
struct tv *tv_set(struct arena *a, struct tv *map, const char *key, struct tv *val)
{
	struct tv_pair *pr;
	void *pairs;

	if (map == NULL || map->kind != TV_MAP)
		return val;
	pr = (struct tv_pair *)map_pair(map, key, strlen(key));
	if (pr != NULL) {
		pr->val = val;
		return val;
	}
	pairs = map->u.map.pairs;
	arena_array_grow(a, &pairs, map->u.map.n, &map->u.map.cap,
			 sizeof(struct tv_pair));
	map->u.map.pairs = pairs;
	pr = &map->u.map.pairs[map->u.map.n++];
	pr->key = key;
	pr->val = val;
	return val;
}

void tv_set_str(struct arena *a, struct tv *map, const char *key, const char *s)
{
	tv_set(a, map, key, tv_str(a, s));
}

void tv_set_num(struct arena *a, struct tv *map, const char *key, double n)
{
	tv_set(a, map, key, tv_num(a, n));
}

void tv_set_bool(struct arena *a, struct tv *map, const char *key, int b)
{
	tv_set(a, map, key, tv_bool(a, b));
}

struct tv *tv_get(const struct tv *map, const char *key)
{
	const struct tv_pair *pr = map_pair(map, key, strlen(key));

	return pr ? pr->val : NULL;
}

/* ------------------------------------------------------------------ */
/* Parsed templates                                                    */
/* ------------------------------------------------------------------ */

/* `len` bytes at offset `off` of a template's source. */
struct span {
	uint32_t off, len;
};

enum node_type {
	N_TEXT,		/* literal text */
	N_VAR,		/* {{name}}: escaped */
	N_RAW,		/* {{{name}}} and {{&name}} */
	N_SECTION,	/* {{#name}} ... {{/name}} */
	N_INVERTED,	/* {{^name}} ... {{/name}} */
	N_PARTIAL,	/* {{>name}} */
	N_PARENT,	/* {{<name}} ... {{/name}} */
	N_BLOCK,	/* {{$name}} ... {{/name}} */
};

enum {
	F_BOL = 1,		/* N_TEXT: starts a line of the source */
	F_STANDALONE = 2,	/* the tag was alone on its line, which was removed */
	F_DYNAMIC = 4,		/* {{>*name}}, {{<*name}}: the name is looked up */
	F_OVERRIDE = 8,		/* a block directly inside a parent */
};

/*
 * One node of a parsed template. Sections, parents and blocks are followed
 * by their body and `end` is the index just past it. `ind` is indentation:
 * for a standalone partial or parent, the whitespace before the tag, added
 * to each line it renders; for a block, the indentation an override
 * rendered in its place gets (see block_indent()).
 */
struct node {
	unsigned char type;
	unsigned char flags;
	uint16_t nparts;	/* parts of a dotted name; 0 for "." */
	uint32_t line;
	struct span text;	/* N_TEXT: the bytes; others: the name */
	struct span ind;
	uint32_t part;		/* first part in tpl->parts */
	uint32_t end;
};

struct tpl {
	char *name;
	char *file;		/* for error messages */
	char *src;		/* a copy of the source; spans point into it */
	struct node *nodes;
	uint32_t n, cap;
	struct span *parts;	/* the parts of every dotted name */
	uint32_t nparts, partcap;
};

struct tpl_set {
	struct tpl **v;		/* in the order added */
	size_t n, cap;
	uint32_t *slot;		/* hash of names: index + 1 into v, 0 = free */
	size_t nslot;		/* a power of two, at least twice n */
	tpl_loader_fn *load;
	void *load_arg;
};

/* malloc/realloc that abort when out of memory, as start-up allocations do. */
static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL) {
		fputs("carebox: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* A heap copy of `s`, freed by the caller; aborts when out of memory. */
static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

/* Frees a template and everything it owns. NULL is allowed. */
static void tpl_free(struct tpl *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->file);
	free(t->src);
	free(t->nodes);
	free(t->parts);
	free(t);
}

/* ------------------------------------------------------------------ */
/* Parsing, pass 1: tokens                                             */
/* ------------------------------------------------------------------ */

/*
 * The parser first cuts the source into tokens: text (cut after every
 * newline, so that lines can be looked at one by one) and tags, checking
 * that sections nest. Pass 2 then decides which lines are standalone and
 * turns the tokens into nodes.
 */
enum tok_type {
	T_TEXT, T_VAR, T_RAW, T_SECTION, T_INVERTED, T_PARTIAL, T_PARENT,
	T_BLOCK, T_CLOSE, T_COMMENT, T_DELIM,
};

struct tok {
	unsigned char type;
	unsigned char flags;	/* F_DYNAMIC, F_OVERRIDE */
	unsigned char closes;	/* T_CLOSE: the type of the tag it closes */
	uint32_t line;
	struct span s;		/* T_TEXT: the bytes; tags: the name */
	uint32_t start;		/* tags: where the tag starts */
};

/* Where pass 2 is in a section: its node, and for an override block whose
 * opening tag was standalone, the indentation to take off its lines. */
struct open {
	uint32_t node;
	int strips;
	struct span strip;
};

struct parser {
	struct tpl *t;
	struct buf *err;
	const char *src;
	size_t len;
	const char *otag, *ctag;	/* the current delimiters */
	size_t olen, clen;
	uint32_t line;
	struct tok *toks;
	size_t ntok, tokcap;
	size_t open1[TPL_MAX_NEST];	/* pass 1: tokens of open sections */
	int nopen1;
	struct open open2[TPL_MAX_NEST];	/* pass 2 */
	int nopen2;
	long mergeable;		/* pass 2: index of a text node to extend, or -1 */
};

/* Appends "file:line: " and the formatted message to the error buffer;
 * returns -1 for the caller to return. */
static int parse_error(struct parser *p, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int parse_error(struct parser *p, uint32_t line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_printf(p->err, "%s:%u: %s", p->t->file, (unsigned)line, msg);
	return -1;
}

/* 1 for the whitespace allowed around tag names and delimiters. */
static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Appends a token; returns it with its other fields zeroed. */
static struct tok *tok_add(struct parser *p, int type, uint32_t line)
{
	struct tok *tk;

	if (p->ntok == p->tokcap) {
		p->tokcap = p->tokcap ? p->tokcap * 2 : 64;
		p->toks = xrealloc(p->toks, p->tokcap * sizeof(*p->toks));
	}
	tk = &p->toks[p->ntok++];
	memset(tk, 0, sizeof(*tk));
	tk->type = (unsigned char)type;
	tk->line = line;
	return tk;
}

/* Adds the source bytes [from, to) as text tokens, one per line. */
static void scan_text(struct parser *p, size_t from, size_t to)
{
	while (from < to) {
		const char *nl = memchr(p->src + from, '\n', to - from);
		size_t stop = nl ? (size_t)(nl - p->src) + 1 : to;
		struct tok *tk = tok_add(p, T_TEXT, p->line);

		tk->s.off = (uint32_t)from;
		tk->s.len = (uint32_t)(stop - from);
		if (nl)
			p->line++;
		from = stop;
	}
}

/* Narrows [*from, *to) to leave out surrounding whitespace. */
static void trim(const char *s, size_t *from, size_t *to)
{
	while (*from < *to && is_space(s[*from]))
		(*from)++;
	while (*to > *from && is_space(s[*to - 1]))
		(*to)--;
}

/* 1 if the `len` bytes at `s` contain whitespace. */
static int has_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (is_space(s[i]))
			return 1;
	return 0;
}

/* 1 if `s` is "." or names separated by single dots. */
static int dotted_ok(const char *s, size_t len)
{
	if (len == 1 && s[0] == '.')
		return 1;
	if (s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (size_t i = 1; i < len; i++)
		if (s[i] == '.' && s[i - 1] == '.')
			return 0;
	return 1;
}

/*
 * Handles the content [from, to) of a set-delimiter tag, "<% %>": makes
 * the two words the delimiters. They point into the source, which outlives
 * the parse.
 */
static int scan_delims(struct parser *p, size_t from, size_t to, uint32_t line)
{
	size_t mid;

	trim(p->src, &from, &to);
	mid = from;
	while (mid < to && !is_space(p->src[mid]))
		mid++;
	if (mid == from || mid == to)
		return parse_error(p, line, "bad delimiter: want {{=OPEN CLOSE=}}");
	p->otag = p->src + from;
	p->olen = mid - from;
	while (is_space(p->src[mid]))
		mid++;
	p->ctag = p->src + mid;
	p->clen = to - mid;
	if (has_space(p->ctag, p->clen) || memchr(p->otag, '=', p->olen) ||
	    memchr(p->ctag, '=', p->clen))
		return parse_error(p, line, "bad delimiter: want {{=OPEN CLOSE=}}");
	return 0;
}

/*
 * Finds the end of a tag whose content starts at `from`: the current
 * closing delimiter, preceded by `closer` unless that is 0 ("}}}" ends
 * "{{{", "=}}" ends "{{="). Returns the index where the content ends, or
 * -1 when the tag is never closed.
 */
static long find_close(const struct parser *p, size_t from, char closer)
{
	size_t at = from;

	for (;;) {
		const char *e = memmem(p->src + at, p->len - at, p->ctag, p->clen);
		size_t i;

		if (e == NULL)
			return -1;
		i = (size_t)(e - p->src);
		if (closer == 0)
			return (long)i;
		if (i > from && p->src[i - 1] == closer)
			return (long)i - 1;
		at = i + 1;
	}
}

/* Maps the character after an opening delimiter to a token type; sets
 * `*closer` to the character that must precede the closing delimiter. */
static int tag_type(char c, char *closer)
{
	*closer = 0;
	switch (c) {
	case '{': *closer = '}'; return T_RAW;
	case '&': return T_RAW;
	case '#': return T_SECTION;
	case '^': return T_INVERTED;
	case '/': return T_CLOSE;
	case '>': return T_PARTIAL;
	case '<': return T_PARENT;
	case '$': return T_BLOCK;
	case '!': return T_COMMENT;
	case '=': *closer = '='; return T_DELIM;
	default: return T_VAR;
	}
}

/* The name of token `tk` as written, for messages. */
#define TOKNAME(p, tk) (int)(tk)->s.len, (p)->src + (tk)->s.off

/* Checks a closing tag against the innermost open section and closes it. */
static int scan_close(struct parser *p, struct tok *tk)
{
	struct tok *op;

	if (p->nopen1 == 0)
		return parse_error(p, tk->line, "closing tag {{/%.*s}} without an opening tag",
				   TOKNAME(p, tk));
	op = &p->toks[p->open1[p->nopen1 - 1]];
	if (op->s.len != tk->s.len || (op->flags & F_DYNAMIC) != (tk->flags & F_DYNAMIC) ||
	    memcmp(p->src + op->s.off, p->src + tk->s.off, tk->s.len) != 0)
		return parse_error(p, tk->line, "closing tag {{/%.*s}} does not match "
				   "'%.*s' opened at line %u", TOKNAME(p, tk),
				   TOKNAME(p, op), (unsigned)op->line);
	tk->closes = op->type;
	tk->flags |= op->flags & F_OVERRIDE;
	p->nopen1--;
	return 0;
}

/* Records an opening tag of a section, parent or block. */
static int scan_open(struct parser *p, struct tok *tk)
{
	if (p->nopen1 == TPL_MAX_NEST)
		return parse_error(p, tk->line, "sections nested too deeply (over %d)",
				   TPL_MAX_NEST);
	if (tk->type == T_BLOCK && p->nopen1 > 0 &&
	    p->toks[p->open1[p->nopen1 - 1]].type == T_PARENT)
		tk->flags |= F_OVERRIDE;
	p->open1[p->nopen1++] = (size_t)(tk - p->toks);
	return 0;
}

/* Checks and records the name [from, to) of tag `tk`. */
static int scan_name(struct parser *p, struct tok *tk, size_t from, size_t to)
{
	const char *s;

	trim(p->src, &from, &to);
	if ((tk->type == T_PARTIAL || tk->type == T_PARENT || tk->type == T_CLOSE) &&
	    from < to && p->src[from] == '*') {
		tk->flags |= F_DYNAMIC;
		from++;
		trim(p->src, &from, &to);
	}
	s = p->src + from;
	if (from == to)
		return parse_error(p, tk->line, "empty tag name");
	if (has_space(s, to - from))
		return parse_error(p, tk->line, "bad tag name '%.*s'", (int)(to - from), s);
	if ((tk->type == T_VAR || tk->type == T_RAW || tk->type == T_SECTION ||
	     tk->type == T_INVERTED || (tk->flags & F_DYNAMIC)) && !dotted_ok(s, to - from))
		return parse_error(p, tk->line, "bad name '%.*s'", (int)(to - from), s);
	tk->s.off = (uint32_t)from;
	tk->s.len = (uint32_t)(to - from);
	return 0;
}

/* Scans the tag whose opening delimiter is at `at`; sets `*next` past it. */
static int scan_tag(struct parser *p, size_t at, size_t *next)
{
	size_t from = at + p->olen, to, stop;
	char closer;
	int type = tag_type(from < p->len ? p->src[from] : 0, &closer);
	long e;
	struct tok *tk;

	if (type != T_VAR)
		from++;
	e = find_close(p, from, closer);
	if (e < 0)
		return parse_error(p, p->line, "unclosed tag (no %s%.*s)",
				   closer == '}' ? "}" : closer == '=' ? "=" : "",
				   (int)p->clen, p->ctag);
	to = (size_t)e;
	stop = to + (closer ? 1 : 0) + p->clen;
	tk = tok_add(p, type, p->line);
	tk->start = (uint32_t)at;
	for (size_t i = at; i < stop; i++)
		p->line += p->src[i] == '\n';
	*next = stop;
	if (type == T_COMMENT)
		return 0;
	if (type == T_DELIM)
		return scan_delims(p, from, to, tk->line);
	if (scan_name(p, tk, from, to) < 0)
		return -1;
	if (type == T_CLOSE)
		return scan_close(p, tk);
	if (type == T_SECTION || type == T_INVERTED || type == T_PARENT || type == T_BLOCK)
		return scan_open(p, tk);
	return 0;
}

/* What to call an opening tag of `type` in messages. */
static const char *open_kind(int type)
{
	return type == T_PARENT ? "parent" : type == T_BLOCK ? "block" : "section";
}

/* Pass 1: cuts the whole source into tokens. */
static int scan(struct parser *p)
{
	size_t pos = 0;

	while (pos < p->len) {
		const char *o = memmem(p->src + pos, p->len - pos, p->otag, p->olen);
		size_t at = o ? (size_t)(o - p->src) : p->len;

		scan_text(p, pos, at);
		if (o == NULL)
			break;
		if (scan_tag(p, at, &pos) < 0)
			return -1;
	}
	if (p->nopen1 > 0) {
		const struct tok *op = &p->toks[p->open1[p->nopen1 - 1]];

		return parse_error(p, op->line, "unclosed %s '%.*s'", open_kind(op->type),
				   TOKNAME(p, op));
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parsing, pass 2: lines and nodes                                    */
/* ------------------------------------------------------------------ */

/* 1 if text token `tk` is only spaces and tabs, then maybe "\n" or "\r\n". */
static int blank(const struct parser *p, const struct tok *tk)
{
	const char *s = p->src + tk->s.off;
	size_t n = tk->s.len;

	if (n && s[n - 1] == '\n')
		n -= n > 1 && s[n - 2] == '\r' ? 2 : 1;
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* 1 if tag token `tk` belongs to inheritance: a parent's tags or an
 * override block's. */
static int inherit_tag(const struct tok *tk)
{
	if (tk->type == T_PARENT || (tk->type == T_CLOSE && tk->closes == T_PARENT))
		return 1;
	return (tk->type == T_BLOCK || tk->type == T_CLOSE) && (tk->flags & F_OVERRIDE);
}

/*
 * 1 if the line made of tokens i..j is standalone: only whitespace and
 * either one tag that is not an interpolation, or several tags that all
 * belong to inheritance ("{{<parent}}{{$block}}", "{{/block}}{{/parent}}").
 */
static int standalone(const struct parser *p, size_t i, size_t j)
{
	int ntags = 0, inherit = 1;

	for (size_t k = i; k <= j; k++) {
		const struct tok *tk = &p->toks[k];

		if (tk->type == T_TEXT) {
			if (!blank(p, tk))
				return 0;
			continue;
		}
		if (tk->type == T_VAR || tk->type == T_RAW)
			return 0;
		ntags++;
		inherit &= inherit_tag(tk);
	}
	return ntags == 1 || (ntags > 1 && inherit);
}

/* Index of the last token of the line starting at token `i`. */
static size_t line_end(const struct parser *p, size_t i)
{
	for (; i + 1 < p->ntok; i++) {
		const struct tok *tk = &p->toks[i];

		if (tk->type == T_TEXT && p->src[tk->s.off + tk->s.len - 1] == '\n')
			break;
	}
	return i;
}

/* The leading spaces and tabs of the source line after token `j`, which
 * ends a line. */
static struct span next_line_ws(const struct parser *p, size_t j)
{
	const struct tok *tk = &p->toks[j];
	struct span ws = { (uint32_t)p->len, 0 };

	if (tk->type != T_TEXT || p->src[tk->s.off + tk->s.len - 1] != '\n')
		return ws;
	ws.off = tk->s.off + tk->s.len;
	while (ws.off + ws.len < p->len &&
	       (p->src[ws.off + ws.len] == ' ' || p->src[ws.off + ws.len] == '\t'))
		ws.len++;
	return ws;
}

/* Appends a node; returns its index. */
static uint32_t node_add(struct parser *p, int type, int flags, const struct tok *tk)
{
	struct tpl *t = p->t;
	struct node *nd;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		t->nodes = xrealloc(t->nodes, t->cap * sizeof(*t->nodes));
	}
	nd = &t->nodes[t->n];
	memset(nd, 0, sizeof(*nd));
	nd->type = (unsigned char)type;
	nd->flags = (unsigned char)flags;
	nd->line = tk->line;
	nd->text = tk->s;
	return t->n++;
}

/* Splits the dotted name of node `nd` into parts ("." has none). */
static void split_name(struct parser *p, struct node *nd)
{
	struct tpl *t = p->t;
	uint32_t from = nd->text.off, end = from + nd->text.len;

	nd->part = t->nparts;
	if (nd->text.len == 1 && p->src[from] == '.')
		return;
	while (from < end) {
		const char *dot = memchr(p->src + from, '.', end - from);
		uint32_t stop = dot ? (uint32_t)(dot - p->src) : end;

		if (t->nparts == t->partcap) {
			t->partcap = t->partcap ? t->partcap * 2 : 16;
			t->parts = xrealloc(t->parts, t->partcap * sizeof(*t->parts));
		}
		t->parts[t->nparts].off = from;
		t->parts[t->nparts++].len = stop - from;
		nd->nparts++;
		from = stop + 1;
	}
}

/*
 * Adds text token `tk` as a node, starting a line if `bol`. Joins it to
 * the previous text node when they touch in the source; an empty token
 * only matters when it starts a line (it carries the indentation).
 */
static void emit_text(struct parser *p, const struct tok *tk, int bol)
{
	struct tpl *t = p->t;

	if (tk->s.len == 0 && !bol)
		return;
	if (p->mergeable == (long)t->n - 1 && p->mergeable >= 0 && tk->s.len > 0) {
		struct node *prev = &t->nodes[t->n - 1];

		if (prev->text.len > 0 && prev->text.off + prev->text.len == tk->s.off) {
			prev->text.len += tk->s.len;
			return;
		}
	}
	node_add(p, N_TEXT, bol ? F_BOL : 0, tk);
	p->mergeable = (long)t->n - 1;
}

/* Opens a section, parent or block node for pass 2; an override block whose
 * opening tag is standalone takes `strip` off the start of its lines. */
static void push_open(struct parser *p, uint32_t node, int strips, struct span strip)
{
	struct open *o = &p->open2[p->nopen2++];

	o->node = node;
	o->strips = strips;
	o->strip = strip;
}

/*
 * Adds tag token `tk` as a node (comments and delimiters add none).
 * `flags` is 0 or F_STANDALONE; `ind` becomes the node's indentation.
 */
static void emit_tag(struct parser *p, const struct tok *tk, int flags, struct span ind)
{
	static const unsigned char types[] = {
		[T_VAR] = N_VAR, [T_RAW] = N_RAW, [T_SECTION] = N_SECTION,
		[T_INVERTED] = N_INVERTED, [T_PARTIAL] = N_PARTIAL,
		[T_PARENT] = N_PARENT, [T_BLOCK] = N_BLOCK,
	};
	uint32_t i;
	struct node *nd;

	p->mergeable = -1;
	if (tk->type == T_COMMENT || tk->type == T_DELIM)
		return;
	if (tk->type == T_CLOSE) {
		i = p->open2[--p->nopen2].node;
		p->t->nodes[i].end = p->t->n;
		return;
	}
	i = node_add(p, types[tk->type], flags | (tk->flags & (F_DYNAMIC | F_OVERRIDE)), tk);
	nd = &p->t->nodes[i];
	nd->ind = ind;
	if (nd->type == N_VAR || nd->type == N_RAW || nd->type == N_SECTION ||
	    nd->type == N_INVERTED || (nd->flags & F_DYNAMIC))
		split_name(p, nd);
	if (nd->type == N_SECTION || nd->type == N_INVERTED || nd->type == N_PARENT ||
	    nd->type == N_BLOCK)
		push_open(p, i, (flags & F_STANDALONE) && (tk->flags & F_OVERRIDE), ind);
}

/*
 * Takes the indentation of the innermost override block that strips (see
 * push_open) off the start of `sp`, as far as they agree: a block's own
 * indentation is removed where it is defined and the indentation of the
 * place it fills is added when it is rendered.
 */
static struct span strip_span(const struct parser *p, struct span sp)
{
	int k = p->nopen2 - 1;
	uint32_t n = 0;

	while (k >= 0 && !p->open2[k].strips)
		k--;
	if (k < 0)
		return sp;
	while (n < sp.len && n < p->open2[k].strip.len &&
	       p->src[sp.off + n] == p->src[p->open2[k].strip.off + n])
		n++;
	sp.off += n;
	sp.len -= n;
	return sp;
}

/* Strips the line that starts at token `i` (see strip_span). */
static void strip_line(struct parser *p, size_t i)
{
	if (p->toks[i].type == T_TEXT)
		p->toks[i].s = strip_span(p, p->toks[i].s);
}

/* Adds the tags of the standalone line i..j, dropping its whitespace. */
static void emit_standalone(struct parser *p, size_t i, size_t j)
{
	const struct tok *first = &p->toks[i];
	struct span ws = { first->start, 0 };

	if (first->type == T_TEXT)
		ws = first->s;
	for (size_t k = i; k <= j; k++) {
		const struct tok *tk = &p->toks[k];

		if (tk->type == T_TEXT)
			continue;
		/* A block takes the indentation of the line after its tag:
		 * that of its content, or of its closing tag when empty. */
		emit_tag(p, tk, F_STANDALONE,
			 tk->type == T_BLOCK ? strip_span(p, next_line_ws(p, j)) : ws);
	}
	p->mergeable = -1;
}

/*
 * Adds the tokens of the line i..j, which is not standalone. Its first
 * node is a text node marked F_BOL (empty if the line starts with a tag),
 * where the renderer adds the indentation of an enclosing partial. A block
 * with only whitespace before it on the line takes that as indentation.
 */
static void emit_line(struct parser *p, size_t i, size_t j)
{
	const struct tok *first = &p->toks[i];

	if (first->type != T_TEXT) {
		struct tok empty = { .type = T_TEXT, .line = first->line,
				     .s = { first->start, 0 } };

		emit_text(p, &empty, 1);
	}
	for (size_t k = i; k <= j; k++) {
		const struct tok *tk = &p->toks[k];
		struct span ind = { 0, 0 };

		if (tk->type == T_TEXT) {
			emit_text(p, tk, k == i);
			continue;
		}
		if (tk->type == T_BLOCK && k == i + 1 && first->type == T_TEXT &&
		    blank(p, first))
			ind = first->s;
		emit_tag(p, tk, 0, ind);
	}
}

/* Pass 2: turns the tokens into nodes, line by line. */
static void build(struct parser *p)
{
	size_t i = 0, j;

	p->mergeable = -1;
	while (i < p->ntok) {
		j = line_end(p, i);
		strip_line(p, i);
		if (standalone(p, i, j))
			emit_standalone(p, i, j);
		else
			emit_line(p, i, j);
		i = j + 1;
	}
}

/* Parses `t->src` (`len` bytes) into `t`'s nodes. */
static int parse(struct tpl *t, size_t len, struct buf *err)
{
	struct parser *p = xrealloc(NULL, sizeof(*p));
	int rc;

	memset(p, 0, sizeof(*p));
	p->t = t;
	p->err = err;
	p->src = t->src;
	p->len = len;
	p->otag = "{{";
	p->ctag = "}}";
	p->olen = p->clen = 2;
	p->line = 1;
	rc = scan(p);
	if (rc == 0)
		build(p);
	free(p->toks);
	free(p);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Sets of templates                                                   */
/* ------------------------------------------------------------------ */

static uint32_t hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The slot of `set` holding the template called (`name`, `len`), or the
 * free slot where it would go. `set->nslot` must be non-zero. */
static size_t slot_of(const struct tpl_set *set, const char *name, size_t len)
{
	size_t mask = set->nslot - 1, i = hash(name, len) & mask;

	while (set->slot[i] != 0) {
		const char *n = set->v[set->slot[i] - 1]->name;

		if (strncmp(n, name, len) == 0 && n[len] == '\0')
			break;
		i = (i + 1) & mask;
	}
	return i;
}

/* The template called (`name`, `len`), or NULL. */
static struct tpl *set_find(const struct tpl_set *set, const char *name, size_t len)
{
	size_t i;

	if (set->nslot == 0)
		return NULL;
	i = slot_of(set, name, len);
	return set->slot[i] ? set->v[set->slot[i] - 1] : NULL;
}

/* Doubles the hash when it is half full and puts every template back. */
static void set_rehash(struct tpl_set *set)
{
	if ((set->n + 1) * 2 <= set->nslot)
		return;
	set->nslot = set->nslot ? set->nslot * 2 : 16;
	free(set->slot);
	set->slot = xrealloc(NULL, set->nslot * sizeof(*set->slot));
	memset(set->slot, 0, set->nslot * sizeof(*set->slot));
	for (size_t k = 0; k < set->n; k++) {
		const char *n = set->v[k]->name;

		set->slot[slot_of(set, n, strlen(n))] = (uint32_t)k + 1;
	}
}

struct tpl_set *tpl_set_new(void)
{
	struct tpl_set *set = xrealloc(NULL, sizeof(*set));

	memset(set, 0, sizeof(*set));
	return set;
}

void tpl_set_free(struct tpl_set *set)
{
	if (set == NULL)
		return;
	for (size_t k = 0; k < set->n; k++)
		tpl_free(set->v[k]);
	free(set->v);
	free(set->slot);
	free(set);
}

int tpl_has(const struct tpl_set *set, const char *name)
{
	return set_find(set, name, strlen(name)) != NULL;
}

void tpl_set_loader(struct tpl_set *set, tpl_loader_fn *fn, void *arg)
{
	set->load = fn;
	set->load_arg = arg;
}

/* Parses and adds the template; one of the same name is replaced. */
int tpl_add(struct tpl_set *set, const char *name, const char *file,
	    const char *src, size_t len, struct buf *err)
{
	struct tpl *t, *old;
	size_t i;

	if (len > UINT32_MAX / 2) {
		buf_printf(err, "%s:1: template too large", file);
		return -1;
	}
	t = xrealloc(NULL, sizeof(*t));
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	t->file = xstrdup(file);
	t->src = memcpy(xrealloc(NULL, len + 1), src, len);
	t->src[len] = '\0';
	if (parse(t, len, err) < 0) {
		tpl_free(t);
		return -1;
	}
	set_rehash(set);
	i = slot_of(set, name, strlen(name));
	if (set->slot[i] != 0) {
		old = set->v[set->slot[i] - 1];
		set->v[set->slot[i] - 1] = t;
		tpl_free(old);
		return 0;
	}
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 16;
		set->v = xrealloc(set->v, set->cap * sizeof(*set->v));
	}
	set->v[set->n++] = t;
	set->slot[i] = (uint32_t)set->n;
	return 0;
}

/*
 * Makes sure the template a static partial or parent node `nd` of `t`
 * names is in the set, asking the loader if needed. Returns 0, or -1 with
 * a message in `err`.
 */
static int check_ref(struct tpl_set *set, const struct tpl *t, const struct node *nd,
		     struct buf *err)
{
	const char *name = t->src + nd->text.off;
	char copy[TPL_MAX_NAME];

	if (set_find(set, name, nd->text.len) != NULL)
		return 0;
	if (set->load != NULL && nd->text.len < sizeof(copy)) {
		memcpy(copy, name, nd->text.len);
		copy[nd->text.len] = '\0';
		if (set->load(set->load_arg, set, copy, err) < 0)
			return -1;
		if (set_find(set, name, nd->text.len) != NULL)
			return 0;
	}
	buf_printf(err, "%s:%u: unknown %s '%.*s'", t->file, (unsigned)nd->line,
		   nd->type == N_PARENT ? "parent" : "partial", (int)nd->text.len, name);
	return -1;
}

/* Templates the loader adds are appended to set->v, so they are checked
 * in turn; set->v may move, so it is indexed afresh each time. */
int tpl_check(struct tpl_set *set, struct buf *err)
{
	for (size_t k = 0; k < set->n; k++) {
		for (uint32_t i = 0; i < set->v[k]->n; i++) {
			const struct tpl *t = set->v[k];
			const struct node *nd = &t->nodes[i];

			if ((nd->type == N_PARTIAL || nd->type == N_PARENT) &&
			    !(nd->flags & F_DYNAMIC) && check_ref(set, t, nd, err) < 0)
				return -1;
		}
	}
	return 0;
}

int tpl_add_file(struct tpl_set *set, const char *name, const char *path,
		 struct buf *err)
{
	struct buf src = BUF_INIT;
	int rc = buf_read_file(&src, path, err);

	if (rc == 0)
		rc = tpl_add(set, name, path, src.data, src.len, err);
	buf_free(&src);
	return rc;
}

/* Adds DIR/NAME.mustache for every file name in `names`. */
static int add_dir(struct tpl_set *set, const char *dir, char **names, struct buf *err)
{
	struct buf path = BUF_INIT;
	int rc = 0;

	for (size_t k = 0; names[k] != NULL && rc == 0; k++) {
		char *name = names[k];

		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, name);
		name[strlen(name) - 9] = '\0';
		rc = tpl_add_file(set, name, path.data, err);
	}
	buf_free(&path);
	return rc;
}

struct tpl_set *tpl_load_dir(const char *dir, struct buf *err)
{
	struct tpl_set *set;
	char **names = dir_list(dir, ".mustache");

	if (names == NULL) {
		buf_printf(err, "%s:0: cannot open directory: %s", dir, strerror(errno));
		return NULL;
	}
	set = tpl_set_new();
	if (add_dir(set, dir, names, err) < 0 || tpl_check(set, err) < 0) {
		tpl_set_free(set);
		set = NULL;
	}
	dir_list_free(names);
	return set;
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */
/* ------------------------------------------------------------------ */

/* A parent being rendered: where its overrides are, and the parents that
 * were being rendered around the template that named it. */
struct frame {
	const struct tpl *t;
	uint32_t node;
	const struct frame *prev;
};

struct render {
	struct tpl_set *set;	/* changes only through its loader */
	struct buf *out, *err;
	size_t out_start;
	const struct tv *ctx[TPL_MAX_CTX];
	int nctx;
	struct { const char *s; size_t len; } ind[TPL_MAX_DEPTH + 1];
	int nind;		/* indentation in force: ind[ind_lo..nind) */
	int ind_lo;
	int depth, level;
	int skip_bol;		/* the next text starting a line is already indented */
	unsigned long steps;
	int failed;
};

/* Marks the render failed with "file:line: message" about node `nd`. */
static void render_error(struct render *r, const struct tpl *t, const struct node *nd,
			 const char *msg)
{
	if (!r->failed)
		buf_printf(r->err, "%s:%u: %s", t->file, (unsigned)nd->line, msg);
	r->failed = 1;
}

/* Falsey, as mustache.js has it: missing, null, false, 0, "", []. */
static int truthy(const struct tv *v)
{
	if (v == NULL)
		return 0;
	switch (v->kind) {
	case TV_NULL: return 0;
	case TV_BOOL: return v->u.b;
	case TV_NUM: return v->u.num != 0 && v->u.num == v->u.num;
	case TV_STR: return v->u.str.len > 0;
	case TV_LIST: return v->u.list.n > 0;
	case TV_MAP: return 1;
	}
	return 0;
}

/*
 * Resolves the name of node `nd`: "." is the top of the context stack; a
 * dotted name's first part is looked up from the top of the stack down in
 * the first map that has it, the other parts inside that value only.
 */
static const struct tv *lookup(const struct render *r, const struct tpl *t,
			       const struct node *nd)
{
	const struct span *ps;
	const struct tv_pair *pr = NULL;
	const struct tv *v;

	if (nd->nparts == 0)
		return r->nctx ? r->ctx[r->nctx - 1] : NULL;
	ps = t->parts + nd->part;
	for (int k = r->nctx - 1; k >= 0 && pr == NULL; k--)
		pr = map_pair(r->ctx[k], t->src + ps[0].off, ps[0].len);
	v = pr ? pr->val : NULL;
	for (uint16_t i = 1; i < nd->nparts && v != NULL; i++) {
		pr = map_pair(v, t->src + ps[i].off, ps[i].len);
		v = pr ? pr->val : NULL;
	}
	return v;
}

/* Writes the integer `n` (|n| < 1e18) in decimal into `s`; returns the
 * length. Faster than snprintf, which matters: ids and counts are many. */
static size_t fmt_int(char *s, long long n)
{
	char tmp[24];
	unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
	size_t len = 0, i = 0;

	do {
		tmp[len++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (n < 0)
		s[i++] = '-';
	while (len > 0)
		s[i++] = tmp[--len];
	return i;
}

/* Writes `n` as text into `s` (32 bytes): integers without decimals, other
 * numbers with the fewest digits that read back as the same double. */
static size_t fmt_num(char *s, double n)
{
	if (n > -1e18 && n < 1e18 && (double)(long long)n == n)
		return fmt_int(s, (long long)n);
	for (int prec = 15; prec < 17; prec++) {
		size_t len = (size_t)snprintf(s, 32, "%.*g", prec, n);

		if (strtod(s, NULL) == n)
			return len;
	}
	return (size_t)snprintf(s, 32, "%.17g", n);
}

/* Appends the indentation in force: ind[ind_lo..nind). */
static void put_indent(struct render *r)
{
	for (int k = r->ind_lo; k < r->nind; k++)
		buf_put(r->out, r->ind[k].s, r->ind[k].len);
}

/* Appends a value; `raw` skips HTML escaping. Lists and maps print nothing. */
static void put_value(struct render *r, const struct tv *v, int raw)
{
	char num[32];

	r->skip_bol = 0;
	if (v == NULL)
		return;
	switch (v->kind) {
	case TV_STR:
		if (raw)
			buf_put(r->out, v->u.str.s, v->u.str.len);
		else
			buf_put_html(r->out, v->u.str.s, v->u.str.len);
		break;
	case TV_NUM:
		buf_put(r->out, num, fmt_num(num, v->u.num));
		break;
	case TV_BOOL:
		buf_puts(r->out, v->u.b ? "true" : "false");
		break;
	default:
		break;
	}
}

/* Appends a text node, with the indentation in force at the start of each
 * of its lines (at the first only if it starts a line of the source). */
static void put_text(struct render *r, const struct tpl *t, const struct node *nd)
{
	const char *p = t->src + nd->text.off, *end = p + nd->text.len, *nl;
	int skip = r->skip_bol;

	r->skip_bol = 0;
	if (r->nind == r->ind_lo) {
		buf_put(r->out, p, nd->text.len);
		return;
	}
	if ((nd->flags & F_BOL) && !skip)
		put_indent(r);
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL && nl + 1 < end) {
		buf_put(r->out, p, (size_t)(nl + 1 - p));
		put_indent(r);
		p = nl + 1;
	}
	buf_put(r->out, p, (size_t)(end - p));
}

/* Renders nodes [from, to) of `t`; see the definition below. */
static void render_range(struct render *r, const struct tpl *t, uint32_t from,
			 uint32_t to, const struct frame *chain);

/* Renders the body of section node `i` once with `v` on the context stack. */
static void render_with(struct render *r, const struct tpl *t, uint32_t i,
			const struct frame *chain, const struct tv *v)
{
	if (r->nctx == TPL_MAX_CTX) {
		render_error(r, t, &t->nodes[i], "sections nested too deeply");
		return;
	}
	r->ctx[r->nctx++] = v;
	render_range(r, t, i + 1, t->nodes[i].end, chain);
	r->nctx--;
}

/* {{#name}} renders its body once per item of a non-empty list, once with
 * any other truthy value on the stack; {{^name}} once if it is falsey. */
static void render_section(struct render *r, const struct tpl *t, uint32_t i,
			   const struct frame *chain)
{
	const struct node *nd = &t->nodes[i];
	const struct tv *v = lookup(r, t, nd);

	if (nd->type == N_INVERTED) {
		if (!truthy(v))
			render_range(r, t, i + 1, nd->end, chain);
		return;
	}
	if (!truthy(v))
		return;
	if (v->kind != TV_LIST) {
		render_with(r, t, i, chain, v);
		return;
	}
	for (size_t k = 0; k < v->u.list.n && !r->failed; k++)
		render_with(r, t, i, chain, v->u.list.items[k]);
}

/*
 * The template called (`name`, `len`), asking the set's loader when it is
 * missing; NULL if there is none (or the loader failed: r->failed).
 */
static const struct tpl *find_tpl(struct render *r, const char *name, size_t len)
{
	const struct tpl *it = set_find(r->set, name, len);
	char copy[TPL_MAX_NAME];

	if (it != NULL || r->set->load == NULL || len >= sizeof(copy) || len == 0)
		return it;
	memcpy(copy, name, len);
	copy[len] = '\0';
	if (r->set->load(r->set->load_arg, r->set, copy, r->err) < 0) {
		r->failed = 1;
		return NULL;
	}
	return set_find(r->set, name, len);
}

/* The template a partial or parent node names, or NULL: a dynamic name
 * is looked up in the context and must be a string. */
static const struct tpl *included(struct render *r, const struct tpl *t,
				  const struct node *nd)
{
	const struct tv *v;

	if (!(nd->flags & F_DYNAMIC))
		return find_tpl(r, t->src + nd->text.off, nd->text.len);
	v = lookup(r, t, nd);
	if (v == NULL || v->kind != TV_STR)
		return NULL;
	return find_tpl(r, v->u.str.s, v->u.str.len);
}

/*
 * Starts rendering a partial, parent or override: counts the depth and
 * adds the `len` bytes at `ind` (if any) to the indentation in force.
 * Returns what to hand to leave(), or -1 when too deep.
 */
static int enter(struct render *r, const struct tpl *t, const struct node *nd,
		 const char *ind, size_t len)
{
	int saved = r->nind;

	if (r->depth == TPL_MAX_DEPTH) {
		render_error(r, t, nd, "partials nested too deeply (a loop?)");
		return -1;
	}
	r->depth++;
	if (len > 0) {
		r->ind[r->nind].s = ind;
		r->ind[r->nind++].len = len;
	}
	return saved;
}

/* Ends what enter() started; `saved` is what it returned. */
static void leave(struct render *r, int saved)
{
	r->depth--;
	r->nind = saved;
}

/*
 * {{>name}} and {{<name}}...{{/name}}: renders the named template (nothing
 * if there is none) against the current context. Standalone, its lines get
 * the tag's indentation; inline, none. A parent makes its overrides visible
 * to the blocks rendered inside it.
 */
static void render_include(struct render *r, const struct tpl *t, uint32_t i,
			   const struct frame *chain)
{
	const struct node *nd = &t->nodes[i];
	const struct tpl *it = included(r, t, nd);
	struct frame f = { t, i, chain };
	int lo = r->ind_lo, saved;

	if (it == NULL)
		return;
	if (!(nd->flags & F_STANDALONE))
		r->ind_lo = r->nind;
	saved = enter(r, t, nd, t->src + nd->ind.off,
		      nd->flags & F_STANDALONE ? nd->ind.len : 0);
	if (saved >= 0) {
		render_range(r, it, 0, it->n, nd->type == N_PARENT ? &f : chain);
		leave(r, saved);
	}
	r->ind_lo = lo;
}

/* 1 if block node `b` of template `bt` is called (`name`, `len`). */
static int block_is(const struct tpl *bt, const struct node *b, const char *name,
		    size_t len)
{
	return b->type == N_BLOCK && b->text.len == len &&
	       memcmp(bt->src + b->text.off, name, len) == 0;
}

/*
 * Finds the override for block `name` among the parents in `chain`. The
 * outermost one wins: the page that started it all has the last word.
 * Returns its frame and sets `*node`, or returns NULL.
 */
static const struct frame *find_override(const struct frame *chain, const char *name,
					 size_t len, uint32_t *node)
{
	const struct frame *found = NULL;

	for (const struct frame *f = chain; f != NULL; f = f->prev) {
		const struct tpl *ft = f->t;
		uint32_t k = f->node + 1, end = ft->nodes[f->node].end;

		while (k < end) {
			const struct node *b = &ft->nodes[k];

			if (block_is(ft, b, name, len)) {
				found = f;
				*node = k;
			}
			k = b->type >= N_SECTION && b->type != N_PARTIAL ? b->end : k + 1;
		}
	}
	return found;
}

/*
 * {{$name}}...{{/name}} where a template fills it: renders the override
 * if a parent has one, else the default content. An override is rendered
 * with the context stack of here, but the parents around its own template;
 * its lines get the block's indentation (at the first line only if the
 * block was standalone: otherwise the line is already indented).
 */
static void render_block(struct render *r, const struct tpl *t, uint32_t i,
			 const struct frame *chain)
{
	const struct node *nd = &t->nodes[i];
	uint32_t k = 0;
	int saved;
	const struct frame *f = find_override(chain, t->src + nd->text.off,
					      nd->text.len, &k);

	if (f == NULL) {
		render_range(r, t, i + 1, nd->end, chain);
		return;
	}
	saved = enter(r, t, nd, t->src + nd->ind.off, nd->ind.len);
	if (saved < 0)
		return;
	r->skip_bol = !(nd->flags & F_STANDALONE);
	render_range(r, f->t, k + 1, f->t->nodes[k].end, f->prev);
	r->skip_bol = 0;
	leave(r, saved);
}

/* Counts one unit of work; fails the render past the limits. */
static int budget(struct render *r, const struct tpl *t, const struct node *nd)
{
	if (++r->steps > TPL_MAX_STEPS)
		render_error(r, t, nd, "template too expensive to render (a loop?)");
	else if (r->out->len - r->out_start > TPL_MAX_OUT)
		render_error(r, t, nd, "rendered page too large");
	return r->failed ? -1 : 0;
}

/* Renders nodes [from, to) of `t`; `chain` is the parents around it. */
static void render_range(struct render *r, const struct tpl *t, uint32_t from,
			 uint32_t to, const struct frame *chain)
{
	if (from >= to)
		return;
	if (++r->level > TPL_MAX_LEVEL) {
		render_error(r, t, &t->nodes[from], "sections nested too deeply");
		r->level--;
		return;
	}
	for (uint32_t i = from; i < to && budget(r, t, &t->nodes[i]) == 0; ) {
		const struct node *nd = &t->nodes[i];

		switch (nd->type) {
		case N_TEXT: put_text(r, t, nd); break;
		case N_VAR: put_value(r, lookup(r, t, nd), 0); break;
		case N_RAW: put_value(r, lookup(r, t, nd), 1); break;
		case N_SECTION:
		case N_INVERTED: render_section(r, t, i, chain); break;
		case N_PARTIAL:
		case N_PARENT: render_include(r, t, i, chain); break;
		case N_BLOCK: render_block(r, t, i, chain); break;
		}
		i = nd->type >= N_SECTION && nd->type != N_PARTIAL ? nd->end : i + 1;
	}
	r->level--;
}

int tpl_render(const struct tpl_set *set, const char *name,
	       const struct tv *data, struct buf *out, struct buf *err)
{
	struct render r;
	const struct tpl *t = set_find(set, name, strlen(name));

	if (t == NULL) {
		buf_printf(err, "unknown template '%s'", name);
		return -1;
	}
	r.set = (struct tpl_set *)set;
	r.out = out;
	r.err = err;
	r.out_start = out->len;
	r.ctx[0] = data;
	r.nctx = data != NULL;
	r.nind = r.ind_lo = 0;
	r.depth = r.level = 0;
	r.skip_bol = 0;
	r.steps = 0;
	r.failed = 0;
	render_range(&r, t, 0, t->n, NULL);
	return r.failed ? -1 : 0;
}
