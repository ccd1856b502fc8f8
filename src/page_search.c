/* page_search.c - GET /search?q=: full-text search over the viewer's own
 * messages (sent or received), newest first, keyset-paged like the inbox. */
#include "page.h"

#include <string.h>

#include "msg.h"
#include "pager.h"
#include "sess.h"

#define SEARCH_MAX 200		/* characters of a query */

/* What a search matches is decided by sql/0018_search.sql: search_query()
 * makes the text into a tsquery that needs every word, each as the start
 * of a word or by its English stem, built from lexemes so that nothing
 * typed is an operator (and, with marks true, into the one of what the
 * snippet marks); search_cut() tells whether the snippet left words out
 * before or after it (the template shows "…" there).
 *
 * How to find the newest hits depends on how common the words are: a word
 * in a quarter of all messages is found at once by walking the viewer's
 * newest messages, a rare one through the text index, and a plan made for
 * one is a hundred times slower for the other. So the search is planned
 * for each query, with the words and the viewer's boxes as values
 * (db_exec_once): search_query() is immutable, so the planner computes it
 * from the text and weighs the words (and word starts) by the column's
 * statistics. The viewer's two ordered streams (received, sent: disjoint,
 * as nobody writes to themself) each stop after 11 hits; the newest 11 of
 * those are the page, and only they get their thread's subject and a
 * snippet (ts_headline, computed once per row: the OFFSET 0 keeps the
 * planner from copying it into each use). The snippet
 * marks the hits with \x02 ... \x03: bodies never contain control
 * characters (msg_body_problem refuses them), so the markers are
 * unambiguous and search_snippet_html() can escape the text around them.
 * (ts_headline turns what looks like an HTML tag into a space; the text
 * between stays.) $1 inbox, $2 outbox, $3 the words, and after ?before=
 * $4, $5 the created_at and id of that message. */
#define SEARCH_TSQ "search_query($3, false)"
#define SEARCH_STREAM(box, cursor, dir) \
	"(SELECT m.id, m.created_at FROM messages m WHERE " box \
	" AND m.search @@ " SEARCH_TSQ cursor \
	" ORDER BY m.created_at " dir ", m.id " dir " LIMIT 11)"
#define SEARCH_SQL(cursor, dir) \
	"WITH hit AS (SELECT id, created_at FROM (" \
	SEARCH_STREAM("m.inbox_id = $1", cursor, dir) " UNION ALL " \
	SEARCH_STREAM("m.outbox_id = $2", cursor, dir) \
	") h ORDER BY created_at " dir ", id " dir " LIMIT 11)" \
	" SELECT m.id, coalesce(m.parent_id, m.id) AS root," \
	" m.created_at AS time," \
	" coalesce(m.sender_name, 'carebox') AS sender, m.recipient_name AS recipient," \
	" rt.subject, h.headline, search_cut(m.body, h.headline, false) AS cut_start," \
	" search_cut(m.body, h.headline, true) AS cut_end" \
	" FROM hit JOIN messages m ON m.id = hit.id" \
	" JOIN messages rt ON rt.id = coalesce(m.parent_id, m.id)" \
	" CROSS JOIN LATERAL (SELECT ts_headline('simple', m.body, search_query($3, true)," \
	" E'StartSel=\\x02, StopSel=\\x03, MaxWords=30, MinWords=12, ShortWord=0') AS headline" \
	" OFFSET 0) h" \
	" ORDER BY m.created_at " dir ", m.id " dir
#define SEARCH_CURSOR(cmp) " AND (m.created_at, m.id) " cmp " ($4::timestamptz, $5::uuid)"

const struct db_stmt page_search_stmts[] = {
	/* The viewer's outbox and, if $2 is a message they may see, when it
	 * was sent: where the next page starts. */
	{ "search_boxes",
	  "SELECT o.id, b.created_at, b.id FROM outboxes o LEFT JOIN viewer_messages($1) b"
	  " ON b.id = $2 WHERE o.user_id = $1" },
	{ NULL, NULL }
};

/* Run with db_exec_once, in pager order: first, older, newer. */
const struct db_stmt page_search_once[] = {
	{ "search_first", SEARCH_SQL("", "DESC") },
	{ "search_older", SEARCH_SQL(SEARCH_CURSOR("<"), "DESC") },
	{ "search_newer", SEARCH_SQL(SEARCH_CURSOR(">"), "ASC") },
	{ NULL, NULL }
};

static const struct field search_fields[] = {
	{ .name = "q", .label = "your search", .type = FT_TEXT, .max = SEARCH_MAX },
	{ 0 }
};
static const struct form search_form_decl = { search_fields };

/* The HTML of a ts_headline snippet: the text escaped with buf_put_html,
 * each \x02 ... \x03 hit wrapped in <mark>...</mark> (always balanced).
 * Returns an arena string. */
static const char *search_snippet_html(struct arena *a, const char *s)
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

/* Makes each hit's ts_headline into "snippet_html" (search_snippet_html()). */
static void search_snippets(struct arena *a, struct tv *rows)
{
	for (size_t i = 0; i < rows->u.list.n; i++) {
		struct tv *m = rows->u.list.items[i], *h = tv_get(m, "headline");

		/* HTML built by search_snippet_html() from escaped text: the one
		 * value the template prints raw ({{{snippet_html}}}). */
		tv_set_str(a, m, "snippet_html", search_snippet_html(a, h ? h->u.str.s : ""));
	}
}

/* Finds the viewer's outbox and where the page after the cursor starts,
 * into p[1], p[3] and p[4] (arena). Returns 0, or 400 when the cursor is
 * not a message the viewer may see, or an error status. */
static int search_boxes(struct req *r, const char *cursor, const char **p)
{
	const char *bp[2] = { r->user->id, cursor };
	PGresult *res = db_exec(r->db, "search_boxes", 2, bp);
	int status = 0;

	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) != 1 || (cursor && PQgetisnull(res, 0, 1))) {
		status = PQntuples(res) != 1 ? 404 : 400;
	} else {
		p[1] = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
		p[3] = arena_strdup(r->arena, PQgetvalue(res, 0, 1));
		p[4] = arena_strdup(r->arena, PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return status;
}

/* Runs the search for `q` (one page: pager.h) and puts the hits and
 * paging into the view. Returns 0 or an error status. */
static int search_run(struct req *r, const char *q)
{
	const char *p[5] = { r->user->inbox_id, NULL, q, NULL, NULL };
	struct buf base = BUF_INIT;
	const struct db_stmt *st;
	struct pager pg;
	PGresult *res;
	int status;

	buf_puts(&base, "/search?q=");
	buf_put_urlarg(&base, q, strlen(q));
	status = pager_read(r, &pg, arena_strdup(r->arena, base.data), MSG_PAGE, KEY_UUID);
	buf_free(&base);
	if (status || (status = search_boxes(r, pg.cursor, p)))
		return status;
	st = &page_search_once[pg.page];
	res = db_exec_once(r->db, st->name, st->sql, pg.cursor ? 5 : 3, p);
	if (res == NULL)
		return db_failure_status(r->db);
	status = pager_view(r, &pg, res, 0, "results");
	PQclear(res);
	if (status == 0)
		search_snippets(r->arena, tv_get(r->view, "results"));
	return status;
}

int page_search_get(struct req *r)
{
	struct form_data d = { 0 };
	const char *q;
	int status;

	tv_set_str(r->arena, r->view, "title", "Search");
	if (form_read(r, &search_form_decl, &d))
		return http_render_status(r, "search", 400);
	q = form_text(&d, "q");
	if (*q) {
		tv_set_bool(r->arena, r->view, "searched", 1);
		if ((status = search_run(r, q)))
			return status;
	} else if (http_query(r, "before") || http_query(r, "after")) {
		return 400;
	}
	return http_render(r, "search");
}
