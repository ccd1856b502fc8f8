/* page_patients.c - staff take patients on: /patients/new (a join link and
 * code on a printable handout) and /patients/requests (requests to join). */
#include "page.h"

#include <string.h>

#include "audit.h"
#include "mail.h"
#include "row.h"
#include "sess.h"

const struct db_stmt page_patients_stmts[] = {
	/* The clinic's open requests, oldest first. */
	{ "patients_requests",
	  "SELECT q.id, display_name(u.first_name, u.last_name, u.email) AS name, u.email,"
	  " q.date_of_birth,"
	  " q.created_at AS asked"
	  " FROM join_requests q JOIN users u ON u.id = q.user_id AND u.active"
	  " WHERE q.clinic_id = $1 AND q.decided_at IS NULL ORDER BY q.created_at, q.id LIMIT 200" },
	/* Deciding closes the request of this clinic ($2) once; accepting
	 * also makes (or starts again) the patient's membership. */
	{ "patients_decide",
	  "WITH q AS (UPDATE join_requests SET decided_at = now(), decided_by = $3, accepted = $4"
	  " WHERE id = $1 AND clinic_id = $2 AND decided_at IS NULL RETURNING user_id, clinic_id),"
	  " m AS (INSERT INTO memberships (clinic_id, user_id, role)"
	  " SELECT clinic_id, user_id, 'patient' FROM q WHERE $4"
	  " ON CONFLICT (clinic_id, user_id) DO UPDATE SET active = true, ended_at = NULL,"
	  " role = CASE WHEN memberships.active THEN memberships.role ELSE 'patient' END,"
	  " created_at = CASE WHEN memberships.active THEN memberships.created_at ELSE now() END)"
	  " SELECT q.user_id, display_name(u.first_name, u.last_name, u.email) AS name"
	  " FROM q JOIN users u ON u.id = q.user_id" },
	{ NULL, NULL }
};

/* The e-mail address is kept with the link for the clinic's records; it
 * never finds, names or changes an account. */
static const struct field patient_fields[] = {
	PAGE_NAME_FIELDS("the patient's"),
	{ .name = "email", .label = "the patient's e-mail address", .type = FT_EMAIL, .max = 254 },
	{ .name = "send_mail", .label = "send by e-mail", .type = FT_BOOL },
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

/* POST /patients/new: answers with the handout of a new join link and
 * code for a patient (200), whatever the address typed: the page says
 * nothing about any account. With "send by e-mail" ticked, the link is
 * also mailed to the address typed (mail_join: a second link to the same
 * registration, which either link or the code uses up), which the handout
 * says. Or the form back with 422. */
int page_patient_new_post(struct req *r)
{
	struct form_data d = { 0 };
	const char *name, *email, *link;
	int status, mail;

	if (form_read(r, &patient_form, &d))
		return patient_page(r, 422);
	email = form_text(&d, "email");
	if ((mail = form_get(&d, "send_mail")->num != 0) && *email == '\0') {
		form_fail(r, &d, "email", "Enter the patient's e-mail address to send the link by e-mail.");
		return patient_page(r, 422);
	}
	name = arena_printf(r->arena, "%s %s", form_text(&d, "first_name"), form_text(&d, "last_name"));
	if ((status = page_join_handout(r, "patient", name, email, &link)))
		return status;
	if (mail && mail_join(r->db, r->user->clinic_id, link) < 0)
		return db_failure_status(r->db);
	tv_set_bool(r->arena, r->view, "mailed", mail);
	return http_render(r, "handout");
}

/* GET /patients/requests: the clinic's open requests to join. */
int page_patient_requests_get(struct req *r)
{
	int n, status;

	if (r->user->clinic_id == NULL)
		return 403;
	if ((status = row_list_view(r, "patients_requests", 1, &r->user->clinic_id, "requests", 0, &n)))
		return status;
	tv_set_bool(r->arena, r->view, "none", n == 0);
	tv_set_str(r->arena, r->view, "title", "Requests to join");
	return http_render(r, "patient_requests");
}

/* Accepts (`accept` "true") or declines ("false") the request of the path
 * for the clinic, once; audited. Someone else's or a decided request is a
 * 404. */
static int patient_decide(struct req *r, const char *accept)
{
	const char *p[4] = { r->params[0], r->user->clinic_id, r->user->id, accept };
	const char *who, *subject;
	PGresult *res;
	int status, yes = strcmp(accept, "true") == 0;

	if (r->user->clinic_id == NULL)
		return 403;
	if ((status = row_load(r, "patients_decide", 4, p, 0, &res)))
		return status;
	subject = row_text(r->arena, res, 0, "user_id");
	who = row_text(r->arena, res, 0, "name");
	PQclear(res);
	if ((status = audit(r, yes ? "join request accepted" : "join request declined",
			    r->user->clinic_id, subject, NULL)) ||
	    (status = sess_flash(r, "ok", arena_printf(r->arena, yes ?
			"%s is now a patient of your clinic." :
			"The request of %s is declined; they belong to no clinic through it.", who))))
		return status;
	return http_redirect(r, "/patients/requests");
}

/* POST /patients/requests/{id}/accept */
int page_patient_accept_post(struct req *r)
{
	return patient_decide(r, "true");
}

/* POST /patients/requests/{id}/decline */
int page_patient_decline_post(struct req *r)
{
	return patient_decide(r, "false");
}
