/* route.h - the one table that maps method + path to a page handler. */
#ifndef CAREBOX_ROUTE_H
#define CAREBOX_ROUTE_H

#include "db.h"
#include "http.h"

typedef int (*handler_fn)(struct req *r);

#define PUBLIC 0		/* anyone; a session is loaded if there is one */
#define NO_SESSION 0x100	/* flag: never look at the session (health checks) */
#define UPLOADS 0x200		/* flag: accepts multipart/form-data with files */
#define TWO_STEP_SETUP 0x800	/* flag: open to a session that must enrol in
				 * two-step sign-in first (sess.h); every
				 * other route sends it to /account/two-step */
#define KEEPS_DRAFT 0x1000	/* flag (a POST of a message form): when the
				 * browser's session has ended (not logged
				 * out), the form goes to page_message_keep(),
				 * which keeps what was typed for its owner's
				 * next login, instead of to /login */
#define SESSION_IN_QUERY 0x400	/* flag (GET-only pages): the handler's one query
				 * also loads the session (SESS_SELECT) and hands
				 * its result to route_session() before anything
				 * else; route_run refuses a page that did not */

/* One page. `pattern` is a literal path whose segments may be "{id}" (a
 * UUID, stored in r->params in order). A NULL handler means the method is
 * not allowed; HEAD is served by `get`. `access` is PUBLIC or a mask of
 * ROLE_* (sess.h) the logged-in user needs, possibly with NO_SESSION.
 * Every POST must carry the CSRF token of its session (or pre-session);
 * handlers never re-check what the table guarantees. */
struct route {
	const char *pattern;
	handler_fn get;
	handler_fn post;
	unsigned access;
};

/* Finds the route for r->path and r->method, filling r->params. Returns the
 * route, or NULL with *status set to 404 (no such path) or 405 (path exists,
 * method not allowed; *allow then lists the allowed methods). */
const struct route *route_find(struct req *r, int *status, const char **allow);

/* The route table route_find() searches, and how many routes it has. */
extern const struct route route_table[];
extern const size_t route_count;

/* Checks the `n` routes of `table` for rules that contradict each other,
 * so that no such table serves a request (main() runs it before the
 * workers start): a pattern that is not a path with whole "{id}"
 * segments, or repeats an earlier one; no handler; unknown access bits;
 * NO_SESSION with a role or a POST; SESSION_IN_QUERY on a route with a
 * POST, without a GET or without a role; UPLOADS or KEEPS_DRAFT without a
 * POST or without a role. Returns 0, or -1 with "route PATTERN: problem" in `err`. */
int route_check(const struct route *table, size_t n, struct buf *err);

/* Appends one line per route of `table` to `out`: its pattern, the
 * methods it answers (as in an Allow header) and its access rule, as
 * comma-separated words ("public" or the roles, then "no-session",
 * "uploads", "session-in-query", "keeps-draft"), separated by tabs. For carebox -r, from
 * which the access tests take the routes to try. */
void route_list(const struct route *table, size_t n, struct buf *out);

/* Loads the session, enforces the route's access rule and the CSRF token,
 * then runs the handler: a POST inside one transaction,
 * committed if the handler answers below 400 (or called page_keep()),
 * rolled back otherwise; a failed COMMIT becomes the error page. A visitor on a page that needs a login is sent to
 * /login; a user without the role gets 403; a bad CSRF token 403. Returns
 * the final status; on an error status the response holds the error page. */
int route_run(struct req *r, const struct route *rt);

/* For a POST of files to an UPLOADS route, before its body (up to 51 MB)
 * is read: loads the session and lets in only who the route's roles let
 * in (the CSRF token, a form field, is checked by route_run after the
 * read). Returns 0 to go on, or the status of the answer made (a redirect
 * to /login, 403, or a database error). */
int route_admit(struct req *r, const struct route *rt);

/* For SESSION_IN_QUERY routes: takes the session from the handler's
 * query result (sess_take) and applies the route's access rule exactly as
 * route_run does for other routes. Returns 0 to go on, or the status of the
 * answer already made (a redirect to /login, 403, or a database error).
 * A handler that answers anything but a bare error status without calling
 * it gets a 500 from route_run instead: it cannot forget. */
int route_session(struct req *r, PGresult *res);

/* Every statement of every page, for db_new(). NULL-terminated. */
extern const struct db_stmt *const route_stmts[];

/* The statements run unprepared (db_exec_once), for bench/explain.sh. */
extern const struct db_stmt *const route_once_stmts[];

#endif
