/* sess.h - who is asking: session cookies, the logged-in user, CSRF tokens. */
#ifndef CAREBOX_SESS_H
#define CAREBOX_SESS_H

#include "db.h"
#include "http.h"
#include "site.h"

/* The cookies' names: "__Host-"-prefixed on an https site (site.h). */
#define SESSION_COOKIE (site.session_cookie)
#define PRESESSION_COOKIE (site.pre_cookie)

enum role { ROLE_PATIENT = 1, ROLE_DOCTOR = 2, ROLE_ADMIN = 4 };
#define ROLE_STAFF (ROLE_DOCTOR | ROLE_ADMIN)
#define ROLE_ANY (ROLE_PATIENT | ROLE_STAFF)

/* The logged-in user of a request; strings live in the request arena. */
struct user {
	const char *id;
	const char *email;
	const char *first_name;
	const char *last_name;
	const char *role_name;
	enum role role;
	const char *clinic_id;		/* the clinic they act for; NULL if none */
	const char *clinic_name;
	long clinics;			/* how many clinics they belong to */
	const char *zone;		/* times are shown in it: the clinic's */
	const char *csrf_token;
	long unread_count;		/* of the inbox, for the navigation */
	const char *inbox_id;
	int enrol_only;			/* must enrol in two-step sign-in before anything else */
};

/* The session lookup, as the first SESS_COLUMNS columns of a statement
 * whose $1 is the session token: the live session (idle for under 30
 * minutes, under 12 hours old) of an active user, with the user, the
 * membership they act in (the session's clinic if they are still an
 * active member there, else their first active membership, staff ones
 * first: its clinic and role; no clinic and the patient role for someone
 * who belongs to none), the inbox and its unread count, whether last-seen
 * is over a minute old, how many clinics they belong to (the switcher
 * shows from two) and the time zone times are shown in (the clinic's, UTC
 * without one). sess_load runs it alone; a page that must be one round
 * trip (the inbox) joins its own query onto it as the CTE "me" and hands
 * the result to sess_take(). */
#define SESS_SELECT \
	"SELECT u.id AS user_id, u.email, u.first_name, u.last_name," \
	" coalesce(ms.role::text, 'patient') AS role," \
	" s.csrf_token, s.flash_kind, s.flash_text, ms.clinic_id, ms.clinic_name," \
	" i.unread_count," \
	" s.last_seen_at < now() - interval '1 minute', i.id AS inbox_id," \
	" (SELECT count(*) FROM memberships m WHERE m.user_id = u.id AND m.active) AS clinics," \
	" coalesce(ms.time_zone, 'UTC') AS zone, s.enrol_only" \
	" FROM sessions s JOIN users u ON u.id = s.user_id AND u.active" \
	" JOIN inboxes i ON i.user_id = u.id" \
	" LEFT JOIN LATERAL (SELECT m.clinic_id, m.role, c.name AS clinic_name, c.time_zone" \
	"  FROM memberships m JOIN clinics c ON c.id = m.clinic_id" \
	"  WHERE m.user_id = u.id AND m.active" \
	"  ORDER BY (m.clinic_id = s.clinic_id) IS TRUE DESC, m.role = 'patient', m.created_at, m.clinic_id" \
	"  LIMIT 1) ms ON true" \
	" WHERE s.token_hash = sha256(decode($1, 'hex'))" \
	" AND s.expires_at > now() AND s.last_seen_at > now() - interval '30 minutes'"
#define SESS_COLUMNS 16

/* A session sess_load no longer takes (over 12 hours, or idle for 30
 * minutes), as a predicate on table sessions: cleared at the user's next
 * login and by carebox-admin prune. */
#define SESS_DEAD "(expires_at < now() OR last_seen_at < now() - interval '30 minutes')"

extern const struct db_stmt sess_stmts[];

/* Looks up the session cookie: sets r->user when it names a live session
 * of an active user (idle for under 30 minutes, under 12 hours old), and
 * r->flash to the notice left for this page. Touches last-seen at most
 * once a minute. Returns 0, or 503/500 if the database failed. */
int sess_load(struct req *r);

/* Takes the session from the first SESS_COLUMNS columns of row 0 of
 * `res` (a statement built on SESS_SELECT): sets r->user (left NULL when
 * there is no row or no live session) and r->flash_*, and writes last-seen
 * or consumes the flash when due (never on a HEAD, which shows no page).
 * Returns 0 or an error status. */
int sess_take(struct req *r, PGresult *res);

/* Starts a new session for `user_id` (a new token: no fixation) and sets
 * the cookie; r->user is not changed (the handler redirects next). Returns
 * 0 or an error status. */
int sess_start(struct req *r, const char *user_id);

/* sess_start() for staff who must enrol in two-step sign-in first: the
 * session opens only the routes marked TWO_STEP_SETUP (route.h) until
 * sess_enrolled(). */
int sess_start_enrol_only(struct req *r, const char *user_id);

/* Restricts the current session as sess_start_enrol_only() does (a new
 * member of staff, by a join or invitation link, of a clinic that asks for
 * two steps). Returns 0 or an error status. */
int sess_enrol_only(struct req *r);

/* Lifts the current session's enrol-only restriction. Returns 0 or an
 * error status. */
int sess_enrolled(struct req *r);

/* Adds a Set-Cookie header for `name`: HttpOnly, SameSite=Lax, Path=/,
 * Secure on an https site, with Max-Age `max_age` unless NULL (a cookie
 * for the browser's session). */
void sess_cookie(struct req *r, const char *name, const char *value, const char *max_age);

/* Ends the current session (the row is deleted, so a copied cookie dies
 * with it) and clears the cookie. Returns 0 or an error status. */
int sess_end(struct req *r);

/* Leaves a one-time notice ("ok" or "error") for the next page the user
 * sees. The text is sealed with a key derived from the session token, so
 * the database holds it only encrypted (it may carry a one-time link);
 * sess_take() opens it, and drops a notice that does not open. Returns 0
 * or an error status. */
int sess_flash(struct req *r, const char *kind, const char *text);

/* The CSRF token forms of this page must carry: the session's, or for a
 * visitor the pre-session cookie's (the cookie is set if missing). */
const char *sess_csrf_token(struct req *r);

/* The owner of the session the browser's cookie names, live or ended
 * (expired, or its user deactivated; not logged out: that deletes it),
 * into *user_id (arena; NULL when there is no such session, or when
 * `with_csrf` and the form's csrf_token is not that session's). For a
 * form sent after its session ended (route.h, KEEPS_DRAFT). Returns 0 or
 * the status of a database failure. */
int sess_ended(struct req *r, int with_csrf, const char **user_id);

/* 1 if the POSTed csrf_token matches (compared in constant time). */
int sess_csrf_ok(struct req *r);

/* Puts the layout's data about the user (name, role flags, CSRF token,
 * flash) into r->view. */
void sess_view(struct req *r);

#endif
