/* page_patients.c - GET/POST /patients/new: staff register a patient with their clinic. */
#include "page.h"

#include <string.h>

#include "audit.h"
#include "auth.h"
#include "sess.h"

const struct db_stmt page_patients_stmts[] = {
	{ "patients_find",
	  "SELECT u.id, u.role::text, EXISTS (SELECT 1 FROM memberships m"
	  " WHERE m.user_id = u.id AND m.clinic_id = $2)"
	  " FROM users u WHERE lower(u.email) = lower($1)" },
	{ "patients_join",
	  "INSERT INTO memberships (clinic_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING" },
	{ NULL, NULL }
};

static const char *const patient_fields[] = { "email", "first_name", "last_name", NULL };

/* Renders the registration form with `status`. */
static int patient_form(struct req *r, int status)
{
	tv_set_str(r->arena, r->view, "title", "Register a patient");
	return http_render_status(r, "patient_new", status);
}

/* Sends the form back with `message` under the e-mail field (422). */
static int patient_email_error(struct req *r, const char *message)
{
	tv_set_str(r->arena, r->view, "email_error", message);
	return patient_form(r, 422);
}

int page_patient_new_get(struct req *r)
{
	return patient_form(r, 200);
}

/* Adds the existing patient `id` to the clinic and leaves a notice.
 * Returns the redirect or an error status. */
static int patient_join(struct req *r, const char *id, const char *email)
{
	const char *p[2] = { r->user->clinic_id, id };
	PGresult *res = db_exec(r->db, "patients_join", 2, p);
	int status;

	if (res == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	if ((status = audit(r, "patient registered", r->user->clinic_id, id, "existing account")) ||
	    (status = sess_flash(r, "ok", arena_printf(r->arena, "%s already has a carebox "
				"account and is now registered with your clinic. They log in "
				"as before.", email))))
		return status;
	return http_redirect(r, "/patients/new");
}

/* Deals with an e-mail address that already has an account: staff cannot
 * be registered as patients, members are already registered, other
 * patients join the clinic. Returns 0 if there is no such account, else
 * the status of the answer made. */
static int patient_existing(struct req *r, const char *email)
{
	const char *p[2] = { email, r->user->clinic_id };
	PGresult *res = db_exec(r->db, "patients_find", 2, p);
	const char *id;
	int staff, member;

	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	id = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
	staff = strcmp(PQgetvalue(res, 0, 1), "patient") != 0;
	member = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	PQclear(res);
	if (staff)
		return patient_email_error(r, "This address belongs to a member of staff, "
					   "not to a patient.");
	if (member)
		return patient_email_error(r, "This patient is already registered with your clinic.");
	return patient_join(r, id, email);
}

int page_patient_new_post(struct req *r)
{
	const char *email = http_form_trim(r, "email");
	const char *first = http_form_trim(r, "first_name"), *last = http_form_trim(r, "last_name");
	const char *id, *link;
	int good, status;

	http_keep_fields(r, patient_fields);
	good = page_person_ok(r, email, first, last);
	if (!good)
		return patient_form(r, 422);
	if (r->user->clinic_id == NULL)
		return 403;
	if ((status = patient_existing(r, email)))
		return status;
	status = page_invite_user(r, email, first, last, "patient", &id, &link);
	if (status == 1)	/* registered by someone else meanwhile */
		return patient_email_error(r, "There is already an account with this e-mail "
					   "address; send the form again.");
	if (status || (status = audit(r, "patient registered", r->user->clinic_id, id, "invited")) ||
	    (status = page_link_flash(r, arena_printf(r->arena, "Invitation link for %s", email), link)) ||
	    (status = page_commit(r)))
		return status;
	return http_redirect(r, "/patients/new");
}
