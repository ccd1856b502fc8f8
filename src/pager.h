/* pager.h - keyset paging, the one way every list pages: a cursor names
 * the row a page starts after (?before=, older rows) or before (?after=,
 * newer rows), so the thousandth page costs what the first does. */
#ifndef CAREBOX_PAGER_H
#define CAREBOX_PAGER_H

#include <libpq-fe.h>

#include "http.h"

/* Which of a list's three statements runs: every list has one for its
 * first page, one for the page older than the cursor (scanning newest
 * first, like the first) and one for the page newer than it (scanning
 * oldest first, from the cursor up). Each takes the cursor as a parameter
 * (the older and newer ones), resolves it to its sort key scoped to the
 * viewer, and returns the boolean column "cursor_ok" (false when the
 * cursor is not one of the viewer's rows: a foreign or stale cursor) and
 * the list's rows, each with the cursor value of that row in column "id",
 * at most size + 1 of them, which tells whether there are more. */
enum pager_page { PAGE_FIRST, PAGE_OLDER, PAGE_NEWER };

struct pager {
	const char *base;	/* the list's address: "/inbox", "/search?q=flu" */
	int size;		/* rows a page shows */
	enum pager_page page;
	const char *cursor;	/* NULL on the first page */
};

/* What a cursor must look like: a UUID, or a positive bigint. */
enum pager_key { KEY_UUID, KEY_BIGINT };

/* Reads the cursor of the list at `base` from ?before= or ?after=
 * (not both) into pg. Returns 0, or 400 when the cursor is malformed. */
int pager_read(struct req *r, struct pager *pg, const char *base, int size,
	       enum pager_key key);

/* The statement of `names` (first, older, newer) for this page. */
const char *pager_stmt(const struct pager *pg, const char *const names[3]);

/* Puts a page of `res` into r->view: the rows newest first as the list
 * `key` of row_view() maps (columns from `from` on; a row whose "id" is
 * NULL, as a LEFT JOIN gives for no rows, is no row), the links "older"
 * and "newer" (addresses, absent when there is nothing there), "newest"
 * (the first page) and "paged" (both only past the first page), "has_paging" and "has_rows". Returns 0, or 400
 * when the result's "cursor_ok" is false (the cursor is not the viewer's).
 * A statement without that column must have checked its cursor itself
 * (search's second step: its first checked it). */
int pager_view(struct req *r, const struct pager *pg, PGresult *res, int from,
	       const char *key);

#endif
