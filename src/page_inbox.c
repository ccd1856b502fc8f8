/* page_inbox.c - the message lists: /inbox, /sent and /archive, newest first,
 * ten at a time, keyset-paged (?before=<message id>) so a deep page costs
 * the same as the first. */
#include "page.h"

#include <string.h>

#include "msg.h"
#include "sess.h"

/* Each list is one query. The row just before a page is found through the
 * index (created_at, id); MSG_PAGE + 1 rows tell whether older ones exist. */
#define LIST_COLUMNS \
	"SELECT m.id, m.read, to_char(m.read_at, 'DD Mon YYYY HH24:MI')," \
	" coalesce(m.subject, regexp_replace(left(m.body, 80), '\\s+', ' ', 'g')" \
	" || CASE WHEN length(m.body) > 80 THEN '…' ELSE '' END)," \
	" m.subject IS NULL, to_char(m.created_at, 'DD Mon YYYY HH24:MI'),"
/* The box is found by a scalar subquery, not a join: then the planner
 * walks the (box, created_at, id) index in order and stops after 11 rows
 * instead of sorting all of a busy user's messages. */
#define INBOX_FROM \
	" coalesce(nullif(btrim(su.first_name || ' ' || su.last_name), ''), su.email, 'carebox')" \
	" FROM messages m" \
	" LEFT JOIN outboxes o ON o.id = m.outbox_id LEFT JOIN users su ON su.id = o.user_id" \
	" WHERE m.inbox_id = (SELECT id FROM inboxes WHERE user_id = $1)" \
	" AND m.archived = $2::boolean"
#define SENT_FROM \
	" coalesce(nullif(btrim(ru.first_name || ' ' || ru.last_name), ''), ru.email)" \
	" FROM messages m" \
	" JOIN inboxes i ON i.id = m.inbox_id JOIN users ru ON ru.id = i.user_id" \
	" WHERE m.outbox_id = (SELECT id FROM outboxes WHERE user_id = $1)"
#define LIST_ORDER " ORDER BY m.created_at DESC, m.id DESC LIMIT 11"
#define BEFORE(n) " AND (m.created_at, m.id) < (SELECT created_at, id FROM messages WHERE id = $" n ")"

const struct db_stmt page_inbox_stmts[] = {
	{ "inbox_first", LIST_COLUMNS INBOX_FROM LIST_ORDER },
	{ "inbox_before", LIST_COLUMNS INBOX_FROM BEFORE("3") LIST_ORDER },
	{ "sent_first", LIST_COLUMNS SENT_FROM " AND $2::boolean IS NOT NULL" LIST_ORDER },
	{ "sent_before", LIST_COLUMNS SENT_FROM " AND $2::boolean IS NOT NULL" BEFORE("3") LIST_ORDER },
	{ NULL, NULL }
};

enum folder { FOLDER_INBOX, FOLDER_ARCHIVE, FOLDER_SENT };

static const char *const folder_names[] = { "Inbox", "Archive", "Sent" };
static const char *const folder_paths[] = { "/inbox", "/archive", "/sent" };

/* One row of a list as the template sees it. */
static struct tv *list_row(struct arena *a, PGresult *res, int i)
{
	struct tv *m = tv_map(a);
	int read = strcmp(PQgetvalue(res, i, 1), "t") == 0;

	tv_set_str(a, m, "id", arena_strdup(a, PQgetvalue(res, i, 0)));
	tv_set_bool(a, m, "unread", !read);
	if (read)
		tv_set_str(a, m, "read_at", arena_strdup(a, PQgetvalue(res, i, 2)));
	tv_set_str(a, m, "preview", arena_strdup(a, PQgetvalue(res, i, 3)));
	tv_set_bool(a, m, "is_reply", strcmp(PQgetvalue(res, i, 4), "t") == 0);
	tv_set_str(a, m, "time", arena_strdup(a, PQgetvalue(res, i, 5)));
	tv_set_str(a, m, "person", arena_strdup(a, PQgetvalue(res, i, 6)));
	return m;
}

/* Renders one folder: the page after `?before=` if given (a message id;
 * anything else is a 400). */
static int list_folder(struct req *r, enum folder f)
{
	const char *before = http_query(r, "before");
	const char *p[3] = { r->user->id, f == FOLDER_ARCHIVE ? "true" : "false", before };
	const char *stmt;
	struct tv *rows;
	PGresult *res;
	int n;

	if (before && !uuid_valid(before, strlen(before)))
		return 400;
	if (f == FOLDER_SENT)
		stmt = before ? "sent_before" : "sent_first";
	else
		stmt = before ? "inbox_before" : "inbox_first";
	res = db_exec(r->db, stmt, before ? 3 : 2, p);
	if (res == NULL)
		return db_failure_status(r->db);
	rows = tv_set(r->arena, r->view, "messages", tv_list(r->arena));
	n = PQntuples(res);
	for (int i = 0; i < n && i < MSG_PAGE; i++)
		tv_push(r->arena, rows, list_row(r->arena, res, i));
	if (n > MSG_PAGE)
		tv_set_str(r->arena, r->view, "older",
			   arena_strdup(r->arena, PQgetvalue(res, MSG_PAGE - 1, 0)));
	PQclear(res);
	tv_set_str(r->arena, r->view, "title", folder_names[f]);
	tv_set_str(r->arena, r->view, "folder_path", folder_paths[f]);
	tv_set_bool(r->arena, r->view, "paged", before != NULL);
	tv_set_bool(r->arena, r->view, "has_messages", n > 0);
	tv_set_bool(r->arena, r->view, "has_paging", before != NULL || n > MSG_PAGE);
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
