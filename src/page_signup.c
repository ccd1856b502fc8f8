/* page_signup.c - GET/POST /signup: patients create their own account. */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "row.h"
#include "sess.h"

const struct db_stmt page_signup_stmts[] = {
	{ "signup_clinics", "SELECT id, name FROM clinics ORDER BY name" },
	{ "signup_insert",
	  "WITH u AS (INSERT INTO users (email, first_name, last_name, password_hash)"
	  " SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM clinics WHERE id = $5)"
	  " ON CONFLICT ((lower(email))) DO NOTHING RETURNING id),"
	  " m AS (INSERT INTO memberships (clinic_id, user_id, role) SELECT $5, id, 'patient' FROM u)"
	  " SELECT id FROM u" },
	{ NULL, NULL }
};

static const struct field signup_fields[] = {
	PAGE_EMAIL_FIELD("your"),
	PAGE_NAME_FIELDS("your"),
	{ .name = "clinic", .label = "your clinic", .type = FT_UUID, .flags = FIELD_REQUIRED },
	PAGE_NEW_PASSWORD_FIELDS,
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
	PGresult *res = db_exec(r->db, "signup_clinics", 0, NULL);
	struct tv *list;

	if (res == NULL)
		return db_failure_status(r->db);
	list = tv_set(r->arena, r->view, "clinics", row_list(r->arena, res, 0, PQntuples(res), 0));
	for (size_t i = 0; i < list->u.list.n; i++)
		tv_set_bool(r->arena, list->u.list.items[i], "selected",
			    chosen && strcmp(chosen, PQgetvalue(res, (int)i, 0)) == 0);
	PQclear(res);
	return 0;
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

int page_signup_post(struct req *r)
{
	struct form_data d = { 0 };
	char hash[HASH_MAX];
	const char *p[5], *id;
	PGresult *res;
	int status;

	if (!page_signup_open())
		return 404;
	form_read(r, &signup_form_decl, &d);
	p[0] = form_text(&d, "email");
	p[1] = form_text(&d, "first_name");
	p[2] = form_text(&d, "last_name");
	p[3] = hash;
	p[4] = form_text(&d, "clinic");
	page_new_password(r, &d, p[0], p[1], p[2]);
	if (d.errors)
		return signup_form(r, p[4], 422);
	if (auth_hash(form_text(&d, "password"), hash) < 0)
		return 500;
	res = db_exec(r->db, "signup_insert", 5, p);
	if (res == NULL)
		return db_failure_status(r->db);
	id = PQntuples(res) ? row_text(r->arena, res, 0, "id") : NULL;
	PQclear(res);
	if (id == NULL) {
		form_fail(r, &d, "email", "There is already an account with this e-mail "
			  "address (or the clinic is unknown). Log in instead, or ask your "
			  "clinic for a reset link.");
		return signup_form(r, p[4], 422);
	}
	if ((status = sess_start(r, id)) || (status = audit(r, "signup", p[4], id, NULL)))
		return status;
	return http_redirect(r, "/");
}
