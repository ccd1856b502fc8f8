/* test_attachment.c - attachments (page_attachment.c) against a real PostgreSQL:
 * checking by content, storing bytes exactly, thread lists, downloads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attachment.h"
#include "dbtest.h"
#include "form.h"
#include "sess.h"

static const char PNG[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\0";
static const char EXE[] = "MZ\x90\0\3\0";

/* A new user of `role` in the clinic "Attachment DB Clinic"; returns the id. */
static const char *user(const char *role)
{
	return db_user(role, "Attachment DB Clinic", "att");
}

/* A read message from `from` to `to`, a reply in thread `root` if not NULL. */
static const char *message(const char *from, const char *to, const char *root)
{
	const char *p[3] = { from, to, root };

	return q("INSERT INTO messages (inbox_id, outbox_id, parent_id, subject, body, read, read_at)"
		 " SELECT i.id, o.id, $3::uuid, CASE WHEN $3::uuid IS NULL THEN 'Files' END, 'See files',"
		 " true, now() FROM inboxes i, outboxes o WHERE i.user_id = $2 AND o.user_id = $1"
		 " RETURNING id", 3, p);
}

/* A request from `u` carrying `n` uploads. */
static void req_init(struct req *r, struct user *u, struct upload *files, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->arena = A;
	r->db = DB;
	r->user = u;
	r->uploads = files;
	r->nuploads = n;
	r->method = M_POST;
	r->view = tv_map(A);
}

/* The message form's file field, as page_message.c declares it. */
static const struct field file_fields[] = {
	{ .name = "files", .label = "files", .type = FT_FILE, .max = 5 },
	{ 0 }
};
static const struct form file_form = { file_fields };

/* Reads r's files through the form (as a page does) and stores them with
 * message `id`. Returns attachment_store()'s status, or 422 if the form
 * refused them (message in *err). */
static int store(struct req *r, const char *id, const char **err)
{
	struct form_data d = { 0 };

	if (form_read(r, &file_form, &d)) {
		*err = form_get(&d, "files")->error;
		return 422;
	}
	return attachment_store(r, id, form_get(&d, "files"));
}

/* An upload of `len` bytes at `data` named `name`, declared as `type`. */
static struct upload file_of(const char *name, const char *type, const char *data, size_t len)
{
	struct upload u = { "files", name, type, data, len, NULL };

	return u;
}

/* The "attachments" list of the message map `m`, as "filename/size;..." */
static const char *listed(const struct tv *m)
{
	const struct tv *l = tv_get(m, "attachments");
	const char *out = "";

	for (size_t i = 0; l && i < l->u.list.n; i++)
		out = arena_printf(A, "%s%s/%s;", out, tv_get(l->u.list.items[i], "filename")->u.str.s,
				   tv_get(l->u.list.items[i], "size")->u.str.s);
	return out;
}

static void test_check(void)
{
	struct upload files[3] = {
		file_of("scan.png", "application/pdf", PNG, sizeof(PNG) - 1),
		file_of("report.exe", "application/pdf", EXE, sizeof(EXE) - 1),
		file_of("empty.txt", "text/plain", "", 0),
	};
	struct form_data d = { 0 };
	struct user u = { 0 };
	struct req r;

	req_init(&r, &u, files, 1);
	ok(form_read(&r, &file_form, &d) == 0 && form_get(&d, "files")->nfiles == 1,
	   "a PNG passes the check");
	req_init(&r, &u, files, 3);
	ok(form_read(&r, &file_form, &d) == 422, "an executable and an empty file fail it");
	is_str(form_get(&d, "files")->error,
	       "report.exe is not a PDF, PNG, JPEG or plain text file. empty.txt is empty.",
	       "each refused file is named");
	is_str(tv_get(r.view, "files_error")->u.str.s, form_get(&d, "files")->error,
	       "the message is next to the field");
}

static void test_store_and_list(const char *doc, const char *pat, const char *other)
{
	static char big[3 * 1024 * 1024];
	struct upload files[3] = {
		file_of("scan.png", "application/pdf", PNG, sizeof(PNG) - 1),
		file_of("notes.txt", "", "hello\n", 6),
		file_of("big.txt", "text/plain", big, sizeof(big)),
	};
	struct user ud = { .id = doc }, upat = { .id = pat }, uo = { .id = other };
	const char *root = message(doc, pat, NULL), *reply = message(pat, doc, root);
	const char *err = NULL;
	struct tv *msgs = tv_list(A), *m1 = tv_map(A), *m2 = tv_map(A);
	struct req r;

	memset(big, 'a', sizeof(big));
	req_init(&r, &ud, files, 2);
	db_command(DB, "BEGIN");
	ok(store(&r, root, &err) == 0, "two files stored with the root");
	req_init(&r, &upat, files + 2, 1);
	ok(store(&r, reply, &err) == 0, "a 3 MB file stored with the reply");
	db_command(DB, "COMMIT");
	is_str(q("SELECT string_agg(content_type || ' ' || size, ',' ORDER BY created_at)"
		 " FROM attachments WHERE message_id = $1", 1, &root),
	       "image/png 18,text/plain; charset=utf-8 6", "types by content, sizes, in order");
	is_str(q("SELECT encode(data, 'hex') FROM attachments WHERE filename = 'scan.png'"
		 " AND message_id = $1", 1, &root),
	       "89504e470d0a1a0a0000000d49484452ff00", "bytes with NUL and 0xFF stored exactly");

	tv_set_str(A, m1, "id", root);
	tv_set_str(A, m2, "id", reply);
	tv_push(A, msgs, m1);
	tv_push(A, msgs, m2);
	req_init(&r, &upat, NULL, 0);
	ok(attachment_view_thread(&r, root, msgs) == 0, "the thread's files in one query");
	is_str(listed(m1), "scan.png/18 bytes;notes.txt/6 bytes;", "the root's files, in order");
	is_str(listed(m2), "big.txt/3.0 MB;", "the reply's file");
	req_init(&r, &uo, NULL, 0);
	ok(attachment_view_thread(&r, root, msgs) == 0 && strcmp(listed(m1), "") == 0 &&
	   strcmp(listed(m2), "") == 0, "a third user sees no files");
	req_init(&r, &ud, NULL, 0);
	m1 = tv_map(A);
	ok(attachment_view(&r, m1, reply) == 0, "one message's files");
	is_str(listed(m1), "big.txt/3.0 MB;", "the sender of the reply sees them");
}

static void test_refused_store(const char *doc, const char *pat)
{
	struct upload files[2] = {
		file_of("ok.txt", "", "fine", 4),
		file_of("report.exe", "", EXE, sizeof(EXE) - 1),
	};
	struct upload *both[2] = { &files[0], &files[1] };
	struct form_value unchecked = { .files = both, .nfiles = 2 };
	struct user ud = { .id = doc };
	const char *root = message(doc, pat, NULL);
	struct req r;

	req_init(&r, &ud, files, 2);
	db_command(DB, "BEGIN");
	ok(attachment_store(&r, root, &unchecked) == 422,
	   "an unchecked bad file still stops the store");
	db_command(DB, "ROLLBACK");
	is_str(q("SELECT count(*) FROM attachments WHERE message_id = $1", 1, &root), "0",
	       "nothing stored");
}

static void test_download(const char *doc, const char *pat, const char *other)
{
	struct upload f = file_of("R\xc3\xa9sultat 1.png", "", PNG, sizeof(PNG) - 1);
	struct user ud = { .id = doc }, upat = { .id = pat }, uo = { .id = other };
	struct buf headers = BUF_INIT, body = BUF_INIT;
	const char *err = NULL;
	const char *root = message(doc, pat, NULL), *id;
	struct req r;

	req_init(&r, &ud, &f, 1);
	store(&r, root, &err);
	id = q("SELECT id FROM attachments WHERE message_id = $1", 1, &root);
	req_init(&r, &upat, NULL, 0);
	r.params[0] = id;
	r.headers = &headers;
	r.body_out = &body;
	ok(page_attachment_get(&r) == 200 && body.len == sizeof(PNG) - 1 &&
	   memcmp(body.data, PNG, body.len) == 0, "the recipient downloads the exact bytes");
	is_str(r.content_type_out, "image/png", "with the stored type");
	is_str(headers.data, "Content-Disposition: attachment; filename=\"R_sultat 1.png\";"
	       " filename*=UTF-8''R%C3%A9sultat%201.png\r\n", "as a download with both names");
	buf_reset(&body);
	r.user = &uo;
	ok(page_attachment_get(&r) == 404 && body.len == 0, "a third user gets 404");
	buf_free(&headers);
	buf_free(&body);
}

int main(void)
{
	const char *doc, *pat, *other;

	if (dbtest_start() < 0)
		return 1;
	doc = user("doctor");
	pat = user("patient");
	other = user("patient");
	test_check();
	test_store_and_list(doc, pat, other);
	test_refused_store(doc, pat);
	test_download(doc, pat, other);
	dbtest_end();
	return tap_done();
}
