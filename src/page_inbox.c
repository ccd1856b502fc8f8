/* page_inbox.c - the message lists: /inbox, /sent and /archive, newest first,
 * ten at a time, keyset-paged (?before=<message id>) so a deep page costs
 * the same as the first. The page people open most is one round trip: its
 * query also loads the session (SESSION_IN_QUERY in the route table). */
#include "page.h"

#include <string.h>

#include "msg.h"
#include "route.h"
#include "sess.h"

/* One statement per list and position: the session (CTE "me") and, joined
 * laterally, the page's rows. The box is matched by equality on its id, so
 * the planner walks the (box, archived, created_at, id) index in order and
 * stops after MSG_PAGE + 1 rows, which also tell whether older ones exist.
 * The other party's name is the message's own copy (sql/0005), so a row
 * costs one heap read and no join. A visitor without a live session gets
 * no row at all. */
#define LIST(rows) \
	"WITH me AS (" SESS_SELECT_BRIEF ")" \
	" SELECT me.*, l.* FROM me LEFT JOIN LATERAL (" rows ") l ON true" \
	" ORDER BY l.created_at DESC, l.id DESC"
#define ROW_COLUMNS \
	"SELECT m.id, m.read, to_char(m.read_at, 'DD Mon YYYY HH24:MI')," \
	" coalesce(m.subject, left(m.body, 80)), m.subject IS NULL," \
	" m.subject IS NULL AND length(m.body) > 80," \
	" to_char(m.created_at, 'DD Mon YYYY HH24:MI'), m.created_at,"
#define INBOX_ROWS(before) ROW_COLUMNS \
	" coalesce(m.sender_name, 'carebox') FROM messages m" \
	" WHERE m.inbox_id = me.inbox_id AND m.archived = $2::boolean" before \
	" ORDER BY m.created_at DESC, m.id DESC LIMIT 11"
#define SENT_ROWS(before) ROW_COLUMNS \
	" m.recipient_name FROM messages m" \
	" WHERE m.outbox_id = (SELECT id FROM outboxes WHERE user_id = me.user_id)" \
	" AND $2::boolean IS NOT NULL" before \
	" ORDER BY m.created_at DESC, m.id DESC LIMIT 11"
#define BEFORE " AND (m.created_at, m.id) < (SELECT b.created_at, b.id FROM messages b" \
	" WHERE b.id = $3 AND (b.inbox_id = me.inbox_id" \
	" OR b.outbox_id = (SELECT id FROM outboxes WHERE user_id = me.user_id)))"

const struct db_stmt page_inbox_stmts[] = {
	{ "inbox_first", LIST(INBOX_ROWS("")) },
	{ "inbox_before", LIST(INBOX_ROWS(BEFORE)) },
	{ "sent_first", LIST(SENT_ROWS("")) },
	{ "sent_before", LIST(SENT_ROWS(BEFORE)) },
	{ NULL, NULL }
};

/* Where each page column stands, after the session's. */
enum {
	C_ID = SESS_COLUMNS, C_READ, C_READ_AT, C_PREVIEW, C_IS_REPLY, C_MORE,
	C_TIME, C_AT, C_PERSON
};

enum folder { FOLDER_INBOX, FOLDER_ARCHIVE, FOLDER_SENT };

static const char *const folder_names[] = { "Inbox", "Archive", "Sent" };
static const char *const folder_paths[] = { "/inbox", "/archive", "/sent" };

/* The start of a body as one line: runs of white space become one space,
 * and "…" follows when the body goes on. Allocated in the arena. */
static const char *preview(struct arena *a, const char *s, int more)
{
	char *out = arena_alloc(a, strlen(s) + 4), *o = out;
	int space = 0;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
			space = o != out;
			continue;
		}
		if (space)
			*o++ = ' ';
		space = 0;
		*o++ = *s;
	}
	if (more)
		memcpy(o, "…", 3), o += 3;
	*o = '\0';
	return out;
}

/* One row of a list as the template sees it. */
static struct tv *list_row(struct arena *a, PGresult *res, int i)
{
	struct tv *m = tv_map(a);
	int read = strcmp(PQgetvalue(res, i, C_READ), "t") == 0;

	tv_set_str(a, m, "id", arena_strdup(a, PQgetvalue(res, i, C_ID)));
	tv_set_bool(a, m, "unread", !read);
	if (read)
		tv_set_str(a, m, "read_at", arena_strdup(a, PQgetvalue(res, i, C_READ_AT)));
	tv_set_str(a, m, "preview", preview(a, PQgetvalue(res, i, C_PREVIEW),
					    strcmp(PQgetvalue(res, i, C_MORE), "t") == 0));
	tv_set_bool(a, m, "is_reply", strcmp(PQgetvalue(res, i, C_IS_REPLY), "t") == 0);
	tv_set_str(a, m, "time", arena_strdup(a, PQgetvalue(res, i, C_TIME)));
	tv_set_str(a, m, "person", arena_strdup(a, PQgetvalue(res, i, C_PERSON)));
	return m;
}

/* Puts the rows of `res` (a LIST statement's result) into the view. */
static void list_rows(struct req *r, PGresult *res, enum folder f, int paged)
{
	struct arena *a = r->arena;
	struct tv *rows = tv_set(a, r->view, "messages", tv_list(a));
	int n = PQgetisnull(res, 0, C_ID) ? 0 : PQntuples(res);

	for (int i = 0; i < n && i < MSG_PAGE; i++)
		tv_push(a, rows, list_row(a, res, i));
	if (n > MSG_PAGE)
		tv_set_str(a, r->view, "older", arena_strdup(a, PQgetvalue(res, MSG_PAGE - 1, C_ID)));
	tv_set_str(a, r->view, "title", folder_names[f]);
	tv_set_str(a, r->view, "folder_path", folder_paths[f]);
	tv_set_bool(a, r->view, "paged", paged);
	tv_set_bool(a, r->view, "has_messages", n > 0);
	tv_set_bool(a, r->view, "has_paging", paged || n > MSG_PAGE);
	tv_set_bool(a, r->view, f == FOLDER_SENT ? "is_sent" :
		    f == FOLDER_ARCHIVE ? "is_archive" : "is_inbox", 1);
}

/* Renders one folder: the page after `?before=` if given (a message id;
 * anything else is a 400). One query loads the session and the rows. */
static int list_folder(struct req *r, enum folder f)
{
	const char *before = http_query(r, "before");
	const char *p[3] = {
		http_cookie(r, SESSION_COOKIE), f == FOLDER_ARCHIVE ? "true" : "false", before
	};
	const char *stmt;
	PGresult *res;
	int status;

	if (before && !uuid_valid(before, strlen(before)))
		return 400;
	if (f == FOLDER_SENT)
		stmt = before ? "sent_before" : "sent_first";
	else
		stmt = before ? "inbox_before" : "inbox_first";
	res = db_exec(r->db, stmt, before ? 3 : 2, p);
	if (res == NULL)
		return db_failure_status(r->db);
	if ((status = route_session(r, res))) {
		PQclear(res);
		return status;
	}
	list_rows(r, res, f, before != NULL);
	PQclear(res);
	return http_render(r, "inbox");
}

int page_inbox_get(struct req *r)
{
	return list_folder(r, FOLDER_INBOX);
}

int page_archive_get(struct req *r)
{
	return list_folder(r, FOLDER_ARCHIVE);
}

int page_sent_get(struct req *r)
{
	return list_folder(r, FOLDER_SENT);
}
