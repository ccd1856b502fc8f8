/* page_patients.c - GET/POST /patients/new: staff register a patient with their clinic. */
#include "page.h"

#include <string.h>

#include "audit.h"
#include "row.h"
#include "sess.h"

const struct db_stmt page_patients_stmts[] = {
	/* $1 the e-mail address, $2 the staff member's clinic. */
	{ "patients_find",
	  "SELECT u.id, CASE WHEN EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id"
	  " AND m.role <> 'patient') THEN 'staff' ELSE 'patient' END AS role,"
	  " u.id IN (SELECT id FROM clinic_people($2)) AS member"
	  " FROM users u WHERE lower(u.email) = lower($1)" },
	{ "patients_join",
	  "INSERT INTO memberships (clinic_id, user_id, role) VALUES ($1, $2, 'patient')"
	  " ON CONFLICT (clinic_id, user_id) DO UPDATE SET active = true, ended_at = NULL,"
	  " role = 'patient', created_at = now() WHERE NOT memberships.active" },
	{ NULL, NULL }
};

static const struct field patient_fields[] = {
	PAGE_EMAIL_FIELD("the patient's"),
	PAGE_NAME_FIELDS("their"),
	{ 0 }
};
static const struct form patient_form = { patient_fields };

/* Renders the registration form, as form_read() left it in the view (or
 * blank), with `status`. */
static int patient_page(struct req *r, int status)
{
	tv_set_str(r->arena, r->view, "title", "Register a patient");
	return http_render_status(r, "patient_new", status);
}

/* GET /patients/new: the blank form. */
int page_patient_new_get(struct req *r)
{
	return patient_page(r, 200);
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
 * be registered as patients, members are already registered (both send
 * the form `d` back with the reason), other patients join the clinic.
 * Returns 0 if there is no such account, else the status of the answer
 * made. */
static int patient_existing(struct req *r, struct form_data *d, const char *email)
{
	const char *p[2] = { email, r->user->clinic_id };
	PGresult *res = db_exec(r->db, "patients_find", 2, p);
	const char *id, *role;
	int member;

	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	id = row_text(r->arena, res, 0, "id");
	role = row_text(r->arena, res, 0, "role");
	member = row_bool(res, 0, "member");
	PQclear(res);
	if (strcmp(role, "patient") != 0)
		form_fail(r, d, "email", "This address belongs to a member of staff, not to a "
			  "patient.");
	else if (member)
		form_fail(r, d, "email", "This patient is already registered with your clinic.");
	else
		return patient_join(r, id, email);
	return patient_page(r, 422);
}

/* POST /patients/new: registers the patient (a new invited account with
 * an invitation link in a flash, or an existing patient account joining
 * the clinic), or sends the form back with 422. */
int page_patient_new_post(struct req *r)
{
	struct form_data d = { 0 };
	const char *email, *id, *link;
	int status;

	if (form_read(r, &patient_form, &d))
		return patient_page(r, 422);
	if (r->user->clinic_id == NULL)
		return 403;
	email = form_text(&d, "email");
	if ((status = patient_existing(r, &d, email)))
		return status;
	status = page_invite_user(r, email, form_text(&d, "first_name"),
				  form_text(&d, "last_name"), "patient", &id, &link);
	if (status == 1) {	/* registered by someone else meanwhile */
		form_fail(r, &d, "email", "There is already an account with this e-mail "
			  "address; send the form again.");
		return patient_page(r, 422);
	}
	if (status || (status = audit(r, "patient registered", r->user->clinic_id, id, "invited")) ||
	    (status = page_link_flash(r, arena_printf(r->arena, "Invitation link for %s", email),
				      link)))
		return status;
	return http_redirect(r, "/patients/new");
}
