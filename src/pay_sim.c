/* pay_sim.c - the payment simulator: a flaky gateway whose settings, ledger and idempotency keys live in the database (tests/db/pay_sim.sql). */
#include <stdlib.h>
#include <time.h>

#include "pay.h"

/* The simulator's two calls: its SQL functions (tests/db/pay_sim.sql),
 * which answer and record in one statement under a lock on the key, so
 * that the answer survives the worker (a kill -9 after the call: the next
 * attempt gets the same answer) as a real gateway's does. Unprepared
 * (db_exec_once): a production database has no such function, and the
 * app's statements must prepare there. */
#define PAY_SIM_CHARGE "SELECT result, detail, replayed::int, latency_ms FROM pay_sim_charge($1, $2::numeric, $3, $4)"
#define PAY_SIM_REFUND "SELECT result, detail, replayed::int, latency_ms FROM pay_sim_refund($1, $2)"

/* Sleeps `ms` milliseconds, the answer's way back, whatever signal comes
 * meanwhile (the job's time limit ends the process). */
static void pay_sim_sleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* Runs one of the calls (`name`, `sql`, `n` parameters `p`) and turns its
 * row into `out` (strings in `a`), after the latency the settings ask; a
 * database without the simulator's tables, or a failure, is an error
 * answer. */
static void pay_sim_call(struct db *db, struct arena *a, const char *name, const char *sql,
			 int n, const char *const *p, struct pay_answer *out)
{
	PGresult *res = db_exec_once(db, name, sql, n, p);
	const char *result;

	out->result = PAY_ERROR;
	out->replayed = 0;
	out->text = "the payment simulator is not set up";
	if (res == NULL)
		return;
	if (PQntuples(res) == 1) {
		result = PQgetvalue(res, 0, 0);
		out->result = result[0] == 'a' ? PAY_APPROVED : result[0] == 'd' ? PAY_DECLINED : PAY_ERROR;
		out->text = arena_strdup(a, PQgetvalue(res, 0, 1));
		out->replayed = atoi(PQgetvalue(res, 0, 2));
		pay_sim_sleep(atol(PQgetvalue(res, 0, 3)));
	}
	PQclear(res);
}

/* charge: pay_sim_charge() answers, by the merchant's settings. */
static void pay_sim_charge(struct db *db, struct arena *a, const char *merchant, const char *amount,
			   const char *currency, const char *key, struct pay_answer *out)
{
	const char *p[4] = { merchant, amount, currency, key };

	pay_sim_call(db, a, "pay_sim_charge", PAY_SIM_CHARGE, 4, p, out);
}

/* refund: pay_sim_refund() answers, once per reference. */
static void pay_sim_refund(struct db *db, struct arena *a, const char *merchant, const char *reference,
			   struct pay_answer *out)
{
	const char *p[2] = { merchant, reference };

	pay_sim_call(db, a, "pay_sim_refund", PAY_SIM_REFUND, 2, p, out);
}

const struct pay_provider pay_sim = { "sim", pay_sim_charge, pay_sim_refund };
