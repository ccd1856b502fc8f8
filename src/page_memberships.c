/* page_memberships.c - /account/clinics: the clinics one belongs to, which one to act for, leaving one. */
#include "page.h"

#include <stdlib.h>

#include "audit.h"
#include "row.h"
#include "sess.h"

/* Every statement is bound to the viewer (the session's user): a person
 * sees and changes only their own memberships, and an id of a clinic they
 * do not belong to is a 404. */
const struct db_stmt page_memberships_stmts[] = {
	{ "memberships_mine",
	  "SELECT c.id, c.name, m.role::text AS role, m.created_at AS since,"
	  " c.id = $2::uuid IS TRUE AS current, m.role = 'patient' AS may_leave"
	  " FROM memberships m JOIN clinics c ON c.id = m.clinic_id"
	  " WHERE m.user_id = $1 AND m.active ORDER BY lower(c.name), c.id" },
	{ "memberships_requests",
	  "SELECT c.name, q.created_at AS asked"
	  " FROM join_requests q JOIN clinics c ON c.id = q.clinic_id"
	  " WHERE q.user_id = $1 AND q.decided_at IS NULL ORDER BY q.created_at" },
	/* A request to join clinic $1 for account $2 born on $3 (also the
	 * self recipient's date of birth if it has none): no row when the
	 * clinic is unknown or they belong to it already; made 0 when a
	 * request of theirs waits already (the partial unique index decides
	 * between two at once). */
	{ "memberships_request",
	  "WITH c AS (SELECT id, name FROM clinics WHERE id = $1 AND NOT EXISTS"
	  " (SELECT 1 FROM memberships m WHERE m.clinic_id = $1 AND m.user_id = $2 AND m.active)),"
	  " s AS (UPDATE care_recipients SET date_of_birth = $3::date"
	  " WHERE owner_id = $2 AND kind = 'self' AND date_of_birth IS NULL),"
	  " q AS (INSERT INTO join_requests (clinic_id, user_id, date_of_birth)"
	  " SELECT id, $2, $3::date FROM c"
	  " ON CONFLICT (clinic_id, user_id) WHERE decided_at IS NULL DO NOTHING RETURNING id)"
	  " SELECT c.name, (SELECT count(*) FROM q) AS made FROM c" },
	{ "memberships_joinable",
	  "SELECT c.id, c.name FROM clinics c WHERE NOT EXISTS (SELECT 1 FROM memberships m"
	  " WHERE m.clinic_id = c.id AND m.user_id = $1 AND m.active) ORDER BY lower(c.name), c.id LIMIT 500" },
	{ "memberships_act",
	  "UPDATE sessions SET clinic_id = $3 WHERE token_hash = sha256(decode($2, 'hex'))"
	  " AND user_id = $1 AND EXISTS (SELECT 1 FROM memberships m"
	  " WHERE m.user_id = $1 AND m.clinic_id = $3 AND m.active)"
	  " RETURNING (SELECT name FROM clinics WHERE id = $3)" },
	/* Only a patient leaves on their own; staff are removed by their
	 * clinic's admins. The first, the confirmation page's, changes nothing. */
	{ "memberships_leavable",
	  "SELECT c.name FROM memberships m JOIN clinics c ON c.id = m.clinic_id"
	  " WHERE m.user_id = $1 AND m.clinic_id = $2 AND m.active AND m.role = 'patient'" },
	{ "memberships_leave",
	  "UPDATE memberships m SET active = false, ended_at = now()"
	  " WHERE m.user_id = $1 AND m.clinic_id = $2 AND m.active AND m.role = 'patient'"
	  " RETURNING (SELECT name FROM clinics WHERE id = m.clinic_id)" },
	{ NULL, NULL }
};

static const struct field request_fields[] = {
	{ .name = "clinic", .label = "the clinic", .type = FT_UUID, .flags = FIELD_REQUIRED },
	{ .name = "date_of_birth", .label = "your date of birth", .type = FT_DATE,
	  .flags = FIELD_REQUIRED | FIELD_PAST },
	{ 0 }
};
static const struct form request_form = { request_fields };

int page_join_request(struct req *r, struct form_data *d, const char *user_id,
		      const char **name)
{
	const char *p[3] = { form_text(d, "clinic"), user_id, form_text(d, "date_of_birth") };
	PGresult *res = db_exec(r->db, "memberships_request", 3, p);
	int made;

	if (res == NULL)
		return db_failure_status(r->db);
	*name = PQntuples(res) ? row_text(r->arena, res, 0, "name") : NULL;
	made = *name && atol(PQgetvalue(res, 0, 1)) > 0;
	PQclear(res);
	if (*name == NULL)
		form_fail(r, d, "clinic", "Choose a clinic on carebox that you do not belong to yet.");
	else if (!made)
		form_fail(r, d, "clinic", "You have asked this clinic already; its staff will answer.");
	else
		return audit(r, "join requested", p[0], user_id, NULL);
	return 422;
}

/* GET /account/clinics: the viewer's clinics, the one they act for
 * marked, with a button to act for each other one and, where they are a
 * patient, to leave; and their requests to join that still wait. */
static int memberships_page(struct req *r, int status)
{
	const char *p[2] = { r->user->id, r->user->clinic_id };
	int n, pending, joinable, err;

	if ((err = row_list_view(r, "memberships_mine", 2, p, "clinics", 0, &n)) ||
	    (err = row_list_view(r, "memberships_requests", 1, p, "pending", 0, &pending)) ||
	    (err = row_list_view(r, "memberships_joinable", 1, p, "joinable", 0, &joinable)))
		return err;
	tv_set_bool(r->arena, r->view, "none", n == 0);
	tv_set_bool(r->arena, r->view, "has_pending", pending > 0);
	tv_set_bool(r->arena, r->view, "has_joinable", joinable > 0);
	{
		struct tv *chosen = tv_get(r->view, "clinic");

		row_list_select(r, "joinable", chosen && chosen->kind == TV_STR ? chosen->u.str.s : NULL);
	}
	tv_set_str(r->arena, r->view, "title", "Your clinics");
	return http_render_status(r, "memberships", status);
}

int page_memberships_get(struct req *r)
{
	return memberships_page(r, 200);
}

/* POST /account/clinics/request: asks a clinic one does not belong to to
 * take one on as a patient; or the page back with the form's error, 422. */
int page_memberships_request_post(struct req *r)
{
	struct form_data d = { 0 };
	const char *name;
	int status;

	if (form_read(r, &request_form, &d))
		return memberships_page(r, 422);
	if ((status = page_join_request(r, &d, r->user->id, &name)))
		return status == 422 ? memberships_page(r, 422) : status;
	if ((status = sess_flash(r, "ok", arena_printf(r->arena, "Your request to join %s now "
				 "waits for its staff.", name))))
		return status;
	return http_redirect(r, "/account/clinics");
}

/* Runs `stmt` ($1 the viewer, then `p1`, `p2` when not NULL) for the
 * clinic of the path and puts the clinic's name (its first column) in *name. Returns 0, 404
 * when the viewer has no such membership, or a database failure status. */
static int memberships_change(struct req *r, const char *stmt, const char *p1,
			      const char *p2, const char **name)
{
	const char *p[3] = { r->user->id, p1, p2 };
	PGresult *res;
	int status = row_load(r, stmt, p2 ? 3 : 2, p, 0, &res);

	if (status)
		return status;
	*name = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* POST /account/clinics/{id}/act: the session acts for that clinic from
 * now on (the switcher). */
int page_memberships_act_post(struct req *r)
{
	const char *name;
	int status = memberships_change(r, "memberships_act", r->session_token,
					r->params[0], &name);

	if (status || (status = sess_flash(r, "ok", arena_printf(r->arena,
			"You now act for %s.", name))))
		return status;
	return http_redirect(r, "/inbox");
}

/* GET /account/clinics/{id}/leave: asks a patient before they leave that
 * clinic; 404 for a clinic they are no patient of. */
int page_memberships_leave_get(struct req *r)
{
	const char *name;
	int status = memberships_change(r, "memberships_leavable", r->params[0], NULL, &name);

	if (status)
		return status;
	return page_confirm(r, arena_printf(r->arena, "Leave %s?", name),
			    "Its staff can no longer write to you, nor you to them. Your "
			    "account and your messages stay; to come back you ask to join again.",
			    arena_printf(r->arena, "/account/clinics/%s/leave", r->params[0]),
			    "Yes, leave", "/account/clinics");
}

/* POST /account/clinics/{id}/leave (from its confirmation page): a patient
 * ends their membership of that clinic (their account and messages stay). */
int page_memberships_leave_post(struct req *r)
{
	const char *name;
	int status = memberships_change(r, "memberships_leave", r->params[0], NULL, &name);

	if (status || (status = audit(r, "left the clinic", r->params[0], r->user->id, NULL)) ||
	    (status = sess_flash(r, "ok", arena_printf(r->arena,
			"You have left %s. Its staff can no longer write to you.", name))))
		return status;
	return http_redirect(r, "/account/clinics");
}
