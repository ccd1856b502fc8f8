/* rx.c - prescriptions: a patient's request, its payment (the charge and refund jobs), the manual retry, cancelling, a doctor's approval or decline. */
#include "rx.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "msg.h"
#include "pay.h"
#include "row.h"

/* The prescription `$1` locked for `$2`, who acts for clinic `$3`: with
 * $3 NULL, the patient who requested it; else the clinic's staff (its
 * doctors: the route table). Its status, requester and clinic, and how
 * many items it has and how many are not filled in. */
#define RX_LOCK \
	"SELECT p.status::text AS status, p.requested_by, p.clinic_id," \
	" (SELECT count(*) FROM prescription_items i WHERE i.prescription_id = p.id)::int AS items," \
	" (SELECT count(*) FROM prescription_items i WHERE i.prescription_id = p.id" \
	" AND (i.name IS NULL OR i.dosage IS NULL OR i.quantity IS NULL))::int AS unfilled" \
	" FROM prescriptions p WHERE p.id = $1 AND p.id IN (SELECT v.id FROM viewer_prescriptions($2, $3) v)" \
	" AND CASE WHEN $3::uuid IS NULL THEN p.requested_by = $2 ELSE p.clinic_id = $3 END" \
	" FOR UPDATE OF p"

const struct db_stmt rx_stmts[] = {
	/* $1 the medication ids (an array literal), $2 the clinic, $3 the
	 * recipient: whether every one is the recipient's at the clinic,
	 * active, with repeats left. */
	{ "rx_medications_ok",
	  "SELECT count(*) = (SELECT count(DISTINCT x) FROM unnest($1::uuid[]) x) FROM medications m"
	  " WHERE m.id = ANY($1::uuid[]) AND m.clinic_id = $2 AND m.recipient_id = $3"
	  " AND m.active AND m.repeats_left > 0" },
	/* $1 clinic, $2 recipient, $3 patient, $4 their words: the request, if
	 * the recipient is the patient's and one the clinic cares for. */
	{ "rx_create",
	  "INSERT INTO prescriptions (clinic_id, recipient_id, requested_by, request_text, fee, currency)"
	  " SELECT c.id, r.id, $3, nullif($4, ''), c.prescription_fee, c.currency"
	  " FROM clinics c, clinic_recipients($1) r"
	  " WHERE c.id = $1 AND r.id = $2 AND r.owner_id = $3 AND NOT r.archived"
	  " RETURNING id, fee > 0 AS to_pay" },
	/* $1 prescription, $2 medication ids, $3 clinic, $4 recipient. */
	{ "rx_items",
	  "INSERT INTO prescription_items (prescription_id, medication_id, name, strength, form, dosage, quantity)"
	  " SELECT $1, m.id, m.name, m.strength, m.form, m.dosage, m.quantity FROM medications m"
	  " WHERE m.id = ANY($2::uuid[]) AND m.clinic_id = $3 AND m.recipient_id = $4" },
	/* $1 prescription, $2 provider: a new payment series, its own key. */
	{ "rx_payment_add",
	  "INSERT INTO payments (prescription_id, user_id, amount, currency, provider, idempotency_key)"
	  " SELECT p.id, p.requested_by, p.fee, p.currency, $2, 'carebox:' || gen_random_uuid()"
	  " FROM prescriptions p WHERE p.id = $1 RETURNING id" },
	{ "rx_lock", RX_LOCK },
	/* $1 prescription, $2 status, $3 who (NULL: carebox), $4 the note. */
	{ "rx_status",
	  "UPDATE prescriptions SET status = $2::prescription_status, status_by = $3, status_note = $4"
	  " WHERE id = $1" },
	/* $1 prescription, $2 the doctor. */
	{ "rx_approve",
	  "UPDATE prescriptions SET status = 'ready', status_by = $2, status_note = 'approved and issued',"
	  " decided_by = $2, decided_at = now(), issued_at = now() WHERE id = $1" },
	{ "rx_repeats",
	  "UPDATE medications SET repeats_left = repeats_left - 1 WHERE repeats_left > 0"
	  " AND id IN (SELECT i.medication_id FROM prescription_items i WHERE i.prescription_id = $1)" },
	/* $1 prescription, $2 the doctor, $3 the reason; the approved payment
	 * to refund, if any. */
	{ "rx_decline",
	  "UPDATE prescriptions SET status = 'declined', status_by = $2, status_note = $3,"
	  " decided_by = $2, decided_at = now(), decline_reason = $3 WHERE id = $1"
	  " RETURNING (SELECT pay.id FROM payments pay WHERE pay.prescription_id = $1"
	  " AND pay.status = 'approved') AS payment_id" },
	/* $1 prescription: its payment not yet tried is cancelled with it. */
	{ "rx_payment_cancel",
	  "UPDATE payments SET status = 'cancelled' WHERE prescription_id = $1 AND status = 'pending'" },
	/* $1 payment: it and its prescription, locked for an attempt. */
	{ "rx_charge_lock",
	  "SELECT pay.status::text AS pay_status, p.status::text AS rx_status, pay.amount::text,"
	  " pay.currency, pay.idempotency_key, pay.provider, p.clinic_id, p.id AS rx_id, p.requested_by,"
	  " (SELECT count(*) FROM payment_attempts a WHERE a.payment_id = pay.id"
	  " AND a.result IS NOT NULL)::int AS answered"
	  " FROM payments pay JOIN prescriptions p ON p.id = pay.prescription_id WHERE pay.id = $1"
	  " FOR UPDATE OF pay, p" },
	/* $1 payment, $2 the attempt's number (again after a worker died). */
	{ "rx_charge_start",
	  "WITH a AS (INSERT INTO payment_attempts (payment_id, attempt, idempotency_key)"
	  " SELECT id, $2::int, idempotency_key FROM payments WHERE id = $1 ON CONFLICT DO NOTHING)"
	  " UPDATE payments SET status = 'processing', retry_count = $2::int - 1,"
	  " last_retry_at = CASE WHEN $2::int > 1 THEN now() ELSE last_retry_at END WHERE id = $1" },
	/* $1 payment, $2 attempt, $3 result, $4 error, $5 reference, $6 replayed. */
	{ "rx_charge_answer",
	  "UPDATE payment_attempts SET finished_at = clock_timestamp(), result = $3, error = $4,"
	  " reference = $5, replayed = $6::boolean WHERE payment_id = $1 AND attempt = $2::int" },
	/* $1 payment, $2 status, $3 the last error, $4 the provider's reference. */
	{ "rx_payment_set",
	  "UPDATE payments SET status = $2::payment_status, error_message = $3,"
	  " provider_reference = coalesce($4, provider_reference),"
	  " approved_at = CASE WHEN $2 = 'approved' THEN now() ELSE approved_at END WHERE id = $1" },
	/* $1 payment: what a refund needs (a second refund job for it cannot
	 * be queued: the unique key). */
	{ "rx_refund_lock",
	  "SELECT pay.status::text, pay.provider_reference, pay.provider, p.clinic_id"
	  " FROM payments pay JOIN prescriptions p ON p.id = pay.prescription_id WHERE pay.id = $1" },
	/* $1 payment, $2 the refund's reference: refunded, on the timeline. */
	{ "rx_refunded",
	  "WITH u AS (UPDATE payments SET status = 'refunded', refund_reference = $2, refunded_at = now()"
	  " WHERE id = $1 AND status = 'approved' RETURNING prescription_id, amount, currency)"
	  " INSERT INTO prescription_events (prescription_id, kind, note)"
	  " SELECT prescription_id, 'refund', 'payment refunded: ' || amount || ' ' || currency FROM u" },
	{ NULL, NULL }
};

/* Runs statement `name` whose rows do not matter. Returns 0 or -1. */
static int rx_run(struct db *db, const char *name, int n, const char *const *p)
{
	PGresult *res = db_exec(db, name, n, p);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Sets prescription `rx_id`'s status to `status` by `by` (NULL: carebox)
 * with `note`, and, with `body`, posts the auto message `subject`/`body`
 * to `requester`. Returns 0 or -1. */
static int rx_move(struct db *db, struct arena *a, const char *rx_id, const char *status,
		   const char *by, const char *note, const char *requester, const char *subject,
		   const char *body)
{
	const char *p[4] = { rx_id, status, by, note };

	if (rx_run(db, "rx_status", 4, p) < 0)
		return -1;
	return body && msg_post_auto(db, a, requester, subject, body, rx_id, NULL) == NULL ? -1 : 0;
}

/* Adds payment `pay_id`'s charge job for clinic `clinic_id` (its unique
 * key the payment's). Returns 0 or -1. */
static int rx_enqueue(struct db *db, const char *kind, const char *pay_id, const char *clinic_id)
{
	struct json_object *payload = json_object_new_object();
	char key[100];
	int rc;

	json_object_object_add(payload, "payment_id", json_object_new_string(pay_id));
	snprintf(key, sizeof(key), "%s:%s", kind, pay_id);
	rc = jobs_enqueue(db, kind, payload, NULL, key, clinic_id, NULL);
	json_object_put(payload);
	return rc < 0 ? -1 : 0;
}

/* A new payment series for prescription `rx_id` of clinic `clinic_id`,
 * and its charge job. Returns 0 or -1. */
static int rx_pay(struct db *db, struct arena *a, const char *rx_id, const char *clinic_id)
{
	const char *p[2] = { rx_id, pay_default() };
	PGresult *res = db_exec(db, "rx_payment_add", 2, p);
	const char *pay_id;

	if (res == NULL || PQntuples(res) != 1) {
		PQclear(res);
		return -1;
	}
	pay_id = arena_strdup(a, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rx_enqueue(db, "payment.charge", pay_id, clinic_id);
}

/* 1 if `s` has the shape of a UUID (so it may go into an array literal). */
static int rx_uuid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
			return 0;
	return 1;
}

/* The PostgreSQL array literal of `r`'s medication ids, in `a`, or NULL
 * when one is not a UUID. */
static const char *rx_ids(struct arena *a, const struct rx_new *r)
{
	size_t n = 3 + (size_t)r->n_medications * 37;
	char *lit = arena_alloc(a, n);

	strcpy(lit, "{");
	for (int i = 0; i < r->n_medications; i++) {
		if (!rx_uuid(r->medication_ids[i]))
			return NULL;
		strcat(lit, i ? "," : "");
		strcat(lit, r->medication_ids[i]);
	}
	strcat(lit, "}");
	return lit;
}

#define RX_AWAITING_SUBJECT "Prescription: awaiting approval"
#define RX_AWAITING_BODY "Awaiting the doctor's approval."

int rx_request(struct db *db, struct arena *a, const struct rx_new *r, char id[JOB_ID_LEN + 1],
	       const char **why)
{
	int words = r->request_text && *r->request_text, to_pay;
	const char *ids = rx_ids(a, r), *p[4];
	PGresult *res;

	id[0] = '\0';
	if (words == (r->n_medications > 0) || r->n_medications > RX_MEDICATIONS_MAX || ids == NULL) {
		if (why)
			*why = "Choose your medications, or describe what you need, not both.";
		return RX_REFUSED;
	}
	if (!words) {
		p[0] = ids; p[1] = r->clinic_id; p[2] = r->recipient_id;
		if ((res = db_exec(db, "rx_medications_ok", 3, p)) == NULL)
			return RX_FAILED;
		to_pay = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (!to_pay) {
			if (why)
				*why = "One of these medications cannot be requested again (stopped, or no repeats left).";
			return RX_REFUSED;
		}
	}
	p[0] = r->clinic_id; p[1] = r->recipient_id; p[2] = r->user_id; p[3] = r->request_text;
	if ((res = db_exec(db, "rx_create", 4, p)) == NULL)
		return RX_FAILED;
	if (PQntuples(res) != 1) {
		PQclear(res);
		if (why)
			*why = "This clinic does not look after this person or pet.";
		return RX_REFUSED;
	}
	snprintf(id, JOB_ID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	to_pay = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	p[0] = id; p[1] = ids; p[2] = r->clinic_id; p[3] = r->recipient_id;
	if (!words && rx_run(db, "rx_items", 4, p) < 0)
		return RX_FAILED;
	if (to_pay)
		return rx_pay(db, a, id, r->clinic_id) < 0 ? RX_FAILED : RX_DONE;
	return rx_move(db, a, id, "awaiting approval", NULL, "no fee to pay", r->user_id,
		       RX_AWAITING_SUBJECT, RX_AWAITING_BODY) < 0 ? RX_FAILED : RX_DONE;
}

/* The locked prescription (RX_LOCK) `rx_id` for `user_id` acting for
 * `clinic_id` (NULL: the patient) into *res. Returns RX_DONE,
 * RX_NOT_FOUND or RX_FAILED. */
static int rx_lock(struct db *db, const char *rx_id, const char *user_id, const char *clinic_id,
		   PGresult **res)
{
	const char *p[3] = { rx_id, user_id, clinic_id };

	if (!rx_uuid(rx_id))
		return RX_NOT_FOUND;
	if ((*res = db_exec(db, "rx_lock", 3, p)) == NULL)
		return RX_FAILED;
	if (PQntuples(*res) == 1)
		return RX_DONE;
	PQclear(*res);
	*res = NULL;
	return RX_NOT_FOUND;
}

/* Refuses with `text` (into *why, if asked). */
static int rx_refuse(const char **why, const char *text)
{
	if (why)
		*why = text;
	return RX_REFUSED;
}

int rx_retry_payment(struct db *db, struct arena *a, const char *rx_id, const char *user_id,
		     const char **why)
{
	PGresult *res;
	const char *clinic;
	int rc = rx_lock(db, rx_id, user_id, NULL, &res);

	if (rc != RX_DONE)
		return rc;
	clinic = arena_strdup(a, PQgetvalue(res, 0, 2));
	rc = strcmp(PQgetvalue(res, 0, 0), "payment failed") != 0;
	PQclear(res);
	if (rc)
		return rx_refuse(why, "The payment can be retried only after it failed.");
	if (rx_move(db, a, rx_id, "payment processing", user_id, "payment retried", NULL, NULL, NULL) < 0 ||
	    rx_pay(db, a, rx_id, clinic) < 0)
		return RX_FAILED;
	return RX_DONE;
}

int rx_cancel(struct db *db, struct arena *a, const char *rx_id, const char *user_id,
	      const char **why)
{
	const char *p[1] = { rx_id };
	PGresult *res;
	int rc = rx_lock(db, rx_id, user_id, NULL, &res);

	if (rc != RX_DONE)
		return rc;
	rc = strcmp(PQgetvalue(res, 0, 0), "requested") && strcmp(PQgetvalue(res, 0, 0), "payment failed");
	PQclear(res);
	if (rc)
		return rx_refuse(why, "This prescription can no longer be cancelled.");
	if (rx_move(db, a, rx_id, "cancelled", user_id, "cancelled by the patient", NULL, NULL, NULL) < 0 ||
	    rx_run(db, "rx_payment_cancel", 1, p) < 0)
		return RX_FAILED;
	return RX_DONE;
}

/* The locked prescription `rx_id` of clinic `clinic_id` for its doctor
 * `doctor_id`, if it awaits approval; its requester into *requester.
 * Returns RX_DONE, RX_REFUSED (why set: already issued or declined, not
 * yet paid, `filled` and a medication not filled in), RX_NOT_FOUND or
 * RX_FAILED. */
static int rx_lock_awaiting(struct db *db, struct arena *a, const char *rx_id, const char *doctor_id,
			    const char *clinic_id, int filled, const char **requester, const char **why)
{
	PGresult *res;
	const char *status;
	int rc = rx_lock(db, rx_id, doctor_id, clinic_id, &res);

	if (rc != RX_DONE)
		return rc;
	status = arena_strdup(a, PQgetvalue(res, 0, 0));
	*requester = arena_strdup(a, PQgetvalue(res, 0, 1));
	rc = filled && (atoi(PQgetvalue(res, 0, 3)) == 0 || atoi(PQgetvalue(res, 0, 4)) > 0);
	PQclear(res);
	if (strcmp(status, "ready") == 0)
		return rx_refuse(why, "This prescription has already been issued.");
	if (strcmp(status, "declined") == 0)
		return rx_refuse(why, "This prescription has already been declined.");
	if (strcmp(status, "awaiting approval") != 0)
		return rx_refuse(why, "This prescription is not awaiting approval.");
	if (rc)
		return rx_refuse(why, "Fill in the medication, its dosage and quantity first.");
	return RX_DONE;
}

int rx_approve(struct db *db, struct arena *a, const char *rx_id, const char *doctor_id,
	       const char *clinic_id, const char **why)
{
	const char *p[2] = { rx_id, doctor_id }, *requester;
	int rc = rx_lock_awaiting(db, a, rx_id, doctor_id, clinic_id, 1, &requester, why);

	if (rc != RX_DONE)
		return rc;
	if (rx_run(db, "rx_approve", 2, p) < 0 || rx_run(db, "rx_repeats", 1, p) < 0 ||
	    msg_post_auto(db, a, requester, "Prescription: ready",
			  "Your prescription is ready. You can download it from the prescription page.",
			  rx_id, NULL) == NULL)
		return RX_FAILED;
	return RX_DONE;
}

int rx_decline(struct db *db, struct arena *a, const char *rx_id, const char *doctor_id,
	       const char *clinic_id, const char *reason, const char **why)
{
	const char *p[3] = { rx_id, doctor_id, reason }, *requester, *pay_id;
	PGresult *res;
	size_t n = reason ? strlen(reason) : 0;
	int rc;

	if (n == 0 || n > 1000)
		return rx_refuse(why, "Give a reason, up to 1,000 characters.");
	if ((rc = rx_lock_awaiting(db, a, rx_id, doctor_id, clinic_id, 0, &requester, why)) != RX_DONE)
		return rc;
	if ((res = db_exec(db, "rx_decline", 3, p)) == NULL)
		return RX_FAILED;
	pay_id = PQgetisnull(res, 0, 0) ? NULL : arena_strdup(a, PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((pay_id && rx_enqueue(db, "payment.refund", pay_id, clinic_id) < 0) ||
	    msg_post_auto(db, a, requester, "Prescription: declined",
			  arena_printf(a, "Declined: %s%s", reason,
				       pay_id ? "; your payment was refunded." : "."),
			  rx_id, NULL) == NULL)
		return RX_FAILED;
	return RX_DONE;
}

/* The job's payment id (its payload's "payment_id"), or NULL. */
static const char *rx_payment_id(const struct job *j)
{
	struct json_object *v;
	const char *id;

	if (!json_object_object_get_ex(j->payload, "payment_id", &v) ||
	    (id = json_object_get_string(v)) == NULL || !rx_uuid(id))
		return NULL;
	return id;
}

/* The time `CAREBOX_PAY_RETRY_MS` (default RX_RETRY_MS) from now, as a
 * timestamptz in arena `a`: when a failed charge is tried again. */
static const char *rx_retry_at(struct arena *a)
{
	const char *env = getenv("CAREBOX_PAY_RETRY_MS");
	long ms = env && atol(env) > 0 ? atol(env) : RX_RETRY_MS;
	struct timespec now;
	struct tm tm;
	char at[32];
	time_t t;

	clock_gettime(CLOCK_REALTIME, &now);
	ms += now.tv_nsec / 1000000L;
	t = now.tv_sec + ms / 1000;
	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S", &tm);
	return arena_printf(a, "%s.%03ld+00", at, ms % 1000);
}

/* What the charge job knows of its payment (rx_charge_lock). */
struct rx_charge {
	const char *pay_id, *pay_status, *rx_status, *amount, *currency, *key, *provider;
	const char *clinic_id, *rx_id, *requester;
	int attempt;		/* this one's number: the answered ones + 1 */
};

/* The first transaction of a charge attempt: locks the payment and its
 * prescription into `c` and, unless there is nothing to do (settled, or
 * cancelled before a first attempt: returns 0), records the attempt as
 * started, the prescription "payment processing". Returns 1 to charge, 0
 * when done, -1 on a database failure (rolled back). */
static int rx_charge_begin(struct job *j, struct rx_charge *c)
{
	struct db *db = j->db;
	const char *p[2] = { c->pay_id, NULL };
	PGresult *res;
	char num[16];
	int go = -1;

	if (db_command(db, "BEGIN") < 0 || (res = db_exec(db, "rx_charge_lock", 1, p)) == NULL)
		goto out;
	if (PQntuples(res) == 1) {
		c->pay_status = row_text(j->arena, res, 0, "pay_status");
		c->rx_status = row_text(j->arena, res, 0, "rx_status");
		c->amount = row_text(j->arena, res, 0, "amount");
		c->currency = row_text(j->arena, res, 0, "currency");
		c->key = row_text(j->arena, res, 0, "idempotency_key");
		c->provider = row_text(j->arena, res, 0, "provider");
		c->clinic_id = row_text(j->arena, res, 0, "clinic_id");
		c->rx_id = row_text(j->arena, res, 0, "rx_id");
		c->requester = row_text(j->arena, res, 0, "requested_by");
		c->attempt = atoi(row_text(j->arena, res, 0, "answered")) + 1;
	}
	go = PQntuples(res) == 1 && (!strcmp(c->pay_status, "pending") || !strcmp(c->pay_status, "processing"));
	PQclear(res);
	if (go && !strcmp(c->rx_status, "cancelled")) {
		go = rx_run(db, "rx_payment_set", 2, (const char *[]){ c->pay_id, "cancelled", NULL, NULL }) < 0
			? -1 : 0;
	} else if (go && !strcmp(c->rx_status, "requested")) {
		go = rx_move(db, j->arena, c->rx_id, "payment processing", NULL, "payment started",
			     NULL, NULL, NULL) < 0 ? -1 : 1;
	} else if (go && strcmp(c->rx_status, "payment processing") != 0) {
		go = 0;		/* the state machine allows nothing else: settled */
	}
	if (go == 1) {
		snprintf(num, sizeof(num), "%d", c->attempt);
		p[1] = num;
		go = rx_run(db, "rx_charge_start", 2, p) < 0 ? -1 : 1;
	}
out:
	if (go < 0 || db_command(db, "COMMIT") < 0) {
		db_end_request(db);
		return -1;
	}
	return go;
}

/* The last transaction of a charge attempt: its answer `ans` recorded;
 * approved, "awaiting approval"; a failure, "payment failed" when `last`.
 * Returns 0, or -1 on a database failure (rolled back). */
static int rx_charge_end(struct job *j, const struct rx_charge *c, const struct pay_answer *ans,
			 int last)
{
	static const char *const results[] = { "approved", "declined", "error" };
	struct db *db = j->db;
	int ok = ans->result == PAY_APPROVED;
	char num[16];
	const char *p[6] = { c->pay_id, num, results[ans->result], ok ? NULL : ans->text,
			     ok ? ans->text : NULL, ans->replayed ? "true" : "false" };
	const char *set[4] = { c->pay_id, ok ? "approved" : last ? "failed" : "processing",
			       ok ? NULL : ans->text, ok ? ans->text : NULL };
	int rc;

	snprintf(num, sizeof(num), "%d", c->attempt);
	rc = db_command(db, "BEGIN") < 0 || rx_run(db, "rx_charge_answer", 6, p) < 0 ||
	     rx_run(db, "rx_payment_set", 4, set) < 0;
	if (!rc && ok)
		rc = rx_move(db, j->arena, c->rx_id, "awaiting approval", NULL, "payment approved",
			     c->requester, RX_AWAITING_SUBJECT, RX_AWAITING_BODY);
	else if (!rc && last)
		rc = rx_move(db, j->arena, c->rx_id, "payment failed", NULL, ans->text, c->requester,
			     "Prescription: payment failed",
			     arena_printf(j->arena, "Payment failed: %s. You can retry from the prescription page.",
					  ans->text));
	if (rc || db_command(db, "COMMIT") < 0) {
		db_end_request(db);
		return -1;
	}
	return 0;
}

enum job_outcome rx_charge_job(struct job *j)
{
	struct rx_charge c = { .pay_id = rx_payment_id(j) };
	const struct pay_provider *prov;
	struct pay_answer ans;
	int go, last;

	if (c.pay_id == NULL) {
		j->error = "no payment_id in the payload";
		return JOB_FAILED;
	}
	if ((go = rx_charge_begin(j, &c)) == 0)
		return JOB_DONE;
	if (go < 0) {
		j->error = "the database failed";
		return JOB_RETRY;
	}
	if ((prov = pay_find(c.provider)) == NULL) {
		ans = (struct pay_answer){ PAY_ERROR, "the payment provider is not configured", 0 };
	} else {
		prov->charge(j->db, j->arena, c.clinic_id, c.amount, c.currency, c.key, &ans);
	}
	last = ans.result != PAY_APPROVED &&
	       (c.attempt >= RX_CHARGE_ATTEMPTS || j->attempt >= j->max_attempts);
	if (rx_charge_end(j, &c, &ans, last) < 0) {
		j->error = "the database failed after the charge";
		return JOB_RETRY;	/* the same key: the provider answers the same */
	}
	if (ans.result == PAY_APPROVED)
		return JOB_DONE;
	j->error = arena_printf(j->arena, "payment attempt %d: %s", c.attempt, ans.text);
	if (last)
		return JOB_FAILED;
	j->retry_at = rx_retry_at(j->arena);
	return JOB_RETRY;
}

enum job_outcome rx_refund_job(struct job *j)
{
	const char *pay_id = rx_payment_id(j), *p[2] = { pay_id, NULL };
	const char *reference = NULL, *provider = NULL, *clinic = NULL;
	const struct pay_provider *prov;
	struct pay_answer ans;
	PGresult *res;
	int go;

	if (pay_id == NULL) {
		j->error = "no payment_id in the payload";
		return JOB_FAILED;
	}
	if ((res = db_exec(j->db, "rx_refund_lock", 1, p)) == NULL) {
		j->error = "the database failed";
		return JOB_RETRY;
	}
	go = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "approved") == 0;
	if (go) {
		reference = row_text(j->arena, res, 0, "provider_reference");
		provider = row_text(j->arena, res, 0, "provider");
		clinic = row_text(j->arena, res, 0, "clinic_id");
	}
	PQclear(res);
	if (!go)
		return JOB_DONE;	/* refunded already, or nothing to refund */
	if ((prov = pay_find(provider)) == NULL)
		ans = (struct pay_answer){ PAY_ERROR, "the payment provider is not configured", 0 };
	else
		prov->refund(j->db, j->arena, clinic, reference, &ans);
	if (ans.result != PAY_APPROVED) {
		j->error = arena_printf(j->arena, "refund: %s", ans.text);
		return ans.result == PAY_DECLINED ? JOB_FAILED : JOB_RETRY;
	}
	p[1] = ans.text;
	if (rx_run(j->db, "rx_refunded", 2, p) < 0) {
		j->error = "the database failed after the refund";
		return JOB_RETRY;	/* the same reference: refunded once */
	}
	return JOB_DONE;
}
