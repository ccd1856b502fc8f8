/* page_forgot.c - /forgot ("Forgot your password?"): a reset link mailed to a confirmed address; the same answer whatever the address. */
#include "page.h"

#include "audit.h"
#include "mail.h"
#include "row.h"
#include "sess.h"
#include "throttle.h"

/* Reset links asked for in an hour, per address typed and per account. */
#define FORGOT_MAX_PER_HOUR 3

const struct db_stmt page_forgot_stmts[] = {
	/* $1 the address typed: the throttle's key for it ("key": lower(),
	 * as the lookup folds it, so no spelling of one address has a count
	 * of its own; hashed, so the throttle's table holds no address) and
	 * the account whose confirmed address (mail_to:
	 * sql/0022_email.sql) it is, if one active account has it. */
	{ "forgot_user",
	  "SELECT encode(sha256(convert_to(lower($1), 'UTF8')), 'hex') AS key,"
	  " (SELECT CASE WHEN count(*) = 1 THEN min(id::text) END FROM users"
	  " WHERE lower(mail_to) = lower($1) AND active) AS id" },
	{ NULL, NULL }
};

static const struct field forgot_fields[] = {
	PAGE_EMAIL_FIELD("your"),
	{ 0 }
};
static const struct form forgot_form_decl = { forgot_fields };

/* Renders the page with `status`: the form, or (view "sent") the answer. */
static int forgot_page(struct req *r, int status)
{
	tv_set_str(r->arena, r->view, "title", "Forgot your password?");
	tv_set_str(r->arena, r->view, "csrf_token", sess_csrf_token(r));
	return http_render_status(r, "forgot", status);
}

/* GET /forgot: the form. */
int page_forgot_get(struct req *r)
{
	form_blank(r, &forgot_form_decl);
	return forgot_page(r, 200);
}

/* POST /forgot: if the address is the confirmed one of an active account,
 * a reset link is queued for it (mail_reset; the worker makes the link when
 * it sends). The answer is the same page whatever the address: known or
 * not, the request runs the same statements but for the queued job's
 * insert (no account enumeration, by the answer or by its time).
 * Throttled: FORGOT_MAX_PER_HOUR per address typed, however it is spelt
 * (then 429 with the form, for any address alike), and per account, which
 * its addresses share: one proven after another in the same hour count
 * together (then, silently, no mail: a 429 would tell that the address is
 * an account's). An unknown address counts as an account of its own, for
 * the same work. */
int page_forgot_post(struct req *r)
{
	struct form_data d = { 0 };
	const char *email, *key, *id;
	PGresult *res;
	int status, queued = 0;

	if (form_read(r, &forgot_form_decl, &d))
		return forgot_page(r, 422);
	email = form_text(&d, "email");
	if ((res = db_exec(r->db, "forgot_user", 1, &email)) == NULL)
		return db_failure_status(r->db);
	key = row_text(r->arena, res, 0, "key");
	id = row_text(r->arena, res, 0, "id");
	PQclear(res);
	if ((status = throttle_key(r, "reset asked", key, FORGOT_MAX_PER_HOUR, "1 hour"))) {
		if (status != 429)
			return status;
		form_fail(r, &d, "email", "Reset links were asked for this address too often "
			  "in the last hour: please try again later.");
		return forgot_page(r, 429);
	}
	status = throttle_key(r, "reset asked account", id ? id : key, FORGOT_MAX_PER_HOUR, "1 hour");
	if (status && status != 429)
		return status;
	if (id && status == 0 && mail_reset(r->db, id, &queued) < 0)
		return db_failure_status(r->db);
	if ((status = audit(r, "password reset asked", NULL, id, queued ? "link mailed" : NULL)))
		return status;
	tv_set_bool(r->arena, r->view, "sent", 1);
	return forgot_page(r, 200);
}
