/* page_invite.c - one-time links: /invite?token= (set up an invited account), /reset?token= (new password) and /verify?token= (prove an e-mail address). */
#include "page.h"

#include <ctype.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "mail.h"
#include "row.h"
#include "sess.h"

const struct db_stmt page_invite_stmts[] = {
	/* A reset link also ends the person's sessions, at once: whoever
	 * holds one (the reason for a reset, often) is out before the link
	 * is even handed over. Not an admin's own, making a link for
	 * themself: their session shows it. */
	{ "link_insert",
	  "WITH s AS (DELETE FROM sessions WHERE user_id = $3 AND $2 = 'reset'"
	  " AND $3 IS DISTINCT FROM $5)"
	  " INSERT INTO one_time_links (token_hash, kind, user_id, clinic_id, created_by)"
	  " VALUES (sha256(decode($1, 'hex')), $2, $3, $4, $5)" },
	/* A verification link shows the address it proves, and only while
	 * that is still the person's login address. */
	{ "link_user",
	  "SELECT u.id, coalesce(l.for_email, u.email) AS email, u.first_name, u.last_name"
	  " FROM one_time_links l JOIN users u ON u.id = l.user_id AND u.active"
	  " WHERE l.token_hash = sha256(decode($1, 'hex')) AND l.kind = $2"
	  " AND l.used_at IS NULL AND l.expires_at > now()"
	  " AND (l.kind <> 'verify' OR lower(u.email) = lower(l.for_email))" },
	/* Proves the link's address: it becomes the person's mail_to, and
	 * no longer anyone else's (the latest proof wins); their other
	 * verification links are retired. */
	{ "link_verify_accept",
	  "WITH l AS (UPDATE one_time_links SET used_at = now()"
	  " WHERE token_hash = sha256(decode($1, 'hex')) AND kind = 'verify'"
	  " AND used_at IS NULL AND expires_at > now()"
	  " AND user_id IN (SELECT id FROM users WHERE active AND lower(email) = lower(for_email))"
	  " RETURNING user_id, for_email, clinic_id),"
	  " o AS (UPDATE one_time_links SET used_at = now()"
	  " WHERE user_id IN (SELECT user_id FROM l) AND kind = 'verify' AND used_at IS NULL"
	  " AND token_hash <> sha256(decode($1, 'hex'))),"
	  " x AS (UPDATE users SET mail_to = NULL WHERE lower(mail_to) IN (SELECT lower(for_email) FROM l)"
	  " AND id NOT IN (SELECT user_id FROM l)),"
	  " u AS (UPDATE users u SET mail_to = l.for_email FROM l WHERE u.id = l.user_id"
	  " RETURNING u.id, l.clinic_id)"
	  " SELECT id, clinic_id FROM u" },
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

/* The fields of the two link forms. The token comes back in a hidden
 * field; link_load() checks it (auth_token_valid). */
#define LINK_TOKEN_FIELD \
	{ .name = "token", .label = "the link", .type = FT_TEXT, .max = TOKEN_HEX }

static const struct field invite_fields[] = {
	LINK_TOKEN_FIELD,
	PAGE_NAME_FIELDS("your"),
	PAGE_NEW_PASSWORD_FIELDS,
	{ 0 }
};
static const struct form invite_form = { invite_fields };

static const struct field reset_fields[] = {
	LINK_TOKEN_FIELD,
	PAGE_NEW_PASSWORD_FIELDS,
	{ 0 }
};
static const struct form reset_form = { reset_fields };

static const struct field verify_fields[] = {
	LINK_TOKEN_FIELD,
	{ 0 }
};
static const struct form verify_form = { verify_fields };

/* The person a valid link is for; strings in the request arena. */
struct link_user {
	const char *id, *email, *first_name, *last_name;
};

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
	link = site_url(r->arena, arena_printf(r->arena, "/%s?token=%s", kind, token));
	sodium_memzero(token, sizeof(token));
	return link;
}

int page_link_flash(struct req *r, const char *what, const char *link)
{
	return sess_flash(r, "ok", arena_printf(r->arena,
		"%s: %s — no e-mail is sent for it: hand this link over yourself. "
		"It works once, within one hour.", what, link));
}

/* Link keys are hex tokens or join codes, possibly typed with dashes:
 * nothing else goes into the cookie. */
#define LINK_KEY_MAX 80

int page_link_key(struct req *r, const char *kind, const char *arg, const char **key)
{
	const char *q = http_query(r, arg), *c = http_cookie(r, site.link_cookie);
	size_t n = strlen(kind);

	*key = NULL;
	if (q != NULL) {
		char *k = arena_alloc(r->arena, strlen(q) + 1), *o = k;

		for (; *q && o - k < LINK_KEY_MAX; q++)
			if (isalnum((unsigned char)*q) || *q == '-')
				*o++ = *q;
		*o = '\0';
		if (*k)
			sess_cookie(r, site.link_cookie, arena_printf(r->arena, "%s.%s", kind, k), "3600");
		return http_redirect(r, arena_printf(r->arena, "/%s", kind));
	}
	if (c && strncmp(c, kind, n) == 0 && c[n] == '.' && c[n + 1])
		*key = c + n + 1;
	return 0;
}

void page_link_forget(struct req *r)
{
	if (http_cookie(r, site.link_cookie))
		sess_cookie(r, site.link_cookie, "", "0");
}

/* Answers 404 with the page that says the link is invalid or expired.
 * Returns the status. */
static int link_invalid(struct req *r)
{
	page_link_forget(r);
	tv_set_str(r->arena, r->view, "title", "Link invalid or expired");
	tv_set_bool(r->arena, r->view, "invalid", 1);
	return http_render_status(r, "invite", 404);
}

/* Finds the user a live link of `kind` with `token` is for and fills `u`:
 * the token is what entitles its holder to the row (row_load). Returns 0
 * when found; otherwise the status of the answer made (the invalid-link
 * page) or of the database failure. */
static int link_load(struct req *r, const char *kind, const char *token,
		     struct link_user *u)
{
	const char *p[2] = { token, kind };
	PGresult *res;
	int status;

	if (!auth_token_valid(token))
		return link_invalid(r);
	status = row_load(r, "link_user", 2, p, 0, &res);
	if (status)
		return status == 404 ? link_invalid(r) : status;
	u->id = row_text(r->arena, res, 0, "id");
	u->email = row_text(r->arena, res, 0, "email");
	u->first_name = row_text(r->arena, res, 0, "first_name");
	u->last_name = row_text(r->arena, res, 0, "last_name");
	PQclear(res);
	return 0;
}

/* Renders the form of a link of `kind` for `u` (token kept in a hidden
 * field) with `status`; the names and errors are in the view already. */
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

/* GET of either link page: the form with the names the clinic entered, or
 * the invalid-link page. */
static int link_get(struct req *r, const char *kind)
{
	const char *token;
	struct link_user u;
	int status = page_link_key(r, kind, "token", &token);

	if (status || (status = link_load(r, kind, token, &u)))
		return status;
	tv_set_str(r->arena, r->view, "first_name", u.first_name);
	tv_set_str(r->arena, r->view, "last_name", u.last_name);
	return link_form(r, kind, token, &u, 200);
}

/* GET /invite (?token= moves into the link cookie) */
int page_invite_get(struct req *r)
{
	return link_get(r, "invite");
}

/* GET /reset (?token= moves into the link cookie) */
int page_reset_get(struct req *r)
{
	return link_get(r, "reset");
}

/* Runs `stmt`, which uses up a link and returns the user's "id" and the
 * link's "clinic_id", with the `n` parameters `p`. Returns 0 with *clinic
 * set (arena; NULL if the link has none), the invalid-link page if the
 * link was used up or expired meanwhile, or the status of a database
 * failure. */
static int link_consume(struct req *r, const char *stmt, int n, const char *const *p,
			const char **clinic)
{
	PGresult *res = db_exec(r->db, stmt, n, p);
	int found;

	if (res == NULL)
		return db_failure_status(r->db);
	found = PQntuples(res) == 1;
	*clinic = found ? row_text(r->arena, res, 0, "clinic_id") : NULL;
	PQclear(res);
	return found ? 0 : link_invalid(r);
}

/* POST /invite: the invitee confirms their names and chooses a password;
 * the account is set up, the link used up and the invitee logged in, with
 * a notice that says so on their inbox (or, for staff who must, on the
 * two-step enrolment page). */
int page_invite_post(struct req *r)
{
	struct form_data d = { 0 };
	char hash[HASH_MAX];
	const char *p[4], *clinic;	/* token, first name, last name, hash */
	struct link_user u;
	int status;

	form_read(r, &invite_form, &d);
	p[0] = form_text(&d, "token");
	p[1] = form_text(&d, "first_name");
	p[2] = form_text(&d, "last_name");
	p[3] = hash;
	if ((status = link_load(r, "invite", p[0], &u)))
		return status;
	page_new_password(r, &d, u.email, p[1], p[2]);
	if (d.errors)
		return link_form(r, "invite", p[0], &u, 422);
	if (auth_hash(form_text(&d, "password"), hash) < 0)
		return 500;
	if ((status = link_consume(r, "link_invite_accept", 4, p, &clinic)))
		return status;
	page_link_forget(r);
	/* Whoever was logged in in this browser makes way for the invitee. */
	if ((r->session_token && (status = sess_end(r))) ||
	    (status = sess_start(r, u.id)) ||
	    (status = audit(r, "invitation accepted", clinic, u.id, NULL)) ||
	    (status = mail_verify(r->db, u.id) < 0 ? db_failure_status(r->db) : 0) ||
	    (status = sess_flash(r, "ok", arena_printf(r->arena, "Welcome to carebox, %s: "
				 "your account is set up and you are logged in.", p[1]))))
		return status;
	return page_two_step_after_link(r, u.id, "/inbox");
}

/* POST /reset: a new password for the link's user, who is then logged out
 * everywhere and logs in anew. */
int page_reset_post(struct req *r)
{
	struct form_data d = { 0 };
	char hash[HASH_MAX];
	const char *p[2], *clinic;	/* token, hash */
	struct link_user u;
	int status;

	form_read(r, &reset_form, &d);
	p[0] = form_text(&d, "token");
	p[1] = hash;
	if ((status = link_load(r, "reset", p[0], &u)))
		return status;
	page_new_password(r, &d, u.email, u.first_name, u.last_name);
	if (d.errors)
		return link_form(r, "reset", p[0], &u, 422);
	if (auth_hash(form_text(&d, "password"), hash) < 0)
		return 500;
	if ((status = link_consume(r, "link_reset_accept", 2, p, &clinic)) ||
	    (status = audit(r, "password reset", clinic, u.id, NULL)))
		return status;
	page_link_forget(r);
	return http_redirect(r, "/login?reset=1");
}

/* GET /verify (?token= moves into the link cookie): asks to confirm the
 * address, so that a link checker or a mail scanner opening the link
 * proves nothing. */
int page_verify_get(struct req *r)
{
	const char *token;
	struct link_user u;
	int status = page_link_key(r, "verify", "token", &token);

	if (status || (status = link_load(r, "verify", token, &u)))
		return status;
	tv_set_str(r->arena, r->view, "title", "Confirm your e-mail address");
	tv_set_str(r->arena, r->view, "token", token);
	tv_set_str(r->arena, r->view, "email", u.email);
	tv_set_str(r->arena, r->view, "csrf_token", sess_csrf_token(r));
	return http_render(r, "verify");
}

/* POST /verify: the link's address becomes the one carebox mails; the
 * person's account page, or the login page, says so. */
int page_verify_post(struct req *r)
{
	struct form_data d = { 0 };
	const char *token, *clinic;
	struct link_user u;
	int status;

	form_read(r, &verify_form, &d);
	token = form_text(&d, "token");
	if ((status = link_load(r, "verify", token, &u)) ||
	    (status = link_consume(r, "link_verify_accept", 1, &token, &clinic)) ||
	    (status = audit(r, "e-mail address confirmed", NULL, u.id, NULL)))
		return status;
	page_link_forget(r);
	if (r->user == NULL)
		return http_redirect(r, "/login?verified=1");
	if ((status = sess_flash(r, "ok", "Your e-mail address is confirmed: carebox mails "
				 "its notices there.")))
		return status;
	return http_redirect(r, "/account");
}
