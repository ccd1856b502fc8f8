/* test_rx.c - prescriptions against PostgreSQL (sql/0023_prescriptions.sql,
 * src/rx.c, src/pay_sim.c): every legal status change and every illegal
 * one refused by the database itself, the timeline, the scope function;
 * the payment simulator (a seed, idempotency keys, the ledger); requests,
 * approval, decline, cancel and the manual retry; the charge and refund
 * jobs' handlers run here directly, attempt by attempt. The jobs this test
 * adds are pushed far into the future in the transaction that adds them,
 * so the stack's worker never takes them (tests/http/payments.test.js
 * runs the real worker). */
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dbtest.h"
#include "jobs.h"
#include "msg.h"
#include "pay.h"
#include "rx.h"

static const char *STATUSES[] = {
	"requested", "payment processing", "payment failed", "awaiting approval", "ready",
	"declined", "cancelled", NULL
};

static const char *clinic, *patient, *self_id, *doctor, *admin_id, *stranger;

/* Runs `sql` as the owner; returns "" on success, else the SQLSTATE (in A). */
static const char *try_sql(const char *sql, int n, const char *const *p)
{
	PGresult *res = PQexecParams(OWNER, sql, n, NULL, p, NULL, NULL, 0);
	const char *state = "";

	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
		state = arena_strdup(A, PQresultErrorField(res, PG_DIAG_SQLSTATE));
	PQclear(res);
	return state;
}

/* A new prescription of the test's patient with fee `fee` and one filled
 * item, as the owner; returns its id. */
static const char *new_rx(const char *fee)
{
	const char *p[4] = { clinic, self_id, patient, fee };
	const char *id = q("INSERT INTO prescriptions (clinic_id, recipient_id, requested_by, fee, currency)"
			   " VALUES ($1, $2, $3, $4::numeric, 'GBP') RETURNING id", 4, p);

	q("INSERT INTO prescription_items (prescription_id, name, dosage, quantity)"
	  " VALUES ($1, 'Salbutamol', 'Two puffs when needed', 1)", 1, &id);
	return id;
}

/* Sets prescription `id`'s status to `to` as the owner, with what each
 * state needs besides (a reason for 'declined', the deciding doctor), so
 * that only the trigger can refuse. Returns "" or the SQLSTATE. */
static const char *move(const char *id, const char *to)
{
	const char *p[3] = { id, to, doctor };

	return try_sql("UPDATE prescriptions SET status = $2::prescription_status, status_by = $3,"
		       " status_note = 'test', decided_by = $3, decided_at = now(),"
		       " decline_reason = CASE WHEN $2 = 'declined' THEN 'not suitable' END"
		       " WHERE id = $1", 3, p);
}

/* Adds an approved payment to prescription `id` (as the charge job would). */
static void approved_payment(const char *id)
{
	q("INSERT INTO payments (prescription_id, user_id, amount, currency, status, provider,"
	  " idempotency_key, provider_reference, approved_at)"
	  " SELECT id, requested_by, fee, currency, 'approved', 'sim', gen_random_uuid()::text, 'ref', now()"
	  " FROM prescriptions WHERE id = $1", 1, &id);
}

/* A prescription brought to `state` along legal changes; its fee is 0 for
 * 'awaiting approval' and after unless `paid`. */
static const char *reach(const char *state, int paid)
{
	const char *id;

	if (!strcmp(state, "awaiting approval") || !strcmp(state, "ready") || !strcmp(state, "declined")) {
		id = new_rx(paid ? "9.50" : "0");
		if (paid) {
			move(id, "payment processing");
			approved_payment(id);
		}
		move(id, "awaiting approval");
		if (strcmp(state, "awaiting approval"))
			move(id, state);
		return id;
	}
	id = new_rx("9.50");
	if (!strcmp(state, "payment processing") || !strcmp(state, "payment failed"))
		move(id, "payment processing");
	if (!strcmp(state, "payment failed"))
		move(id, "payment failed");
	if (!strcmp(state, "cancelled"))
		move(id, "cancelled");
	return id;
}

/* 1 if from -> to is in the diagram. */
static int legal(const char *from, const char *to)
{
	const char *p[2] = { from, to };

	return !strcmp(q("SELECT count(*) FROM prescription_transitions"
			 " WHERE from_status = $1::prescription_status AND to_status = $2::prescription_status",
			 2, p), "1");
}

static void test_transitions(void)
{
	static const char *const diagram[][2] = {
		{ "requested", "payment processing" }, { "requested", "awaiting approval" },
		{ "payment processing", "awaiting approval" }, { "payment processing", "payment failed" },
		{ "payment failed", "payment processing" }, { "awaiting approval", "ready" },
		{ "awaiting approval", "declined" }, { "requested", "cancelled" },
		{ "payment failed", "cancelled" }
	};
	int nlegal = 0, nillegal = 0, bad = 0;

	is_str(q("SELECT count(*) FROM prescription_transitions", 0, NULL), "9",
	       "the table holds the nine changes of the diagram");
	for (size_t i = 0; i < sizeof(diagram) / sizeof(diagram[0]); i++)
		ok(legal(diagram[i][0], diagram[i][1]), "%s -> %s is legal", diagram[i][0], diagram[i][1]);
	for (int f = 0; STATUSES[f]; f++) {
		for (int t = 0; STATUSES[t]; t++) {
			const char *from = STATUSES[f], *to = STATUSES[t], *id, *got;
			int want;

			if (f == t)
				continue;
			/* requested -> awaiting approval: the zero fee's way. */
			id = !strcmp(from, "requested") && !strcmp(to, "awaiting approval") ? new_rx("0")
			   : reach(from, 0);
			is_str(q("SELECT status::text FROM prescriptions WHERE id = $1", 1, &id), from,
			       "a prescription reaches %s", from);
			if (!strcmp(from, "payment processing") && !strcmp(to, "awaiting approval"))
				approved_payment(id);
			want = legal(from, to);
			got = move(id, to);
			if (want) {
				nlegal++;
				is_str(got, "", "%s -> %s is taken", from, to);
				is_str(q("SELECT status::text FROM prescriptions WHERE id = $1", 1, &id), to,
				       "and stored");
			} else {
				nillegal++;
				bad |= strcmp(got, "CB001") != 0;
				is_str(got, "CB001", "%s -> %s is refused by the database (CB001)", from, to);
				is_str(q("SELECT status::text FROM prescriptions WHERE id = $1", 1, &id), from,
				       "and nothing changed");
			}
		}
	}
	ok(nlegal == 9 && nillegal == 33, "9 legal changes taken, 33 illegal ones refused (%d, %d)",
	   nlegal, nillegal);
}

static void test_fee_rules(void)
{
	const char *paid = new_rx("9.50"), *free_rx = new_rx("0"), *p[4];
	const char *unpaid;

	is_str(move(paid, "awaiting approval"), "CB001", "a fee to pay: requested -> awaiting approval refused");
	is_str(move(free_rx, "payment processing"), "CB001", "a zero fee: requested -> payment processing refused");
	is_str(move(free_rx, "awaiting approval"), "", "a zero fee skips payment");
	unpaid = reach("payment processing", 1);
	is_str(move(unpaid, "awaiting approval"), "CB001",
	       "payment processing -> awaiting approval without an approved payment: refused");
	p[0] = clinic; p[1] = self_id; p[2] = patient; p[3] = NULL;
	is_str(try_sql("INSERT INTO prescriptions (clinic_id, recipient_id, requested_by, fee, currency, status)"
		       " VALUES ($1, $2, $3, 0, 'GBP', 'ready')", 3, p), "CB001",
	       "a new prescription cannot start anywhere but requested");
	p[0] = new_rx("0");
	move(p[0], "awaiting approval");
	q("UPDATE prescription_items SET quantity = NULL WHERE prescription_id = $1", 1, p);
	is_str(move(p[0], "ready"), "CB001", "ready with a medication not filled in: refused");
	q("DELETE FROM prescription_items WHERE prescription_id = $1", 1, p);
	is_str(move(p[0], "ready"), "CB001", "ready without any medication: refused");
	is_str(try_sql("UPDATE prescriptions SET status = 'declined', decided_by = requested_by,"
		       " decided_at = now() WHERE id = $1", 1, p), "23514",
	       "declined without a reason: refused (a CHECK)");
}

static void test_timeline(void)
{
	const char *id = reach("payment failed", 0);

	is_str(q("SELECT string_agg(coalesce(from_status::text, '-') || '>' || to_status"
		 " || ' ' || (actor_id = $2 OR (from_status IS NULL AND actor_id = $3)) || ' ' || coalesce(note, '-'),"
		 " ', ' ORDER BY id) FROM prescription_events WHERE prescription_id = $1", 3,
		 (const char *[]){ id, doctor, patient }),
	       "->requested true -, requested>payment processing true test, payment processing>payment failed true test",
	       "each status change is a timeline row: from, to, who, the note");
	is_str(q("SELECT bool_and(at IS NOT NULL AND kind = 'status') FROM prescription_events"
		 " WHERE prescription_id = $1", 1, &id), "t", "with its time");
}

static void test_scope(void)
{
	const char *id = new_rx("0"), *other = q("INSERT INTO clinics (name) VALUES"
		" ('Rx other ' || gen_random_uuid()) RETURNING id", 0, NULL);
	const char *sql = "SELECT count(*) FROM viewer_prescriptions($1, $2) WHERE id = $3";

	is_str(q(sql, 3, (const char *[]){ patient, NULL, id }), "1", "the patient who requested it sees it");
	is_str(q(sql, 3, (const char *[]){ doctor, clinic, id }), "1", "a doctor of the clinic, acting for it");
	is_str(q(sql, 3, (const char *[]){ admin_id, clinic, id }), "1", "an admin of the clinic");
	is_str(q(sql, 3, (const char *[]){ doctor, other, id }), "0", "not the doctor acting for another clinic");
	is_str(q(sql, 3, (const char *[]){ stranger, NULL, id }), "0", "not a stranger");
	is_str(q(sql, 3, (const char *[]){ stranger, clinic, id }), "0",
	       "nor a patient of the clinic claiming to act for it");
}


/* The simulator's settings for merchant `clinic_id` (as the owner). */
static void sim_set(const char *merchant, const char *mode, const char *rate, const char *latency,
		    const char *seed)
{
	const char *p[5] = { merchant, mode, rate, latency, seed };

	q("INSERT INTO pay_sim_settings (merchant, mode, fail_rate, latency_ms, seed)"
	  " VALUES ($1, $2, $3::numeric, $4::int, $5::bigint) ON CONFLICT (merchant) DO UPDATE"
	  " SET mode = $2, fail_rate = $3::numeric, latency_ms = $4::int, seed = $5::bigint", 5, p);
}

/* The letters of `n` charges of merchant `m` under keys prefix-0.. (a
 * approved, d declined, e error). */
static const char *sim_run(const char *m, const char *prefix, int n)
{
	char *out = arena_alloc(A, (size_t)n + 1);
	struct pay_answer ans;

	for (int i = 0; i < n; i++) {
		pay_sim.charge(DB, A, m, "9.50", "GBP", arena_printf(A, "%s-%d", prefix, i), &ans);
		out[i] = "ade"[ans.result];
	}
	out[n] = '\0';
	return out;
}

/* Money moved under ledger key `key` (not replays, approved), as text. */
static const char *moved(const char *kind, const char *key)
{
	const char *p[2] = { kind, key };

	return q("SELECT count(*) FROM pay_sim_ledger WHERE kind = $1 AND key = $2 AND result = 'approved'"
		 " AND NOT replay", 2, p);
}

static void test_simulator(void)
{
	const char *m = q("SELECT 'sim-' || gen_random_uuid()", 0, NULL);
	const char *prefix = arena_printf(A, "%s-det", m), *first, *again, *other, *ref;
	struct pay_answer ans;
	struct timespec t0, t1;
	int approved = 0;

	ok(pay_find("sim") == &pay_sim && pay_find("nope") == NULL, "providers are found by name");
	sim_set(m, "flaky", "0.5", "0", "42");
	first = sim_run(m, prefix, 40);
	for (const char *c = first; *c; c++)
		approved += *c == 'a';
	ok(approved > 8 && approved < 32 && !strchr(first, 'd'),
	   "a flaky gateway at 0.5: some approved, some errors (%s)", first);
	q("DELETE FROM pay_sim_ledger WHERE starts_with(key, $1)", 1, &prefix);
	again = sim_run(m, prefix, 40);
	is_str(again, first, "the same seed and keys: the same answers");
	q("DELETE FROM pay_sim_ledger WHERE starts_with(key, $1)", 1, &prefix);
	sim_set(m, "flaky", "0.5", "0", "43");
	other = sim_run(m, prefix, 40);
	ok(strcmp(other, first) != 0, "another seed: other answers (%s)", other);

	sim_set(m, "approve", "0", "0", "1");
	pay_sim.charge(DB, A, m, "9.50", "GBP", arena_printf(A, "%s-once", m), &ans);
	ok(ans.result == PAY_APPROVED && !ans.replayed && strncmp(ans.text, "sim_", 4) == 0,
	   "always approve: approved, with a reference");
	ref = ans.text;
	pay_sim.charge(DB, A, m, "9.50", "GBP", arena_printf(A, "%s-once", m), &ans);
	ok(ans.result == PAY_APPROVED && ans.replayed && strcmp(ans.text, ref) == 0,
	   "the same key again: the first answer, marked a replay");
	is_str(moved("charge", arena_printf(A, "%s-once", m)), "1", "the ledger: charged once");
	is_str(q("SELECT count(*) FROM pay_sim_ledger WHERE key = $1", 1,
		 (const char *[]){ arena_printf(A, "%s-once", m) }), "2", "two calls recorded");

	sim_set(m, "flaky", "1", "0", "1");
	pay_sim.charge(DB, A, m, "5.00", "GBP", arena_printf(A, "%s-err", m), &ans);
	ok(ans.result == PAY_ERROR && !strcmp(ans.text, "the payment service did not answer"),
	   "a failure rate of 1: an error");
	sim_set(m, "flaky", "0", "0", "1");
	pay_sim.charge(DB, A, m, "5.00", "GBP", arena_printf(A, "%s-err", m), &ans);
	ok(ans.result == PAY_APPROVED && !ans.replayed, "an error is not remembered: the key may succeed next");

	sim_set(m, "decline", "0", "0", "1");
	pay_sim.charge(DB, A, m, "5.00", "GBP", arena_printf(A, "%s-dec", m), &ans);
	ok(ans.result == PAY_DECLINED && !strcmp(ans.text, "card declined"), "always decline: card declined");
	sim_set(m, "approve", "0", "0", "1");
	pay_sim.charge(DB, A, m, "5.00", "GBP", arena_printf(A, "%s-dec", m), &ans);
	ok(ans.result == PAY_DECLINED && ans.replayed, "a declined key stays declined (the first answer)");

	pay_sim.refund(DB, A, m, ref, &ans);
	ok(ans.result == PAY_APPROVED && !ans.replayed, "a refund of the charge");
	other = ans.text;
	pay_sim.refund(DB, A, m, ref, &ans);
	ok(ans.result == PAY_APPROVED && ans.replayed && !strcmp(ans.text, other),
	   "asked again: the same refund, a replay");
	is_str(moved("refund", ref), "1", "the ledger: refunded once");
	pay_sim.refund(DB, A, m, "sim_nosuch", &ans);
	ok(ans.result == PAY_DECLINED && !strcmp(ans.text, "no such charge"), "a reference never charged: declined");
	is_str(q("SELECT amount::text FROM pay_sim_ledger WHERE kind = 'refund' AND key = $1 AND NOT replay",
		 1, &ref), "9.50", "the refund is of the charge's amount");

	sim_set(m, "approve", "0", "300", "1");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pay_sim.charge(DB, A, m, "5.00", "GBP", arena_printf(A, "%s-slow", m), &ans);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ok((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 300,
	   "the latency setting: the answer takes 300 ms");
	is_str(moved("charge", arena_printf(A, "%s-slow", m)), "1", "recorded before the answer comes back");
}

/* A medication of the test's patient's self at the clinic, as the owner. */
static const char *medication(const char *name, int repeats_left, int active)
{
	const char *p[6] = { clinic, self_id, name, arena_printf(A, "%d", repeats_left),
			     active ? "true" : "false", doctor };

	return q("INSERT INTO medications (clinic_id, recipient_id, name, strength, form, dosage, quantity,"
		 " repeats_allowed, repeats_left, active, stopped_at, created_by)"
		 " VALUES ($1, $2, $3, '100 micrograms', 'inhaler', 'Two puffs when needed', 1, 5, $4::int,"
		 " $5::boolean, CASE WHEN $5::boolean THEN NULL ELSE now() END, $6) RETURNING id", 6, p);
}

/* rx_request() in a transaction of its own as a page's would be, its
 * charge job pushed a century away before the commit (the stack's worker
 * must not take it: this test runs the handler itself). Returns the
 * outcome; the new id in `id`. */
static int request(const char *clinic_id, const char *recipient, const char *user,
		   const char *const *meds, int n, const char *words, char id[JOB_ID_LEN + 1],
		   const char **why)
{
	struct rx_new r = { clinic_id, recipient, user, meds, n, words };
	int rc;

	db_command(DB, "BEGIN");
	rc = rx_request(DB, A, &r, id, why);
	if (rc == RX_DONE)
		PQclear(db_exec_once(DB, "rx_test_hold", "UPDATE jobs SET run_at = now() + interval '100 years'"
				     " WHERE payload ->> 'payment_id' IN (SELECT id::text FROM payments"
				     " WHERE prescription_id = $1)", 1, (const char *[]){ id }));
	db_command(DB, rc == RX_DONE ? "COMMIT" : "ROLLBACK");
	return rc;
}

/* Runs one of rx_retry_payment, rx_cancel (patient `user`) in a
 * transaction of its own, holding back a job it queues as request() does. */
static int patient_act(int (*fn)(struct db *, struct arena *, const char *, const char *, const char **),
		       const char *id, const char *user, const char **why)
{
	int rc;

	db_command(DB, "BEGIN");
	rc = fn(DB, A, id, user, why);
	if (rc == RX_DONE)
		PQclear(db_exec_once(DB, "rx_test_hold", "UPDATE jobs SET run_at = now() + interval '100 years'"
				     " WHERE payload ->> 'payment_id' IN (SELECT id::text FROM payments"
				     " WHERE prescription_id = $1)", 1, (const char *[]){ id }));
	db_command(DB, rc == RX_DONE ? "COMMIT" : "ROLLBACK");
	return rc;
}

/* The status of prescription `id`. */
static const char *status(const char *id)
{
	return q("SELECT status::text FROM prescriptions WHERE id = $1", 1, &id);
}

/* The latest payment of prescription `id`: "status retry_count". */
static const char *payment_of(const char *id)
{
	return q("SELECT id FROM payments WHERE prescription_id = $1 ORDER BY created_at DESC, id LIMIT 1",
		 1, &id);
}

/* Runs kind `kind`'s handler for payment `pay_id` as attempt `attempt` of
 * its job, as a worker would (no transaction open). */
static enum job_outcome run_job(const char *kind, const char *pay_id, int attempt, struct job *j)
{
	enum job_outcome o;

	memset(j, 0, sizeof(*j));
	j->kind = jobs_kind(kind);
	j->id = "00000000-0000-0000-0000-000000000000";
	j->attempt = attempt;
	j->max_attempts = j->kind->max_attempts;
	j->payload = json_object_new_object();
	json_object_object_add(j->payload, "payment_id", json_object_new_string(pay_id));
	j->db = DB;
	j->arena = A;
	o = j->kind->run(j);
	json_object_put(j->payload);
	return o;
}

/* The latest auto message to `user` about prescription `id`: its body. */
static const char *last_message(const char *user, const char *id)
{
	return q("SELECT m.body FROM messages m JOIN inboxes i ON i.id = m.inbox_id"
		 " WHERE i.user_id = $1 AND m.prescription_id = $2 AND m.routing = 'auto'"
		 " ORDER BY m.created_at DESC, m.id DESC LIMIT 1", 2, (const char *[]){ user, id });
}

static void test_request(void)
{
	const char *med = medication("Salbutamol", 2, 1), *stopped = medication("Old", 2, 0);
	const char *spent = medication("Spent", 0, 1), *why = NULL;
	const char *other_self = q("SELECT id FROM care_recipients WHERE owner_id = $1 AND kind = 'self'",
				   1, &stranger);
	char id[JOB_ID_LEN + 1];
	const char *before = q("SELECT count(*) FROM prescriptions", 0, NULL), *pay;

	ok(request(clinic, self_id, patient, (const char *[]){ med, stopped }, 2, NULL, id, &why) == RX_REFUSED,
	   "a stopped medication is refused: %s", why);
	ok(request(clinic, self_id, patient, &spent, 1, NULL, id, &why) == RX_REFUSED,
	   "one without repeats left too");
	ok(request(clinic, self_id, patient, &med, 1, "and something else", id, &why) == RX_REFUSED,
	   "both medications and words: refused (%s)", why);
	ok(request(clinic, self_id, patient, NULL, 0, "", id, &why) == RX_REFUSED, "neither: refused");
	ok(request(clinic, self_id, patient, (const char *[]){ "not-an-id" }, 1, NULL, id, &why) == RX_REFUSED,
	   "an id that is not one: refused");
	ok(request(clinic, other_self, patient, NULL, 0, "Something for my cough", id, &why) == RX_REFUSED,
	   "someone else's recipient: refused (%s)", why);
	is_str(q("SELECT count(*) FROM prescriptions", 0, NULL), before, "and nothing was written");

	ok(request(clinic, self_id, patient, (const char *[]){ med, med }, 2, NULL, id, &why) == RX_DONE,
	   "a repeat request (the same medication named twice) is made");
	is_str(status(id), "requested", "requested");
	is_str(q("SELECT fee || ' ' || currency FROM prescriptions WHERE id = $1", 1, (const char *[]){ id }),
	       "9.50 GBP", "at the clinic's fee");
	is_str(q("SELECT string_agg(name || ' ' || strength || ' ' || quantity, ',') FROM prescription_items"
		 " WHERE prescription_id = $1", 1, (const char *[]){ id }), "Salbutamol 100 micrograms 1",
	       "its medication copied once");
	pay = payment_of(id);
	is_str(q("SELECT status || ' ' || amount || ' ' || currency || ' ' || provider || ' '"
		 " || starts_with(idempotency_key, 'carebox:') FROM payments WHERE id = $1", 1, &pay),
	       "pending 9.50 GBP sim true", "its payment waits, with its own idempotency key");
	is_str(q("SELECT kind || ' ' || unique_key || ' ' || (clinic_id = $2) FROM jobs"
		 " WHERE payload ->> 'payment_id' = $1", 2, (const char *[]){ pay, clinic }),
	       arena_printf(A, "payment.charge payment.charge:%s true", pay),
	       "and its charge job, in the same transaction, keyed by the payment");
}

static void test_zero_fee(void)
{
	const char *cl = q("INSERT INTO clinics (name) VALUES ('Rx free ' || gen_random_uuid()) RETURNING name",
			   0, NULL);
	const char *who = db_user("patient", cl, "Rxfree"), *why = NULL;
	const char *cid = q("SELECT id FROM clinics WHERE name = $1", 1, &cl);
	const char *me = q("SELECT id FROM care_recipients WHERE owner_id = $1", 1, &who);
	char id[JOB_ID_LEN + 1];

	ok(request(cid, me, who, NULL, 0, "Something for hay fever", id, &why) == RX_DONE,
	   "a request in the patient's own words, at a clinic without a fee");
	is_str(status(id), "awaiting approval", "a zero fee skips payment: awaiting approval at once");
	is_str(q("SELECT count(*) FROM payments WHERE prescription_id = $1", 1, (const char *[]){ id }), "0",
	       "no payment");
	is_str(last_message(who, id), "Awaiting the doctor's approval.", "the patient is told, in their inbox");
	is_str(q("SELECT request_text FROM prescriptions WHERE id = $1", 1, (const char *[]){ id }),
	       "Something for hay fever", "their words kept");
}

static void test_charge_job(void)
{
	const char *med = medication("Beclometasone", 3, 1), *why = NULL, *pay, *pay2, *key;
	char id[JOB_ID_LEN + 1], id2[JOB_ID_LEN + 1];
	struct job j;

	setenv("CAREBOX_PAY_RETRY_MS", "1500", 1);
	sim_set(clinic, "flaky", "1", "0", "7");
	request(clinic, self_id, patient, &med, 1, NULL, id, &why);
	pay = payment_of(id);
	key = q("SELECT idempotency_key FROM payments WHERE id = $1", 1, &pay);
	ok(run_job("payment.charge", pay, 1, &j) == JOB_RETRY, "a failed first attempt asks for a retry");
	ok(j.retry_at && !strcmp(q("SELECT abs(extract(epoch FROM $1::timestamptz - now()) - 1.5) < 0.5",
				   1, &j.retry_at), "t"), "after CAREBOX_PAY_RETRY_MS (%s)", j.retry_at);
	is_str(status(id), "payment processing", "the prescription: payment processing");
	is_str(q("SELECT status || ' ' || retry_count || ' ' || error_message FROM payments WHERE id = $1", 1, &pay),
	       "processing 0 the payment service did not answer", "the payment: processing, its error");
	ok(run_job("payment.charge", pay, 2, &j) == JOB_RETRY, "the second too");
	is_str(q("SELECT retry_count || ' ' || (last_retry_at IS NOT NULL) FROM payments WHERE id = $1", 1, &pay),
	       "1 true", "one retry so far, and when");
	ok(run_job("payment.charge", pay, 3, &j) == JOB_FAILED, "the third attempt fails the job for good");
	is_str(j.error, "payment attempt 3: the payment service did not answer", "with its reason");
	is_str(status(id), "payment failed", "the prescription: payment failed");
	is_str(q("SELECT status::text FROM payments WHERE id = $1", 1, &pay), "failed", "the payment: failed");
	is_str(q("SELECT string_agg(attempt || ' ' || result || ' ' || idempotency_key, ', ' ORDER BY attempt)"
		 " FROM payment_attempts WHERE payment_id = $1", 1, &pay),
	       arena_printf(A, "1 error %s, 2 error %s, 3 error %s", key, key, key),
	       "each attempt recorded with its result, all under the same key");
	is_str(moved("charge", key), "0", "nothing charged");
	is_str(last_message(patient, id),
	       "Payment failed: the payment service did not answer. You can retry from the prescription page.",
	       "the patient is told, in plain words");
	ok(run_job("payment.charge", pay, 4, &j) == JOB_DONE, "a run after that changes nothing");

	ok(patient_act(rx_retry_payment, id, stranger, &why) == RX_NOT_FOUND, "someone else cannot retry it");
	ok(patient_act(rx_retry_payment, id, patient, &why) == RX_DONE, "the patient retries");
	is_str(status(id), "payment processing", "payment processing again");
	pay2 = payment_of(id);
	ok(strcmp(pay2, pay) != 0 && strcmp(q("SELECT idempotency_key FROM payments WHERE id = $1", 1, &pay2), key),
	   "a new payment, with a new key");
	ok(patient_act(rx_retry_payment, id, patient, &why) == RX_REFUSED, "retrying while it runs: refused (%s)", why);
	ok(patient_act(rx_cancel, id, patient, &why) == RX_REFUSED, "and it cannot be cancelled now (%s)", why);
	sim_set(clinic, "approve", "0", "0", "7");
	ok(run_job("payment.charge", pay2, 1, &j) == JOB_DONE, "the new series' first attempt succeeds");
	is_str(status(id), "awaiting approval", "awaiting approval");
	is_str(q("SELECT status || ' ' || starts_with(provider_reference, 'sim_') || ' ' || (approved_at IS NOT NULL)"
		 " FROM payments WHERE id = $1", 1, &pay2), "approved true true", "the payment approved, its reference");
	is_str(last_message(patient, id), "Awaiting the doctor's approval.", "the patient is told");
	is_str(q("SELECT string_agg(coalesce(from_status::text, '-') || '>' || to_status, ', ' ORDER BY id)"
		 " FROM prescription_events WHERE prescription_id = $1", 1, (const char *[]){ id }),
	       "->requested, requested>payment processing, payment processing>payment failed, "
	       "payment failed>payment processing, payment processing>awaiting approval", "the timeline");

	/* A worker that died after the provider charged, before the answer
	 * was recorded: the next claim asks again with the same key. */
	request(clinic, self_id, patient, &med, 1, NULL, id2, &why);
	pay = payment_of(id2);
	key = q("SELECT idempotency_key FROM payments WHERE id = $1", 1, &pay);
	{
		struct pay_answer ans;

		pay_sim.charge(DB, A, clinic, "9.50", "GBP", key, &ans);
	}
	ok(run_job("payment.charge", pay, 2, &j) == JOB_DONE, "the next run finishes it");
	is_str(q("SELECT result || ' ' || replayed FROM payment_attempts WHERE payment_id = $1", 1, &pay),
	       "approved true", "with the provider's first answer");
	is_str(moved("charge", key), "1", "charged once");
	is_str(status(id2), "awaiting approval", "awaiting approval");

	/* Cancelled before the job's first attempt. */
	request(clinic, self_id, patient, &med, 1, NULL, id2, &why);
	pay = payment_of(id2);
	ok(patient_act(rx_cancel, id2, stranger, &why) == RX_NOT_FOUND, "someone else cannot cancel it");
	ok(patient_act(rx_cancel, id2, patient, &why) == RX_DONE, "the patient cancels a request");
	is_str(status(id2), "cancelled", "cancelled");
	ok(run_job("payment.charge", pay, 1, &j) == JOB_DONE, "its charge job then does nothing");
	is_str(q("SELECT status::text FROM payments WHERE id = $1", 1, &pay), "cancelled", "the payment is cancelled");
	is_str(q("SELECT count(*) FROM pay_sim_ledger WHERE key = (SELECT idempotency_key FROM payments"
		 " WHERE id = $1)", 1, &pay), "0", "and the provider was never asked");
	ok(patient_act(rx_cancel, id, patient, &why) == RX_REFUSED,
	   "one awaiting approval cannot be cancelled (%s)", why);
}

/* Two doctors' approvals at once, on two connections. */
struct approval {
	struct db *db;
	struct arena *a;
	const char *id;
	int rc;
	const char *why;
};

/* One doctor's approval in a transaction of its own. */
static void *approve_thread(void *arg)
{
	struct approval *ap = arg;

	db_command(ap->db, "BEGIN");
	ap->rc = rx_approve(ap->db, ap->a, ap->id, doctor, clinic, &ap->why);
	db_command(ap->db, "COMMIT");
	return NULL;
}

static void test_approve_decline(void)
{
	const char *med = medication("Montelukast", 2, 1), *why = NULL, *pay, *ref, *other_doctor;
	const char *url = getenv("CAREBOX_DATABASE_URL");
	char id[JOB_ID_LEN + 1], id2[JOB_ID_LEN + 1];
	struct approval first = { DB, A, id, 0, NULL }, second = { NULL, NULL, id, 99, NULL };
	pthread_t t;
	struct job j;

	sim_set(clinic, "approve", "0", "0", "7");
	request(clinic, self_id, patient, &med, 1, NULL, id, &why);
	run_job("payment.charge", payment_of(id), 1, &j);
	other_doctor = db_user("doctor", q("SELECT 'Rx elsewhere ' || gen_random_uuid()", 0, NULL), "Rxvet");
	db_command(DB, "BEGIN");
	ok(rx_approve(DB, A, id, other_doctor, clinic, &why) == RX_NOT_FOUND,
	   "another clinic's doctor claiming this clinic: not found");
	db_command(DB, "ROLLBACK");

	/* The first holds the prescription's lock while the second waits. */
	second.db = db_new(url ? url : "", 5000, route_stmts);
	second.a = arena_new(1 << 14);
	db_ensure(second.db);
	db_command(DB, "BEGIN");
	first.rc = rx_approve(DB, A, id, doctor, clinic, &first.why);
	pthread_create(&t, NULL, approve_thread, &second);
	ok(first.rc == RX_DONE, "the first doctor approves");
	sleep(1);
	ok(__atomic_load_n(&second.rc, __ATOMIC_SEQ_CST) == 99, "the second waits for the first's commit");
	db_command(DB, "COMMIT");
	pthread_join(t, NULL);
	ok(second.rc == RX_REFUSED && !strcmp(second.why, "This prescription has already been issued."),
	   "two approvals at once: the second waited and is told it is already issued (%d)", second.rc);
	db_free(second.db);
	arena_free(second.a);
	is_str(status(id), "ready", "ready");
	is_str(q("SELECT (decided_by = $2) || ' ' || (issued_at IS NOT NULL) FROM prescriptions WHERE id = $1",
		 2, (const char *[]){ id, doctor }), "true true", "decided by the doctor, issued");
	is_str(q("SELECT repeats_left FROM medications WHERE id = $1", 1, &med), "1", "one repeat used");
	is_str(last_message(patient, id), "Your prescription is ready. You can download it from the prescription page.",
	       "the patient is told");
	is_str(q("SELECT count(*) FROM messages WHERE prescription_id = $1 AND body LIKE 'Your prescription is ready%'",
		 1, (const char *[]){ id }), "1", "once");

	request(clinic, self_id, patient, &med, 1, NULL, id2, &why);
	pay = payment_of(id2);
	db_command(DB, "BEGIN");
	ok(rx_decline(DB, A, id2, doctor, clinic, "too soon", &why) == RX_REFUSED,
	   "declining before the payment: refused (%s)", why);
	db_command(DB, "ROLLBACK");
	run_job("payment.charge", pay, 1, &j);
	ref = q("SELECT provider_reference FROM payments WHERE id = $1", 1, &pay);
	db_command(DB, "BEGIN");
	ok(rx_decline(DB, A, id2, doctor, clinic, "", &why) == RX_REFUSED, "a decline needs a reason (%s)", why);
	ok(rx_decline(DB, A, id2, doctor, clinic, "Please book a review first", &why) == RX_DONE, "declined");
	PQclear(db_exec_once(DB, "rx_test_hold", "UPDATE jobs SET run_at = now() + interval '100 years'"
			     " WHERE payload ->> 'payment_id' = $1", 1, &pay));
	db_command(DB, "COMMIT");
	is_str(status(id2), "declined", "the prescription is declined");
	is_str(last_message(patient, id2), "Declined: Please book a review first; your payment was refunded.",
	       "the patient is told why, and of the refund");
	is_str(q("SELECT kind || ' ' || unique_key FROM jobs WHERE payload ->> 'payment_id' = $1"
		 " AND kind = 'payment.refund'", 1, &pay), arena_printf(A, "payment.refund payment.refund:%s", pay),
	       "a refund job for the payment");
	db_command(DB, "BEGIN");
	ok(rx_approve(DB, A, id2, doctor, clinic, &why) == RX_REFUSED &&
	   !strcmp(why, "This prescription has already been declined."), "approving it now: refused");
	db_command(DB, "ROLLBACK");
	ok(run_job("payment.refund", pay, 1, &j) == JOB_DONE, "the refund job refunds");
	ok(run_job("payment.refund", pay, 2, &j) == JOB_DONE, "run again (a worker died before recording)");
	is_str(moved("refund", ref), "1", "refunded exactly once, by the ledger");
	is_str(q("SELECT status || ' ' || (refunded_at IS NOT NULL) || ' ' || starts_with(refund_reference, 'simr_')"
		 " FROM payments WHERE id = $1", 1, &pay), "refunded true true", "the payment: refunded");
	is_str(q("SELECT string_agg(note, ',') FROM prescription_events WHERE prescription_id = $1"
		 " AND kind = 'refund'", 1, (const char *[]){ id2 }), "payment refunded: 9.50 GBP",
	       "on the timeline once");
}

static void test_words_approval(void)
{
	const char *why = NULL;
	char id[JOB_ID_LEN + 1];
	struct job j;

	sim_set(clinic, "approve", "0", "0", "7");
	request(clinic, self_id, patient, NULL, 0, "Something for my cough, please", id, &why);
	run_job("payment.charge", payment_of(id), 1, &j);
	db_command(DB, "BEGIN");
	ok(rx_approve(DB, A, id, doctor, clinic, &why) == RX_REFUSED, "a request in words, nothing filled in: %s", why);
	db_command(DB, "ROLLBACK");
	q("INSERT INTO prescription_items (prescription_id, name, dosage, quantity)"
	  " VALUES ($1, 'Simple linctus', '5 ml three times a day', 1)", 1, (const char *[]){ id });
	db_command(DB, "BEGIN");
	ok(rx_approve(DB, A, id, doctor, clinic, &why) == RX_DONE, "once the doctor filled it in: approved");
	db_command(DB, "COMMIT");
	is_str(status(id), "ready", "ready");
}

int main(void)
{
	if (dbtest_start() < 0)
		return 1;
	clinic = q("INSERT INTO clinics (name, prescription_fee, currency) VALUES"
		   " ('Rx ' || gen_random_uuid(), 9.50, 'GBP') RETURNING id", 0, NULL);
	{
		const char *name = q("SELECT name FROM clinics WHERE id = $1", 1, &clinic);

		patient = db_user("patient", name, "Rxpatient");
		doctor = db_user("doctor", name, "Rxdoctor");
		admin_id = db_user("admin", name, "Rxadmin");
		stranger = db_user("patient", name, "Rxstranger");
	}
	self_id = q("SELECT id FROM care_recipients WHERE owner_id = $1 AND kind = 'self'", 1, &patient);
	test_transitions();
	test_fee_rules();
	test_timeline();
	test_scope();
	test_simulator();
	test_request();
	test_zero_fee();
	test_charge_job();
	test_approve_decline();
	test_words_approval();
	dbtest_end();
	return tap_done();
}
