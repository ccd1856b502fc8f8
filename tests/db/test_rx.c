/* test_rx.c - prescriptions against PostgreSQL (sql/0023_prescriptions.sql,
 * src/rx.c, src/pay_sim.c): every legal status change and every illegal
 * one refused by the database itself, the timeline, the scope function;
 * the payment simulator (a seed, idempotency keys, the ledger); requests,
 * approval, decline, cancel and the manual retry; the charge and refund
 * jobs' handlers run here directly, attempt by attempt. The jobs this test
 * adds are pushed far into the future in the transaction that adds them,
 * so the stack's worker never takes them (tests/http/payments.test.js
 * runs the real worker). */
#include <string.h>
#include <time.h>

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
	dbtest_end();
	return tap_done();
}
