/* page_login.c - GET/POST /login (throttled, audited) and POST /logout. */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "row.h"
#include "sess.h"
#include "throttle.h"

const struct db_stmt page_login_stmts[] = {
	{ "login_user",
	  "SELECT id, password_hash, active FROM users WHERE lower(email) = lower($1)" },
	{ "login_rehash", "UPDATE users SET password_hash = $2 WHERE id = $1" },
	{ NULL, NULL }
};

static const struct field login_fields[] = {
	{ .name = "email", .label = "your e-mail address", .type = FT_TEXT,
	  .flags = FIELD_REQUIRED, .max = 254 },
	{ .name = "password", .label = "your password", .type = FT_PASSWORD,
	  .flags = FIELD_REQUIRED, .max = 1024 },
	{ .name = "next", .label = "the page to go to", .type = FT_TEXT, .max = 2000 },
	{ 0 }
};
static const struct form login_form_decl = { login_fields };

/* The notices the login page shows after what sent the browser there, each
 * named by its query parameter (/login?logged_out=1): the text is fixed
 * here, so that no link can make the page say anything else. */
static const struct {
	const char *key, *kind, *text;
} login_notices[] = {
	{ "logged_out", "ok", "You have logged out." },
	{ "logged_out_everywhere", "ok", "You have logged out everywhere: every session of "
	  "your account has ended, on every device." },
	{ "reset", "ok", "Your password was reset; log in with the new one." },
	{ "verified", "ok", "Your e-mail address is confirmed: carebox mails its notices there." },
	{ "again", "error", "Your sign-in waited more than 5 minutes for its code, or was "
	  "finished already: log in again." },
};
#define LOGIN_NOTICES (sizeof(login_notices) / sizeof(login_notices[0]))

/* Puts the first of login_notices whose parameter the query has into the
 * view as the layout's "flash" ({kind, text}), where a session's notice
 * would be: the visitor has no session to hold one. */
static void login_notice(struct req *r)
{
	for (size_t i = 0; i < LOGIN_NOTICES; i++) {
		if (http_query(r, login_notices[i].key)) {
			struct tv *f = tv_set(r->arena, r->view, "flash", tv_map(r->arena));

			tv_set_str(r->arena, f, "kind", login_notices[i].kind);
			tv_set_str(r->arena, f, "text", login_notices[i].text);
			return;
		}
	}
}

/* The login form, with `error` above it when set, answered with `status`. */
static int login_form(struct req *r, const char *error, int status)
{
	tv_set_str(r->arena, r->view, "title", "Log in");
	tv_set_str(r->arena, r->view, "csrf_token", sess_csrf_token(r));
	tv_set_bool(r->arena, r->view, "signup_open", page_signup_open());
	if (error)
		tv_set_str(r->arena, r->view, "error", error);
	return http_render_status(r, "login", status);
}

int page_login_again(struct req *r, const char *next, const char *notice)
{
	tv_set_str(r->arena, r->view, "next", next);
	tv_set_str(r->arena, r->view, "notice", notice);
	return login_form(r, NULL, 200);
}

int page_login_get(struct req *r)
{
	const char *next = http_query(r, "next");

	if (r->user)
		return http_redirect(r, "/");
	tv_set_str(r->arena, r->view, "next", http_local_path(next) ? next : "");
	login_notice(r);
	return login_form(r, NULL, 200);
}

/* Records a wrong password, which stands though the answer is an error;
 * the answer is the same whether or not the e-mail is known. */
static int login_failed(struct req *r, const char *email, const char *user_id)
{
	int status;

	if ((status = throttle_password_failed(r, email, 1)) ||
	    (status = audit(r, "login failed", NULL, user_id, email)))
		return status;
	page_keep(r);
	return login_form(r, "Wrong e-mail address or password.", 401);
}

/* Answers a check the throttle refused (`verdict`, throttle.h) with 429,
 * audited; nothing was verified. */
static int login_refused(struct req *r, const char *email, int verdict, long minutes)
{
	const char *why;
	int status;

	if (verdict == THROTTLE_BUSY)
		why = "Another login to this account is being checked: try again in a moment.";
	else if (verdict == THROTTLE_PAUSED)
		why = arena_printf(r->arena, "Too many wrong passwords for this account: for its "
				   "safety, logging in is paused for %ld more minute%s. An admin of "
				   "your clinic can lift the pause.", minutes, minutes == 1 ? "" : "s");
	else
		why = "Too many failed logins from your network: please wait a quarter of an "
		      "hour and try again.";
	if ((status = audit(r, "login throttled", NULL, NULL, email)))
		return status;
	page_keep(r);
	return login_form(r, why, 429);
}

/* Logs `user_id` in: a fresh session, the stored hash upgraded if its cost
 * is outdated, the failure count cleared. Returns the redirect. */
static int login_succeeded(struct req *r, const char *email, const char *user_id,
			   const char *hash, const char *password, const char *next)
{
	char fresh[HASH_MAX];
	int status, two_step, enrol_only;

	if (auth_needs_rehash(hash) && auth_hash(password, fresh) == 0) {
		const char *p[2] = { user_id, fresh };
		PGresult *res = db_exec(r->db, "login_rehash", 2, p);

		PQclear(res);
	}
	if ((status = throttle_password_clear(r, email)))
		return status;
	if ((two_step = page_two_step_login(r, user_id, &enrol_only)) < 0)
		return db_failure_status(r->db);
	if (two_step)	/* no session before the code */
		return page_two_step_begin(r, user_id, next);
	/* A session this browser had before (another account, say) ends: no
	 * row outlives its cookie. The new session and its audit entry commit
	 * together (the page's transaction): no login goes unrecorded. Staff
	 * who must enrol in two-step sign-in get a session for that only. */
	if ((r->session_token && (status = sess_end(r))) ||
	    (status = (enrol_only ? sess_start_enrol_only : sess_start)(r, user_id)) ||
	    (status = audit(r, "login", NULL, user_id, NULL)))
		return status;
	if (enrol_only)
		return http_redirect(r, "/account/two-step");
	return http_redirect(r, http_local_path(next) ? next : "/");
}

int page_login_post(struct req *r)
{
	struct form_data d = { 0 };
	const char *email, *password, *hash = NULL, *user_id = NULL;
	PGresult *res;
	int verdict, active = 0;
	long minutes;

	if (form_read(r, &login_form_decl, &d))
		return login_form(r, NULL, 422);
	email = form_text(&d, "email");
	password = form_text(&d, "password");
	/* The attempt is claimed before anything is verified (throttle.c). */
	verdict = throttle_password(r, email, 1, &minutes);
	if (verdict < 0)
		return db_failure_status(r->db);
	if (verdict != THROTTLE_OK)
		return login_refused(r, email, verdict, minutes);
	res = db_exec(r->db, "login_user", 1, &email);
	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) == 1) {
		user_id = row_text(r->arena, res, 0, "id");
		hash = row_text(r->arena, res, 0, "password_hash");
		active = row_bool(res, 0, "active");
	}
	PQclear(res);
	/* Unknown and password-less users cost a verification too. */
	if (!auth_verify(hash, password))
		return login_failed(r, email, user_id);
	/* Only someone who knows the password learns that the account is
	 * deactivated. */
	if (!active) {
		int status = audit(r, "login refused: deactivated", NULL, user_id, NULL);

		if (status)
			return status;
		page_keep(r);
		return login_form(r, "This account has been deactivated: you cannot log in. "
				  "If you think this is a mistake, ask your clinic.", 403);
	}
	return login_succeeded(r, email, user_id, hash, password, form_text(&d, "next"));
}

/* POST /logout: ends the session; the login page says so. */
int page_logout_post(struct req *r)
{
	int status = audit(r, "logout", NULL, r->user->id, NULL);

	if (status || (status = sess_end(r)))
		return status;
	return http_redirect(r, "/login?logged_out=1");
}
