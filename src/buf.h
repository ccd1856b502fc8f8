/* buf.h - growable byte buffer and the escaping helpers that write into it. */
#ifndef CAREBOX_BUF_H
#define CAREBOX_BUF_H

#include <stddef.h>

/* A heap buffer. `data` is always NUL-terminated after the first write, so it
 * can be printed; `len` excludes that NUL. Reusing one buffer across requests
 * (buf_reset) keeps its capacity and so a worker's memory flat. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

/* Makes room for `extra` more bytes; aborts when out of memory. */
void buf_grow(struct buf *b, size_t extra);

void buf_put(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends `n` bytes of text escaped for HTML element content and for quoted
 * attribute values: & < > " ' become entities. */
void buf_put_html(struct buf *b, const char *s, size_t n);

/* Appends plain text `s` (`n` bytes) as HTML paragraphs, escaped as
 * buf_put_html does: each run of lines between blank lines (lines of only
 * white space) becomes <p>...</p>, and the line breaks inside one
 * become <br> (so every browser, text browsers included, shows them).
 * "\r\n" counts as one break; leading and trailing blank lines go. */
void buf_put_paragraphs(struct buf *b, const char *s, size_t n);

/* Appends `s` percent-encoded for use as one URL query argument or path
 * segment: everything but A-Z a-z 0-9 - . _ ~ is encoded. */
void buf_put_urlarg(struct buf *b, const char *s, size_t n);

/* Appends the whole file `path`, then a NUL. Returns 0, or -1 with
 * "PATH:0: cannot open: reason" (or "cannot read") appended to `err` when
 * `err` is not NULL. */
int buf_read_file(struct buf *b, const char *path, struct buf *err);

/* Forgets the content, keeps the memory. */
void buf_reset(struct buf *b);

/* Frees the memory; the buffer may be used again afterwards. */
void buf_free(struct buf *b);

#endif
