/* page_inbox.c - the conversation lists: /inbox, /archive and /sent, one
 * row per conversation (its subject, the other person, the latest
 * message's first words and time, how many messages, how many unread),
 * latest first, ten at a time, keyset-paged (pager.h: ?before=<root id>
 * for older, ?after= for newer) so a deep page costs the same as the
 * first. The page people open most is one round trip: its query also
 * loads the session (SESSION_IN_QUERY in the route table). */
#include "page.h"


#include "msg.h"
#include "pager.h"
#include "route.h"
#include "sess.h"

/* One statement per list and page: the session (CTE "me"), the cursor's
 * conversation if it is one of the viewer's ("cur"; cursor_ok tells) and,
 * joined laterally, the page's rows: the viewer's conversation rows
 * (sql/0017), read in the order of a partial index on (user, [archived,]
 * last_at, root) that stops after MSG_PAGE + 1 rows, which also tell
 * whether there are more. Each row holds all a list shows, so a row costs
 * one heap read and no join (Sent adds its read receipt: one more). A
 * visitor without a live session gets no row at all. $1 the session
 * token, $2 archived, $3 the cursor. */
#define LIST(rows, dir) \
	"WITH me AS (" SESS_SELECT ")" \
	" SELECT me.*, cur.root_id IS NOT NULL AS cursor_ok, l.* FROM me" \
	" LEFT JOIN LATERAL (SELECT b.last_at, b.root_id FROM conversation_members b" \
	"  WHERE b.user_id = me.user_id AND b.root_id = $3::uuid) cur ON true" \
	" LEFT JOIN LATERAL (" rows ") l ON true" \
	" ORDER BY l.time " dir ", l.id " dir
#define ROW_COLUMNS \
	"SELECT c.root_id AS id, c.subject, c.other_name AS person, c.messages, c.unread," \
	" c.messages = 1 AS one, c.preview, c.last_mine, c.last_at AS time"
#define INBOX_ROWS(where, dir) ROW_COLUMNS \
	" FROM conversation_members c" \
	" WHERE c.user_id = me.user_id AND c.archived = $2::boolean AND c.received > 0" where \
	" ORDER BY c.last_at " dir ", c.root_id " dir " LIMIT 11"
#define SENT_ROWS(where, dir) ROW_COLUMNS "," \
	" (SELECT s.read_at FROM messages s WHERE s.id = c.sent_id) AS read_at FROM conversation_members c" \
	" WHERE c.user_id = me.user_id AND c.sent_id IS NOT NULL AND $2::boolean IS NOT NULL" where \
	" ORDER BY c.last_at " dir ", c.root_id " dir " LIMIT 11"
#define FIRST ""
#define OLDER " AND (c.last_at, c.root_id) < (cur.last_at, cur.root_id)"
#define NEWER " AND (c.last_at, c.root_id) > (cur.last_at, cur.root_id)"

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
	    (status = pager_view(r, &pg, res, SESS_COLUMNS + 1, "conversations"))) {
		PQclear(res);
		return status;
	}
	PQclear(res);
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
