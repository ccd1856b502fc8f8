/* page_signup.c - GET/POST /signup: patients create their own account. */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "sess.h"

const struct db_stmt page_signup_stmts[] = {
	{ "signup_clinics", "SELECT id, name FROM clinics ORDER BY name" },
	{ "signup_insert",
	  "WITH u AS (INSERT INTO users (email, first_name, last_name, role, password_hash)"
	  " SELECT $1, $2, $3, 'patient', $4 WHERE EXISTS (SELECT 1 FROM clinics WHERE id = $5)"
	  " ON CONFLICT ((lower(email))) DO NOTHING RETURNING id),"
	  " m AS (INSERT INTO memberships (clinic_id, user_id) SELECT $5, id FROM u)"
	  " SELECT id FROM u" },
	{ NULL, NULL }
};

static const char *const signup_fields[] = { "email", "first_name", "last_name", NULL };

int page_signup_open(void)
{
	const char *v = getenv("CAREBOX_SIGNUP");

	return v == NULL || strcmp(v, "off") != 0;
}

int page_password_ok(struct req *r, const char *email, const char *first,
		     const char *last)
{
	const char *pw = http_form(r, "password"), *again = http_form(r, "password2");
	const char *problem = pw && utf8_valid(pw, strlen(pw)) ?
		auth_password_problem(pw, email, first, last) : "Enter a password.";

	if (problem == NULL && (again == NULL || strcmp(pw, again) != 0))
		problem = "The two passwords differ.";
	if (problem)
		tv_set_str(r->arena, r->view, "password_error", problem);
	return problem == NULL;
}

int page_name_ok(struct req *r, const char *field, const char *value)
{
	size_t n = utf8_chars(value);

	if (n >= 1 && n <= 100)
		return 1;
	tv_set_str(r->arena, r->view, arena_printf(r->arena, "%s_error", field),
		   n ? "Use at most 100 characters." : "Enter your name.");
	return 0;
}

int page_person_ok(struct req *r, const char *email, const char *first,
		   const char *last)
{
	const char *problem = auth_email_problem(email);
	int good = !problem;

	if (problem)
		tv_set_str(r->arena, r->view, "email_error", problem);
	good &= page_name_ok(r, "first_name", first);
	good &= page_name_ok(r, "last_name", last);
	return good;
}

/* Puts the clinics to choose from into the view, the chosen one selected.
 * Returns 0 or an error status. */
static int signup_clinics(struct req *r, const char *chosen)
{
	PGresult *res = db_exec(r->db, "signup_clinics", 0, NULL);
	struct tv *list;

	if (res == NULL)
		return db_failure_status(r->db);
	list = tv_set(r->arena, r->view, "clinics", tv_list(r->arena));
	for (int i = 0; i < PQntuples(res); i++) {
		struct tv *c = tv_map(r->arena);

		tv_set_str(r->arena, c, "id", arena_strdup(r->arena, PQgetvalue(res, i, 0)));
		tv_set_str(r->arena, c, "name", arena_strdup(r->arena, PQgetvalue(res, i, 1)));
		tv_set_bool(r->arena, c, "selected", chosen && strcmp(chosen, PQgetvalue(res, i, 0)) == 0);
		tv_push(r->arena, list, c);
	}
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
	const char *email = http_form_trim(r, "email"), *clinic = http_form_trim(r, "clinic");
	const char *first = http_form_trim(r, "first_name"), *last = http_form_trim(r, "last_name");
	char hash[HASH_MAX];
	const char *p[5] = { email, first, last, hash, clinic };
	PGresult *res;
	int good, status;

	if (!page_signup_open())
		return 404;
	http_keep_fields(r, signup_fields);
	good = page_person_ok(r, email, first, last);
	good &= page_password_ok(r, email, first, last);
	if (!uuid_valid(clinic, strlen(clinic))) {
		tv_set_str(r->arena, r->view, "clinic_error", "Choose your clinic.");
		good = 0;
	}
	if (!good)
		return signup_form(r, clinic, 422);
	if (auth_hash(http_form(r, "password"), hash) < 0)
		return 500;
	res = db_exec(r->db, "signup_insert", 5, p);
	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) == 0) {
		PQclear(res);
		tv_set_str(r->arena, r->view, "email_error",
			   "There is already an account with this e-mail address (or the clinic "
			   "is unknown). Log in instead, or ask your clinic for a reset link.");
		return signup_form(r, clinic, 422);
	}
	p[0] = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((status = sess_start(r, p[0])) || (status = audit(r, "signup", clinic, p[0], NULL)))
		return status;
	return http_redirect(r, "/");
}
