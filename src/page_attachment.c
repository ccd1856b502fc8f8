/* page_attachment.c - files attached to messages: checked by content, stored, listed on threads, downloaded. */
#include "attachment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "form.h"
#include "multipart.h"
#include "row.h"
#include "sess.h"

/* A message's files are seen by whoever may see the message
 * (viewer_messages, sql/0007_scopes.sql). $2 is the user. */
#define VISIBLE \
	" FROM attachments a JOIN viewer_messages($2) m ON m.id = a.message_id" \
	" WHERE true"
#define LIST_COLUMNS "SELECT a.id, a.message_id, a.filename, a.size"
#define LIST_ORDER " ORDER BY a.created_at, a.id"

const struct db_stmt attachment_stmts[] = {
	/* clock_timestamp(), not now(): the files of one message keep the
	 * order they were sent in, though stored in one transaction. */
	{ "attachment_insert",
	  "INSERT INTO attachments (message_id, filename, content_type, size, data, created_at)"
	  " VALUES ($1, $2, $3, $4, $5, clock_timestamp())" },
	{ "attachment_thread",
	  LIST_COLUMNS VISIBLE " AND (m.id = $1 OR m.parent_id = $1)" LIST_ORDER },
	{ "attachment_message",
	  LIST_COLUMNS VISIBLE " AND m.id = $1" LIST_ORDER },
	/* Asked for in binary: the bytes of the file as they are. "clinic":
	 * $3, the clinic the user acts for, if the message is its work (its
	 * sender and its recipient are both its members), else NULL: whose
	 * audit log records the download. Another clinic of the user's must
	 * not learn the names of the files they exchange elsewhere. */
	{ "attachment_get",
	  "SELECT a.filename, a.content_type, a.data, a.id::text,"
	  " (SELECT $3::uuid::text WHERE m.inbox_id IN (SELECT i.id FROM inboxes i"
	  " JOIN clinic_people($3::uuid) p ON p.id = i.user_id) AND m.outbox_id IN"
	  " (SELECT o.id FROM outboxes o JOIN clinic_people($3::uuid) p ON p.id = o.user_id))"
	  " AS clinic" VISIBLE " AND a.id = $1" },
	{ NULL, NULL }
};

/* Inserts upload `u` as an attachment of `message_id`, its bytes as a
 * binary parameter. Returns 0 or a database failure status. */
static int attachment_insert(struct req *r, const char *message_id,
			     const struct upload *u)
{
	char size[24];
	const char *p[5] = { message_id, u->filename, u->type, size, u->data };
	const int lengths[5] = { 0, 0, 0, 0, (int)u->len };
	const int formats[5] = { 0, 0, 0, 0, 1 };
	PGresult *res;

	snprintf(size, sizeof(size), "%zu", u->len);
	res = db_exec_binary(r->db, "attachment_insert", 5, p, lengths, formats, 0);
	if (res == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	return 0;
}

int attachment_store(struct req *r, const char *message_id, const struct form_value *files)
{
	int status = 0;

	/* form_read() checked them; a file that did not pass never gets here. */
	if (form_files_problem(r->arena, files->files, files->nfiles))
		return 422;
	for (size_t i = 0; i < files->nfiles && status == 0; i++)
		status = attachment_insert(r, message_id, files->files[i]);
	return status;
}

/* A file size for people: "1 byte", "912 bytes", "48 KB", "2.4 MB"
 * (arena). */
static const char *attachment_size(struct arena *a, long n)
{
	if (n < 1024)
		return arena_printf(a, "%ld byte%s", n, n == 1 ? "" : "s");
	if (n < 1024 * 1024)
		return arena_printf(a, "%ld KB", (n + 1023) / 1024);
	return arena_printf(a, "%.1f MB", n / (1024.0 * 1024.0));
}

/* The map in the list `messages` whose "id" is `id`, or NULL. */
static struct tv *message_map(struct tv *messages, const char *id)
{
	for (size_t i = 0; i < messages->u.list.n; i++) {
		struct tv *v = tv_get(messages->u.list.items[i], "id");

		if (v && v->kind == TV_STR && v->u.str.len == strlen(id) &&
		    memcmp(v->u.str.s, id, v->u.str.len) == 0)
			return messages->u.list.items[i];
	}
	return NULL;
}

/* Gives every map of the list `messages` an empty "attachments" list (so
 * a message without files never sees another context's), then adds the
 * rows of `res` (id, message id, filename, size) to the lists of their
 * messages, matched by "id"; or all of them to `only`, if not NULL, whose
 * list is then the one `messages` holds. */
static void attachment_rows(struct req *r, PGresult *res, struct tv *messages,
			    struct tv *only)
{
	struct arena *a = r->arena;

	for (size_t i = 0; i < messages->u.list.n; i++)
		tv_set(a, messages->u.list.items[i], "attachments", tv_list(a));
	for (int i = 0; i < PQntuples(res); i++) {
		struct tv *msg = only ? only : message_map(messages, PQgetvalue(res, i, 1));
		struct tv *f;

		if (msg == NULL)
			continue;
		f = row_view(a, res, i, 0);
		tv_set_str(a, f, "size", attachment_size(a, atol(PQgetvalue(res, i, 3))));
		tv_push(a, tv_get(msg, "attachments"), f);
	}
}

/* Runs the list statement `stmt` for `id` and the user, and fills the
 * "attachments" lists of `messages` (or `only`: see attachment_rows()).
 * Returns 0 or a failure status. */
static int attachment_list(struct req *r, const char *stmt, const char *id,
			   struct tv *messages, struct tv *only)
{
	const char *p[2] = { id, r->user->id };
	PGresult *res = db_exec(r->db, stmt, 2, p);

	if (res == NULL)
		return db_failure_status(r->db);
	attachment_rows(r, res, messages, only);
	PQclear(res);
	return 0;
}

int attachment_view_thread(struct req *r, const char *root_id, struct tv *messages)
{
	return attachment_list(r, "attachment_thread", root_id, messages, NULL);
}

int attachment_view(struct req *r, struct tv *message_tv, const char *message_id)
{
	struct tv *one = tv_list(r->arena);

	tv_push(r->arena, one, message_tv);
	return attachment_list(r, "attachment_message", message_id, one, message_tv);
}

/* The Content-Disposition value that makes `filename` (UTF-8) a download:
 * filename="..." in plain ASCII (one '_' for each character outside
 * printable ASCII and for '"', '\' and '%'), then the exact name as
 * filename*=UTF-8''<percent-encoded> (RFC 6266). In the arena. */
static const char *attachment_disposition(struct arena *a, const char *filename)
{
	struct buf b = BUF_INIT;
	const char *out;

	buf_puts(&b, "attachment; filename=\"");
	for (const unsigned char *p = (const unsigned char *)filename; *p; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;	/* the rest of a UTF-8 character */
		buf_putc(&b, *p < 0x20 || *p >= 0x7f || strchr("\"\\%", *p) ? '_' : (char)*p);
	}
	buf_puts(&b, "\"; filename*=UTF-8''");
	buf_put_urlarg(&b, filename, strlen(filename));
	out = arena_strdup(a, b.data);
	buf_free(&b);
	return out;
}

/* Column `col` of the first row of the binary result `res` as an arena
 * string, or NULL for SQL NULL. */
static const char *attachment_column(struct req *r, PGresult *res, int col)
{
	if (PQgetisnull(res, 0, col))
		return NULL;
	return arena_strndup(r->arena, PQgetvalue(res, 0, col), (size_t)PQgetlength(res, 0, col));
}

int page_attachment_get(struct req *r)
{
	const char *p[3] = { r->params[0], r->user->id, r->user->clinic_id };
	const char *filename;
	PGresult *res;
	int status = row_load(r, "attachment_get", 3, p, 1, &res);

	if (status)
		return status;
	filename = attachment_column(r, res, 0);
	/* Who read which file is on record before the file leaves: without
	 * the record, no download. (A HEAD sends no file.) The entry names
	 * the file as sent, and its id, as names repeat. */
	if (r->method == M_GET &&
	    (status = audit(r, "attachment downloaded", attachment_column(r, res, 4), NULL,
			    arena_printf(r->arena, "%s (file %s)", filename,
					 attachment_column(r, res, 3))))) {
		PQclear(res);
		return status;
	}
	r->content_type_out = attachment_column(r, res, 1);
	http_header(r, "Content-Disposition", attachment_disposition(r->arena, filename));
	buf_reset(r->body_out);
	buf_put(r->body_out, PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2));
	PQclear(res);
	r->status = 200;
	return 200;
}
