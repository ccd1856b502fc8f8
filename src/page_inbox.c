/* page_inbox.c - the message lists: /inbox, /sent and /archive, newest
 * first, ten at a time, keyset-paged (pager.h: ?before=<message id> for
 * older, ?after= for newer) so a deep page costs the same as the first.
 * The page people open most is one round trip: its query also loads the
 * session (SESSION_IN_QUERY in the route table). */
#include "page.h"

#include <string.h>

#include "msg.h"
#include "pager.h"
#include "route.h"
#include "sess.h"

/* One statement per list and page: the session (CTE "me"), the cursor's
 * message if the viewer may see it ("cur"; cursor_ok tells) and, joined
 * laterally, the page's rows. The box is matched by equality on its id, so
 * the planner walks the (box, archived, created_at, id) index in order and
 * stops after MSG_PAGE + 1 rows, which also tell whether there are more.
 * The other party's name is the message's own copy (sql/0005), so a row
 * costs one heap read and no join. A visitor without a live session gets
 * no row at all. $1 the session token, $2 archived, $3 the cursor. */
#define LIST(rows, dir) \
	"WITH me AS (" SESS_SELECT ")" \
	" SELECT me.*, cur.id IS NOT NULL AS cursor_ok, l.* FROM me" \
	" LEFT JOIN LATERAL (SELECT b.created_at, b.id FROM viewer_messages(me.user_id) b" \
	"  WHERE b.id = $3::uuid) cur ON true" \
	" LEFT JOIN LATERAL (" rows ") l ON true" \
	" ORDER BY l.created_at " dir ", l.id " dir
#define ROW_COLUMNS \
	"SELECT m.id, NOT m.read AS unread," \
	" to_char(m.read_at AT TIME ZONE me.zone, 'DD Mon YYYY HH24:MI') AS read_at," \
	" coalesce(m.subject, left(m.body, 80)) AS preview, m.subject IS NULL AS is_reply," \
	" m.subject IS NULL AND length(m.body) > 80 AS more," \
	" to_char(m.created_at AT TIME ZONE me.zone, 'DD Mon YYYY HH24:MI') AS time, m.created_at,"
#define INBOX_ROWS(where, dir) ROW_COLUMNS \
	" coalesce(m.sender_name, 'carebox') AS person FROM messages m" \
	" WHERE m.inbox_id = me.inbox_id AND m.archived = $2::boolean" where \
	" ORDER BY m.created_at " dir ", m.id " dir " LIMIT 11"
#define SENT_ROWS(where, dir) ROW_COLUMNS \
	" m.recipient_name AS person FROM messages m" \
	" WHERE m.outbox_id = (SELECT id FROM outboxes WHERE user_id = me.user_id)" \
	" AND $2::boolean IS NOT NULL" where \
	" ORDER BY m.created_at " dir ", m.id " dir " LIMIT 11"
#define FIRST ""
#define OLDER " AND (m.created_at, m.id) < (cur.created_at, cur.id)"
#define NEWER " AND (m.created_at, m.id) > (cur.created_at, cur.id)"

const struct db_stmt page_inbox_stmts[] = {
	{ "inbox_first", LIST(INBOX_ROWS(FIRST, "DESC"), "DESC") },
	{ "inbox_older", LIST(INBOX_ROWS(OLDER, "DESC"), "DESC") },
	{ "inbox_newer", LIST(INBOX_ROWS(NEWER, "ASC"), "ASC") },
	{ "sent_first", LIST(SENT_ROWS(FIRST, "DESC"), "DESC") },
	{ "sent_older", LIST(SENT_ROWS(OLDER, "DESC"), "DESC") },
	{ "sent_newer", LIST(SENT_ROWS(NEWER, "ASC"), "ASC") },
	{ NULL, NULL }
};

static const char *const inbox_stmts[3] = { "inbox_first", "inbox_older", "inbox_newer" };
static const char *const sent_stmts[3] = { "sent_first", "sent_older", "sent_newer" };

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

/* Makes each row's "preview" one line (see preview()). */
static void list_previews(struct arena *a, struct tv *rows)
{
	for (size_t i = 0; i < rows->u.list.n; i++) {
		struct tv *m = rows->u.list.items[i], *p = tv_get(m, "preview"), *more;

		if (p == NULL)
			continue;
		more = tv_get(m, "more");
		tv_set_str(a, m, "preview", preview(a, p->u.str.s, more && more->u.b));
	}
}

/* Renders one folder, one page (pager.h). One query loads the session and
 * the rows. */
static int list_folder(struct req *r, enum folder f)
{
	struct pager pg;
	const char *p[3] = {
		http_cookie(r, SESSION_COOKIE), f == FOLDER_ARCHIVE ? "true" : "false", NULL
	};
	PGresult *res;
	int status = pager_read(r, &pg, folder_paths[f], MSG_PAGE, KEY_UUID);

	if (status)
		return status;
	p[2] = pg.cursor;
	res = db_exec(r->db, pager_stmt(&pg, f == FOLDER_SENT ? sent_stmts : inbox_stmts), 3, p);
	if (res == NULL)
		return db_failure_status(r->db);
	if ((status = route_session(r, res)) ||
	    (status = pager_view(r, &pg, res, SESS_COLUMNS + 1, "messages"))) {
		PQclear(res);
		return status;
	}
	PQclear(res);
	list_previews(r->arena, tv_get(r->view, "messages"));
	tv_set_str(r->arena, r->view, "title", folder_names[f]);
	tv_set_str(r->arena, r->view, "folder_path", folder_paths[f]);
	tv_set_bool(r->arena, r->view, f == FOLDER_SENT ? "is_sent" :
		    f == FOLDER_ARCHIVE ? "is_archive" : "is_inbox", 1);
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
