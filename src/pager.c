/* pager.c - keyset paging, the one way every list pages (see pager.h). */
#include "pager.h"

#include <string.h>

#include "row.h"

/* 1 if `s` is a decimal number that fits a bigint comfortably. */
static int bigint_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 18 && strspn(s, "0123456789") == n;
}

int pager_read(struct req *r, struct pager *pg, const char *base, int size,
	       enum pager_key key)
{
	const char *before = http_query(r, "before"), *after = http_query(r, "after");

	pg->base = base;
	pg->size = size;
	pg->page = before ? PAGE_OLDER : after ? PAGE_NEWER : PAGE_FIRST;
	pg->cursor = before ? before : after;
	if (before && after)
		return 400;
	if (pg->cursor && !(key == KEY_UUID ? uuid_valid(pg->cursor, strlen(pg->cursor))
					    : bigint_valid(pg->cursor)))
		return 400;
	return 0;
}

const char *pager_stmt(const struct pager *pg, const char *const names[3])
{
	return names[pg->page];
}

/* The address of the page `dir` ("before" or "after") of row `id`. */
static const char *pager_link(struct req *r, const struct pager *pg, const char *dir,
			      const char *id)
{
	return arena_printf(r->arena, "%s%c%s=%s", pg->base, strchr(pg->base, '?') ? '&' : '?',
			    dir, id);
}

int pager_view(struct req *r, const struct pager *pg, PGresult *res, int from,
	       const char *key)
{
	struct arena *a = r->arena;
	struct tv *list = tv_set(a, r->view, key, tv_list(a));
	int idc = PQfnumber(res, "id"), okc = PQfnumber(res, "cursor_ok"), n = 0, shown, more;
	const char *newest = NULL, *oldest = NULL;

	if (pg->cursor && okc >= 0 && PQntuples(res) > 0 && !row_bool(res, 0, "cursor_ok"))
		return 400;
	while (n < PQntuples(res) && !PQgetisnull(res, n, idc))
		n++;
	shown = n < pg->size ? n : pg->size;
	more = n > pg->size;
	/* Rows came in the statement's scan order: newest first, except on
	 * a newer page, which scans up from the cursor. */
	for (int k = 0; k < shown; k++) {
		int i = pg->page == PAGE_NEWER ? shown - 1 - k : k;

		tv_push(a, list, row_view(a, res, i, from));
	}
	if (shown) {
		newest = PQgetvalue(res, pg->page == PAGE_NEWER ? shown - 1 : 0, idc);
		oldest = PQgetvalue(res, pg->page == PAGE_NEWER ? 0 : shown - 1, idc);
	}
	/* Older rows exist past a full first or older page, and always behind
	 * a newer page (the cursor's own row, at least); newer ones in front
	 * of an older page, and past a full newer page. */
	if (oldest && (pg->page == PAGE_NEWER || more))
		tv_set_str(a, r->view, "older", pager_link(r, pg, "before", oldest));
	if (pg->page == PAGE_OLDER || (pg->page == PAGE_NEWER && more))
		tv_set_str(a, r->view, "newer", newest ? pager_link(r, pg, "after", newest)
						       : pg->base);
	tv_set_bool(a, r->view, "has_paging", pg->page != PAGE_FIRST || more);
	tv_set_bool(a, r->view, "paged", pg->page != PAGE_FIRST);
	if (pg->page != PAGE_FIRST)
		tv_set_str(a, r->view, "newest", pg->base);
	tv_set_bool(a, r->view, "has_rows", shown > 0);
	return 0;
}
