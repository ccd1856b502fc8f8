/* page_invite.c - one-time links: /invite?token= (set up an invited account) and /reset?token= (new password). */
#include "page.h"

#include <string.h>

#include "audit.h"
#include "auth.h"
#include "sess.h"

const struct db_stmt page_invite_stmts[] = {
	{ "link_insert",
	  "INSERT INTO one_time_links (token_hash, kind, user_id, clinic_id, created_by)"
	  " VALUES (sha256(decode($1, 'hex')), $2, $3, $4, $5)" },
	{ "link_invitee_insert",
	  "WITH u AS (INSERT INTO users (email, first_name, last_name, role)"
	  " VALUES ($1, $2, $3, $4::user_role)"
	  " ON CONFLICT ((lower(email))) DO NOTHING RETURNING id),"
	  " m AS (INSERT INTO memberships (clinic_id, user_id) SELECT $5, id FROM u)"
	  " SELECT id FROM u" },
	{ "link_user",
	  "SELECT u.id, u.email, u.first_name, u.last_name"
	  " FROM one_time_links l JOIN users u ON u.id = l.user_id AND u.active"
	  " WHERE l.token_hash = sha256(decode($1, 'hex')) AND l.kind = $2"
	  " AND l.used_at IS NULL AND l.expires_at > now()" },
	/* Consuming the link and using it is one statement: it works once. */
	/* Only for an account that has no password yet, and it retires the
	 * user's other invitation links: an older link cannot take over the
	 * account once it is set up. */
	{ "link_invite_accept",
	  "WITH l AS (UPDATE one_time_links SET used_at = now()"
	  " WHERE token_hash = sha256(decode($1, 'hex')) AND kind = 'invite'"
	  " AND used_at IS NULL AND expires_at > now()"
	  " AND user_id IN (SELECT id FROM users WHERE active AND password_hash IS NULL)"
	  " RETURNING user_id, clinic_id),"
	  " o AS (UPDATE one_time_links SET used_at = now()"
	  " WHERE user_id IN (SELECT user_id FROM l) AND kind = 'invite' AND used_at IS NULL"
	  " AND token_hash <> sha256(decode($1, 'hex')))"
	  " UPDATE users u SET first_name = $2, last_name = $3, password_hash = $4"
	  " FROM l WHERE u.id = l.user_id RETURNING u.id, l.clinic_id" },
	/* A reset also retires the user's other reset links and ends every
	 * session: whoever knew the old password is out. */
	{ "link_reset_accept",
	  "WITH l AS (UPDATE one_time_links SET used_at = now()"
	  " WHERE token_hash = sha256(decode($1, 'hex')) AND kind = 'reset'"
	  " AND used_at IS NULL AND expires_at > now()"
	  " AND user_id IN (SELECT id FROM users WHERE active)"
	  " RETURNING user_id, clinic_id),"
	  " o AS (UPDATE one_time_links SET used_at = now()"
	  " WHERE user_id IN (SELECT user_id FROM l) AND kind = 'reset' AND used_at IS NULL"
	  " AND token_hash <> sha256(decode($1, 'hex'))),"
	  " u AS (UPDATE users u SET password_hash = $2 FROM l WHERE u.id = l.user_id"
	  " RETURNING u.id, l.clinic_id),"
	  " s AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u))"
	  " SELECT id, clinic_id FROM u" },
	{ NULL, NULL }
};

static const char *const invite_fields[] = { "first_name", "last_name", NULL };

/* The person a valid link is for; strings in the request arena. */
struct link_user {
	const char *id, *email, *first_name, *last_name;
};

/* 1 if `host` looks like a host name or address with an optional port, so
 * that it can go into a link shown to staff; the Host header is the
 * client's word, so anything else is left out of links. */
static int link_host_ok(const char *host)
{
	size_t n = host ? strlen(host) : 0;

	if (n == 0 || n > 260)
		return 0;
	return strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789.-:[]") == n;
}

const char *page_link_create(struct req *r, const char *kind, const char *user_id,
			     const char *clinic_id)
{
	char token[TOKEN_HEX + 1];
	const char *p[5] = { token, kind, user_id, clinic_id, r->user ? r->user->id : NULL };
	PGresult *res;
	const char *link;

	auth_token(token);
	res = db_exec(r->db, "link_insert", 5, p);
	if (res == NULL)
		return NULL;
	PQclear(res);
	if (link_host_ok(r->host))
		link = arena_printf(r->arena, "%s://%s/%s?token=%s",
				    r->https ? "https" : "http", r->host, kind, token);
	else
		link = arena_printf(r->arena, "/%s?token=%s", kind, token);
	sodium_memzero(token, sizeof(token));
	return link;
}

int page_link_flash(struct req *r, const char *what, const char *link)
{
	return sess_flash(r, "ok", arena_printf(r->arena,
		"%s: %s — carebox sends no e-mail: hand this link over yourself. "
		"It works once, within one hour.", what, link));
}

int page_invite_user(struct req *r, const char *email, const char *first,
		     const char *last, const char *role, const char **id,
		     const char **link)
{
	const char *p[5] = { email, first, last, role, r->user->clinic_id };
	PGresult *res;
	int status;

	if (r->user->clinic_id == NULL)
		return 403;
	if ((status = page_begin(r)))
		return status;
	res = db_exec(r->db, "link_invitee_insert", 5, p);
	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_command(r->db, "ROLLBACK");
		return 1;
	}
	*id = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
	PQclear(res);
	*link = page_link_create(r, "invite", *id, r->user->clinic_id);
	if (*link == NULL)
		return db_failure_status(r->db);
	return 0;
}

/* Answers 404 with the page that says the link is invalid or expired.
 * Returns the status. */
static int link_invalid(struct req *r)
{
	tv_set_str(r->arena, r->view, "title", "Link invalid or expired");
	tv_set_bool(r->arena, r->view, "invalid", 1);
	return http_render_status(r, "invite", 404);
}

/* Finds the user a live link of `kind` with `token` is for and fills `u`.
 * Returns 0 when found; otherwise the status of the answer made (the
 * invalid-link page) or of the database failure. */
static int link_load(struct req *r, const char *kind, const char *token,
		     struct link_user *u)
{
	const char *p[2] = { token, kind };
	PGresult *res;

	if (!auth_token_valid(token))
		return link_invalid(r);
	res = db_exec(r->db, "link_user", 2, p);
	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return link_invalid(r);
	}
	u->id = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
	u->email = arena_strdup(r->arena, PQgetvalue(res, 0, 1));
	u->first_name = arena_strdup(r->arena, PQgetvalue(res, 0, 2));
	u->last_name = arena_strdup(r->arena, PQgetvalue(res, 0, 3));
	PQclear(res);
	return 0;
}

/* Renders the form of a link of `kind` for `u` (token kept in a hidden
 * field) with `status`. */
static int link_form(struct req *r, const char *kind, const char *token,
		     const struct link_user *u, int status)
{
	int reset = strcmp(kind, "reset") == 0;

	tv_set_str(r->arena, r->view, "title", reset ? "Choose a new password" :
		   "Set up your account");
	tv_set_bool(r->arena, r->view, "reset", reset);
	tv_set_str(r->arena, r->view, "action", reset ? "/reset" : "/invite");
	tv_set_str(r->arena, r->view, "token", token);
	tv_set_str(r->arena, r->view, "email", u->email);
	tv_set_str(r->arena, r->view, "csrf_token", sess_csrf_token(r));
	return http_render_status(r, "invite", status);
}

/* GET of either link page: the form, or the invalid-link page. */
static int link_get(struct req *r, const char *kind)
{
	const char *token = http_query(r, "token");
	struct link_user u;
	int status = link_load(r, kind, token, &u);

	if (status)
		return status;
	tv_set_str(r->arena, r->view, "first_name", u.first_name);
	tv_set_str(r->arena, r->view, "last_name", u.last_name);
	return link_form(r, kind, token, &u, 200);
}

int page_invite_get(struct req *r)
{
	return link_get(r, "invite");
}

int page_reset_get(struct req *r)
{
	return link_get(r, "reset");
}

/* Runs `stmt`, which uses up a link and returns the user's id and the
 * link's clinic, with the `n` parameters `p`. Returns 0 with *clinic set
 * (arena; NULL if the link has none), the invalid-link page if the link was
 * used up or expired meanwhile, or the status of a database failure. */
static int link_consume(struct req *r, const char *stmt, int n, const char *const *p,
			const char **clinic)
{
	PGresult *res = db_exec(r->db, stmt, n, p);

	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return link_invalid(r);
	}
	*clinic = PQgetisnull(res, 0, 1) ? NULL : arena_strdup(r->arena, PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

int page_invite_post(struct req *r)
{
	const char *token = http_form(r, "token");
	const char *first = http_form_trim(r, "first_name"), *last = http_form_trim(r, "last_name");
	char hash[HASH_MAX];
	const char *p[4] = { token, first, last, hash };
	const char *clinic;
	struct link_user u;
	int good, status = link_load(r, "invite", token, &u);

	if (status)
		return status;
	http_keep_fields(r, invite_fields);
	good = page_name_ok(r, "first_name", first);
	good &= page_name_ok(r, "last_name", last);
	good &= page_password_ok(r, u.email, first, last);
	if (!good)
		return link_form(r, "invite", token, &u, 422);
	if (auth_hash(http_form(r, "password"), hash) < 0)
		return 500;
	if ((status = link_consume(r, "link_invite_accept", 4, p, &clinic)))
		return status;
	/* Whoever was logged in in this browser makes way for the invitee. */
	if ((r->session_token && (status = sess_end(r))) ||
	    (status = sess_start(r, u.id)) ||
	    (status = audit(r, "invitation accepted", clinic, u.id, NULL)))
		return status;
	return http_redirect(r, "/");
}

int page_reset_post(struct req *r)
{
	const char *token = http_form(r, "token");
	char hash[HASH_MAX];
	const char *p[2] = { token, hash };
	const char *clinic;
	struct link_user u;
	int status = link_load(r, "reset", token, &u);

	if (status)
		return status;
	if (!page_password_ok(r, u.email, u.first_name, u.last_name))
		return link_form(r, "reset", token, &u, 422);
	if (auth_hash(http_form(r, "password"), hash) < 0)
		return 500;
	if ((status = link_consume(r, "link_reset_accept", 2, p, &clinic)))
		return status;
	if ((status = audit(r, "password reset", clinic, u.id, NULL)))
		return status;
	return http_redirect(r, "/login?reset=1");
}
