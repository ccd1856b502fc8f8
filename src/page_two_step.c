/* page_two_step.c - two-step sign-in: the code after the password
 * (/login/code), enrolment and turning it off (/account/two-step), the QR
 * code of a new secret (/account/two-step/qr). The codes: totp.c. */
#include "page.h"

#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "row.h"
#include "sess.h"
#include "throttle.h"
#include "totp.h"

#define RECOVERY_CODES 10

const struct db_stmt page_two_step_stmts[] = {
	/* $1 the user. */
	{ "two_step_state",
	  "SELECT t.secret_sealed, t.confirmed_at IS NOT NULL AS confirmed,"
	  " (SELECT count(*) FROM recovery_codes c WHERE c.user_id = $1 AND c.used_at IS NULL)"
	  " AS recovery_left"
	  " FROM two_step t WHERE t.user_id = $1" },
	/* A new secret waiting for its first code; one already waiting stays,
	 * so that reloading the page shows the secret the app has. */
	{ "two_step_begin",
	  "INSERT INTO two_step (user_id, secret_sealed) VALUES ($1, $2)"
	  " ON CONFLICT (user_id) DO NOTHING" },
	/* A waiting secret that no longer opens (CAREBOX_SECRET_KEY changed)
	 * is replaced by a new one. */
	{ "two_step_renew",
	  "UPDATE two_step SET secret_sealed = $2 WHERE user_id = $1 AND confirmed_at IS NULL" },
	/* Taking a code is one statement: a code's step is taken once. */
	{ "two_step_confirm",
	  "UPDATE two_step SET confirmed_at = now(), last_step = $2"
	  " WHERE user_id = $1 AND confirmed_at IS NULL AND last_step < $2 RETURNING 1" },
	{ "two_step_take",
	  "UPDATE two_step SET last_step = $2"
	  " WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2 RETURNING 1" },
	{ "two_step_off",
	  "WITH c AS (DELETE FROM recovery_codes WHERE user_id = $1)"
	  " DELETE FROM two_step WHERE user_id = $1 RETURNING 1" },
	/* $2 the codes, as an array literal of [a-z0-9] words. */
	{ "recovery_set",
	  "WITH old AS (DELETE FROM recovery_codes WHERE user_id = $1)"
	  " INSERT INTO recovery_codes (user_id, code_hash)"
	  " SELECT $1, sha256(convert_to(c, 'UTF8')) FROM unnest($2::text[]) c" },
	{ "recovery_use",
	  "UPDATE recovery_codes SET used_at = now()"
	  " WHERE user_id = $1 AND code_hash = sha256(convert_to($2, 'UTF8')) AND used_at IS NULL"
	  " RETURNING 1" },
	/* Whether the person has two steps (confirmed), and whether they must:
	 * staff of a clinic that asks for them. */
	{ "two_step_required",
	  "SELECT EXISTS (SELECT 1 FROM two_step t WHERE t.user_id = $1"
	  " AND t.confirmed_at IS NOT NULL) AS confirmed,"
	  " EXISTS (SELECT 1 FROM memberships m JOIN clinics c ON c.id = m.clinic_id"
	  " WHERE m.user_id = $1 AND m.active AND m.role <> 'patient' AND c.staff_two_step)"
	  " AS required" },
	{ "login_step_insert",
	  "WITH gone AS (DELETE FROM login_steps WHERE expires_at < now() OR user_id = $2)"
	  " INSERT INTO login_steps (token_hash, user_id, next)"
	  " VALUES (sha256(decode($1, 'hex')), $2, $3)" },
	{ "login_step_load",
	  "SELECT s.user_id, s.next, u.email, t.secret_sealed"
	  " FROM login_steps s JOIN users u ON u.id = s.user_id AND u.active"
	  " JOIN two_step t ON t.user_id = s.user_id AND t.confirmed_at IS NOT NULL"
	  " WHERE s.token_hash = sha256(decode($1, 'hex')) AND s.expires_at > now()" },
	/* The pending sign-in ends once: one session from it. */
	{ "login_step_end",
	  "DELETE FROM login_steps WHERE token_hash = sha256(decode($1, 'hex')) RETURNING 1" },
	{ "two_step_hash", "SELECT password_hash FROM users WHERE id = $1" },
	{ NULL, NULL }
};

static const struct field code_fields[] = {
	{ .name = "code", .label = "the code", .type = FT_TEXT, .max = 16 },
	{ .name = "recovery", .label = "the recovery code", .type = FT_TEXT, .max = 32 },
	{ 0 }
};
static const struct form code_form = { code_fields };

static const struct field off_fields[] = {
	{ .name = "password", .label = "your password", .type = FT_PASSWORD,
	  .flags = FIELD_REQUIRED, .max = 1024 },
	{ .name = "code", .label = "the code", .type = FT_TEXT, .flags = FIELD_REQUIRED, .max = 32 },
	{ 0 }
};
static const struct form off_form = { off_fields };

/* Runs `stmt` with `n` parameters; returns 1 if it returned a row, 0 if
 * not, -1 if the database failed. */
static int one_row(struct req *r, const char *stmt, int n, const char *const *p)
{
	PGresult *res = db_exec(r->db, stmt, n, p);
	int found;

	if (res == NULL)
		return -1;
	found = PQntuples(res) > 0;
	PQclear(res);
	return found;
}

/* Runs `stmt` with the one parameter `param`: 1 with its row in *res
 * (the caller PQclear()s it), 0 with *res NULL if it found none, -1 if
 * the database failed. */
static int maybe_row(struct req *r, const char *stmt, const char *param, PGresult **res)
{
	*res = db_exec(r->db, stmt, 1, &param);
	if (*res == NULL)
		return -1;
	if (PQntuples(*res) == 1)
		return 1;
	PQclear(*res);
	*res = NULL;
	return 0;
}

/* Whether `user_id` must use two steps (staff of a clinic that asks it):
 * 1, 0, or -1 if the database failed; *confirmed says whether they have
 * them, when not NULL. */
static int two_step_required(struct req *r, const char *user_id, int *confirmed)
{
	PGresult *res;
	int must = maybe_row(r, "two_step_required", user_id, &res);

	if (must <= 0)
		return -1;
	must = row_bool(res, 0, "required");
	if (confirmed)
		*confirmed = row_bool(res, 0, "confirmed");
	PQclear(res);
	return must;
}

/* Checks `code` against `user_id`'s sealed secret and takes its time step
 * with `stmt` (two_step_take, or two_step_confirm at enrolment). Returns
 * 1 if taken, 0 if wrong or used already (*used set for the latter), -1
 * if the database failed. */
static int code_take(struct req *r, const char *stmt, const char *user_id, const char *sealed,
		     const char *code, int *used)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	int64_t step;
	const char *p[2];
	int taken;

	*used = 0;
	if (totp_open(sealed, user_id, secret) < 0)
		return 0;
	step = totp_check(secret, code, time(NULL));
	sodium_memzero(secret, sizeof(secret));
	if (step < 0)
		return 0;
	p[0] = user_id;
	p[1] = arena_printf(r->arena, "%lld", (long long)step);
	taken = one_row(r, stmt, 2, p);
	*used = taken == 0;
	return taken;
}

int page_two_step_begin(struct req *r, const char *user_id, const char *next)
{
	char token[TOKEN_HEX + 1];
	const char *p[3] = { token, user_id, http_local_path(next) ? next : "" };
	int found;

	auth_token(token);
	found = one_row(r, "login_step_insert", 3, p);
	if (found < 0)
		return db_failure_status(r->db);
	sess_cookie(r, site.step_cookie, token, "300");
	sodium_memzero(token, sizeof(token));
	return http_redirect(r, "/login/code");
}

int page_two_step_login(struct req *r, const char *user_id, int *enrol_only)
{
	int confirmed = 0, must = two_step_required(r, user_id, &confirmed);

	*enrol_only = 0;
	if (must < 0)
		return -1;
	if (confirmed)
		return 1;
	*enrol_only = must;
	return 0;
}

int page_two_step_after_link(struct req *r, const char *user_id, const char *next)
{
	int enrol_only, status;

	if (page_two_step_login(r, user_id, &enrol_only) < 0)
		return db_failure_status(r->db);
	if (!enrol_only)
		return http_redirect(r, next);
	if ((status = sess_enrol_only(r)))
		return status;
	return http_redirect(r, "/account/two-step");
}

/* The code form of the pending sign-in, with `error` when set. */
static int code_page(struct req *r, const char *error, int status)
{
	tv_set_str(r->arena, r->view, "title", "Two-step sign-in");
	tv_set_str(r->arena, r->view, "csrf_token", sess_csrf_token(r));
	if (error)
		tv_set_str(r->arena, r->view, "error", error);
	return http_render_status(r, "login_code", status);
}

/* The pending sign-in of this browser: its user, where to go next, the
 * e-mail and sealed secret. Returns 1 with the row in *res, 0 if there is
 * none (expired, or never), -1 if the database failed. */
static int step_load(struct req *r, PGresult **res)
{
	const char *token = http_cookie(r, site.step_cookie);

	*res = NULL;
	return auth_token_valid(token) ? maybe_row(r, "login_step_load", token, res) : 0;
}

/* No pending sign-in (or an expired one): back to the password, with a
 * word on why. */
static int step_gone(struct req *r)
{
	sess_cookie(r, site.step_cookie, "", "0");
	return http_redirect(r, "/login?again=1");
}

int page_login_code_get(struct req *r)
{
	PGresult *res;
	int found = step_load(r, &res);

	if (found < 0)
		return db_failure_status(r->db);
	if (!found)
		return step_gone(r);
	PQclear(res);
	return code_page(r, NULL, 200);
}

int page_login_code_post(struct req *r)
{
	struct form_data d = { 0 };
	PGresult *res;
	const char *user_id, *next, *email, *sealed, *code, *recovery, *how;
	const char *token = http_cookie(r, site.step_cookie);
	char norm[TOTP_RECOVERY_LEN + 1];
	int found = step_load(r, &res), ok = 0, used = 0, verdict, status;
	long minutes;

	if (found < 0)
		return db_failure_status(r->db);
	if (!found)
		return step_gone(r);
	user_id = row_text(r->arena, res, 0, "user_id");
	next = row_text(r->arena, res, 0, "next");
	email = row_text(r->arena, res, 0, "email");
	sealed = row_text(r->arena, res, 0, "secret_sealed");
	PQclear(res);
	form_read(r, &code_form, &d);
	code = form_text(&d, "code");
	recovery = form_text(&d, "recovery");
	/* Codes are throttled as the account's passwords are (throttle.c). */
	verdict = throttle_password(r, email, 0, &minutes);
	if (verdict < 0)
		return db_failure_status(r->db);
	if (verdict != THROTTLE_OK)
		return code_page(r, verdict == THROTTLE_BUSY ? "Another code for this account is "
				 "being checked: try again in a moment." : arena_printf(r->arena,
				 "Too many wrong codes: please wait %ld minute%s.", minutes,
				 minutes == 1 ? "" : "s"), 429);
	if (*recovery) {
		how = "recovery code";
		if (totp_recovery_normal(recovery, norm) == 0) {
			const char *p[2] = { user_id, norm };

			ok = one_row(r, "recovery_use", 2, p);
		}
	} else {
		how = "code";
		ok = code_take(r, "two_step_take", user_id, sealed, code, &used);
	}
	if (ok < 0)
		return db_failure_status(r->db);
	if (!ok) {
		if ((status = throttle_password_failed(r, email, 0)) ||
		    (status = audit(r, "two-step code failed", NULL, user_id, how)))
			return status;
		page_keep(r);
		return code_page(r, used ? "This code was used already: wait for the next one "
				 "your app shows." : *recovery ? "This recovery code does not work: "
				 "it may be mistyped or used already." : "This code is not right: "
				 "type the six digits your app shows now.", 401);
	}
	if ((found = one_row(r, "login_step_end", 1, &token)) < 0)
		return db_failure_status(r->db);
	if (!found)	/* the same sign-in finished a moment ago */
		return step_gone(r);
	sess_cookie(r, site.step_cookie, "", "0");
	if ((status = throttle_password_clear(r, email)) ||
	    (r->session_token && (status = sess_end(r))) ||
	    (status = sess_start(r, user_id)) ||
	    (*recovery && (status = audit(r, "recovery code used", NULL, user_id, NULL))) ||
	    (status = audit(r, "login", NULL, user_id, "two-step")))
		return status;
	return http_redirect(r, *next ? next : "/");
}

/* The enrolment page for a secret waiting for its first code, sealed as
 * `sealed`, with `status`. */
static int enrol_page(struct req *r, const char *sealed, int status)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	char b32[TOTP_BASE32_MAX + 1];

	if (totp_open(sealed, r->user->id, secret) < 0)
		return 500;
	totp_base32(secret, b32);
	sodium_memzero(secret, sizeof(secret));
	tv_set_str(r->arena, r->view, "secret", arena_strdup(r->arena, b32));
	sodium_memzero(b32, sizeof(b32));
	tv_set_bool(r->arena, r->view, "enrol", 1);
	tv_set_bool(r->arena, r->view, "required", r->user->enrol_only);
	tv_set_str(r->arena, r->view, "title", "Two-step sign-in");
	return http_render_status(r, "two_step", status);
}

/* 1 if the logged-in user's `sealed` secret opens with the server key. */
static int secret_opens(struct req *r, const char *sealed)
{
	unsigned char secret[TOTP_SECRET_BYTES];
	int ok = totp_open(sealed, r->user->id, secret) == 0;

	sodium_memzero(secret, sizeof(secret));
	return ok;
}

/* The user's two-step row: 1 with *res set, 0 if none, -1 on failure. */
static int state_load(struct req *r, PGresult **res)
{
	return maybe_row(r, "two_step_state", r->user->id, res);
}

int page_two_step_get(struct req *r)
{
	PGresult *res;
	int found = state_load(r, &res), status;
	const char *sealed;

	if (found < 0)
		return db_failure_status(r->db);
	if (found && row_bool(res, 0, "confirmed")) {
		tv_set_bool(r->arena, r->view, "on", 1);
		tv_set_str(r->arena, r->view, "recovery_left", row_text(r->arena, res, 0, "recovery_left"));
		PQclear(res);
		if ((status = two_step_required(r, r->user->id, NULL)) < 0)
			return db_failure_status(r->db);
		tv_set_bool(r->arena, r->view, "required", status);
		tv_set_str(r->arena, r->view, "title", "Two-step sign-in");
		return http_render(r, "two_step");
	}
	sealed = found ? row_text(r->arena, res, 0, "secret_sealed") : NULL;
	if (found)
		PQclear(res);
	if (sealed == NULL || !secret_opens(r, sealed)) {
		unsigned char secret[TOTP_SECRET_BYTES];
		char box[TOTP_SEALED_HEX + 1];
		const char *p[2] = { r->user->id, box };

		totp_new_secret(secret);
		totp_seal(secret, r->user->id, box);
		sodium_memzero(secret, sizeof(secret));
		if (one_row(r, sealed ? "two_step_renew" : "two_step_begin", 2, p) < 0)
			return db_failure_status(r->db);
		sealed = arena_strdup(r->arena, box);
	}
	return enrol_page(r, sealed, 200);
}

/* POST /account/two-step: the first code confirms the new secret; the
 * recovery codes are shown, once. */
int page_two_step_post(struct req *r)
{
	struct form_data d = { 0 };
	PGresult *res;
	char codes[RECOVERY_CODES][TOTP_RECOVERY_LEN + 2];
	struct buf list = BUF_INIT;
	struct tv *shown;
	const char *sealed, *p[2];
	int found = state_load(r, &res), used, ok, status;

	if (found < 0)
		return db_failure_status(r->db);
	if (!found || row_bool(res, 0, "confirmed")) {
		if (found)
			PQclear(res);
		return http_redirect(r, "/account/two-step");
	}
	sealed = row_text(r->arena, res, 0, "secret_sealed");
	PQclear(res);
	form_read(r, &code_form, &d);
	ok = code_take(r, "two_step_confirm", r->user->id, sealed, form_text(&d, "code"), &used);
	if (ok < 0)
		return db_failure_status(r->db);
	if (!ok) {
		form_fail(r, &d, "code", "This code does not match: check that the app shows "
			  "carebox's new entry, and type the six digits it shows now.");
		return enrol_page(r, sealed, 422);
	}
	shown = tv_list(r->arena);
	buf_putc(&list, '{');
	for (int i = 0; i < RECOVERY_CODES; i++) {
		char norm[TOTP_RECOVERY_LEN + 1];

		totp_recovery_code(codes[i]);
		totp_recovery_normal(codes[i], norm);
		buf_printf(&list, "%s%s", i ? "," : "", norm);
		tv_push(r->arena, shown, tv_str(r->arena, arena_strdup(r->arena, codes[i])));
	}
	buf_putc(&list, '}');
	p[0] = r->user->id;
	p[1] = arena_strdup(r->arena, list.data);
	sodium_memzero(list.data, list.len);
	buf_free(&list);
	sodium_memzero(codes, sizeof(codes));
	if (one_row(r, "recovery_set", 2, p) < 0)
		return db_failure_status(r->db);
	if ((r->user->enrol_only && (status = sess_enrolled(r))) ||
	    (status = audit(r, "two-step sign-in turned on", NULL, r->user->id, NULL)))
		return status;
	tv_set(r->arena, r->view, "recovery_codes", shown);
	tv_set_str(r->arena, r->view, "title", "Your recovery codes");
	return http_render(r, "two_step_codes");
}

/* The code that turns two-step sign-in off: a current one, or (the phone
 * is lost) one of the recovery codes, used up. 1, 0, or -1 on failure. */
static int off_code(struct req *r, const char *sealed, const char *code)
{
	char norm[TOTP_RECOVERY_LEN + 1];
	const char *p[2] = { r->user->id, norm };
	int used, ok = code_take(r, "two_step_take", r->user->id, sealed, code, &used);

	if (ok != 0 || totp_recovery_normal(code, norm) < 0)
		return ok;
	return one_row(r, "recovery_use", 2, p);
}

/* POST /account/two-step/off: with the password and a current code; not
 * for staff whose clinic asks for two steps. */
int page_two_step_off_post(struct req *r)
{
	struct form_data d = { 0 };
	PGresult *res;
	const char *sealed, *hash;
	int found = state_load(r, &res), ok, must, status;

	if (found < 0)
		return db_failure_status(r->db);
	if (!found || !row_bool(res, 0, "confirmed")) {
		if (found)
			PQclear(res);
		return http_redirect(r, "/account/two-step");
	}
	sealed = row_text(r->arena, res, 0, "secret_sealed");
	PQclear(res);
	if ((must = two_step_required(r, r->user->id, NULL)) < 0)
		return db_failure_status(r->db);
	if (must) {
		http_error(r, 403, "Your clinic asks its doctors and admins to use two-step "
			   "sign-in: it stays on.");
		return 403;
	}
	if (form_read(r, &off_form, &d) == 0) {
		if ((res = db_exec(r->db, "two_step_hash", 1, &r->user->id)) == NULL)
			return db_failure_status(r->db);
		hash = PQntuples(res) ? row_text(r->arena, res, 0, "password_hash") : NULL;
		PQclear(res);
		if (!auth_verify(hash, form_text(&d, "password")))
			form_fail(r, &d, "password", "This is not your password.");
		else if ((ok = off_code(r, sealed, form_text(&d, "code"))) < 0)
			return db_failure_status(r->db);
		else if (!ok)
			form_fail(r, &d, "code", "This code is not right: type the six digits your "
				  "app shows now, or one of your recovery codes.");
	}
	if (d.errors) {
		tv_set_bool(r->arena, r->view, "on", 1);
		tv_set_str(r->arena, r->view, "title", "Two-step sign-in");
		return http_render_status(r, "two_step", 422);
	}
	if ((status = one_row(r, "two_step_off", 1, &r->user->id)) < 0)
		return db_failure_status(r->db);
	if ((status = audit(r, "two-step sign-in turned off", NULL, r->user->id, NULL)) ||
	    (status = sess_flash(r, "ok", "Two-step sign-in is off: your password alone logs "
				 "you in.")))
		return status;
	return http_redirect(r, "/account/two-step");
}

/* GET /account/two-step/qr: the QR code of the secret waiting for its
 * first code, as SVG (never of a confirmed one: it is shown once). */
int page_two_step_qr_get(struct req *r)
{
	PGresult *res;
	unsigned char secret[TOTP_SECRET_BYTES];
	char uri[2048];	/* the otpauth URI: clinic name and address, encoded */
	QRcode *qr;
	int found = state_load(r, &res);
	const char *sealed;

	if (found < 0)
		return db_failure_status(r->db);
	if (!found || row_bool(res, 0, "confirmed")) {
		if (found)
			PQclear(res);
		return 404;
	}
	sealed = row_text(r->arena, res, 0, "secret_sealed");
	PQclear(res);
	if (totp_open(sealed, r->user->id, secret) < 0)
		return 500;
	found = totp_uri(secret, r->user->clinic_name ? r->user->clinic_name : "carebox",
			 r->user->email, uri, sizeof(uri));
	sodium_memzero(secret, sizeof(secret));
	qr = found == 0 ? QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1) : NULL;
	sodium_memzero(uri, sizeof(uri));
	if (qr == NULL)
		return 500;
	r->status = 200;
	r->content_type_out = "image/svg+xml";
	buf_printf(r->body_out, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
		   "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
		   qr->width + 8, qr->width + 8, (qr->width + 8) * 6, (qr->width + 8) * 6);
	for (int y = 0; y < qr->width; y++) {
		for (int x = 0; x < qr->width; x++) {
			int run = 0;

			while (x + run < qr->width && (qr->data[y * qr->width + x + run] & 1))
				run++;
			if (run) {
				buf_printf(r->body_out, "M%d %dh%dv1h-%dz", x + 4, y + 4, run, run);
				x += run - 1;
			}
		}
	}
	buf_puts(r->body_out, "\"/></svg>\n");
	QRcode_free(qr);
	return 200;
}
