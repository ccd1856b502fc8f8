/* page_activity.c - GET /account/activity: one's own recent sign-ins and account changes. */
#include "page.h"

#include "row.h"
#include "sess.h"

#define ACTIVITY_MAX 50		/* entries the page shows */

/* Entries about the account itself (own_activity: no clinic), newest
 * first; times in the session's zone, which the page names. */
const struct db_stmt page_activity_stmts[] = {
	{ "activity_mine",
	  "SELECT a.at, a.action, a.address"
	  " FROM own_activity($1) a ORDER BY a.at DESC, a.id DESC LIMIT " DB_NUM(ACTIVITY_MAX) },
	{ NULL, NULL }
};

/* GET /account/activity: the viewer's own entries, at most ACTIVITY_MAX. */
int page_activity_get(struct req *r)
{
	int n, status = row_list_view(r, "activity_mine", 1, &r->user->id, "entries", 0, &n);

	if (status)
		return status;
	tv_set_bool(r->arena, r->view, "none", n == 0);
	tv_set_num(r->arena, r->view, "max", ACTIVITY_MAX);
	tv_set_str(r->arena, r->view, "title", "Recent sign-ins and account changes");
	return http_render(r, "activity");
}
