/* page_admin.c - the /admin pages: a clinic's admins manage its users, invite staff and read the audit log. */
#include "page.h"

#include <string.h>

#include "audit.h"
#include "auth.h"
#include "sess.h"

#define ADMIN_USERS_MAX 200	/* rows the user list shows */
#define ADMIN_AUDIT_PAGE 100	/* audit entries per page */
#define SHARED_MESSAGE "This person also belongs to another clinic, so no single clinic " \
	"may reset their password or lock their account; they can change their password " \
	"themselves on their account page."

/* Every statement takes the admin's clinic and only sees its members: a
 * user of another clinic is as good as absent (404, never 403). */
const struct db_stmt page_admin_stmts[] = {
	{ "admin_users",
	  "SELECT u.id, u.first_name, u.last_name, u.email, u.role::text, u.active,"
	  " u.password_hash IS NULL"
	  " FROM users u JOIN memberships m ON m.user_id = u.id AND m.clinic_id = $1"
	  " WHERE u.email ILIKE $2 OR u.first_name ILIKE $2 OR u.last_name ILIKE $2"
	  " OR (u.first_name || ' ' || u.last_name) ILIKE $2"
	  " ORDER BY lower(u.last_name), lower(u.first_name), lower(u.email) LIMIT 201" },
	/* shared: the person also belongs to another clinic, whose data an
	 * admin of this one must not reach through a reset link or lock out. */
	{ "admin_user",
	  "SELECT u.id, u.first_name, u.last_name, u.email, u.role::text, u.active,"
	  " u.password_hash IS NULL, to_char(u.created_at, 'YYYY-MM-DD'),"
	  " EXISTS (SELECT 1 FROM memberships o WHERE o.user_id = u.id AND o.clinic_id <> $2)"
	  " FROM users u WHERE u.id = $1"
	  " AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.clinic_id = $2)" },
	/* Deactivation also ends every session, so it takes effect at once. */
	{ "admin_deactivate",
	  "WITH u AS (UPDATE users u SET active = false WHERE u.id = $1 AND u.id <> $3"
	  " AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.clinic_id = $2)"
	  " AND NOT EXISTS (SELECT 1 FROM memberships o WHERE o.user_id = u.id AND o.clinic_id <> $2)"
	  " RETURNING u.id),"
	  " s AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u))"
	  " SELECT id FROM u" },
	{ "admin_activate",
	  "UPDATE users u SET active = true WHERE u.id = $1 AND u.id <> $3"
	  " AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.clinic_id = $2)"
	  " AND NOT EXISTS (SELECT 1 FROM memberships o WHERE o.user_id = u.id AND o.clinic_id <> $2)"
	  " RETURNING u.id" },
	/* Entries about the clinic, and clinic-less ones (logins, account
	 * changes) by or about its members; entries another clinic recorded
	 * about a shared patient stay with that clinic. */
	{ "admin_audit",
	  "SELECT a.id, to_char(a.at, 'YYYY-MM-DD HH24:MI:SS TZ'), a.action,"
	  " coalesce(display_name(ac.first_name, ac.last_name, ac.email), ''),"
	  " coalesce(display_name(su.first_name, su.last_name, su.email), ''),"
	  " a.detail, a.address"
	  " FROM audit_log a LEFT JOIN users ac ON ac.id = a.actor_id"
	  " LEFT JOIN users su ON su.id = a.subject_id"
	  " WHERE (a.clinic_id = $1 OR (a.clinic_id IS NULL AND"
	  " (a.actor_id IN (SELECT user_id FROM memberships WHERE clinic_id = $1)"
	  " OR a.subject_id IN (SELECT user_id FROM memberships WHERE clinic_id = $1))))"
	  " AND ($2::bigint IS NULL OR a.id < $2::bigint)"
	  " ORDER BY a.id DESC LIMIT 101" },
	{ NULL, NULL }
};

static const char *const invite_fields[] = { "email", "role", NULL };

/* A user of the admin's clinic as the pages show it; arena strings. */
struct admin_user {
	const char *id, *first_name, *last_name, *email, *role, *created;
	int active, pending;	/* pending: invited, no password yet */
	int shared;		/* also in another clinic (admin_user_load only) */
};

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

/* Reads row `i` of a result whose first seven columns are id, first name,
 * last name, e-mail, role, active, pending into `u` (copies in the arena). */
static void admin_user_row(struct req *r, PGresult *res, int i, struct admin_user *u)
{
	u->id = arena_strdup(r->arena, PQgetvalue(res, i, 0));
	u->first_name = arena_strdup(r->arena, PQgetvalue(res, i, 1));
	u->last_name = arena_strdup(r->arena, PQgetvalue(res, i, 2));
	u->email = arena_strdup(r->arena, PQgetvalue(res, i, 3));
	u->role = arena_strdup(r->arena, PQgetvalue(res, i, 4));
	u->active = strcmp(PQgetvalue(res, i, 5), "t") == 0;
	u->pending = strcmp(PQgetvalue(res, i, 6), "t") == 0;
	u->created = NULL;
}

/* A template map of `u`: id, name (empty until the user set it), email,
 * role, active, pending. */
static struct tv *admin_user_view(struct req *r, const struct admin_user *u)
{
	struct arena *a = r->arena;
	struct tv *m = tv_map(a);
	const char *name = arena_printf(a, "%s %s", u->first_name, u->last_name);

	tv_set_str(a, m, "id", u->id);
	tv_set_str(a, m, "name", strcmp(name, " ") == 0 ? "" : name);
	tv_set_str(a, m, "first_name", u->first_name);
	tv_set_str(a, m, "last_name", u->last_name);
	tv_set_str(a, m, "email", u->email);
	tv_set_str(a, m, "role", u->role);
	tv_set_bool(a, m, "active", u->active);
	tv_set_bool(a, m, "pending", u->pending);
	return m;
}

int page_admin_users_get(struct req *r)
{
	const char *q = http_query(r, "q");
	const char *p[2] = { r->user->clinic_id, admin_like_pattern(r->arena, q ? q : "") };
	PGresult *res = db_exec(r->db, "admin_users", 2, p);
	struct tv *list;
	struct admin_user u;
	int n;

	if (res == NULL)
		return db_failure_status(r->db);
	n = PQntuples(res);
	list = tv_set(r->arena, r->view, "users", tv_list(r->arena));
	for (int i = 0; i < n && i < ADMIN_USERS_MAX; i++) {
		admin_user_row(r, res, i, &u);
		tv_push(r->arena, list, admin_user_view(r, &u));
	}
	PQclear(res);
	tv_set_bool(r->arena, r->view, "none", n == 0);
	tv_set_bool(r->arena, r->view, "more", n > ADMIN_USERS_MAX);
	tv_set_num(r->arena, r->view, "max", ADMIN_USERS_MAX);
	tv_set_str(r->arena, r->view, "q", q ? q : "");
	tv_set_str(r->arena, r->view, "title", "Users");
	return http_render(r, "admin_users");
}

/* Loads user `id` if they are a member of the admin's clinic. Returns 0,
 * 404 if there is no such member, or the status of a database failure. */
static int admin_user_load(struct req *r, const char *id, struct admin_user *u)
{
	const char *p[2] = { id, r->user->clinic_id };
	PGresult *res = db_exec(r->db, "admin_user", 2, p);

	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 404;
	}
	admin_user_row(r, res, 0, u);
	u->created = arena_strdup(r->arena, PQgetvalue(res, 0, 7));
	u->shared = strcmp(PQgetvalue(res, 0, 8), "t") == 0;
	PQclear(res);
	return 0;
}

int page_admin_user_get(struct req *r)
{
	struct admin_user u;
	struct tv *m;
	int status = admin_user_load(r, r->params[0], &u);

	if (status)
		return status;
	m = tv_set(r->arena, r->view, "subject", admin_user_view(r, &u));
	tv_set_str(r->arena, m, "created", u.created);
	tv_set_bool(r->arena, m, "self", strcmp(u.id, r->user->id) == 0);
	tv_set_bool(r->arena, m, "shared", u.shared);
	tv_set_str(r->arena, r->view, "title", *u.first_name || *u.last_name ?
		   arena_printf(r->arena, "%s %s", u.first_name, u.last_name) : u.email);
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

/* Creates a link for a user of the clinic: a password-reset link, or for
 * someone who never finished the invitation a new invitation link (which
 * also asks for their name). */
int page_admin_reset_post(struct req *r)
{
	struct admin_user u;
	const char *link, *kind;
	int status = admin_user_load(r, r->params[0], &u);

	if (status)
		return status;
	if (u.shared)
		return admin_back(r, u.id, "error", SHARED_MESSAGE);
	if (!u.active)
		return admin_back(r, u.id, "error", "This account is deactivated: reactivate it "
				  "first, then create the link.");
	kind = u.pending ? "invite" : "reset";
	link = page_link_create(r, kind, u.id, r->user->clinic_id);
	if (link == NULL)
		return db_failure_status(r->db);
	if ((status = audit(r, "reset link created", r->user->clinic_id, u.id,
			    u.pending ? "new invitation link" : NULL)) ||
	    (status = page_link_flash(r, arena_printf(r->arena, "%s link for %s",
			u.pending ? "Invitation" : "Password-reset", u.email), link)))
		return status;
	return http_redirect(r, admin_user_path(r, u.id));
}

/* Refuses (with a flash) what an admin may not do to user `id`: to act on
 * someone who also belongs to another clinic. Returns 0 to go on, or the
 * status of the answer already made (404 for a stranger). */
static int admin_may_change(struct req *r, const char *id)
{
	struct admin_user u;
	int status = admin_user_load(r, id, &u);

	if (status)
		return status;
	return u.shared ? admin_back(r, u.id, "error", SHARED_MESSAGE) : 0;
}

/* Runs `stmt` (admin_deactivate or admin_activate: $1 the user, $2 the
 * clinic, $3 the admin) on the user of the path, in one transaction with
 * its audit entry `action`, then sends the admin back with `done`. Someone
 * outside the clinic answers 404; someone shared with another clinic gets
 * a refusal (admin_may_change). */
static int admin_set_active(struct req *r, const char *stmt, const char *action,
			    const char *done)
{
	const char *id = r->params[0];
	const char *p[3] = { id, r->user->clinic_id, r->user->id };
	PGresult *res;
	int found, status;

	if ((status = admin_may_change(r, id)))
		return status;
	if ((status = page_begin(r)))
		return status;
	res = db_exec(r->db, stmt, 3, p);
	if (res == NULL)
		return db_failure_status(r->db);
	found = PQntuples(res) == 1;
	PQclear(res);
	if (!found)
		return 404;	/* the open transaction is rolled back */
	if ((status = audit(r, action, r->user->clinic_id, id, NULL)) ||
	    (status = page_commit(r)))
		return status;
	return admin_back(r, id, "ok", done);
}

int page_admin_deactivate_post(struct req *r)
{
	if (strcmp(r->params[0], r->user->id) == 0)
		return admin_back(r, r->params[0], "error", "You cannot deactivate your own "
				  "account; ask another admin of your clinic.");
	return admin_set_active(r, "admin_deactivate", "user deactivated",
				"The account is deactivated and logged out everywhere.");
}

int page_admin_activate_post(struct req *r)
{
	return admin_set_active(r, "admin_activate", "user reactivated",
				"The account is active again.");
}

/* Renders the staff invitation form with `status`; `role` is preselected. */
static int admin_invite_form(struct req *r, const char *role, int status)
{
	tv_set_bool(r->arena, r->view, "role_doctor", role && strcmp(role, "doctor") == 0);
	tv_set_bool(r->arena, r->view, "role_admin", role && strcmp(role, "admin") == 0);
	tv_set_str(r->arena, r->view, "title", "Invite a doctor or admin");
	return http_render_status(r, "admin_invite", status);
}

int page_admin_invite_get(struct req *r)
{
	return admin_invite_form(r, NULL, 200);
}

int page_admin_invite_post(struct req *r)
{
	const char *email = http_form_trim(r, "email"), *role = http_form_trim(r, "role");
	const char *problem = auth_email_problem(email);
	const char *id, *link;
	int good = 1, status;

	http_keep_fields(r, invite_fields);
	if (problem) {
		tv_set_str(r->arena, r->view, "email_error", problem);
		good = 0;
	}
	if (strcmp(role, "doctor") != 0 && strcmp(role, "admin") != 0) {
		tv_set_str(r->arena, r->view, "role_error", "Choose doctor or admin.");
		good = 0;
	}
	if (!good)
		return admin_invite_form(r, role, 422);
	status = page_invite_user(r, email, "", "", role, &id, &link);
	if (status == 1) {
		tv_set_str(r->arena, r->view, "email_error",
			   "There is already an account with this e-mail address.");
		return admin_invite_form(r, role, 422);
	}
	if (status || (status = audit(r, "invitation created", r->user->clinic_id, id, role)) ||
	    (status = page_link_flash(r, arena_printf(r->arena, "Invitation link for %s", email), link)) ||
	    (status = page_commit(r)))
		return status;
	return http_redirect(r, admin_user_path(r, id));
}

/* 1 if `s` is a positive decimal number that fits a bigint comfortably. */
static int admin_id_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 18 && strspn(s, "0123456789") == n;
}

/* Puts audit rows into the view (at most one page) and the link to the
 * next page if there is one. */
static void admin_audit_rows(struct req *r, PGresult *res)
{
	static const char *const cols[] = {
		"id", "at", "action", "actor", "subject", "detail", "address"
	};
	struct tv *list = tv_set(r->arena, r->view, "entries", tv_list(r->arena));
	int n = PQntuples(res);

	for (int i = 0; i < n && i < ADMIN_AUDIT_PAGE; i++) {
		struct tv *m = tv_map(r->arena);

		for (int c = 0; c < 7; c++)
			tv_set_str(r->arena, m, cols[c], arena_strdup(r->arena, PQgetvalue(res, i, c)));
		tv_push(r->arena, list, m);
	}
	tv_set_bool(r->arena, r->view, "none", n == 0);
	if (n > ADMIN_AUDIT_PAGE)
		tv_set_str(r->arena, r->view, "older", arena_strdup(r->arena,
			   PQgetvalue(res, ADMIN_AUDIT_PAGE - 1, 0)));
}

int page_admin_audit_get(struct req *r)
{
	const char *before = http_query(r, "before");
	const char *p[2] = { r->user->clinic_id, before };
	PGresult *res;

	if (before && !admin_id_valid(before))
		return 400;
	res = db_exec(r->db, "admin_audit", 2, p);
	if (res == NULL)
		return db_failure_status(r->db);
	admin_audit_rows(r, res);
	PQclear(res);
	tv_set_bool(r->arena, r->view, "paged", before != NULL);
	tv_set_str(r->arena, r->view, "title", "Audit log");
	return http_render(r, "admin_audit");
}
