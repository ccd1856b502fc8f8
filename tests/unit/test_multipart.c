/* test_multipart.c - the multipart/form-data parser and content sniffing against hostile input. */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "multipart.h"
#include "tap.h"

#define CT "multipart/form-data; boundary=XyZ"

static struct arena *A;

/* The result of one parse. */
struct res {
	const char *err;
	int status;
	struct kvlist fields;
	struct upload *files;
	size_t nfiles;
};

/* Parses `len` bytes of `body` with Content-Type `ct` into *r; returns the
 * error (NULL if none). */
static const char *parse_n(const char *ct, const char *body, size_t len, struct res *r)
{
	r->err = multipart_parse(A, ct, body, len, &r->fields, &r->files, &r->nfiles,
				 &r->status);
	return r->err;
}

/* parse_n() of a NUL-terminated body. */
static const char *parse(const char *ct, const char *body, struct res *r)
{
	return parse_n(ct, body, strlen(body), r);
}

/* Appends a part with boundary XyZ, CRLF line ends, header lines `head`
 * (each ending in CRLF) and `n` bytes of content. */
static void part(struct buf *b, const char *head, const char *data, size_t n)
{
	buf_puts(b, "--XyZ\r\n");
	buf_puts(b, head);
	buf_puts(b, "\r\n");
	buf_put(b, data, n);
	buf_puts(b, "\r\n");
}

/* Appends an ordinary field part. */
static void field(struct buf *b, const char *name, const char *value)
{
	struct buf h = BUF_INIT;

	buf_printf(&h, "Content-Disposition: form-data; name=\"%s\"\r\n", name);
	part(b, h.data, value, strlen(value));
	buf_free(&h);
}

/* Appends a file part of `n` bytes named `filename`. */
static void file(struct buf *b, const char *filename, const char *data, size_t n)
{
	struct buf h = BUF_INIT;

	buf_printf(&h, "Content-Disposition: form-data; name=\"files\"; filename=\"%s\"\r\n"
		   "Content-Type: application/octet-stream\r\n", filename);
	part(b, h.data, data, n);
	buf_free(&h);
}

/* Parses the buffer after adding the close delimiter. */
static const char *parse_buf(struct buf *b, struct res *r)
{
	buf_puts(b, "--XyZ--\r\n");
	return parse_n(CT, b->data, b->len, r);
}

/* The filename a single file part named `fn` (raw header text) ends up with,
 * or NULL if the body was refused. */
static const char *filename_of(const char *fn)
{
	struct buf b = BUF_INIT, h = BUF_INIT;
	struct res r;
	const char *out = NULL;

	buf_printf(&h, "Content-Disposition: form-data; name=f; filename=%s\r\n", fn);
	part(&b, h.data, "x", 1);
	if (parse_buf(&b, &r) == NULL && r.nfiles == 1)
		out = r.files[0].filename;
	buf_free(&b);
	buf_free(&h);
	return out;
}

static const char good[] =
	"--XyZ\r\n"
	"Content-Disposition: form-data; name=\"subject\"\r\n\r\n"
	"Hello \xc3\xa9t\xc3\xa9\r\n"
	"--XyZ\r\n"
	"content-disposition: form-data; name=body\r\n\r\n"
	"two\r\nlines\r\n"
	"--XyZ\r\n"
	"Content-Disposition: form-data; name=\"files\"; filename=\"scan.pdf\"\r\n"
	"Content-Type: application/pdf\r\n\r\n"
	"%PDF-1.4 data\r\n"
	"--XyZ--\r\n";

static void test_well_formed(void)
{
	struct res r;
	const char *lf;

	ok(parse(CT, good, &r) == NULL && r.status == 0, "a browser-like body parses");
	ok(r.fields.n == 2 && r.nfiles == 1, "two fields and one file");
	is_str(kv_get(&r.fields, "subject"), "Hello été", "a UTF-8 field");
	is_str(kv_get(&r.fields, "body"), "two\r\nlines", "CRLF inside a field survives; unquoted name");
	ok(r.fields.items[1].val_len == 10, "value length is kept");
	is_str(r.files[0].field, "files", "file input name");
	is_str(r.files[0].filename, "scan.pdf", "filename");
	is_str(r.files[0].declared_type, "application/pdf", "declared type");
	ok(r.files[0].len == 13 && memcmp(r.files[0].data, "%PDF-1.4 data", 13) == 0,
	   "file content without the CRLF before the delimiter");
	ok(r.files[0].data > good && r.files[0].data < good + sizeof(good), "file data points into the body");

	lf = "--XyZ\nContent-Disposition: form-data; name=a\n\nline1\r\nx\n"
	     "--XyZ\nContent-Disposition: form-data; name=f; filename=a.txt\n\nab\r\n--XyZ--\n";
	ok(parse(CT, lf, &r) == NULL && r.fields.n == 1 && r.nfiles == 1, "an LF-only body parses");
	is_str(kv_get(&r.fields, "a"), "line1\r\nx", "LF body: a CR inside content is kept");
	ok(r.files[0].len == 3 && memcmp(r.files[0].data, "ab\r", 3) == 0,
	   "LF body: only the LF before the delimiter is taken off");

	ok(parse("Multipart/Form-Data;boundary=\"a b:c=d?\"",
		 "--a b:c=d?\r\nContent-Disposition: form-data; name=q\r\n\r\nv\r\n--a b:c=d?--", &r) == NULL &&
	   r.fields.n == 1, "a quoted boundary with spaces and specials; case-insensitive type");
	ok(parse("multipart/form-data; charset=utf-8; boundary=XyZ",
		 "--XyZ--", &r) == NULL && r.fields.n == 0 && r.nfiles == 0,
	   "only the close delimiter: no parts; other parameters ignored");
	ok(parse(CT, "preamble\r\nmore\r\n--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
		 "--XyZ--\r\nepilogue --XyZ junk", &r) == NULL && r.fields.n == 1,
	   "a preamble and an epilogue are ignored");
	ok(parse(CT, "--XyZ  \r\nCONTENT-DISPOSITION: FORM-DATA; NAME=a; x=\"y\"; filename*=UTF-8''z\r\n"
		 "X-Other: whatever\r\n\r\n1\r\n--XyZ\t\r\nContent-Disposition: form-data; name=b;\r\n\r\n"
		 "\r\n--XyZ--", &r) == NULL && r.fields.n == 2 && r.nfiles == 0,
	   "transport padding, header case, unknown headers and parameters, filename* ignored");
	ok(r.fields.items[1].val_len == 0, "an empty field");
}

static void test_boundary_in_data(void)
{
	struct res r;
	const char *body =
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n"
		"XyZ --XyZ\r\n-XyZ\r\n--Xy\n--XyZ\r\n"
		"--XyZ--";

	ok(parse(CT, body, &r) == NULL && r.fields.n == 1, "boundary text not after CRLF-- is data");
	is_str(kv_get(&r.fields, "a"), "XyZ --XyZ\r\n-XyZ\r\n--Xy\n--XyZ", "and is kept as it was");
	ok(parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZW\r\n--XyZ--",
		 &r) != NULL && r.status == 400, "CRLF--boundary followed by other text is refused");
	ok(parse("multipart/form-data; boundary=Xy", "--Xy\r\nContent-Disposition: form-data; name=a\r\n\r\n"
		 "--XyZ\r\n--Xy--", &r) == NULL, "a longer boundary inside the data of a shorter one");
}

static void test_bad_boundaries(void)
{
	static const char *bad[] = {
		"multipart/form-data", "multipart/form-data; boundary=",
		"multipart/form-data; boundary=\"\"", "multipart/form-data; boundary=\"XyZ",
		"multipart/form-data; boundary=XyZ; boundary=XyZ",
		"multipart/form-data; boundary=\"XyZ \"", "multipart/mixed; boundary=XyZ",
		"multipart/form-datax; boundary=XyZ", "", "text/plain",
		"multipart/form-data; boundary=Xy\"Z", "multipart/form-data; boundary=\"X\\yZ\"",
		"multipart/form-data; boundary XyZ", "multipart/form-data; =XyZ",
	};
	char ct[160], body[200];
	struct res r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(parse(bad[i], "--XyZ--", &r) != NULL && r.status == 400,
		   "refused Content-Type: %s", bad[i]);
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%070d", 7);
	snprintf(body, sizeof(body), "--%070d--", 7);
	ok(parse(ct, body, &r) == NULL, "a 70-character boundary is accepted");
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%071d", 7);
	snprintf(body, sizeof(body), "--%071d--", 7);
	ok(parse(ct, body, &r) != NULL && r.status == 400, "a 71-character boundary is refused");
	ok(parse(CT, "", &r) != NULL && r.status == 400, "an empty body is refused");
	ok(parse(CT, "no delimiter at all", &r) != NULL, "a body without a delimiter is refused");
	ok(parse(CT, "--XyZ", &r) != NULL, "a lone delimiter without line end is refused");
	ok(parse(CT, "x--XyZ--", &r) != NULL, "a delimiter not at a line start is refused");
}

static void test_truncation(void)
{
	const char *end = strstr(good, "--XyZ--") + 7;
	size_t full = (size_t)(end - good), bad = 0;
	struct res r;

	for (size_t n = 0; n < full; n++)
		bad += parse_n(CT, good, n, &r) == NULL || r.status != 400;
	ok(bad == 0, "every one of the %zu truncations of a good body is refused with 400", full);
	ok(parse_n(CT, good, full, &r) == NULL, "up to the close delimiter is enough");
	ok(parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue\r\n", &r) != NULL &&
	   r.status == 400, "no final delimiter is refused");
	ok(parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ\r\n", &r) != NULL,
	   "a delimiter followed by nothing is refused");
}

static void test_bad_headers(void)
{
	static const char *bad[] = {
		"--XyZ\r\nContent-Disposition form-data; name=a\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\nno colon here\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; filename=a.txt\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\" junk\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\nX: y\rz\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\n folded: line\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nBad Name: x\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\n: x\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=\"my \\\"q\\\".pdf\"\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\n",
	};
	struct buf b = BUF_INIT, h = BUF_INIT;
	struct res r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = parse(CT, bad[i], &r);

		ok(err != NULL && r.status == 400 && r.fields.n == 0,
		   "refused part %zu (%s)", i, err ? err : "accepted");
	}

	buf_puts(&h, "Content-Disposition: form-data; name=a\r\nX-Pad: ");
	for (size_t i = h.len; i < MULTIPART_MAX_HEAD - 2; i++)
		buf_putc(&h, 'p');
	buf_puts(&h, "\r\n");
	part(&b, h.data, "v", 1);
	ok(parse_buf(&b, &r) == NULL, "part headers of 8 KiB are accepted");
	buf_reset(&b);
	buf_puts(&h, "X-More: 1\r\n");
	part(&b, h.data, "v", 1);
	ok(parse_buf(&b, &r) != NULL && r.status == 400, "part headers over 8 KiB are refused");
	buf_free(&b);
	buf_free(&h);
}

static void test_fields(void)
{
	static const char nul[] =
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx\0y\r\n--XyZ--";
	struct buf b = BUF_INIT;
	struct res r;
	char *big = malloc(FORM_MAX_VALUE + 2);

	ok(parse_n(CT, nul, sizeof(nul) - 1, &r) != NULL &&
	   r.status == 400 && strcmp(r.err, "NUL byte in a field") == 0, "a NUL byte in a text field is refused");
	ok(parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n\xc3\x28\r\n--XyZ--", &r) != NULL &&
	   strcmp(r.err, "invalid UTF-8 in a field") == 0, "invalid UTF-8 in a field is refused");
	ok(parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"\xff\"\r\n\r\nx\r\n--XyZ--", &r) != NULL,
	   "invalid UTF-8 in a field name is refused");
	ok(parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"\xed\xa0\x80\"; filename=a\r\n\r\nx\r\n--XyZ--",
		 &r) != NULL && r.status == 400, "invalid UTF-8 in a file input name is refused");

	memset(big, 'v', FORM_MAX_VALUE + 1);
	field(&b, "a", "");
	b.len -= 2;	/* replace the empty value by a big one */
	buf_put(&b, big, FORM_MAX_VALUE);
	buf_puts(&b, "\r\n");
	ok(parse_buf(&b, &r) == NULL && r.fields.items[0].val_len == FORM_MAX_VALUE,
	   "a field exactly at the value limit is accepted");
	buf_reset(&b);
	part(&b, "Content-Disposition: form-data; name=a\r\n", big, FORM_MAX_VALUE + 1);
	ok(parse_buf(&b, &r) != NULL && r.status == 400, "a field over the value limit is refused");
	free(big);

	buf_reset(&b);
	big = calloc(1, FORM_MAX_KEY + 2);
	memset(big, 'k', FORM_MAX_KEY + 1);
	field(&b, big, "v");
	ok(parse_buf(&b, &r) != NULL && r.status == 400, "a field name over the limit is refused");
	free(big);

	buf_reset(&b);
	for (int i = 0; i < FORM_MAX_FIELDS; i++)
		field(&b, "k", "v");
	buf_puts(&b, "--XyZ--");
	ok(parse_n(CT, b.data, b.len, &r) == NULL && r.fields.n == FORM_MAX_FIELDS,
	   "exactly %d fields are accepted", FORM_MAX_FIELDS);
	b.len -= 7;
	field(&b, "k", "v");
	ok(parse_buf(&b, &r) != NULL && r.status == 400 && r.fields.n == 0,
	   "more than %d fields are refused", FORM_MAX_FIELDS);
	buf_free(&b);
}

static void test_file_limits(void)
{
	struct buf b = BUF_INIT;
	struct res r;
	char *big = malloc(MULTIPART_MAX_FILE + 1024 * 1024);

	memset(big, 'a', MULTIPART_MAX_FILE + 1024 * 1024);
	for (int i = 0; i < MULTIPART_MAX_FILES; i++)
		file(&b, "a.txt", "x", 1);
	field(&b, "f", "");
	buf_puts(&b, "--XyZ--");
	ok(parse_n(CT, b.data, b.len, &r) == NULL && r.nfiles == 5, "five files are accepted");
	b.len -= 7;
	file(&b, "six.txt", "x", 1);
	ok(parse_buf(&b, &r) == NULL && r.nfiles == 6 && r.fields.n == 1,
	   "a sixth file is read too: the form refuses it, with the text kept");
	b.len -= 9;
	for (int i = 6; i < MULTIPART_MAX_UPLOADS; i++)
		file(&b, "more.txt", "x", 1);
	ok(parse_buf(&b, &r) == NULL && r.nfiles == MULTIPART_MAX_UPLOADS, "up to 20 files are read");
	b.len -= 9;
	file(&b, "too-many.txt", "x", 1);
	ok(parse_buf(&b, &r) != NULL && r.status == 413 && r.nfiles == 0 && r.fields.n == 0,
	   "a 21st file is refused with 413");
	is_str(r.err, "Attach at most 5 files.", "and the user is told why");

	buf_reset(&b);
	file(&b, "big.txt", big, MULTIPART_MAX_FILE + 1024 * 1024);
	ok(parse_buf(&b, &r) == NULL && r.nfiles == 1 && r.files[0].too_large,
	   "an 11 MB file is read and marked too large");
	buf_reset(&b);
	file(&b, "max.txt", big, MULTIPART_MAX_FILE);
	ok(parse_buf(&b, &r) == NULL && r.nfiles == 1 && r.files[0].len == MULTIPART_MAX_FILE &&
	   !r.files[0].too_large,
	   "a file of exactly 10 MiB is accepted");
	free(big);
	buf_free(&b);

	big = calloc(1, MULTIPART_MAX_BODY + 1);
	ok(parse_n(CT, big, MULTIPART_MAX_BODY + 1, &r) != NULL && r.status == 413,
	   "a body over MULTIPART_MAX_BODY is refused with 413");
	free(big);
}

static void test_empty_files(void)
{
	struct buf b = BUF_INIT;
	struct res r;

	part(&b, "Content-Disposition: form-data; name=\"files\"; filename=\"\"\r\n"
	     "Content-Type: application/octet-stream\r\n", "", 0);
	field(&b, "body", "hi");
	ok(parse_buf(&b, &r) == NULL && r.nfiles == 0 && r.fields.n == 1,
	   "a file input left empty is skipped");
	buf_reset(&b);
	for (int i = 0; i < 8; i++)
		part(&b, "Content-Disposition: form-data; name=f; filename=\"\"\r\n", "", 0);
	ok(parse_buf(&b, &r) == NULL && r.nfiles == 0, "empty file inputs do not count as files");
	buf_reset(&b);
	part(&b, "Content-Disposition: form-data; name=f; filename=\"\"\r\n", "data", 4);
	ok(parse_buf(&b, &r) == NULL && r.nfiles == 1, "bytes without a filename are a file");
	is_str(r.files[0].filename, "attachment", "called \"attachment\"");
	is_str(r.files[0].declared_type, "", "no declared type is \"\"");
	buf_reset(&b);
	part(&b, "Content-Disposition: form-data; name=f; filename=\"empty.txt\"\r\n", "", 0);
	ok(parse_buf(&b, &r) == NULL && r.nfiles == 1 && r.files[0].len == 0,
	   "a named empty file is kept (the page refuses it)");
	buf_free(&b);
}

static void test_filenames(void)
{
	char long_name[700];
	const char *fn;
	size_t n;

	is_str(filename_of("\"C:\\Users\\ann\\Documents\\report.pdf\""), "report.pdf",
	       "a Windows path keeps its last component");
	is_str(filename_of("\"../../etc/passwd\""), "passwd", "a Unix path keeps its last component");
	is_str(filename_of("\"dir/\""), "attachment", "a name that is only a path");
	is_str(filename_of("\"..\""), "attachment", "\"..\"");
	is_str(filename_of("\"a\\..\""), "attachment", "\"a\\..\"");
	is_str(filename_of("\"tab\there.txt\""), "tabhere.txt", "a tab is stripped");
	is_str(filename_of("\"a%22b.txt\""), "a%22b.txt", "a browser-escaped quote stays as sent");
	is_str(filename_of("it's.txt"), "it's.txt", "an unquoted token with an apostrophe");
	is_str(filename_of("\"invoice\xe2\x80\xaeydob.exe\""), "invoiceydob.exe",
	       "a right-to-left override is stripped");
	is_str(filename_of("\"a\xc2\x85\xc2\x9f" "b\xe2\x81\xa6.txt\""), "ab.txt", "C1 controls and isolates are stripped");
	is_str(filename_of("\"  spaced  .txt  \""), "spaced  .txt", "surrounding spaces are trimmed");
	is_str(filename_of("\"\xff\xfe.txt\""), "attachment", "invalid UTF-8 becomes \"attachment\"");
	is_str(filename_of("\"r\xc3\xa9sum\xc3\xa9.pdf\""), "résumé.pdf", "UTF-8 is kept");
	ok(filename_of("\"a\x01.txt\"") == NULL, "a raw control character in the header is refused");
	ok(filename_of("\"my \\\"q\\\".pdf\"") == NULL, "backslash-escaped quotes are not escapes: refused");

	long_name[0] = '"';
	for (n = 1; n < 601; n += 2)
		memcpy(long_name + n, "\xc3\xa9", 2);
	memcpy(long_name + n, "\"", 2);
	fn = filename_of(long_name);
	ok(fn && strlen(fn) == 254 && utf8_valid(fn, strlen(fn)),
	   "a 600-byte name is cut to at most 255 bytes between characters");
}

static void test_sniff(void)
{
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
	static const char jpg[] = "\xff\xd8\xff\xe0\0\x10JFIF";

	is_str(multipart_sniff("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 15), "application/pdf", "PDF");
	is_str(multipart_sniff(png, sizeof(png) - 1), "image/png", "PNG");
	is_str(multipart_sniff(jpg, sizeof(jpg) - 1), "image/jpeg", "JPEG");
	is_str(multipart_sniff("Dear doctor,\r\n\tthanks \xe2\x82\xac\f\n", 27),
	       "text/plain; charset=utf-8", "UTF-8 text with tab, CR, LF, FF");
	is_str(multipart_sniff("<html><script>x</script>", 24), "text/plain; charset=utf-8",
	       "HTML is only text (served as a download with nosniff)");
	ok(multipart_sniff("", 0) == NULL, "empty data is nothing");
	ok(multipart_sniff("MZ\x90\0\3\0\0\0", 8) == NULL, "an executable is nothing");
	ok(multipart_sniff("text\0more", 9) == NULL, "text with a NUL is nothing");
	ok(multipart_sniff("esc \x1b[31m", 9) == NULL, "text with an escape byte is nothing");
	ok(multipart_sniff("del \x7f", 5) == NULL, "text with DEL is nothing");
	ok(multipart_sniff("caf\xe9", 4) == NULL, "Latin-1 text is nothing");
	ok(multipart_sniff("\x89PNG\r\n\x1a", 7) == NULL, "a truncated PNG signature is nothing");
	ok(multipart_sniff("\xff\xd8", 2) == NULL, "a truncated JPEG signature is nothing");
	is_str(multipart_sniff("%PDF", 4), "text/plain; charset=utf-8", "\"%%PDF\" without '-' is text");
	is_str(multipart_sniff("GIF89a", 6), "text/plain; charset=utf-8", "a name is not a type: just text");
	ok(multipart_sniff("GIF89a\x01\0\x01\0\x80", 11) == NULL, "a GIF is nothing");
}

int main(void)
{
	A = arena_new(64 * 1024);
	test_well_formed();
	test_boundary_in_data();
	test_bad_boundaries();
	test_truncation();
	test_bad_headers();
	test_fields();
	test_file_limits();
	test_empty_files();
	test_filenames();
	test_sniff();
	arena_free(A);
	return tap_done();
}
