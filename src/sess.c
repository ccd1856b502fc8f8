/* sess.c - who is asking: session cookies, the logged-in user, CSRF tokens. */
#include "sess.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "when.h"

const struct db_stmt sess_stmts[] = {
	{ "sess_load", SESS_SELECT },
	/* Slides the idle expiry (at most once a minute) and consumes the
	 * flash that was shown, unless a newer one replaced it meanwhile. */
	{ "sess_touch",
	  "UPDATE sessions SET last_seen_at = now(),"
	  " flash_kind = CASE WHEN flash_text = $2 THEN NULL ELSE flash_kind END,"
	  " flash_text = CASE WHEN flash_text = $2 THEN NULL ELSE flash_text END"
	  " WHERE token_hash = sha256(decode($1, 'hex'))" },
	/* A new session; the user's dead ones go in the same statement. */
	{ "sess_insert",
	  "WITH gone AS (DELETE FROM sessions WHERE user_id = $2 AND " SESS_DEAD ")"
	  " INSERT INTO sessions (token_hash, user_id, csrf_token, enrol_only)"
	  " VALUES (sha256(decode($1, 'hex')), $2, $3, $4)" },
	{ "sess_enrol_only",
	  "UPDATE sessions SET enrol_only = $2 WHERE token_hash = sha256(decode($1, 'hex'))" },
	{ "sess_delete", "DELETE FROM sessions WHERE token_hash = sha256(decode($1, 'hex'))" },
	/* A session row, live or ended (until a login or prune removes it). */
	{ "sess_ended",
	  "SELECT user_id, csrf_token FROM sessions WHERE token_hash = sha256(decode($1, 'hex'))" },
	{ "sess_flash",
	  "UPDATE sessions SET flash_kind = $2, flash_text = $3"
	  " WHERE token_hash = sha256(decode($1, 'hex'))" },
	{ NULL, NULL }
};

#define FLASH_NONCE crypto_secretbox_NONCEBYTES
#define FLASH_MAC crypto_secretbox_MACBYTES

/* Derives into `key` the key that seals the notices of the session whose
 * cookie holds the hex `token`. Only the browser has the token (the
 * database stores its SHA-256), so a copy of the sessions table cannot
 * read a notice, such as a one-time link left for an admin. Returns 0, or
 * -1 if the token is not TOKEN_HEX hex digits. The caller zeroes `key`. */
static int flash_key(const char *token, unsigned char key[crypto_secretbox_KEYBYTES])
{
	static const char ctx[] = "carebox flash";
	unsigned char raw[TOKEN_HEX / 2];
	size_t len;
	int ok;

	ok = token && sodium_hex2bin(raw, sizeof(raw), token, strlen(token),
				     NULL, &len, NULL) == 0 && len == sizeof(raw);
	if (ok)
		crypto_generichash(key, crypto_secretbox_KEYBYTES,
				   (const unsigned char *)ctx, sizeof(ctx) - 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	return ok ? 0 : -1;
}

/* Seals `text` for the session `token`: base64 of a random nonce and the
 * secretbox of the text, in the arena. Returns NULL on a bad token. */
static const char *flash_seal(struct req *r, const char *token, const char *text)
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	size_t tlen = strlen(text), blen = FLASH_NONCE + FLASH_MAC + tlen;
	unsigned char *box = arena_alloc(r->arena, blen);
	size_t b64 = sodium_base64_encoded_len(blen, sodium_base64_VARIANT_ORIGINAL);
	char *out = arena_alloc(r->arena, b64);

	if (flash_key(token, key) < 0)
		return NULL;
	randombytes_buf(box, FLASH_NONCE);
	crypto_secretbox_easy(box + FLASH_NONCE, (const unsigned char *)text, tlen, box, key);
	sodium_memzero(key, sizeof(key));
	return sodium_bin2base64(out, b64, box, blen, sodium_base64_VARIANT_ORIGINAL);
}

/* Opens a notice sealed by flash_seal() for the session `token`, into the
 * arena. Returns NULL when it does not open: another key, tampered with,
 * or cleartext left from before notices were sealed. The caller then
 * shows no notice; a lost notice is better than a failed page. */
static const char *flash_open(struct req *r, const char *token, const char *sealed)
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	size_t slen = strlen(sealed), blen;
	unsigned char *box = arena_alloc(r->arena, slen + 1);
	char *text;
	int bad;

	if (sodium_base642bin(box, slen + 1, sealed, slen, NULL, &blen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) < 0 ||
	    blen < FLASH_NONCE + FLASH_MAC || flash_key(token, key) < 0)
		return NULL;
	text = arena_alloc(r->arena, blen - FLASH_NONCE - FLASH_MAC + 1);
	bad = crypto_secretbox_open_easy((unsigned char *)text, box + FLASH_NONCE,
					 blen - FLASH_NONCE, box, key);
	sodium_memzero(key, sizeof(key));
	if (bad)
		return NULL;
	text[blen - FLASH_NONCE - FLASH_MAC] = '\0';
	/* A NUL inside would cut the notice short: treat it as tampering. */
	return strlen(text) == blen - FLASH_NONCE - FLASH_MAC ? text : NULL;
}

static enum role role_of(const char *name)
{
	if (strcmp(name, "admin") == 0)
		return ROLE_ADMIN;
	if (strcmp(name, "doctor") == 0)
		return ROLE_DOCTOR;
	return ROLE_PATIENT;
}

/* A copy of column `col` of row 0 in the arena; NULL for SQL NULL. */
static const char *col(struct req *r, PGresult *res, int c)
{
	return PQgetisnull(res, 0, c) ? NULL : arena_strdup(r->arena, PQgetvalue(res, 0, c));
}

/* Writes last-seen and clears the flash if it is still `sealed` (as
 * stored). Returns 0 or an error status. */
static int sess_touch(struct req *r, const char *sealed)
{
	const char *p[2] = { r->session_token, sealed };
	PGresult *res = db_exec(r->db, "sess_touch", 2, p);

	if (res == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	return 0;
}

int sess_take(struct req *r, PGresult *res)
{
	const char *token = http_cookie(r, SESSION_COOKIE);
	const char *sealed;
	struct user *u;

	if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0))
		return 0;
	u = arena_alloc(r->arena, sizeof(*u));
	u->id = col(r, res, 0);
	u->email = col(r, res, 1);
	u->first_name = col(r, res, 2);
	u->last_name = col(r, res, 3);
	u->role_name = col(r, res, 4);
	u->role = role_of(u->role_name);
	u->csrf_token = col(r, res, 5);
	r->flash_kind = col(r, res, 6);
	sealed = col(r, res, 7);
	u->clinic_id = col(r, res, 8);
	u->clinic_name = col(r, res, 9);
	u->unread_count = atol(PQgetvalue(res, 0, 10));
	u->inbox_id = col(r, res, 12);
	u->clinics = atol(PQgetvalue(res, 0, 13));
	u->zone = col(r, res, 14);
	u->enrol_only = strcmp(PQgetvalue(res, 0, 15), "t") == 0;
	r->user = u;
	r->session_token = arena_strdup(r->arena, token);
	r->csrf_token = u->csrf_token;
	if (sealed)
		r->flash_text = flash_open(r, token, sealed);
	/* Every time the page shows is in the clinic's zone (when.h). */
	when_zone(u->zone);
	/* A HEAD shows nothing (a link checker, a preview): the notice, which
	 * may hold a one-time link, waits for the page that shows it. */
	if (r->method == M_HEAD)
		sealed = NULL;
	if (strcmp(PQgetvalue(res, 0, 11), "t") == 0 || sealed)
		return sess_touch(r, sealed);
	return 0;
}

int sess_load(struct req *r)
{
	const char *token = http_cookie(r, SESSION_COOKIE);
	PGresult *res;
	int status;

	if (!auth_token_valid(token))
		return 0;
	res = db_exec(r->db, "sess_load", 1, &token);
	if (res == NULL)
		return db_failure_status(r->db);
	status = sess_take(r, res);
	PQclear(res);
	return status;
}

void sess_cookie(struct req *r, const char *name, const char *value, const char *max_age)
{
	http_header(r, "Set-Cookie", arena_printf(r->arena,
		"%s=%s; Path=/; HttpOnly; SameSite=Lax%s%s%s", name, value,
		max_age ? "; Max-Age=" : "", max_age ? max_age : "",
		site.https ? "; Secure" : ""));
}

static int sess_begin(struct req *r, const char *user_id, int enrol_only)
{
	char token[TOKEN_HEX + 1], csrf[TOKEN_HEX + 1];
	const char *p[4] = { token, user_id, csrf, enrol_only ? "true" : "false" };
	PGresult *res;

	auth_token(token);
	auth_token(csrf);
	res = db_exec(r->db, "sess_insert", 4, p);
	if (res == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	sess_cookie(r, SESSION_COOKIE, token, NULL);
	r->session_token = arena_strdup(r->arena, token);
	sodium_memzero(token, sizeof(token));
	return 0;
}

int sess_start(struct req *r, const char *user_id)
{
	return sess_begin(r, user_id, 0);
}

int sess_start_enrol_only(struct req *r, const char *user_id)
{
	return sess_begin(r, user_id, 1);
}

/* Sets the current session's enrol-only flag to `on`. */
static int sess_set_enrol_only(struct req *r, int on)
{
	const char *p[2] = { r->session_token, on ? "true" : "false" };
	PGresult *res = db_exec(r->db, "sess_enrol_only", 2, p);

	if (res == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	return 0;
}

int sess_enrol_only(struct req *r)
{
	return sess_set_enrol_only(r, 1);
}

int sess_enrolled(struct req *r)
{
	return sess_set_enrol_only(r, 0);
}

int sess_end(struct req *r)
{
	const char *p[1] = { r->session_token };
	PGresult *res;

	if (r->session_token) {
		res = db_exec(r->db, "sess_delete", 1, p);
		if (res == NULL)
			return db_failure_status(r->db);
		PQclear(res);
	}
	sess_cookie(r, SESSION_COOKIE, "", "0");
	r->user = NULL;
	r->session_token = NULL;
	return 0;
}

int sess_flash(struct req *r, const char *kind, const char *text)
{
	const char *p[3] = { r->session_token, kind, NULL };
	PGresult *res;

	if (r->session_token == NULL)
		return 0;
	/* r->session_token is the token the browser sends next: after
	 * sess_start() it is the new one, so the new session can open it. */
	p[2] = flash_seal(r, r->session_token, text);
	if (p[2] == NULL)
		return 500;
	res = db_exec(r->db, "sess_flash", 3, p);
	if (res == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	return 0;
}

const char *sess_csrf_token(struct req *r)
{
	const char *pre;
	char token[TOKEN_HEX + 1];

	if (r->csrf_token)
		return r->csrf_token;
	pre = http_cookie(r, PRESESSION_COOKIE);
	if (auth_token_valid(pre)) {
		r->csrf_token = pre;
	} else {
		auth_token(token);
		r->csrf_token = arena_strdup(r->arena, token);
		sess_cookie(r, PRESESSION_COOKIE, token, "7200");
	}
	return r->csrf_token;
}

int sess_ended(struct req *r, int with_csrf, const char **user_id)
{
	const char *token = http_cookie(r, SESSION_COOKIE);
	PGresult *res;
	int found;

	*user_id = NULL;
	if (!auth_token_valid(token))
		return 0;
	if ((res = db_exec(r->db, "sess_ended", 1, &token)) == NULL)
		return db_failure_status(r->db);
	found = PQntuples(res) == 1 &&
		(!with_csrf || auth_equal(http_form(r, "csrf_token"), PQgetvalue(res, 0, 1)));
	if (found)
		*user_id = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int sess_csrf_ok(struct req *r)
{
	const char *want = r->user ? r->user->csrf_token : http_cookie(r, PRESESSION_COOKIE);

	return auth_token_valid(want) && auth_equal(http_form(r, "csrf_token"), want);
}

void sess_view(struct req *r)
{
	struct arena *a = r->arena;
	struct tv *u, *f;

	if (r->user) {
		u = tv_set(a, r->view, "user", tv_map(a));
		tv_set_str(a, u, "first_name", r->user->first_name);
		tv_set_str(a, u, "last_name", r->user->last_name);
		tv_set_str(a, u, "email", r->user->email);
		tv_set_str(a, u, "role", r->user->role_name);
		tv_set_bool(a, u, "is_patient", r->user->role == ROLE_PATIENT);
		tv_set_bool(a, u, "is_doctor", r->user->role == ROLE_DOCTOR);
		tv_set_bool(a, u, "is_admin", r->user->role == ROLE_ADMIN);
		tv_set_bool(a, u, "is_staff", (r->user->role & ROLE_STAFF) != 0);
		tv_set_num(a, u, "unread_count", (double)r->user->unread_count);
		if (r->user->clinic_name)
			tv_set_str(a, u, "clinic_name", r->user->clinic_name);
		tv_set_bool(a, u, "switch_clinic", r->user->clinics > 1);
		tv_set_bool(a, u, "enrol_only", r->user->enrol_only);
		tv_set_str(a, u, "zone", r->user->zone);
		tv_set_str(a, r->view, "csrf_token", r->user->csrf_token);
	}
	if (r->flash_text) {
		f = tv_set(a, r->view, "flash", tv_map(a));
		tv_set_str(a, f, "kind", r->flash_kind ? r->flash_kind : "ok");
		tv_set_str(a, f, "text", r->flash_text);
	}
}
