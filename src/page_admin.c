/* page_admin.c - the /admin pages: a clinic's admins manage its users, invite staff and read the audit log. */
#include "page.h"

#include <string.h>

#include "audit.h"
#include "pager.h"
#include "row.h"
#include "sess.h"
#include "throttle.h"

#define ADMIN_USERS_MAX 200	/* rows the user list shows */
#define ADMIN_AUDIT_PAGE 100	/* audit entries per page */
#define ADMIN_AUDIT_PEOPLE 100	/* people the audit log's person filter offers */
#define SHARED_MESSAGE "This person also belongs to another clinic, so no single clinic " \
	"may reset their password or lock their account; they can change their password " \
	"themselves on their account page."

/* Whether user `u`'s name or e-mail address matches the ILIKE pattern `p`
 * (admin_like_pattern): the user search and the audit log's "who". */
#define ADMIN_PERSON_MATCHES(u, p) \
	"(" u ".email ILIKE " p " OR " u ".first_name ILIKE " p " OR " u ".last_name ILIKE " p \
	" OR (" u ".first_name || ' ' || " u ".last_name) ILIKE " p ")"

/* The audit log (GET /admin/audit): the entries $1's admins may read
 * (clinic_audit), newest first by (at, id), with the filters the admin set,
 * each NULL when not set: $2 the clinic's time zone, $3 the actor, $4 a
 * pattern for the actor's name or e-mail address, $5 the action, $6 and
 * $7 the first and last day (whole days in the zone). The entries of a
 * transaction share their time, and a transaction that began earlier may
 * write later, so the id alone is not the order. A download recorded
 * before entries named their file (detail: the bare id) says so. */
#define ADMIN_AUDIT_COLUMNS \
	" a.id, a.at, a.action," \
	" display_name(ac.first_name, ac.last_name, ac.email) AS actor," \
	" display_name(su.first_name, su.last_name, su.email) AS subject," \
	" CASE WHEN a.action = 'attachment downloaded' AND a.detail ~ '^[0-9a-f-]{36}$'" \
	" THEN 'file ' || a.detail || ' (its name was not recorded)' ELSE a.detail END AS detail," \
	" a.address"
#define ADMIN_AUDIT_FROM \
	" FROM clinic_audit($1) a LEFT JOIN users ac ON ac.id = a.actor_id" \
	" LEFT JOIN users su ON su.id = a.subject_id" \
	" WHERE ($3::uuid IS NULL OR a.actor_id = $3::uuid)" \
	" AND ($4::text IS NULL OR " ADMIN_PERSON_MATCHES("ac", "$4::text") ")" \
	" AND ($5::text IS NULL OR a.action = $5::text)" \
	" AND ($6::date IS NULL OR a.at >= ($6::date::timestamp AT TIME ZONE $2::text))" \
	" AND ($7::date IS NULL OR a.at < (($7::date + 1)::timestamp AT TIME ZONE $2::text))"
/* The page older (cmp "<", dir DESC) or newer (">", ASC) than entry $8,
 * which must be one the clinic may read (else cursor_ok is false); the
 * filters need not select it. */
#define ADMIN_AUDIT_PAGED(cmp, dir) \
	"SELECT c.id IS NOT NULL AS cursor_ok, l.* FROM (SELECT 1) one" \
	" LEFT JOIN clinic_audit($1) c ON c.id = $8::bigint" \
	" LEFT JOIN LATERAL (SELECT" ADMIN_AUDIT_COLUMNS ADMIN_AUDIT_FROM \
	" AND (a.at, a.id) " cmp " (c.at, c.id) ORDER BY a.at " dir ", a.id " dir " LIMIT 101)" \
	" l ON true ORDER BY l.at " dir ", l.id " dir

/* The entries, in pager order (first, older, newer). Each is planned for
 * its values (db_exec_once), as the filters set decide which index serves
 * (sql/0019_audit.sql): the clinic's log by time, a person's actions or
 * one action, each walked from the cursor and left after 101 rows. */
const struct db_stmt page_admin_audit_once[] = {
	{ "admin_audit_first",
	  "SELECT true AS cursor_ok," ADMIN_AUDIT_COLUMNS ADMIN_AUDIT_FROM
	  " ORDER BY a.at DESC, a.id DESC LIMIT 101" },
	{ "admin_audit_older", ADMIN_AUDIT_PAGED("<", "DESC") },
	{ "admin_audit_newer", ADMIN_AUDIT_PAGED(">", "ASC") },
	{ NULL, NULL }
};

/* Every statement takes the admin's clinic and only sees its members
 * (clinic_people): a user of another clinic is as good as absent (404,
 * never 403). "name" is the user's name, NULL (missing) until they set it. */
const struct db_stmt page_admin_stmts[] = {
	{ "admin_users",
	  "SELECT u.id, display_name(u.first_name, u.last_name, NULL) AS name, u.email,"
	  " (SELECT m.role::text FROM memberships m WHERE m.clinic_id = $1 AND m.user_id = u.id) AS role,"
	  " u.active, u.password_hash IS NULL AS pending"
	  " FROM clinic_people($1) u"
	  " WHERE " ADMIN_PERSON_MATCHES("u", "$2")
	  " ORDER BY lower(u.last_name), lower(u.first_name), lower(u.email) LIMIT 201" },
	/* $1 the user, $2 the clinic, $3 the admin. shared: the person also
	 * belongs to another clinic, whose data an admin of this one must not
	 * reach through a reset link or lock out. */
	{ "admin_user",
	  "SELECT u.id, display_name(u.first_name, u.last_name, NULL) AS name,"
	  " display_name(u.first_name, u.last_name, u.email) AS title, u.email,"
	  " (SELECT m.role::text FROM memberships m WHERE m.clinic_id = $2 AND m.user_id = u.id) AS role,"
	  " u.active, u.password_hash IS NULL AS pending,"
	  " u.created_at AS created,"
	  " member_elsewhere($2, u.id) AS shared, u.id = $3 AS self,"
	  " coalesce(login_paused_until(u.email) > now(), false) AS paused,"
	  " EXISTS (SELECT 1 FROM two_step t WHERE t.user_id = u.id) AS two_step"
	  " FROM clinic_people($2) u WHERE u.id = $1" },
	/* The second factor, its recovery codes and the sessions, at once; the
	 * person enrols again at the next sign-in (page_two_step.c). */
	{ "admin_two_step_reset",
	  "WITH t AS (DELETE FROM two_step WHERE user_id = $1"
	  " AND $1 IN (SELECT id FROM clinic_people($2)) AND NOT member_elsewhere($2, $1)"
	  " RETURNING user_id),"
	  " c AS (DELETE FROM recovery_codes WHERE user_id IN (SELECT user_id FROM t)),"
	  " s AS (DELETE FROM sessions WHERE user_id IN (SELECT user_id FROM t))"
	  " SELECT user_id FROM t" },
	/* Deactivation also ends every session, so it takes effect at once. */
	{ "admin_deactivate",
	  "WITH u AS (UPDATE users u SET active = false WHERE u.id = $1 AND u.id <> $3"
	  " AND u.id IN (SELECT id FROM clinic_people($2)) AND NOT member_elsewhere($2, u.id)"
	  " RETURNING u.id),"
	  " s AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u))"
	  " SELECT id FROM u" },
	{ "admin_activate",
	  "UPDATE users u SET active = true WHERE u.id = $1 AND u.id <> $3"
	  " AND u.id IN (SELECT id FROM clinic_people($2)) AND NOT member_elsewhere($2, u.id)"
	  " RETURNING u.id" },
	/* Ends the membership (never the admin's own); the person keeps their
	 * account and their messages stay with their recipients. */
	{ "admin_remove",
	  "UPDATE memberships SET active = false, ended_at = now()"
	  " WHERE clinic_id = $2 AND user_id = $1 AND user_id <> $3 AND active"
	  " RETURNING user_id" },
	/* Whom the audit log's person filter offers: the clinic's people,
	 * staff first, then by name, the first ADMIN_AUDIT_PEOPLE and $2
	 * (the one chosen, if a person of the clinic) wherever they come;
	 * "more": the clinic has more people than that. */
	{ "admin_audit_people",
	  "WITH p AS (SELECT u.id, display_name(u.first_name, u.last_name, u.email) AS name,"
	  " m.role::text AS role, count(*) OVER () AS total, row_number() OVER (ORDER BY"
	  " m.role = 'patient', lower(u.last_name), lower(u.first_name), lower(u.email), u.id) AS n"
	  " FROM clinic_people($1) u JOIN memberships m ON m.clinic_id = $1 AND m.user_id = u.id)"
	  " SELECT id, name, role, total > " DB_NUM(ADMIN_AUDIT_PEOPLE) " AS more FROM p"
	  " WHERE n <= " DB_NUM(ADMIN_AUDIT_PEOPLE) " OR id = $2::uuid"
	  " ORDER BY n" },
	/* The actions in the clinic's log, by name: one probe each along
	 * the (clinic_id, action, ...) index, never a walk of the log. */
	{ "admin_audit_actions",
	  "WITH RECURSIVE t(action) AS ("
	  "(SELECT a.action FROM clinic_audit($1) a ORDER BY a.action LIMIT 1)"
	  " UNION ALL SELECT (SELECT a.action FROM clinic_audit($1) a WHERE a.action > t.action"
	  " ORDER BY a.action LIMIT 1) FROM t WHERE t.action IS NOT NULL)"
	  " SELECT action AS id FROM t WHERE action IS NOT NULL" },
	{ NULL, NULL }
};

static const struct field_choice admin_roles[] = {
	{ "doctor", "Doctor" },
	{ "admin", "Admin" },
	{ NULL, NULL }
};

/* As for patients (page_patients.c), the e-mail address is for the
 * records only: no account is looked up. */
static const struct field admin_invite_fields[] = {
	PAGE_NAME_FIELDS("their"),
	{ .name = "email", .label = "their e-mail address", .type = FT_EMAIL, .max = 254 },
	{ .name = "role", .label = "doctor or admin", .type = FT_CHOICE,
	  .flags = FIELD_REQUIRED, .choices = admin_roles },
	{ 0 }
};
static const struct form admin_invite_form = { admin_invite_fields };

/* "%text%" for ILIKE, with the LIKE wildcards and the escape character in
 * `text` escaped so they match themselves. Allocated in the arena. */
static const char *admin_like_pattern(struct arena *a, const char *text)
{
	char *out = arena_alloc(a, 2 * strlen(text) + 3), *o = out;

	*o++ = '%';
	for (; *text; text++) {
		if (*text == '%' || *text == '_' || *text == '\\')
			*o++ = '\\';
		*o++ = *text;
	}
	*o++ = '%';
	*o = '\0';
	return out;
}

/* GET /admin/users[?q=]: the clinic's users matching q (all without q),
 * by last name, at most ADMIN_USERS_MAX: "users" [{id, name, email, role,
 * active, pending}], "none", "more", "max", "q". */
int page_admin_users_get(struct req *r)
{
	const char *q = http_query(r, "q");
	const char *p[2] = { r->user->clinic_id, admin_like_pattern(r->arena, q ? q : "") };
	PGresult *res = db_exec(r->db, "admin_users", 2, p);
	int n;

	if (res == NULL)
		return db_failure_status(r->db);
	n = PQntuples(res);
	tv_set(r->arena, r->view, "users",
	       row_list(r->arena, res, 0, n < ADMIN_USERS_MAX ? n : ADMIN_USERS_MAX, 0));
	PQclear(res);
	tv_set_bool(r->arena, r->view, "none", n == 0);
	tv_set_bool(r->arena, r->view, "more", n > ADMIN_USERS_MAX);
	tv_set_num(r->arena, r->view, "max", ADMIN_USERS_MAX);
	tv_set_str(r->arena, r->view, "q", q ? q : "");
	tv_set_str(r->arena, r->view, "title", "Users");
	return http_render(r, "admin_users");
}

/* Loads user `id` if they are a member of the admin's clinic: the row of
 * statement admin_user (id, name, title, email, role, active, pending,
 * created, shared, self, paused, two_step) into *res, which the caller PQclear()s. Returns
 * 0, 404 if there is no such member, or the status of a database failure. */
static int admin_user_load(struct req *r, const char *id, PGresult **res)
{
	const char *p[3] = { id, r->user->clinic_id, r->user->id };

	return row_load(r, "admin_user", 3, p, 0, res);
}

/* GET /admin/users/{id}: the user as "subject" and the actions the admin
 * may take. */
int page_admin_user_get(struct req *r)
{
	PGresult *res;
	int status = admin_user_load(r, r->params[0], &res);

	if (status)
		return status;
	tv_set(r->arena, r->view, "subject", row_view(r->arena, res, 0, 0));
	tv_set_str(r->arena, r->view, "title", row_text(r->arena, res, 0, "title"));
	PQclear(res);
	return http_render(r, "admin_user");
}

/* The page of user `id`, where the user actions send the admin back. */
static const char *admin_user_path(struct req *r, const char *id)
{
	return arena_printf(r->arena, "/admin/users/%s", id);
}

/* Leaves a flash of `kind` and sends the admin back to user `id`. */
static int admin_back(struct req *r, const char *id, const char *kind, const char *text)
{
	int status = sess_flash(r, kind, text);

	return status ? status : http_redirect(r, admin_user_path(r, id));
}

/* Makes the link of `kind` ("reset", or "invite" for someone who never
 * finished the invitation) for user `id` (e-mail `email`), audits it and
 * shows it in a flash. Returns 0 or an error status. */
static int admin_link(struct req *r, const char *id, const char *email, const char *kind)
{
	int invite = strcmp(kind, "invite") == 0, status;
	const char *link = page_link_create(r, kind, id, r->user->clinic_id);

	if (link == NULL)
		return db_failure_status(r->db);
	if ((status = audit(r, "reset link created", r->user->clinic_id, id,
			    invite ? "new invitation link" : NULL)))
		return status;
	return page_link_flash(r, arena_printf(r->arena, "%s link for %s",
			       invite ? "Invitation" : "Password-reset", email), link);
}

/* POST /admin/users/{id}/reset: creates a link for a user of the clinic:
 * a password-reset link, or for someone who never finished the invitation
 * a new invitation link (which also asks for their name). */
int page_admin_reset_post(struct req *r)
{
	const char *id = r->params[0], *email;
	PGresult *res;
	int shared, active, pending, status = admin_user_load(r, id, &res);

	if (status)
		return status;
	shared = row_bool(res, 0, "shared");
	active = row_bool(res, 0, "active");
	pending = row_bool(res, 0, "pending");
	email = row_text(r->arena, res, 0, "email");
	PQclear(res);
	if (shared)
		return admin_back(r, id, "error", SHARED_MESSAGE);
	if (!active)
		return admin_back(r, id, "error", "This account is deactivated: reactivate it "
				  "first, then create the link.");
	if ((status = admin_link(r, id, email, pending ? "invite" : "reset")))
		return status;
	return http_redirect(r, admin_user_path(r, id));
}

/* Refuses (with a flash) what an admin may not do to user `id`: to act on
 * someone who also belongs to another clinic. Returns 0 to go on, or the
 * status of the answer already made (404 for a stranger). */
static int admin_may_change(struct req *r, const char *id)
{
	PGresult *res;
	int shared, status = admin_user_load(r, id, &res);

	if (status)
		return status;
	shared = row_bool(res, 0, "shared");
	PQclear(res);
	return shared ? admin_back(r, id, "error", SHARED_MESSAGE) : 0;
}

/* Runs `stmt` (admin_deactivate or admin_activate: $1 the user, $2 the
 * clinic, $3 the admin) on the user of the path with its audit entry
 * `action`, in the page's transaction, then sends the admin back with
 * `done`. Someone outside the clinic answers 404; someone shared with
 * another clinic gets a refusal (admin_may_change). */
static int admin_set_active(struct req *r, const char *stmt, const char *action,
			    const char *done)
{
	const char *id = r->params[0];
	const char *p[3] = { id, r->user->clinic_id, r->user->id };
	PGresult *res;
	int found, status;

	if ((status = admin_may_change(r, id)))
		return status;
	res = db_exec(r->db, stmt, 3, p);
	if (res == NULL)
		return db_failure_status(r->db);
	found = PQntuples(res) == 1;
	PQclear(res);
	if (!found)
		return 404;
	if ((status = audit(r, action, r->user->clinic_id, id, NULL)))
		return status;
	return admin_back(r, id, "ok", done);
}

/* Loads user `id` of the admin's clinic for the confirmation page of an
 * action on them: 0 with their display name in *title and whether they
 * are the admin themself, shared with another clinic, and active in the
 * flags; 404 for someone outside the clinic; or a
 * database failure status. */
static int admin_confirm_load(struct req *r, const char *id, const char **title, int *self,
			      int *shared, int *active)
{
	PGresult *res;
	int status = admin_user_load(r, id, &res);

	if (status)
		return status;
	*title = row_text(r->arena, res, 0, "title");
	*self = row_bool(res, 0, "self");
	*shared = row_bool(res, 0, "shared");
	*active = row_bool(res, 0, "active");
	PQclear(res);
	return 0;
}

/* GET /admin/users/{id}/deactivate: asks before deactivating the user.
 * Whom the admin may not deactivate (themself, someone shared with another
 * clinic, someone deactivated already) goes back to the user's page,
 * which says why. */
int page_admin_deactivate_get(struct req *r)
{
	const char *id = r->params[0], *title;
	int self, shared, active, status = admin_confirm_load(r, id, &title, &self, &shared, &active);

	if (status)
		return status;
	if (self || shared || !active)
		return http_redirect(r, admin_user_path(r, id));
	return page_confirm(r, arena_printf(r->arena, "Deactivate %s?", title),
			    "They are logged out everywhere at once and cannot log in until an "
			    "admin reactivates the account. Nothing is deleted.",
			    arena_printf(r->arena, "%s/deactivate", admin_user_path(r, id)),
			    "Yes, deactivate", admin_user_path(r, id));
}

/* POST /admin/users/{id}/deactivate (from its confirmation page): locks
 * the account and ends its sessions; never the admin's own. */
int page_admin_deactivate_post(struct req *r)
{
	if (strcmp(r->params[0], r->user->id) == 0)
		return admin_back(r, r->params[0], "error", "You cannot deactivate your own "
				  "account; ask another admin of your clinic.");
	return admin_set_active(r, "admin_deactivate", "user deactivated",
				"The account is deactivated and logged out everywhere.");
}

/* POST /admin/users/{id}/activate: lets a deactivated user in again. */
int page_admin_activate_post(struct req *r)
{
	return admin_set_active(r, "admin_activate", "user reactivated",
				"The account is active again.");
}

/* GET /admin/users/{id}/remove: asks before removing the person from the
 * clinic; the admin's own page sends them back to it. */
int page_admin_remove_get(struct req *r)
{
	const char *id = r->params[0], *title;
	int self, shared, active, status = admin_confirm_load(r, id, &title, &self, &shared, &active);

	if (status)
		return status;
	if (self)
		return http_redirect(r, admin_user_path(r, id));
	return page_confirm(r, arena_printf(r->arena, "Remove %s from %s?", title,
					    r->user->clinic_name),
			    "Their membership of your clinic ends: they and your clinic's staff "
			    "can no longer write to each other. They keep their account, their "
			    "other clinics and their messages.",
			    arena_printf(r->arena, "%s/remove", admin_user_path(r, id)),
			    "Yes, remove", admin_user_path(r, id));
}

/* POST /admin/users/{id}/remove (from its confirmation page): ends the
 * person's membership of the clinic, whatever other clinics they belong
 * to; never the admin's own. */
int page_admin_remove_post(struct req *r)
{
	const char *id = r->params[0];
	const char *p[3] = { id, r->user->clinic_id, r->user->id };
	PGresult *res;
	int status;

	if (strcmp(id, r->user->id) == 0)
		return admin_back(r, id, "error", "You cannot remove yourself from the clinic; "
				  "ask another admin of your clinic.");
	if ((status = row_load(r, "admin_remove", 3, p, 0, &res)))
		return status;
	PQclear(res);
	if ((status = audit(r, "removed from the clinic", r->user->clinic_id, id, NULL)) ||
	    (status = sess_flash(r, "ok", "The person no longer belongs to your clinic. Their "
				 "account and messages stay; their other clinics are not affected.")))
		return status;
	return http_redirect(r, "/admin/users");
}

/* POST /admin/users/{id}/unpause: lifts the pause that wrong passwords put
 * on logging in to a member's account (throttle.h), for any member: the
 * admin learns that there is a pause, never when or from where the
 * attempts came (the person sees that on their activity page). */
int page_admin_unpause_post(struct req *r)
{
	const char *id = r->params[0], *email;
	PGresult *res;
	int status, paused;

	if ((status = admin_user_load(r, id, &res)))
		return status;
	email = row_text(r->arena, res, 0, "email");
	paused = row_bool(res, 0, "paused");
	PQclear(res);
	if (!paused)
		return admin_back(r, id, "ok", "Logging in to this account is not paused.");
	if ((status = throttle_password_clear(r, email)) ||
	    (status = audit(r, "login pause lifted", r->user->clinic_id, id, NULL)))
		return status;
	return admin_back(r, id, "ok", "The pause is lifted: the person can log in again now.");
}

/* POST /admin/users/{id}/two-step-reset: a member who lost their phone
 * (and their recovery codes) enrols again at the next sign-in; their
 * sessions end. Not for someone another clinic shares (as a password
 * reset). Audited for the clinic and on the person's own record. */
int page_admin_two_step_reset_post(struct req *r)
{
	const char *id = r->params[0];
	const char *p[2] = { id, r->user->clinic_id };
	PGresult *res;
	int status, found;

	if ((status = admin_may_change(r, id)))
		return status;
	if ((res = db_exec(r->db, "admin_two_step_reset", 2, p)) == NULL)
		return db_failure_status(r->db);
	found = PQntuples(res) == 1;
	PQclear(res);
	if (!found)
		return admin_back(r, id, "ok", "This person has no two-step sign-in to reset.");
	if ((status = audit(r, "two-step sign-in reset", r->user->clinic_id, id, NULL)) ||
	    (status = audit(r, "two-step sign-in reset by the clinic", NULL, id, r->user->clinic_name)))
		return status;
	return admin_back(r, id, "ok", "Two-step sign-in is reset and the person is logged out "
			  "everywhere: they set it up again at their next sign-in.");
}

/* Renders the staff invitation form, as form_read() left it in the view,
 * with `status`. */
static int admin_invite_page(struct req *r, int status)
{
	tv_set_str(r->arena, r->view, "title", "Invite a doctor or admin");
	return http_render_status(r, "admin_invite", status);
}

/* GET /admin/invite: the blank form. */
int page_admin_invite_get(struct req *r)
{
	form_blank(r, &admin_invite_form);
	return admin_invite_page(r, 200);
}

/* POST /admin/invite: answers with the handout of a join link and code
 * that makes whoever uses it a doctor or admin of the clinic, whatever the
 * address typed; or sends the form back with 422. */
int page_admin_invite_post(struct req *r)
{
	struct form_data d = { 0 };
	int status;

	if (form_read(r, &admin_invite_form, &d))
		return admin_invite_page(r, 422);
	status = page_join_handout(r, form_text(&d, "role"), arena_printf(r->arena, "%s %s",
				   form_text(&d, "first_name"), form_text(&d, "last_name")),
				   form_text(&d, "email"), NULL);
	return status ? status : http_render(r, "handout");
}

/* The audit log's filters, a GET form: the actor (one of the list, or a
 * name or e-mail address they contain), the action (one of the clinic's
 * log) and the first and last day, in the clinic's time zone. */
static const struct field admin_audit_fields[] = {
	{ .name = "person", .label = "a person", .type = FT_UUID },
	{ .name = "who", .label = "the name or e-mail address", .type = FT_TEXT, .max = 200 },
	{ .name = "action", .label = "an action", .type = FT_TEXT, .max = 100 },
	{ .name = "from", .label = "the first day", .type = FT_DATE },
	{ .name = "to", .label = "the last day", .type = FT_DATE },
	{ 0 }
};
static const struct form admin_audit_form = { admin_audit_fields };

/* Puts what the filter form offers into the view: "people" [{id, name,
 * role, selected}] and "more_people" (admin_audit_people), "actions"
 * [{id, selected}] (the clinic's actions, each its own label); marks a
 * person or an action that is not among them wrong (form_fail). Returns 0
 * or the status of a database failure. */
static int admin_audit_choices(struct req *r, struct form_data *d)
{
	const char *person = form_get(d, "person")->sql, *action = form_get(d, "action")->sql;
	const char *p[2] = { r->user->clinic_id, person };
	struct tv *people;
	int status;

	if ((status = row_list_view(r, "admin_audit_people", 2, p, "people", 0, NULL)) ||
	    (status = row_list_view(r, "admin_audit_actions", 1, p, "actions", 0, NULL)))
		return status;
	people = tv_get(r->view, "people");
	tv_set_bool(r->arena, r->view, "more_people", people->u.list.n > 0 &&
		    tv_get(people->u.list.items[0], "more")->u.b);
	tv_set_num(r->arena, r->view, "max_people", ADMIN_AUDIT_PEOPLE);
	if (!form_get(d, "person")->error && !row_list_select(r, "people", person))
		form_fail(r, d, "person", "Choose a person from the list, or type their name.");
	if (!form_get(d, "action")->error && !row_list_select(r, "actions", action))
		form_fail(r, d, "action", "Choose an action from the list.");
	return 0;
}

/* The log's address with the filters set (the non-empty fields of `d`, as
 * typed), which its paging links keep: "/admin/audit?action=login&to=...".
 * In the arena. */
static const char *admin_audit_base(struct req *r, const struct form_data *d)
{
	struct buf b = BUF_INIT;
	const char *out;
	char sep = '?';

	buf_puts(&b, "/admin/audit");
	for (size_t i = 0; d->form->fields[i].name; i++) {
		const char *text = d->v[i].text;

		if (*text == '\0')
			continue;
		buf_putc(&b, sep);
		buf_puts(&b, d->form->fields[i].name);
		buf_putc(&b, '=');
		buf_put_urlarg(&b, text, strlen(text));
		sep = '&';
	}
	out = arena_strdup(r->arena, b.data);
	buf_free(&b);
	return out;
}

/* Runs the page of entries that `pg` names with the filters of `d` and
 * puts it into the view (pager_view: "entries", the paging links).
 * Returns 0, 400 for a cursor that is not the clinic's, or an error
 * status. */
static int admin_audit_entries(struct req *r, const struct pager *pg,
			       const struct form_data *d)
{
	const char *who = form_text(d, "who");
	const char *p[8] = {
		r->user->clinic_id, r->user->zone, form_get(d, "person")->sql,
		*who ? admin_like_pattern(r->arena, who) : NULL, form_get(d, "action")->sql,
		form_get(d, "from")->sql, form_get(d, "to")->sql, pg->cursor
	};
	const struct db_stmt *st = &page_admin_audit_once[pg->page];
	PGresult *res = db_exec_once(r->db, st->name, st->sql, pg->cursor ? 8 : 7, p);
	int status;

	if (res == NULL)
		return db_failure_status(r->db);
	status = pager_view(r, pg, res, 0, "entries");
	PQclear(res);
	return status;
}

/* GET /admin/audit[?person=&who=&action=&from=&to=][&before=|&after=<entry
 * id>]: the entries the clinic's admins may read (clinic_audit) that pass
 * the filters, newest first, ADMIN_AUDIT_PAGE a page, with the filter form
 * (a malformed filter: the form with its errors, no entries, 422) and
 * Newer / Older / Newest links that keep the filters. A malformed or
 * foreign cursor answers 400. */
int page_admin_audit_get(struct req *r)
{
	struct form_data d = { 0 };
	struct pager pg;
	const struct form_value *from, *to;
	const char *base;
	int status;

	tv_set_str(r->arena, r->view, "title", "Audit log");
	form_read(r, &admin_audit_form, &d);
	if ((status = admin_audit_choices(r, &d)))
		return status;
	from = form_get(&d, "from");
	to = form_get(&d, "to");
	if (from->sql && to->sql && !from->error && !to->error && strcmp(to->sql, from->sql) < 0)
		form_fail(r, &d, "to", "The last day cannot be before the first day.");
	base = admin_audit_base(r, &d);
	tv_set_bool(r->arena, r->view, "filtered", strchr(base, '?') != NULL);
	if (d.errors)
		return http_render_status(r, "admin_audit", 422);
	if ((status = pager_read(r, &pg, base, ADMIN_AUDIT_PAGE, KEY_BIGINT)) ||
	    (status = admin_audit_entries(r, &pg, &d)))
		return status;
	tv_set_bool(r->arena, r->view, "shown", 1);
	return http_render(r, "admin_audit");
}
