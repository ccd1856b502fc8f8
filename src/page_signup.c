/* page_signup.c - GET/POST /signup: patients create their own account. */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "mail.h"
#include "row.h"
#include "sess.h"
#include "throttle.h"

const struct db_stmt page_signup_stmts[] = {
	{ "signup_clinics", "SELECT id, name FROM clinics ORDER BY name" },
	/* An address is unique (users_email_key). Two writers of one
	 * address at once would make the second fail on the index, an error
	 * that quotes the address in PostgreSQL's log; held by each writer
	 * until its transaction ends, this lock makes the second wait, then
	 * see the first's row and say "taken". */
	{ "email_claim", "SELECT pg_advisory_xact_lock(" DB_LOCK_EMAIL ", hashtext(lower($1)))" },
	{ "account_insert",
	  "INSERT INTO users (email, first_name, last_name, password_hash) VALUES ($1, $2, $3, $4)"
	  " ON CONFLICT ((lower(email))) DO NOTHING RETURNING id" },
	{ NULL, NULL }
};

static const struct field signup_fields[] = {
	PAGE_NEW_ACCOUNT_FIELDS,
	{ .name = "clinic", .label = "your clinic", .type = FT_UUID, .flags = FIELD_REQUIRED },
	{ .name = "date_of_birth", .label = "your date of birth", .type = FT_DATE,
	  .flags = FIELD_REQUIRED | FIELD_PAST },
	{ 0 }
};
static const struct form signup_form_decl = { signup_fields };

int page_signup_open(void)
{
	const char *v = getenv("CAREBOX_SIGNUP");

	return v == NULL || strcmp(v, "off") != 0;
}

int page_new_password(struct req *r, struct form_data *d, const char *email,
		      const char *first, const char *last)
{
	const char *pw = form_text(d, "password"), *again = form_text(d, "password2");
	const char *problem;

	if (form_get(d, "password")->error)
		return 0;
	problem = auth_password_problem(pw, email, first, last);
	if (problem == NULL && strcmp(pw, again) != 0)
		problem = "The two passwords differ.";
	if (problem)
		form_fail(r, d, "password", problem);
	return problem == NULL;
}

/* Puts the clinics to choose from into the view, the chosen one selected.
 * Returns 0 or an error status. */
static int signup_clinics(struct req *r, const char *chosen)
{
	int status = row_list_view(r, "signup_clinics", 0, NULL, "clinics", 0, NULL);

	if (status == 0)
		row_list_select(r, "clinics", chosen);
	return status;
}

static int signup_form(struct req *r, const char *clinic, int status)
{
	int err = signup_clinics(r, clinic);

	if (err)
		return err;
	tv_set_str(r->arena, r->view, "title", "Create your account");
	tv_set_str(r->arena, r->view, "csrf_token", sess_csrf_token(r));
	return http_render_status(r, "signup", status);
}

int page_signup_get(struct req *r)
{
	if (!page_signup_open())
		return 404;
	if (r->user)
		return http_redirect(r, "/");
	return signup_form(r, NULL, 200);
}

int page_email_claim(struct req *r, const char *email)
{
	PGresult *res = db_exec(r->db, "email_claim", 1, &email);

	if (res == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	return 0;
}

int page_new_account(struct req *r, struct form_data *d, const char **id)
{
	char hash[HASH_MAX];
	const char *p[4] = { form_text(d, "email"), form_text(d, "first_name"),
			     form_text(d, "last_name"), hash };
	PGresult *res;
	int status;

	page_new_password(r, d, p[0], p[1], p[2]);
	if (d->errors)
		return 422;
	/* Accounts made from one client address (signup, join) are counted
	 * before the work; a form sent back undoes its claim (rolled back). */
	if ((status = throttle_address(r, "signup", SIGNUP_MAX_PER_HOUR, "1 hour"))) {
		if (status == 429)
			form_fail(r, d, "email", "Too many accounts were created from your network "
				  "in the last hour: please try again later.");
		return status;
	}
	if (auth_hash(form_text(d, "password"), hash) < 0)
		return 500;
	status = page_email_claim(r, p[0]);
	res = status ? NULL : db_exec(r->db, "account_insert", 4, p);
	sodium_memzero(hash, sizeof(hash));
	if (res == NULL)
		return status ? status : db_failure_status(r->db);
	*id = PQntuples(res) ? row_text(r->arena, res, 0, "id") : NULL;
	PQclear(res);
	if (*id == NULL) {
		form_fail(r, d, "email", "There is already an account with this e-mail "
			  "address. Log in instead, or ask your clinic for a reset link.");
		return 422;
	}
	/* Nothing but this is mailed to the address until it is proven. */
	return mail_verify(r->db, *id) < 0 ? db_failure_status(r->db) : 0;
}

/* POST /signup: a new account and its request to join the chosen clinic,
 * then logged in; or the form back with 422. */
int page_signup_post(struct req *r)
{
	struct form_data d = { 0 };
	const char *id, *clinic, *name;
	int status;

	if (!page_signup_open())
		return 404;
	form_read(r, &signup_form_decl, &d);
	clinic = form_text(&d, "clinic");
	if ((status = page_new_account(r, &d, &id)))
		return status == 422 || status == 429 ? signup_form(r, clinic, status) : status;
	/* The request waits for the clinic's staff (page_patients.c); until
	 * then the new patient belongs to no clinic and writes to no one. */
	if ((status = page_join_request(r, &d, id, &name)))
		return status == 422 ? signup_form(r, NULL, 422) : status;
	if ((status = sess_start(r, id)) || (status = audit(r, "signup", NULL, id, NULL)) ||
	    (status = sess_flash(r, "ok", arena_printf(r->arena, "Welcome to carebox. "
			"Your request to join %s now waits for its staff, who compare your name "
			"and date of birth with their records. Until they accept it you can "
			"write to no one.", name))))
		return status;
	return http_redirect(r, "/account/clinics");
}
