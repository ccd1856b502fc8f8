/* page_memberships.c - /account/clinics: the clinics one belongs to, which one to act for, leaving one. */
#include "page.h"

#include "audit.h"
#include "row.h"
#include "sess.h"

/* $1 is always the viewer: a person sees and changes only their own
 * memberships, and an id of a clinic they do not belong to is a 404. */
const struct db_stmt page_memberships_stmts[] = {
	{ "memberships_mine",
	  "SELECT c.id, c.name, m.role::text AS role, to_char(m.created_at, 'DD Mon YYYY') AS since,"
	  " c.id = $2::uuid IS TRUE AS current, m.role = 'patient' AS may_leave"
	  " FROM memberships m JOIN clinics c ON c.id = m.clinic_id"
	  " WHERE m.user_id = $1 AND m.active ORDER BY lower(c.name), c.id" },
	{ "memberships_requests",
	  "SELECT c.name, to_char(q.created_at, 'DD Mon YYYY') AS asked"
	  " FROM join_requests q JOIN clinics c ON c.id = q.clinic_id"
	  " WHERE q.user_id = $1 AND q.decided_at IS NULL ORDER BY q.created_at" },
	{ "memberships_act",
	  "UPDATE sessions SET clinic_id = $3 WHERE token_hash = sha256(decode($2, 'hex'))"
	  " AND user_id = $1 AND EXISTS (SELECT 1 FROM memberships m"
	  " WHERE m.user_id = $1 AND m.clinic_id = $3 AND m.active)"
	  " RETURNING (SELECT name FROM clinics WHERE id = $3)" },
	/* Only a patient leaves on their own; staff are removed by their
	 * clinic's admins. */
	{ "memberships_leave",
	  "UPDATE memberships m SET active = false, ended_at = now()"
	  " WHERE m.user_id = $1 AND m.clinic_id = $2 AND m.active AND m.role = 'patient'"
	  " RETURNING (SELECT name FROM clinics WHERE id = m.clinic_id)" },
	{ NULL, NULL }
};

/* GET /account/clinics: the viewer's clinics, the one they act for
 * marked, with a button to act for each other one and, where they are a
 * patient, to leave; and their requests to join that still wait. */
int page_memberships_get(struct req *r)
{
	const char *p[2] = { r->user->id, r->user->clinic_id };
	int n, pending, status;

	if ((status = row_list_view(r, "memberships_mine", 2, p, "clinics", 0, &n)) ||
	    (status = row_list_view(r, "memberships_requests", 1, p, "pending", 0, &pending)))
		return status;
	tv_set_bool(r->arena, r->view, "none", n == 0);
	tv_set_bool(r->arena, r->view, "has_pending", pending > 0);
	tv_set_str(r->arena, r->view, "title", "Your clinics");
	return http_render(r, "memberships");
}

/* Runs `stmt` ($1 the viewer, then `p1`, `p2` when not NULL) for the
 * clinic of the path and puts the clinic's name in *name. Returns 0, 404
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

/* POST /account/clinics/{id}/leave: a patient ends their membership of
 * that clinic (their account and messages stay). */
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
