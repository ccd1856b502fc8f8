/* page_search.c - GET /search?q=: full-text search over the viewer's own
 * messages (sent or received), newest first, keyset-paged like the inbox. */
#include "page.h"

#include <ctype.h>
#include <string.h>

#include "msg.h"
#include "pager.h"
#include "route.h"
#include "row.h"
#include "sess.h"

#define SEARCH_MAX 200		/* characters of a query */

/* What a search matches is decided by sql/0018_search.sql: search_query()
 * makes the text into a tsquery that needs every word, each as the start
 * of a word or by its English stem, built from lexemes so that nothing
 * typed is an operator; search_marks() gives the words and stems a
 * snippet marks (search_snippet(), here: cheaper than ts_headline by far).
 *
 * How to find the newest hits depends on how common the words are: a word
 * in a quarter of all messages is found at once by walking the viewer's
 * newest messages, a rare one through the text index, and a plan made for
 * one is a hundred times slower for the other. So a search runs in two
 * steps:
 *
 * 1. The walk, a prepared statement that also loads the session
 *    (SESSION_IN_QUERY): the viewer's two boxes (received, sent: disjoint,
 *    as nobody writes to themself), each read newest first from the
 *    cursor on, at most SEARCH_WALK messages, their ids in the box index's
 *    order (index-only scans), merged into one stream newest first; each
 *    message of it looked up by id and tested, stopping at 11 hits. The
 *    hits are the page when the walk was exact: 11 hits, the 11th at or
 *    before the last message the walk could read in each box (nothing it
 *    skipped can come before it); or fewer, with every message of both
 *    boxes read. The hits carry what the page shows, so only a reply's
 *    thread subject is looked up after.
 *    (The ids first and the lookups after, with the box and the words as
 *    one-time values, is what keeps PostgreSQL's generic plan reading in
 *    the index's order and stopping early: a box as such is priced at an
 *    average box's size, for which reading it all and sorting looks
 *    cheaper.)
 * 2. Else (words rarer than about one in SEARCH_WALK / 11 messages), the
 *    search planned for its words (db_exec_once): search_query() is
 *    immutable, so the planner computes it from the text and weighs the
 *    words by the column's statistics, and goes through the text index.
 *    It takes the boxes and the cursor's time from the walk's answer.
 *
 * Either step's rows are the page's: id, root, time, sender, recipient,
 * subject, body, marks. */
#define SEARCH_WALK 100		/* messages of each box the walk reads at most */

/* The page's columns of message `m` (a messages row, or the walk's hits,
 * which have its columns); a reply's subject is its thread's. */
#define SEARCH_PAGE_COLUMNS \
	"m.id, coalesce(m.parent_id, m.id) AS root, m.created_at AS time," \
	" coalesce(m.sender_name, 'carebox') AS sender, m.recipient_name AS recipient," \
	" coalesce(m.subject, (SELECT rt.subject FROM messages rt WHERE rt.id = m.parent_id)) AS subject," \
	" m.body"

/* Step 1. $1 the session token, $2 the search text, $3 the cursor (a
 * message id) or NULL. "s" holds the viewer's boxes, the words, and the
 * cursor's message if it is the viewer's (cursor_ok). `cursor` is the
 * cursor's condition, `dir` the order, `at_or_before` how the 11th hit
 * stands to the last message the walk could read in a box when nothing
 * skipped there comes before it. */
#define WALK_CURSOR(cmp) " AND (m.created_at, m.id) " cmp " ((SELECT cur_at FROM s), (SELECT cur_id FROM s))"
#define WALK_BOX(box, cursor, dir) \
	"FROM messages m WHERE m." box " = (SELECT " box " FROM s)" cursor \
	" ORDER BY m.created_at " dir ", m.id " dir
#define WALK_IDS(box, cursor, dir) \
	"(SELECT m.id, m.created_at " WALK_BOX(box, cursor, dir) " LIMIT " DB_NUM(SEARCH_WALK) ")"
#define WALK_LAST(box, cursor, dir) \
	"SELECT m.created_at, m.id " WALK_BOX(box, cursor, dir) \
	" OFFSET " DB_NUM(SEARCH_WALK) " - 1 LIMIT 1"
#define WALK_COVERS(last, at_or_before) \
	"coalesce((SELECT (h.created_at, h.id) FROM eleventh h) " at_or_before \
	" (SELECT (l.created_at, l.id) FROM " last " l), true)"
#define SEARCH_WALK_SQL(cursor, dir, at_or_before) \
	"WITH me AS (" SESS_SELECT ")," \
	" s AS MATERIALIZED (SELECT me.inbox_id, o.id AS outbox_id, search_query($2) AS tsq," \
	"  search_marks($2) AS marks, c.created_at AS cur_at, c.id AS cur_id," \
	"  c.id IS NOT NULL OR $3::uuid IS NULL AS cursor_ok" \
	"  FROM me JOIN outboxes o ON o.user_id = me.user_id" \
	"  LEFT JOIN messages c ON c.id = $3::uuid AND (c.inbox_id = me.inbox_id OR c.outbox_id = o.id))," \
	" hit AS (SELECT m.id, m.created_at, m.parent_id, m.subject, m.body, m.sender_name, m.recipient_name" \
	"  FROM (" WALK_IDS("inbox_id", cursor, dir) " UNION ALL " WALK_IDS("outbox_id", cursor, dir) \
	"   ORDER BY created_at " dir ", id " dir ") k" \
	"  JOIN messages m ON m.id = k.id WHERE m.search @@ (SELECT tsq FROM s)" \
	"  ORDER BY k.created_at " dir ", k.id " dir " LIMIT 11)," \
	" eleventh AS (SELECT h.created_at, h.id FROM hit h ORDER BY h.created_at " dir ", h.id " dir " OFFSET 10)," \
	" lin AS (" WALK_LAST("inbox_id", cursor, dir) ")," \
	" lout AS (" WALK_LAST("outbox_id", cursor, dir) ")," \
	" e AS (SELECT s.outbox_id, s.cur_at, s.cur_id, s.cursor_ok, s.marks," \
	"  s.tsq IS NOT NULL AND s.cursor_ok AND CASE WHEN EXISTS (SELECT FROM eleventh)" \
	"  THEN " WALK_COVERS("lin", at_or_before) " AND " WALK_COVERS("lout", at_or_before) \
	"  ELSE NOT EXISTS (SELECT FROM lin) AND NOT EXISTS (SELECT FROM lout) END AS walked FROM s)" \
	" SELECT me.*, e.outbox_id, e.cur_at, e.cur_id, e.walked, e.cursor_ok, l.* FROM me" \
	" LEFT JOIN e ON true" \
	" LEFT JOIN LATERAL (SELECT " SEARCH_PAGE_COLUMNS ", e.marks FROM hit m WHERE e.walked) l ON true" \
	" ORDER BY l.time " dir ", l.id " dir
/* The columns of the walk's answer before the page's rows. */
enum { WALK_OUTBOX = SESS_COLUMNS, WALK_CUR_AT, WALK_CUR_ID, WALK_WALKED, WALK_CURSOR_OK, WALK_ROWS };

/* Step 2. $1 inbox, $2 outbox, $3 the search text, and after ?before= or
 * ?after= $4, $5 the created_at and id of that message. Each box's hits in
 * order, at most 11; the newest 11 of those are the page. */
#define SEARCH_TSQ "search_query($3)"
#define SEARCH_STREAM(box, cursor, dir) \
	"(SELECT m.id, m.created_at FROM messages m WHERE " box \
	" AND m.search @@ " SEARCH_TSQ cursor \
	" ORDER BY m.created_at " dir ", m.id " dir " LIMIT 11)"
#define SEARCH_SQL(cursor, dir) \
	"WITH hit AS (SELECT id, created_at, search_marks($3) AS marks FROM (" \
	SEARCH_STREAM("m.inbox_id = $1", cursor, dir) " UNION ALL " \
	SEARCH_STREAM("m.outbox_id = $2", cursor, dir) \
	") h ORDER BY created_at " dir ", id " dir " LIMIT 11)" \
	" SELECT " SEARCH_PAGE_COLUMNS ", hit.marks FROM hit JOIN messages m ON m.id = hit.id" \
	" ORDER BY m.created_at " dir ", m.id " dir
#define SEARCH_CURSOR(cmp) " AND (m.created_at, m.id) " cmp " ($4::timestamptz, $5::uuid)"

const struct db_stmt page_search_stmts[] = {
	{ "search_walk_first", SEARCH_WALK_SQL("", "DESC", ">=") },
	{ "search_walk_older", SEARCH_WALK_SQL(WALK_CURSOR("<"), "DESC", ">=") },
	{ "search_walk_newer", SEARCH_WALK_SQL(WALK_CURSOR(">"), "ASC", "<=") },
	{ NULL, NULL }
};
static const char *const walk_stmts[3] = { "search_walk_first", "search_walk_older", "search_walk_newer" };

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

#define SNIPPET_WORDS 30	/* words a snippet shows at most */
#define SNIPPET_BEFORE 10	/* of them, before the first marked word */

/* 1 if byte `c` is part of a word: a letter or digit, or any byte of a
 * multi-byte UTF-8 character (letters beyond ASCII). */
static int word_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

/* 1 if the word of `n` bytes at `w` starts with one of `marks` (words
 * separated by single spaces, lower case), ASCII letters in any case. */
static int word_marked(const char *w, size_t n, const char *marks)
{
	while (*marks) {
		size_t m = strcspn(marks, " "), i = 0;

		while (i < m && i < n && tolower((unsigned char)w[i]) == marks[i])
			i++;
		if (m > 0 && i == m)
			return 1;
		marks += m + (marks[m] == ' ');
	}
	return 0;
}

/* Appends text `s` of `n` bytes, escaped, each run of white space as one
 * space. */
static void put_text(struct buf *b, const char *s, size_t n)
{
	size_t i = 0, run;

	while (i < n) {
		for (run = 0; i + run < n && !strchr(" \t\r\n", s[i + run]); run++)
			;
		buf_put_html(b, s + i, run);
		i += run;
		if (i < n)
			buf_putc(b, ' ');
		while (i < n && strchr(" \t\r\n", s[i]))
			i++;
	}
}

/* Finds the next word of `body` (`n` bytes) from *i: its start into *ws,
 * and *i past it. Returns 0 when there is none. */
static int next_word(const char *body, size_t n, size_t *i, size_t *ws)
{
	while (*i < n && !word_byte((unsigned char)body[*i]))
		(*i)++;
	if (*i == n)
		return 0;
	*ws = *i;
	while (*i < n && word_byte((unsigned char)body[*i]))
		(*i)++;
	return 1;
}

/* The snippet of message text `body` for a search whose words and their
 * stems are `marks` (search_marks(): lower case, space-separated), as
 * HTML: the whole text if it has at most SNIPPET_WORDS words, else that
 * many, from a few before the first word that starts with a mark (the
 * text's start when none does: a hit in the subject), escaped, white space as single spaces, each marked word in
 * <mark>, and "…" where words were left out before or after. Arena
 * string. */
static const char *search_snippet(struct arena *a, const char *body, const char *marks)
{
	struct buf b = BUF_INIT;
	size_t n = strlen(body), words = 0, first = (size_t)-1, start, end, i = 0, w, ws, prev;
	const char *out;

	while (next_word(body, n, &i, &ws)) {
		if (first == (size_t)-1 && word_marked(body + ws, i - ws, marks))
			first = words;
		words++;
	}
	if (first == (size_t)-1)
		first = 0;
	start = first > SNIPPET_BEFORE ? first - SNIPPET_BEFORE : 0;
	if (words <= SNIPPET_WORDS)
		start = 0;
	else if (start > words - SNIPPET_WORDS)
		start = words - SNIPPET_WORDS;
	end = start + SNIPPET_WORDS < words ? start + SNIPPET_WORDS : words;
	/* From the text's start (its leading white space aside) when the
	 * window begins it, else from the window's first word after "…". */
	prev = strspn(body, " \t\r\n");
	if (start > 0)
		buf_puts(&b, "…");
	for (i = 0, w = 0; w < end && next_word(body, n, &i, &ws); w++, prev = i) {
		int marked;

		if (w < start)
			continue;
		if (w > start || start == 0)
			put_text(&b, body + prev, ws - prev);
		marked = word_marked(body + ws, i - ws, marks);
		buf_puts(&b, marked ? "<mark>" : "");
		buf_put_html(&b, body + ws, i - ws);
		buf_puts(&b, marked ? "</mark>" : "");
	}
	if (end < words) {
		buf_puts(&b, "…");
	} else {
		/* The text's end, its trailing white space aside. */
		while (n > prev && strchr(" \t\r\n", body[n - 1]))
			n--;
		put_text(&b, body + prev, n - prev);
	}
	out = arena_strndup(a, b.len ? b.data : "", b.len);
	buf_free(&b);
	return out;
}

/* Gives each hit its "snippet_html" (search_snippet()). */
static void search_snippets(struct arena *a, struct tv *rows)
{
	for (size_t i = 0; i < rows->u.list.n; i++) {
		struct tv *m = rows->u.list.items[i], *body = tv_get(m, "body");
		struct tv *marks = tv_get(m, "marks");

		/* HTML built by search_snippet() from escaped text: the one value
		 * the template prints raw ({{{snippet_html}}}). */
		tv_set_str(a, m, "snippet_html", search_snippet(a, body ? body->u.str.s : "",
								 marks ? marks->u.str.s : ""));
	}
}

/* Step 2, when the walk could not decide: the search planned for its
 * words, with the outbox and the cursor's message from the walk's answer
 * `walk`; puts its page into the view. Returns 0 or an error status. */
static int search_planned(struct req *r, const struct pager *pg, PGresult *walk, const char *q)
{
	const char *p[5] = {
		r->user->inbox_id, PQgetvalue(walk, 0, WALK_OUTBOX), q,
		PQgetvalue(walk, 0, WALK_CUR_AT), PQgetvalue(walk, 0, WALK_CUR_ID)
	};
	const struct db_stmt *st = &page_search_once[pg->page];
	PGresult *res = db_exec_once(r->db, st->name, st->sql, pg->cursor ? 5 : 3, p);
	int status;

	if (res == NULL)
		return db_failure_status(r->db);
	status = pager_view(r, pg, res, 0, "results");
	PQclear(res);
	return status;
}

/* Loads the session and, for search text `q` ("" for none: the page shows
 * only the form), runs the search (one page: pager.h) and puts the hits
 * and paging into the view. Returns 0 or an error status. */
static int search_run(struct req *r, const char *q)
{
	const char *p[3] = { http_cookie(r, SESSION_COOKIE), q, NULL };
	struct buf base = BUF_INIT;
	struct pager pg = { 0 };
	PGresult *res;
	int status = 0;

	if (*q) {
		buf_puts(&base, "/search?q=");
		buf_put_urlarg(&base, q, strlen(q));
		status = pager_read(r, &pg, arena_strdup(r->arena, base.data), MSG_PAGE, KEY_UUID);
		buf_free(&base);
		if (status)
			return status;
		p[2] = pg.cursor;
	}
	res = db_exec(r->db, pager_stmt(&pg, walk_stmts), 3, p);
	if (res == NULL)
		return db_failure_status(r->db);
	if ((status = route_session(r, res)) == 0 && *q) {
		if (pg.cursor && !row_bool(res, 0, "cursor_ok"))
			status = 400;
		else if (row_bool(res, 0, "walked"))
			status = pager_view(r, &pg, res, WALK_ROWS, "results");
		else
			status = search_planned(r, &pg, res, q);
	}
	PQclear(res);
	if (status == 0 && *q)
		search_snippets(r->arena, tv_get(r->view, "results"));
	return status;
}

int page_search_get(struct req *r)
{
	struct form_data d = { 0 };
	const char *q;
	int status, bad;

	tv_set_str(r->arena, r->view, "title", "Search");
	bad = form_read(r, &search_form_decl, &d);
	q = bad ? "" : form_text(&d, "q");
	if (!*q && !bad && (http_query(r, "before") || http_query(r, "after")))
		return 400;
	if ((status = search_run(r, q)))
		return status;
	if (bad)
		return http_render_status(r, "search", 400);
	tv_set_bool(r->arena, r->view, "searched", *q != '\0');
	return http_render(r, "search");
}
