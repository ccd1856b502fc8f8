/* page_join.c - /join: whoever holds a clinic's join link or code joins it with their own account. */
#include "page.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "row.h"
#include "sess.h"
#include "throttle.h"
#include "when.h"

/* Days a join link and its code stay valid: a printed handout is used
 * later than a link on a screen. */
#define JOIN_LINK_DAYS "7"

/* Links and codes that did not open anything, per client address, before
 * the join pages refuse the address for 15 minutes. */
#define JOIN_MAX_FAILURES 10

/* A link's key is either its token (TOKEN_HEX hex digits, from the
 * handout's link or from the link mailed for the same registration:
 * mail_token_hash, src/mail.c) or its short code (typed from the handout):
 * $1 the token or NULL, $2 the normalised code or NULL. All three keys
 * open one row, which using any of them consumes. */
#define JOIN_KEY_MATCH \
	" l.kind = 'join' AND l.used_at IS NULL AND l.expires_at > now()" \
	" AND (l.token_hash = sha256(decode($1, 'hex')) OR l.mail_token_hash = sha256(decode($1, 'hex'))" \
	" OR l.code_hash = sha256(convert_to($2, 'UTF8')))"

const struct db_stmt page_join_stmts[] = {
	/* $1 token, $2 code, $3 clinic, $4 staff member, $5 name, $6 e-mail,
	 * $7 role. */
	{ "join_link_insert",
	  "INSERT INTO one_time_links (token_hash, code_hash, kind, role, clinic_id, created_by,"
	  " for_name, for_email, expires_at)"
	  " VALUES (sha256(decode($1, 'hex')), sha256(convert_to($2, 'UTF8')), 'join', $7::user_role,"
	  " $3, $4, $5, $6, now() + interval '" JOIN_LINK_DAYS " days')"
	  " RETURNING id, expires_at AS expires" },
	{ "join_find",
	  "SELECT c.name AS clinic, l.role::text AS role"
	  " FROM one_time_links l JOIN clinics c ON c.id = l.clinic_id WHERE" JOIN_KEY_MATCH },
	/* Using the link, joining and closing one's open request to the same
	 * clinic are one statement: a link works once, for the account that
	 * uses it. An active member of staff keeps their role (a patient's
	 * link never demotes them); a patient there takes a staff link's role;
	 * an ended membership starts again. $3 the account. */
	{ "join_use",
	  "WITH l AS (UPDATE one_time_links l SET used_at = now(), user_id = $3 WHERE" JOIN_KEY_MATCH
	  " RETURNING l.clinic_id, l.role),"
	  " m AS (INSERT INTO memberships (clinic_id, user_id, role) SELECT clinic_id, $3, role FROM l"
	  " ON CONFLICT (clinic_id, user_id) DO UPDATE SET active = true, ended_at = NULL,"
	  " role = CASE WHEN memberships.active AND memberships.role <> 'patient'"
	  " THEN memberships.role ELSE EXCLUDED.role END,"
	  " created_at = CASE WHEN memberships.active THEN memberships.created_at ELSE now() END),"
	  " q AS (UPDATE join_requests SET decided_at = now(), decided_by = $3, accepted = true"
	  " WHERE user_id = $3 AND clinic_id IN (SELECT clinic_id FROM l) AND decided_at IS NULL)"
	  " SELECT l.clinic_id, c.name AS clinic FROM l JOIN clinics c ON c.id = l.clinic_id" },
	{ NULL, NULL }
};

/* The form a visitor fills in to join with a new account; the key comes
 * back in a hidden field. */
static const struct field join_signup_fields[] = {
	{ .name = "key", .label = "the join link or code", .type = FT_TEXT, .max = TOKEN_HEX },
	PAGE_NEW_ACCOUNT_FIELDS,
	{ 0 }
};
static const struct form join_signup_form = { join_signup_fields };

/* The letters of a short code: no 0/O, 1/I/L, 2/Z, 5/S or 8/B to mix up. */
static const char join_alphabet[] = "ACDEFGHJKMNPQRTUVWXY3479";

void page_join_code(char out[JOIN_CODE_LEN + 1])
{
	for (int i = 0; i < JOIN_CODE_LEN; i++)
		out[i] = join_alphabet[randombytes_uniform(sizeof(join_alphabet) - 1)];
	out[JOIN_CODE_LEN] = '\0';
}

int page_join_handout(struct req *r, const char *role, const char *name, const char *email,
		      const char **link_id)
{
	char token[TOKEN_HEX + 1], code[JOIN_CODE_LEN + 1];
	const char *p[7] = { token, code, r->user->clinic_id, r->user->id, name, email, role };
	PGresult *res;
	int status;

	if (r->user->clinic_id == NULL)
		return 403;
	auth_token(token);
	page_join_code(code);
	if ((status = row_load(r, "join_link_insert", 7, p, 0, &res)))
		goto out;
	if (link_id)
		*link_id = row_text(r->arena, res, 0, "id");
	tv_set_str(r->arena, r->view, "expires", when_moment(r->arena, row_text(r->arena, res, 0, "expires")));
	PQclear(res);
	tv_set_str(r->arena, r->view, "for", name);
	tv_set_str(r->arena, r->view, "role", role);
	tv_set_bool(r->arena, r->view, "staff", strcmp(role, "patient") != 0);
	tv_set_str(r->arena, r->view, "link", site_url(r->arena, arena_printf(r->arena,
		   "/join?key=%s", token)));
	tv_set_str(r->arena, r->view, "join_url", site_url(r->arena, "/join"));
	tv_set_str(r->arena, r->view, "code", arena_printf(r->arena, "%.5s-%s", code, code + 5));
	tv_set_str(r->arena, r->view, "title", "Handout: join your clinic on carebox");
	status = audit(r, "join link created", r->user->clinic_id, NULL, role);
out:
	sodium_memzero(token, sizeof(token));
	sodium_memzero(code, sizeof(code));
	return status;
}

/* Splits `key` (what came in ?key= or the form) into the two statement
 * parameters: p[0] the token if it is one, p[1] the code (upper case,
 * without spaces and dashes) if it is one. Returns 0, or -1 when it is
 * neither. */
static int join_key(struct req *r, const char *key, const char *p[2])
{
	char *code;
	size_t n = 0;

	p[0] = p[1] = NULL;
	if (key == NULL)
		return -1;
	if (auth_token_valid(key)) {
		p[0] = key;
		return 0;
	}
	code = arena_alloc(r->arena, strlen(key) + 1);
	for (const char *c = key; *c; c++) {
		if (*c == ' ' || *c == '-')
			continue;
		if (!strchr(join_alphabet, toupper((unsigned char)*c)) || n == JOIN_CODE_LEN)
			return -1;
		code[n++] = (char)toupper((unsigned char)*c);
	}
	code[n] = '\0';
	if (n != JOIN_CODE_LEN)
		return -1;
	p[1] = code;
	return 0;
}

/* Renders the join page with `status`: the code form when there is no
 * valid key ("ask"), else the clinic to join. */
static int join_page(struct req *r, int status)
{
	tv_set_str(r->arena, r->view, "title", "Join a clinic");
	tv_set_str(r->arena, r->view, "csrf_token", sess_csrf_token(r));
	return http_render_status(r, "join", status);
}

/* Answers a key that opens nothing: counts it, and shows the code form
 * again with why, as 404. */
static int join_invalid(struct req *r, const char *key)
{
	/* The claim of join_load stands: only keys that work are given back. */
	page_keep(r);
	page_link_forget(r);
	tv_set_bool(r->arena, r->view, "ask", 1);
	tv_set_str(r->arena, r->view, "key_typed", key && strlen(key) <= 40 ? key : "");
	tv_set_str(r->arena, r->view, "key_error", "This code or link does not work: it may be "
		   "mistyped, used already or older than its expiry date. Check it, or ask "
		   "your clinic for a new one.");
	return join_page(r, 404);
}

/* Looks up the live link of `key` and puts its clinic, the key and the
 * login link into the view. Returns 0 when found, else the status of the
 * answer made (the code form: 404 or 429) or of a database failure. */
static int join_load(struct req *r, const char *key)
{
	const char *p[2];
	PGresult *res;
	int status;

	/* Each key claims one try of the address first; a key that works
	 * gives it back, so only keys that open nothing use them up. */
	if ((status = throttle_address(r, "join key", JOIN_MAX_FAILURES, "15 minutes"))) {
		if (status == 429) {
			tv_set_bool(r->arena, r->view, "throttled", 1);
			return join_page(r, 429);
		}
		return status;
	}
	if (join_key(r, key, p) < 0)
		return join_invalid(r, key);
	res = db_exec(r->db, "join_find", 2, p);
	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return join_invalid(r, key);
	}
	tv_set(r->arena, r->view, "link", row_view(r->arena, res, 0, 0));
	PQclear(res);
	if ((status = throttle_address_refund(r, "join key")))
		return status;
	/* Hex digits or code letters only: safe in a URL as they are. */
	key = p[0] ? p[0] : p[1];
	tv_set_str(r->arena, r->view, "key", key);
	/* The key waits in the link cookie while the person logs in. */
	tv_set_str(r->arena, r->view, "login_url", "/login?next=%2Fjoin");
	return 0;
}

/* GET /join: the code form, or with a key (?key= moves into the link
 * cookie) the clinic to join: a button for someone logged in, else a way
 * to log in or to create an account. */
int page_join_get(struct req *r)
{
	const char *key;
	int status = page_link_key(r, "join", "key", &key);

	if (status)
		return status;
	if (key == NULL) {
		tv_set_bool(r->arena, r->view, "ask", 1);
		return join_page(r, 200);
	}
	if ((status = join_load(r, key)))
		return status;
	return join_page(r, 200);
}

/* Joins the clinic of `key` with account `id` (audited as the clinic's
 * event) and sends the person to their inbox with a notice. Returns the
 * status of the answer, or of the code form when the key stopped working
 * meanwhile (used by someone else a moment before). */
static int join_use(struct req *r, const char *key, const char *id)
{
	const char *p[3];
	PGresult *res;
	const char *clinic, *name;
	int status;

	if (join_key(r, key, p) < 0)
		return join_invalid(r, key);
	p[2] = id;
	res = db_exec(r->db, "join_use", 3, p);
	if (res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) == 0) {	/* used by someone else a moment ago */
		PQclear(res);
		tv_set_bool(r->arena, r->view, "ask", 1);
		tv_set_str(r->arena, r->view, "key_error", "This code or link was used a moment "
			   "ago: nothing was changed. Ask your clinic for a new one.");
		return join_page(r, 409);
	}
	clinic = row_text(r->arena, res, 0, "clinic_id");
	name = row_text(r->arena, res, 0, "clinic");
	PQclear(res);
	page_link_forget(r);
	if ((status = audit(r, "joined the clinic", clinic, id, "join link")) ||
	    (status = sess_flash(r, "ok", arena_printf(r->arena, "Welcome to %s: you can now "
				 "write to its staff.", name))))
		return status;
	/* Staff of a clinic that asks for two steps set it up first. */
	return page_two_step_after_link(r, id, "/inbox");
}

/* POST /join: someone logged in joins with their account; a visitor
 * creates an account with the form and joins with it, logged in at once. */
int page_join_post(struct req *r)
{
	struct form_data d = { 0 };
	const char *key = http_form(r, "key"), *id;
	int status;

	if ((status = join_load(r, key)))
		return status;
	if (r->user)
		return join_use(r, key, r->user->id);
	form_read(r, &join_signup_form, &d);
	if ((status = page_new_account(r, &d, &id)))
		return status == 422 || status == 429 ? join_page(r, status) : status;
	if ((status = sess_start(r, id)) || (status = audit(r, "signup", NULL, id, "join link")))
		return status;
	return join_use(r, key, id);
}
