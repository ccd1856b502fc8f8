/* multipart.c - the multipart/form-data parser (file uploads) and content sniffing. */
#include "multipart.h"

#include <string.h>
#include <strings.h>

#define TOO_MANY_FILES "Attach at most 5 files."

/* A slice of the body or of a header: `n` bytes at `s`, not NUL-terminated. */
struct span {
	const char *s;
	size_t n;
};

/* One parse in progress. */
struct mp {
	struct arena *a;
	const char *end;		/* end of the body */
	struct span delim;		/* "\r\n--boundary", or "\n--boundary" */
	int crlf;			/* lines end in CRLF (else LF) */
	struct kvlist *fields;
	struct upload *files;
	size_t nfiles, nparts;
	int status;
};

/* What one part says about itself, and its content. */
struct part {
	struct span name, filename, type, data;
	int has_filename;
};

/* 1 if `c` may appear in an RFC 9110 token (a header or parameter name,
 * an unquoted parameter value). */
static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* 1 if `c` may appear in a boundary (RFC 2046 bchars). */
static int is_bchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("'()+_,-./:=? ", c));
}

/* The first byte at or after `s` (up to `end`) that is not a space or tab. */
static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* 1 if the span equals `word`, ignoring ASCII case. */
static int span_is(struct span sp, const char *word)
{
	return sp.n == strlen(word) && strncasecmp(sp.s, word, sp.n) == 0;
}

/* Reads the next "; name=value" parameter of a header value from *s (up to
 * `end`) into `name` and `val`, moving *s past it. A quoted value ends at
 * the next '"' (browsers escape quotes as %22, never with '\'). Returns 1
 * when a parameter was read, 0 at the end of the value, -1 if malformed. */
static int next_param(const char **s, const char *end, struct span *name,
		      struct span *val)
{
	const char *q = skip_ws(*s, end), *close;

	if (q == end)
		return 0;
	if (*q != ';')
		return -1;
	q = skip_ws(q + 1, end);
	if (q == end)
		return 0;	/* a trailing ';' */
	for (name->s = q; q < end && is_tchar((unsigned char)*q); q++)
		;
	name->n = (size_t)(q - name->s);
	if (name->n == 0 || q == end || *q++ != '=')
		return -1;
	if (q < end && *q == '"') {
		close = memchr(q + 1, '"', (size_t)(end - q - 1));
		if (close == NULL)
			return -1;
		val->s = q + 1;
		val->n = (size_t)(close - q - 1);
		q = close + 1;
	} else {
		for (val->s = q; q < end && is_tchar((unsigned char)*q); q++)
			;
		val->n = (size_t)(q - val->s);
		if (val->n == 0)
			return -1;
	}
	*s = q;
	return 1;
}

/* If the header value `s`..`end` starts with the media or disposition type
 * `type` (any case), returns where its parameters start; else NULL. */
static const char *after_type(const char *s, const char *end, const char *type)
{
	size_t n = strlen(type);

	s = skip_ws(s, end);
	if ((size_t)(end - s) < n || strncasecmp(s, type, n) != 0)
		return NULL;
	s += n;
	return s == end || *s == ';' || *s == ' ' || *s == '\t' ? s : NULL;
}

/* Finds the boundary of a multipart/form-data Content-Type header `ct`.
 * Returns 1 with the boundary in *b (pointing into `ct`), 0 if there is
 * none, it appears twice, or it is not 1..70 bchars not ending in a space. */
static int find_boundary(const char *ct, struct span *b)
{
	const char *end = ct + strlen(ct), *s = after_type(ct, end, "multipart/form-data");
	struct span name, val;
	int found = 0, rc;

	if (s == NULL)
		return 0;
	while ((rc = next_param(&s, end, &name, &val)) == 1) {
		if (!span_is(name, "boundary"))
			continue;
		if (found++)
			return 0;
		*b = val;
	}
	if (rc < 0 || !found || b->n < 1 || b->n > MULTIPART_MAX_BOUNDARY ||
	    b->s[b->n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < b->n; i++)
		if (!is_bchar((unsigned char)b->s[i]))
			return 0;
	return 1;
}

/* If a line break (CRLF, or LF alone in an LF body) starts at `s`, returns
 * the byte after it; else NULL. */
static const char *line_break(const struct mp *m, const char *s)
{
	if (m->crlf)
		return m->end - s >= 2 && s[0] == '\r' && s[1] == '\n' ? s + 2 : NULL;
	return s < m->end && *s == '\n' ? s + 1 : NULL;
}

/* Finds the first delimiter line: "--boundary" at the start of the body or
 * of a line of the preamble. Decides from its line ending whether the body
 * uses CRLF or LF, and builds m->delim. Returns the start of the first part,
 * or NULL if there is no such line. Sets *last if it is the close delimiter. */
static const char *first_delimiter(struct mp *m, const char *body, size_t len,
				   struct span b, int *last)
{
	char *d = arena_alloc(m->a, b.n + 5);
	const char *p;

	memcpy(d, "\r\n--", 4);
	memcpy(d + 4, b.s, b.n);
	if (len >= b.n + 2 && memcmp(body, d + 2, b.n + 2) == 0)
		p = body;
	else if ((p = memmem(body, len, d + 1, b.n + 3)) != NULL)
		p++;
	else
		return NULL;
	p += b.n + 2;
	if (m->end - p >= 2 && p[0] == '-' && p[1] == '-') {
		*last = 1;
		return p;
	}
	p = skip_ws(p, m->end);
	m->crlf = p < m->end && *p == '\r';
	m->delim.s = m->crlf ? d : d + 1;
	m->delim.n = b.n + 3 + (size_t)m->crlf;
	*last = 0;
	return line_break(m, p);
}

/* Reads one header line starting at `s` into `line` (without its line
 * break). Returns the start of the next line, or NULL with *err set: no line
 * break before `limit` (the end of the body or of the space allowed for
 * headers), control characters. */
static const char *header_line(struct mp *m, const char *s, const char *limit,
			       struct span *line, const char **err)
{
	const char *nl = memchr(s, '\n', (size_t)(limit - s));

	if (nl == NULL) {
		*err = limit == m->end ? "malformed upload: the body is cut short" :
		       "malformed upload: part headers too long";
		return NULL;
	}
	if (m->crlf && (nl == s || nl[-1] != '\r')) {
		*err = "malformed upload: mixed line endings";
		return NULL;
	}
	line->s = s;
	line->n = (size_t)(nl - s) - (size_t)m->crlf;
	for (size_t i = 0; i < line->n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*err = "malformed upload: control character in a part header";
			return NULL;
		}
	}
	return nl + 1;
}

/* Reads the parameters of a Content-Disposition value into `pt`. Returns
 * NULL or an error message. */
static const char *disposition(struct span v, struct part *pt)
{
	const char *end = v.s + v.n, *s = after_type(v.s, end, "form-data");
	struct span name, val;
	int rc, has_name = 0;

	if (s == NULL)
		return "malformed upload: a part is not form-data";
	while ((rc = next_param(&s, end, &name, &val)) == 1) {
		int *seen = span_is(name, "name") ? &has_name :
			    span_is(name, "filename") ? &pt->has_filename : NULL;

		if (seen == NULL)
			continue;	/* filename* and the like: RFC 7578 says ignore */
		if ((*seen)++)
			return "malformed upload: a parameter is repeated";
		*(seen == &has_name ? &pt->name : &pt->filename) = val;
	}
	if (rc < 0)
		return "malformed upload: bad Content-Disposition";
	return has_name ? NULL : "malformed upload: a part has no name";
}

/* Interprets one header line of a part into `pt`. Returns NULL or an error
 * message. */
static const char *part_header(struct span line, struct part *pt, int *has_cd)
{
	const char *colon = memchr(line.s, ':', line.n), *end = line.s + line.n;
	struct span name, val;

	if (colon == NULL)
		return "malformed upload: a part header has no colon";
	name.s = line.s;
	name.n = (size_t)(colon - line.s);
	for (size_t i = 0; i < name.n; i++)
		if (!is_tchar((unsigned char)name.s[i]))
			return "malformed upload: bad part header name";
	if (name.n == 0)
		return "malformed upload: bad part header name";
	val.s = skip_ws(colon + 1, end);
	for (val.n = (size_t)(end - val.s); val.n && (val.s[val.n - 1] == ' ' ||
	     val.s[val.n - 1] == '\t'); val.n--)
		;
	if (span_is(name, "content-type")) {
		pt->type = val;
		return NULL;
	}
	if (!span_is(name, "content-disposition"))
		return NULL;
	if ((*has_cd)++)
		return "malformed upload: a part has two Content-Disposition headers";
	return disposition(val, pt);
}

/* Reads the headers of the part starting at *s into `pt`, moving *s to its
 * content. Returns NULL or an error message. */
static const char *part_headers(struct mp *m, const char **s, struct part *pt)
{
	const char *p = *s, *limit = m->end;
	const char *err = NULL;
	struct span line;
	int has_cd = 0;

	if (m->end - p > MULTIPART_MAX_HEAD + 2)
		limit = p + MULTIPART_MAX_HEAD + 2;	/* and the empty line */
	memset(pt, 0, sizeof(*pt));
	for (;;) {
		if ((p = header_line(m, p, limit, &line, &err)) == NULL)
			return err;
		if (line.n == 0)
			break;
		if ((err = part_header(line, pt, &has_cd)) != NULL)
			return err;
	}
	*s = p;
	return has_cd ? NULL : "malformed upload: a part has no Content-Disposition";
}

/* Finds the end of the content starting at *s: the next delimiter. Moves *s
 * past the delimiter line and sets *last if it was the close delimiter.
 * Returns NULL or an error message. */
static const char *part_content(struct mp *m, const char **s, struct part *pt,
				int *last)
{
	const char *d = memmem(*s, (size_t)(m->end - *s), m->delim.s, m->delim.n);
	const char *p;

	if (d == NULL)
		return "malformed upload: the body is cut short";
	pt->data.s = *s;
	pt->data.n = (size_t)(d - *s);
	p = d + m->delim.n;
	if (m->end - p >= 2 && p[0] == '-' && p[1] == '-') {
		*last = 1;
		return NULL;	/* the epilogue, if any, is ignored */
	}
	if ((*s = line_break(m, skip_ws(p, m->end))) == NULL)
		return "malformed upload: boundary text inside a part";
	return NULL;
}

/* The byte length of a character at `s` that a filename must not keep:
 * control characters (C0, DEL, C1), '"', and the invisible marks that
 * reorder text (bidirectional overrides and isolates). 0 to keep it. The
 * text is valid UTF-8 with `n` bytes left. */
static size_t filename_junk(const unsigned char *s, size_t n)
{
	if (*s < 0x20 || *s == 0x7f || *s == '"')
		return 1;
	if (n >= 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 2;
	if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xaa && s[2] <= 0xae)))
		return 3;
	if (n >= 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)
		return 3;
	return 0;
}

/* The file name to keep of the `fn` the client sent, cleaned as
 * multipart_parse() says, in the arena (or the static "attachment"). */
static const char *clean_filename(struct arena *a, struct span fn)
{
	const char *base = fn.s + fn.n;
	char *out;
	size_t n, o = 0, i = 0, skip;

	while (base > fn.s && base[-1] != '/' && base[-1] != '\\')
		base--;
	n = (size_t)(fn.s + fn.n - base);
	if (!utf8_valid(base, n))
		return "attachment";
	out = arena_alloc(a, n + 1);
	while (i < n) {
		skip = filename_junk((const unsigned char *)base + i, n - i);
		if (skip)
			i += skip;
		else
			out[o++] = base[i++];
	}
	if (o > MULTIPART_MAX_FILENAME)
		for (o = MULTIPART_MAX_FILENAME; o && (out[o] & 0xc0) == 0x80; o--)
			;	/* cut before a whole character */
	for (i = 0; i < o && out[i] == ' '; i++)
		;
	while (o > i && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	if (o == i || strcmp(out + i, ".") == 0 || strcmp(out + i, "..") == 0)
		return "attachment";
	return out + i;
}

/* Checks a field or file input name and copies it to `out` in the arena.
 * Returns NULL or an error message. */
static const char *field_name(struct mp *m, struct span name, const char **out)
{
	if (name.n > FORM_MAX_KEY)
		return "field name too long";
	if (memchr(name.s, '\0', name.n))
		return "NUL byte in a field";
	if (!utf8_valid(name.s, name.n))
		return "invalid UTF-8 in a field";
	*out = arena_strndup(m->a, name.s, name.n);
	return NULL;
}

/* Adds an ordinary part to the fields. Returns NULL or an error message. */
static const char *add_field(struct mp *m, const struct part *pt)
{
	struct kv *kv;
	const char *err;

	if (m->fields->n == FORM_MAX_FIELDS)
		return "too many fields";
	kv = &m->fields->items[m->fields->n];
	if ((err = field_name(m, pt->name, &kv->key)) != NULL)
		return err;
	if (pt->data.n > FORM_MAX_VALUE)
		return "field too long";
	if (memchr(pt->data.s, '\0', pt->data.n))
		return "NUL byte in a field";
	if (!utf8_valid(pt->data.s, pt->data.n))
		return "invalid UTF-8 in a field";
	kv->key_len = pt->name.n;
	kv->val = arena_strndup(m->a, pt->data.s, pt->data.n);
	kv->val_len = pt->data.n;
	m->fields->n++;
	return NULL;
}

/* Adds a file part to the uploads, unless it is an empty file input (a
 * file too large is marked). Returns NULL or an error message (with
 * m->status set for 413s). */
static const char *add_file(struct mp *m, const struct part *pt)
{
	struct upload *u;

	if (pt->filename.n == 0 && pt->data.n == 0)
		return NULL;
	if (m->nfiles == MULTIPART_MAX_UPLOADS) {
		m->status = 413;
		return TOO_MANY_FILES;
	}
	u = &m->files[m->nfiles];
	if (field_name(m, pt->name, &u->field) != NULL)
		return "malformed upload: bad file input name";
	u->filename = clean_filename(m->a, pt->filename);
	u->declared_type = arena_strndup(m->a, pt->type.s ? pt->type.s : "", pt->type.n);
	u->data = pt->data.s;
	u->len = pt->data.n;
	u->type = NULL;
	u->too_large = pt->data.n > MULTIPART_MAX_FILE;
	m->nfiles++;
	return NULL;
}

/* Parses the parts from `p` on, up to and including the close delimiter.
 * Returns NULL or an error message. */
static const char *parse_parts(struct mp *m, const char *p)
{
	struct part pt;
	const char *err;
	int last = 0;

	while (!last) {
		if (++m->nparts > FORM_MAX_FIELDS + MULTIPART_MAX_UPLOADS)
			return "too many fields";
		if ((err = part_headers(m, &p, &pt)) != NULL ||
		    (err = part_content(m, &p, &pt, &last)) != NULL)
			return err;
		err = pt.has_filename ? add_file(m, &pt) : add_field(m, &pt);
		if (err)
			return err;
	}
	return NULL;
}

const char *multipart_parse(struct arena *a, const char *content_type,
			    const char *body, size_t len, struct kvlist *fields,
			    struct upload **files, size_t *nfiles, int *status)
{
	struct mp m = { .a = a, .end = body + len, .fields = fields, .status = 400 };
	const char *err = NULL, *p;
	struct span b = { NULL, 0 };
	int last = 0;

	fields->n = 0;
	fields->items = arena_alloc(a, FORM_MAX_FIELDS * sizeof(*fields->items));
	m.files = arena_alloc(a, MULTIPART_MAX_UPLOADS * sizeof(*m.files));
	if (len > MULTIPART_MAX_BODY) {
		m.status = 413;
		err = "What you sent is too large.";
	} else if (!find_boundary(content_type, &b)) {
		err = "malformed upload: no usable boundary";
	} else if ((p = first_delimiter(&m, body, len, b, &last)) == NULL) {
		err = "malformed upload: no boundary line";
	} else if (!last) {
		err = parse_parts(&m, p);
	}
	*files = m.files;
	*nfiles = err ? 0 : m.nfiles;
	if (err)
		fields->n = 0;
	*status = err ? m.status : 0;
	return err;
}

/* 1 if `n` bytes at `s` are text: valid UTF-8 without NUL and without
 * control bytes other than tab, LF, FF and CR. */
static int is_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r') ||
		    c == 0x7f)
			return 0;
	}
	return utf8_valid(s, n);
}

const char *multipart_sniff(const char *data, size_t len)
{
	static const char png[8] = { '\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n' };

	if (len == 0)
		return NULL;
	if (len >= 5 && memcmp(data, "%PDF-", 5) == 0)
		return "application/pdf";
	if (len >= 8 && memcmp(data, png, 8) == 0)
		return "image/png";
	if (len >= 3 && memcmp(data, "\xff\xd8\xff", 3) == 0)
		return "image/jpeg";
	if (is_text(data, len))
		return "text/plain; charset=utf-8";
	return NULL;
}
