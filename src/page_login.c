/* page_login.c - GET/POST /login (throttled, audited) and POST /logout. */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "row.h"
#include "sess.h"

const struct db_stmt page_login_stmts[] = {
	{ "login_failures",
	  "SELECT count(*) FILTER (WHERE lower(email) = lower($1)),"
	  " count(*) FILTER (WHERE address = $2)"
	  " FROM login_failures WHERE at > now() - interval '15 minutes'"
	  " AND (lower(email) = lower($1) OR address = $2)" },
	{ "login_user",
	  "SELECT id, password_hash, active FROM users WHERE lower(email) = lower($1)" },
	{ "login_failure_add", "INSERT INTO login_failures (email, address) VALUES ($1, $2)" },
	{ "login_failures_clear", "DELETE FROM login_failures WHERE lower(email) = lower($1)" },
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

int page_login_get(struct req *r)
{
	const char *next = http_query(r, "next");

	if (r->user)
		return http_redirect(r, "/");
	tv_set_str(r->arena, r->view, "next", http_local_path(next) ? next : "");
	tv_set_bool(r->arena, r->view, "reset_done", http_query(r, "reset") != NULL);
	return login_form(r, NULL, 200);
}

/* 1 if the e-mail or the client address has too many recent failures;
 * -1 if the database failed. */
static int login_throttled(struct req *r, const char *email)
{
	const char *p[2] = { email, r->remote_addr };
	PGresult *res = db_exec(r->db, "login_failures", 2, p);
	int hit;

	if (res == NULL)
		return -1;
	hit = atoi(PQgetvalue(res, 0, 0)) >= LOGIN_MAX_FAILURES ||
	      atoi(PQgetvalue(res, 0, 1)) >= LOGIN_MAX_FAILURES;
	PQclear(res);
	return hit;
}

/* Records a failed attempt, which stands though the answer is an error;
 * the answer is the same whether or not the e-mail is known. */
static int login_failed(struct req *r, const char *email, const char *user_id)
{
	const char *p[2] = { email, r->remote_addr };
	PGresult *res = db_exec(r->db, "login_failure_add", 2, p);
	int status;

	if (res == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	if ((status = audit(r, "login failed", NULL, user_id, email)))
		return status;
	page_keep(r);
	return login_form(r, "Wrong e-mail address or password.", 401);
}

/* Logs `user_id` in: a fresh session, the stored hash upgraded if its cost
 * is outdated, the failure count cleared. Returns the redirect. */
static int login_succeeded(struct req *r, const char *email, const char *user_id,
			   const char *hash, const char *password, const char *next)
{
	char fresh[HASH_MAX];
	int status;

	if (auth_needs_rehash(hash) && auth_hash(password, fresh) == 0) {
		const char *p[2] = { user_id, fresh };
		PGresult *res = db_exec(r->db, "login_rehash", 2, p);

		PQclear(res);
	}
	PQclear(db_exec(r->db, "login_failures_clear", 1, &email));
	/* The session and its audit entry commit together (the page's
	 * transaction): no login goes unrecorded. */
	if ((status = sess_start(r, user_id)) ||
	    (status = audit(r, "login", NULL, user_id, NULL)))
		return status;
	return http_redirect(r, http_local_path(next) ? next : "/");
}

int page_login_post(struct req *r)
{
	struct form_data d = { 0 };
	const char *email, *password, *hash = NULL, *user_id = NULL;
	PGresult *res;
	int throttled, status;

	if (form_read(r, &login_form_decl, &d))
		return login_form(r, NULL, 422);
	email = form_text(&d, "email");
	password = form_text(&d, "password");
	throttled = login_throttled(r, email);
	if (throttled < 0)
		return db_failure_status(r->db);
	if (throttled) {
		if ((status = audit(r, "login throttled", NULL, NULL, email)))
			return status;
		page_keep(r);
		return login_form(r, "Too many failed attempts. For your safety, logging in "
				  "is paused: please wait 15 minutes and try again.", 429);
	}
	res = db_exec(r->db, "login_user", 1, &email);
	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) == 1) {
		user_id = row_text(r->arena, res, 0, "id");
		if (row_bool(res, 0, "active"))
			hash = row_text(r->arena, res, 0, "password_hash");
	}
	PQclear(res);
	/* Unknown, inactive and password-less users cost a verification too. */
	if (!auth_verify(hash, password))
		return login_failed(r, email, user_id);
	return login_succeeded(r, email, user_id, hash, password, form_text(&d, "next"));
}

int page_logout_post(struct req *r)
{
	int status = audit(r, "logout", NULL, r->user->id, NULL);

	if (status || (status = sess_end(r)))
		return status;
	return http_redirect(r, "/login");
}
