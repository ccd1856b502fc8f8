/* multipart.h - the multipart/form-data parser (file uploads) and content sniffing. */
#ifndef CAREBOX_MULTIPART_H
#define CAREBOX_MULTIPART_H

#include <stddef.h>

#include "arena.h"
#include "http_parse.h"

/* Limits on an upload. A form may take MULTIPART_MAX_FILES files of
 * MULTIPART_MAX_FILE bytes each; a body with more or larger files is still
 * read (up to MULTIPART_MAX_UPLOADS files and MULTIPART_MAX_BODY bytes, the
 * same as nginx.conf's client_max_body_size, which refuses more first), so
 * that the form comes back with its text and the problem next to the file
 * field (form.c) instead of a bare error page. */
#define MULTIPART_MAX_FILES 5
#define MULTIPART_MAX_FILE 10485760			/* 10 MiB per file */
#define MULTIPART_MAX_UPLOADS 20
#define MULTIPART_MAX_BODY (56 * 1024 * 1024)
#define MULTIPART_MAX_BOUNDARY 70			/* RFC 2046 */
#define MULTIPART_MAX_HEAD 8192				/* header lines of one part */
#define MULTIPART_MAX_FILENAME 255			/* bytes, after cleaning */

/* One uploaded file. `field` and `filename` are NUL-terminated arena
 * strings; `declared_type` is the part's Content-Type as the client sent it
 * ("" if none; never trust it: see multipart_sniff). `data` points into the
 * request body, which must outlive the upload: nothing is copied. `type`
 * is NULL until the app checks the content (multipart_sniff), which it
 * then does once per file. */
struct upload {
	const char *field;
	const char *filename;
	const char *declared_type;
	const char *data;
	size_t len;
	const char *type;
	int too_large;		/* over MULTIPART_MAX_FILE: to be refused */
};

/*
 * Parses a multipart/form-data body (RFC 7578) of `len` bytes whose
 * Content-Type header is `content_type` (the boundary comes from there,
 * quoted or not, 1..70 characters).
 *
 * Parts without a filename parameter become pairs in `fields`, under the
 * rules and limits of http_parse_urlencoded(): valid UTF-8, no NUL,
 * FORM_MAX_FIELDS, FORM_MAX_KEY, FORM_MAX_VALUE; keys and values are copied
 * into the arena. Parts with a filename become entries of *files (an arena
 * array), in order; a file input left empty (filename="" and no bytes) is
 * skipped; a file over MULTIPART_MAX_FILE is an entry with `too_large` set
 * (the form refuses it). Filenames are cleaned: the last path component only (after '/'
 * or '\'), without control characters, '"' or bidirectional overrides,
 * trimmed, at most MULTIPART_MAX_FILENAME bytes; a name that is not valid
 * UTF-8 or ends up empty becomes "attachment".
 *
 * Lines may end in CRLF or, consistently throughout the body, in LF alone
 * (as the first delimiter line does). Quoted parameters are taken as
 * browsers write them (HTML's form encoding): no backslash escapes.
 *
 * Returns NULL on success. On error returns a static message fit to show
 * the user, sets *status to 400 (malformed body, bad field) or 413 (more
 * than MULTIPART_MAX_UPLOADS files, body over MULTIPART_MAX_BODY), and
 * leaves `fields` and *nfiles empty. */
const char *multipart_parse(struct arena *a, const char *content_type,
			    const char *body, size_t len, struct kvlist *fields,
			    struct upload **files, size_t *nfiles, int *status);

/* The content type `len` bytes at `data` really are, judged by content
 * alone: "application/pdf" (starts with "%PDF-"), "image/png" (the PNG
 * signature), "image/jpeg" (FF D8 FF), "text/plain; charset=utf-8" (valid
 * UTF-8 without NUL or control bytes other than tab, CR, LF, FF), or NULL
 * for anything else, empty data included. Static strings. */
const char *multipart_sniff(const char *data, size_t len);

#endif
