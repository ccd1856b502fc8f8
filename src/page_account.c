/* page_account.c - /account: a user's own name, e-mail address, password and sessions. */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "mail.h"
#include "row.h"
#include "sess.h"
#include "throttle.h"

/* Wrong current passwords count as wrong passwords of the account, not of
 * the client address (throttle.h): a stolen session must not become a way
 * to guess the password at leisure, nor one person's typing lock out their
 * household. */
const struct db_stmt page_account_stmts[] = {
	{ "account_hash", "SELECT password_hash FROM users WHERE id = $1" },
	{ "account_update",
	  "UPDATE users SET first_name = $2, last_name = $3, email = $4 WHERE id = $1"
	  " AND NOT EXISTS (SELECT 1 FROM users o WHERE lower(o.email) = lower($4) AND o.id <> $1)"
	  " RETURNING id" },
	/* The new hash and the end of every other session, at once. */
	{ "account_password",
	  "WITH u AS (UPDATE users SET password_hash = $2 WHERE id = $1)"
	  " DELETE FROM sessions WHERE user_id = $1"
	  " AND token_hash <> sha256(decode($3, 'hex'))" },
	{ "account_sessions_end", "DELETE FROM sessions WHERE user_id = $1" },
	/* Where carebox mails the person, and what (src/mail.c). */
	{ "account_mail",
	  "SELECT mail_to, lower(email) IS DISTINCT FROM lower(mail_to) AS unproven, email AS pending,"
	  " notice_messages FROM users WHERE id = $1" },
	{ "account_notices", "UPDATE users SET notice_messages = $2::boolean WHERE id = $1" },
	{ NULL, NULL }
};

static const struct field account_fields[] = {
	PAGE_NAME_FIELDS("your"),
	PAGE_EMAIL_FIELD("your"),
	{ .name = "current_password", .label = "your current password", .type = FT_PASSWORD,
	  .max = 1024 },
	{ 0 }
};
static const struct form account_form_decl = { account_fields };

/* The password form. The page has two current-password inputs, so
 * account_check_password() puts this one's mistake under its own key,
 * "password_current_error". */
static const struct field password_fields[] = {
	{ .name = "current_password", .label = "your current password", .type = FT_PASSWORD,
	  .max = 1024 },
	PAGE_NEW_PASSWORD_FIELDS,
	{ 0 }
};
static const struct form password_form_decl = { password_fields };

/* Which notices the person receives by mail. */
static const struct field notices_fields[] = {
	{ .name = "notice_messages", .label = "a mail when a new message waits", .type = FT_BOOL },
	{ 0 }
};
static const struct form notices_form_decl = { notices_fields };

/* Renders the account page with `status`. The name and e-mail form shows
 * what is already in the view (a form sent back) or else the stored
 * values. */
static int account_form(struct req *r, int status)
{
	struct arena *a = r->arena;

	int failed;

	if (tv_get(r->view, "email") == NULL) {
		tv_set_str(a, r->view, "email", r->user->email);
		tv_set_str(a, r->view, "first_name", r->user->first_name);
		tv_set_str(a, r->view, "last_name", r->user->last_name);
	}
	/* "mail": {mail_to, unproven, pending, notice_messages}. */
	if ((failed = row_load_view(r, "account_mail", 1, &r->user->id, "mail")))
		return failed;
	tv_set_str(a, r->view, "title", "Your account");
	return http_render_status(r, "account", status);
}

/* Checks field current_password of `d` against the logged-in user's
 * password. Returns 0 when it is right. Otherwise puts a message under
 * `error_key` into the view and returns 422 (wrong; recorded as a failed
 * login, which stands: page_keep) or 429 (too many recent failures;
 * nothing verified), or returns the status of a database failure. */
static int account_check_password(struct req *r, struct form_data *d, const char *error_key)
{
	const char *pw = form_text(d, "current_password");
	PGresult *res;
	long minutes;
	int ok = throttle_password(r, r->user->email, 0, &minutes), status;

	if (ok < 0)
		return db_failure_status(r->db);
	if (ok != THROTTLE_OK) {
		tv_set_str(r->arena, r->view, error_key, ok == THROTTLE_BUSY ?
			   "Another check of your password is under way: try again in a moment." :
			   arena_printf(r->arena, "Too many wrong passwords: please wait %ld "
					"minute%s and try again.", minutes, minutes == 1 ? "" : "s"));
		return 429;
	}
	res = db_exec(r->db, "account_hash", 1, &r->user->id);
	if (res == NULL)
		return db_failure_status(r->db);
	ok = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) && *pw &&
	     auth_verify(PQgetvalue(res, 0, 0), pw);
	PQclear(res);
	if (ok)
		return 0;
	if ((status = throttle_password_failed(r, r->user->email, 0)))
		return status;
	page_keep(r);
	tv_set_str(r->arena, r->view, error_key, *pw ?
		   "This is not your current password." : "Enter your current password.");
	return 422;
}

int page_account_get(struct req *r)
{
	return account_form(r, 200);
}

/* Stores the new name and e-mail address (`changed`: a new one, claimed
 * first, so that one taken meanwhile is seen, page_email_claim). Returns
 * 0, 1 if the address belongs to someone else, or an error status. */
static int account_store(struct req *r, const char *first, const char *last,
			 const char *email, int changed)
{
	const char *p[4] = { r->user->id, first, last, email };
	PGresult *res;
	int status = changed ? page_email_claim(r, email) : 0, taken;

	if (status)
		return status;
	res = db_exec(r->db, "account_update", 4, p);
	/* A writer that takes no claim (carebox-admin create-user) can still
	 * win the race. */
	if (res == NULL)
		return strcmp(db_last_sqlstate(r->db), "23505") == 0 ? 1 :
		       db_failure_status(r->db);
	taken = PQntuples(res) == 0;
	PQclear(res);
	return taken;
}

int page_account_post(struct req *r)
{
	struct form_data d = { 0 };
	const char *email, *first, *last;
	int status = form_read(r, &account_form_decl, &d), changed;

	if (status)
		return account_form(r, 422);
	email = form_text(&d, "email");
	first = form_text(&d, "first_name");
	last = form_text(&d, "last_name");
	changed = strcmp(email, r->user->email) != 0;
	if (changed &&
	    (status = account_check_password(r, &d, "current_password_error")))
		return status == 422 || status == 429 ? account_form(r, status) : status;
	status = account_store(r, first, last, email, changed);
	if (status == 1) {
		form_fail(r, &d, "email", "There is already an account with this e-mail address.");
		return account_form(r, 422);
	}
	/* The new address is mailed its proof; the proven one stays in force. */
	if (status || (changed && mail_verify(r->db, r->user->id) < 0))
		return status ? status : db_failure_status(r->db);
	if ((status = audit(r, "account updated", NULL, r->user->id,
			    changed ? "e-mail address changed" : NULL)) ||
	    (status = sess_flash(r, "ok", changed ? "Your details were saved. We have sent a "
				 "link to your new e-mail address: follow it within one hour to "
				 "confirm the address. Until then carebox mails the address it "
				 "had confirmed before, if any." : "Your details were saved.")))
		return status;
	return http_redirect(r, "/account");
}

/* POST /account/notices: which notices the person receives by mail. */
int page_account_notices_post(struct req *r)
{
	struct form_data d = { 0 };
	const char *p[2] = { r->user->id, NULL };
	PGresult *res;
	int status;

	if (form_read(r, &notices_form_decl, &d))
		return account_form(r, 422);
	p[1] = form_get(&d, "notice_messages")->num ? "true" : "false";
	if ((res = db_exec(r->db, "account_notices", 2, p)) == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	if ((status = audit(r, "mail notices changed", NULL, r->user->id,
			    *p[1] == 't' ? "new messages: on" : "new messages: off")) ||
	    (status = sess_flash(r, "ok", "Your choice of notices was saved.")))
		return status;
	return http_redirect(r, "/account");
}

/* POST /account/verify: mails the link that proves the login address
 * again (the last one expired, or never came). */
int page_account_verify_post(struct req *r)
{
	int status;

	if (mail_verify(r->db, r->user->id) < 0)
		return db_failure_status(r->db);
	if ((status = sess_flash(r, "ok", "We have sent a new link to your e-mail address: "
				 "follow it within one hour to confirm the address.")))
		return status;
	return http_redirect(r, "/account");
}

int page_account_password_post(struct req *r)
{
	struct form_data d = { 0 };
	char hash[HASH_MAX];
	const char *p[3] = { r->user->id, hash, r->session_token };
	PGresult *res;
	int status, good;

	form_read(r, &password_form_decl, &d);
	status = account_check_password(r, &d, "password_current_error");
	if (status && status != 422 && status != 429)
		return status;
	good = page_new_password(r, &d, r->user->email, r->user->first_name, r->user->last_name);
	if (status || !good)
		return account_form(r, status ? status : 422);
	if (auth_hash(form_text(&d, "password"), hash) < 0)
		return 500;
	/* The change, its audit entry and the notice commit together. */
	res = db_exec(r->db, "account_password", 3, p);
	if (res == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	if ((status = audit(r, "password changed", NULL, r->user->id, NULL)) ||
	    (status = sess_flash(r, "ok", "Your password was changed. Every other device "
				 "where you were logged in has been logged out.")))
		return status;
	return http_redirect(r, "/account");
}

int page_confirm(struct req *r, const char *question, const char *detail,
		 const char *action, const char *yes, const char *back)
{
	tv_set_str(r->arena, r->view, "title", question);
	tv_set_str(r->arena, r->view, "detail", detail);
	tv_set_str(r->arena, r->view, "action", action);
	tv_set_str(r->arena, r->view, "yes", yes);
	tv_set_str(r->arena, r->view, "back", back);
	return http_render(r, "confirm");
}

/* GET /account/sessions: asks before logging out everywhere. */
int page_account_sessions_get(struct req *r)
{
	return page_confirm(r, "Log out everywhere?", "This ends every session of your "
			    "account, on every device, this one included: you log in again "
			    "afterwards.", "/account/sessions", "Yes, log out everywhere",
			    "/account");
}

/* POST /account/sessions (from its confirmation page): ends every session
 * of the account, this one included, and says so on the login page. */
int page_account_sessions_post(struct req *r)
{
	PGresult *res;
	int status = audit(r, "logged out everywhere", NULL, r->user->id, NULL);

	if (status)
		return status;
	res = db_exec(r->db, "account_sessions_end", 1, &r->user->id);
	if (res == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	if ((status = sess_end(r)))
		return status;
	return http_redirect(r, "/login?logged_out_everywhere=1");
}
