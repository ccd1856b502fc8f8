/* page_search.c - GET /search?q=: full-text search over the viewer's own
 * messages (sent or received), newest first, keyset-paged like the inbox. */
#include "page.h"

#include <ctype.h>
#include <string.h>

#include "msg.h"
#include "pager.h"
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
 * one is a hundred times slower for the other. So the search is planned
 * for each query, with the words and the viewer's boxes as values
 * (db_exec_once): search_query() is immutable, so the planner computes it
 * from the text and weighs the words (and word starts) by the column's
 * statistics. The viewer's two ordered streams (received, sent: disjoint,
 * as nobody writes to themself) each stop after 11 hits; the newest 11 of
 * those are the page, and only they get their thread's subject and their
 * text. $1 inbox, $2 outbox, $3 the words, and after ?before= $4, $5 the
 * created_at and id of that message. */
#define SEARCH_TSQ "search_query($3)"
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
	" rt.subject, m.body, search_marks($3) AS marks" \
	" FROM hit JOIN messages m ON m.id = hit.id" \
	" JOIN messages rt ON rt.id = coalesce(m.parent_id, m.id)" \
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
