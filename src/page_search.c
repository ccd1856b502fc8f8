/* page_search.c - GET /search?q=: full-text search over the viewer's own
 * messages (sent or received), newest first, keyset-paged like the inbox. */
#include "page.h"

#include <string.h>

#include "msg.h"
#include "sess.h"

#define SEARCH_MAX 200		/* characters of a query */

/* How to find the newest hits depends on how common the words are: a word
 * in a quarter of all messages is found at once by walking the viewer's
 * newest messages, a rare one through the text index, and a plan made for
 * one is a hundred times slower for the other. So the search is planned
 * for each query, with the words and the viewer's boxes as values
 * (db_exec_once): the planner weighs the words by the column's statistics.
 * The viewer's three ordered streams (inbox, archive, sent: disjoint, as
 * nobody writes to themself) each stop after 11 hits; the newest 11 of
 * those are the page, and only they get their thread's subject and a
 * ts_headline. ts_headline marks the hits with \x02 ... \x03: bodies never
 * contain control characters (msg_body_problem refuses them), so the
 * markers are unambiguous and search_snippet() can escape the text around
 * them. (Its parser drops what looks like an HTML tag from the snippet;
 * the text between stays.) $1 inbox, $2 outbox, $3 the words, and after
 * ?before= $4, $5 the created_at and id of that message. */
#define SEARCH_TSQ "websearch_to_tsquery('simple', $3)"
#define SEARCH_STREAM(box, before) \
	"(SELECT m.id, m.created_at FROM messages m WHERE " box \
	" AND m.search @@ " SEARCH_TSQ before \
	" ORDER BY m.created_at DESC, m.id DESC LIMIT 11)"
#define SEARCH_SQL(before) \
	"WITH hit AS (SELECT id, created_at FROM (" \
	SEARCH_STREAM("m.inbox_id = $1 AND NOT m.archived", before) " UNION ALL " \
	SEARCH_STREAM("m.inbox_id = $1 AND m.archived", before) " UNION ALL " \
	SEARCH_STREAM("m.outbox_id = $2", before) \
	") h ORDER BY created_at DESC, id DESC LIMIT 11)" \
	" SELECT m.id, coalesce(m.parent_id, m.id), to_char(m.created_at, 'DD Mon YYYY HH24:MI')," \
	" coalesce(m.sender_name, 'carebox'), m.recipient_name," \
	" rt.subject, ts_headline('simple', m.body, " SEARCH_TSQ "," \
	" E'StartSel=\\x02, StopSel=\\x03, MaxWords=30, MinWords=12, ShortWord=0')" \
	" FROM hit JOIN messages m ON m.id = hit.id" \
	" JOIN messages rt ON rt.id = coalesce(m.parent_id, m.id)" \
	" ORDER BY m.created_at DESC, m.id DESC"

const struct db_stmt page_search_stmts[] = {
	/* The viewer's outbox and, if $2 is one of their messages, when it
	 * was sent: where the next page starts. */
	{ "search_boxes",
	  "SELECT o.id, b.created_at, b.id FROM outboxes o LEFT JOIN messages b"
	  " ON b.id = $2 AND (b.inbox_id = $3 OR b.outbox_id = o.id) WHERE o.user_id = $1" },
	{ NULL, NULL }
};

const struct db_stmt page_search_once[] = {
	{ "search_first", SEARCH_SQL("") },
	{ "search_before", SEARCH_SQL(" AND (m.created_at, m.id) < ($4::timestamptz, $5::uuid)") },
	{ NULL, NULL }
};

/* The HTML of a ts_headline snippet: the text escaped with buf_put_html,
 * each \x02 ... \x03 hit wrapped in <mark>...</mark> (always balanced).
 * Returns an arena string. */
static const char *search_snippet(struct arena *a, const char *s)
{
	struct buf b = BUF_INIT;
	const char *out;
	int open = 0;

	while (*s) {
		size_t n = strcspn(s, "\x02\x03");

		buf_put_html(&b, s, n);
		s += n;
		if (*s == '\x02' && !open) {
			buf_puts(&b, "<mark>");
			open = 1;
		} else if (*s == '\x03' && open) {
			buf_puts(&b, "</mark>");
			open = 0;
		}
		if (*s)
			s++;
	}
	if (open)
		buf_puts(&b, "</mark>");
	out = arena_strdup(a, b.data ? b.data : "");
	buf_free(&b);
	return out;
}

/* One hit as the template sees it. */
static struct tv *search_row(struct arena *a, PGresult *res, int i)
{
	struct tv *m = tv_map(a);

	tv_set_str(a, m, "id", arena_strdup(a, PQgetvalue(res, i, 0)));
	tv_set_str(a, m, "root", arena_strdup(a, PQgetvalue(res, i, 1)));
	tv_set_str(a, m, "time", arena_strdup(a, PQgetvalue(res, i, 2)));
	tv_set_str(a, m, "sender", arena_strdup(a, PQgetvalue(res, i, 3)));
	tv_set_str(a, m, "recipient", arena_strdup(a, PQgetvalue(res, i, 4)));
	tv_set_str(a, m, "subject", arena_strdup(a, PQgetvalue(res, i, 5)));
	/* HTML built by search_snippet() from escaped text: the one value
	 * the template prints raw ({{{snippet_html}}}). */
	tv_set_str(a, m, "snippet_html", search_snippet(a, PQgetvalue(res, i, 6)));
	return m;
}

/* The address of a page of results for `q`: the first page, or with
 * `before` (a message id, or NULL) the page after it. Arena string; the
 * template escapes it for the attribute. */
static const char *search_link(struct arena *a, const char *q, const char *before)
{
	struct buf b = BUF_INIT;
	const char *link;

	buf_puts(&b, "/search?q=");
	buf_put_urlarg(&b, q, strlen(q));
	if (before) {
		buf_puts(&b, "&before=");
		buf_puts(&b, before);
	}
	link = arena_strdup(a, b.data);
	buf_free(&b);
	return link;
}

/* Finds the viewer's outbox and where the page after message `before`
 * (or NULL) starts, into p[1], p[3] and p[4] (arena). Returns 0, or 404
 * when `before` is not one of the viewer's messages, or an error status. */
static int search_boxes(struct req *r, const char *before, const char **p)
{
	const char *bp[3] = { r->user->id, before, r->user->inbox_id };
	PGresult *res = db_exec(r->db, "search_boxes", 3, bp);
	int status = 0;

	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) != 1 || (before && PQgetisnull(res, 0, 1))) {
		status = 404;
	} else {
		p[1] = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
		p[3] = arena_strdup(r->arena, PQgetvalue(res, 0, 1));
		p[4] = arena_strdup(r->arena, PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return status;
}

/* Runs the search for `q` (after message `before`, or NULL) and puts the
 * hits and paging into the view. Returns 0 or an error status. */
static int search_run(struct req *r, const char *q, const char *before)
{
	const char *p[5] = { r->user->inbox_id, NULL, q, NULL, NULL };
	const struct db_stmt *st = &page_search_once[before ? 1 : 0];
	PGresult *res;
	struct tv *rows;
	int n;

	if ((n = search_boxes(r, before, p)))
		return n;
	res = db_exec_once(r->db, st->name, st->sql, before ? 5 : 3, p);
	if (res == NULL)
		return db_failure_status(r->db);
	rows = tv_set(r->arena, r->view, "results", tv_list(r->arena));
	n = PQntuples(res);
	for (int i = 0; i < n && i < MSG_PAGE; i++)
		tv_push(r->arena, rows, search_row(r->arena, res, i));
	if (n > MSG_PAGE)
		tv_set_str(r->arena, r->view, "older",
			   search_link(r->arena, q, PQgetvalue(res, MSG_PAGE - 1, 0)));
	if (before)
		tv_set_str(r->arena, r->view, "newest", search_link(r->arena, q, NULL));
	PQclear(res);
	tv_set_bool(r->arena, r->view, "has_results", n > 0);
	tv_set_bool(r->arena, r->view, "has_paging", before != NULL || n > MSG_PAGE);
	return 0;
}

int page_search_get(struct req *r)
{
	const char *q = http_query(r, "q"), *before = http_query(r, "before");
	int status = 200;

	if (before && !uuid_valid(before, strlen(before)))
		return 400;
	tv_set_str(r->arena, r->view, "title", "Search");
	tv_set_str(r->arena, r->view, "q", q ? q : "");
	if (q && utf8_chars(q) > SEARCH_MAX) {
		tv_set_str(r->arena, r->view, "q_error",
			   "Search for at most 200 characters: a few words are enough.");
		status = 400;
	} else if (q && strspn(q, " \t\r\n") < strlen(q)) {
		tv_set_bool(r->arena, r->view, "searched", 1);
		if ((status = search_run(r, q, before)))
			return status;
		status = 200;
	}
	return http_render_status(r, "search", status);
}
