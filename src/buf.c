/* buf.c - growable byte buffer and HTML/URL escaping into it. */
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap = b->cap ? b->cap : 256;
	char *p;

	if (need <= b->cap)
		return;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL) {
		fputs("carebox: out of memory\n", stderr);
		abort();
	}
	b->data = p;
	b->cap = cap;
}

void buf_put(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_put_html(struct buf *b, const char *s, size_t n)
{
	size_t start = 0;

	buf_grow(b, n);
	for (size_t i = 0; i < n; i++) {
		const char *ent;

		switch (s[i]) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: continue;
		}
		buf_put(b, s + start, i - start);
		buf_puts(b, ent);
		start = i + 1;
	}
	buf_put(b, s + start, n - start);
}

/* 1 if the line from s[i] up to its end (a '\n' or n) is only white
 * space; sets *end to the index just past it. */
static int blank_line(const char *s, size_t n, size_t i, size_t *end)
{
	int blank = 1;

	for (; i < n && s[i] != '\n'; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			blank = 0;
	*end = i < n ? i + 1 : n;
	return blank;
}

void buf_put_paragraphs(struct buf *b, const char *s, size_t n)
{
	size_t i = 0, end, stop;
	int open = 0;

	while (i < n) {
		if (blank_line(s, n, i, &end)) {
			if (open)
				buf_puts(b, "</p>\n");
			open = 0;
			i = end;
			continue;
		}
		buf_puts(b, open ? "<br>\n" : "<p>");
		open = 1;
		/* The line without its break ("\n" or "\r\n"). */
		stop = s[end - 1] == '\n' ? end - 1 : end;
		if (stop > i && s[stop - 1] == '\r')
			stop--;
		buf_put_html(b, s + i, stop - i);
		i = end;
	}
	if (open)
		buf_puts(b, "</p>\n");
}

void buf_put_urlarg(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			buf_putc(b, (char)c);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		}
	}
}

int buf_read_file(struct buf *b, const char *path, struct buf *err)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;
	int failed;

	if (f == NULL) {
		if (err)
			buf_printf(err, "%s:0: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_put(b, chunk, n);
	failed = ferror(f);
	if (failed && err)
		buf_printf(err, "%s:0: cannot read: %s", path, strerror(errno));
	fclose(f);
	buf_grow(b, 0);
	b->data[b->len] = '\0';
	return failed ? -1 : 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
