/* test_jobs.c - the job queue's SQL (src/jobs.c) against PostgreSQL, as the
 * app's role: adding a job inside a transaction (a rollback leaves none, the
 * wake-up comes at commit), unique keys, claiming and leases, the retry
 * policies (the stored run_at values, no waiting), failing, periodic jobs.
 * Its kinds are its own ("dbtest.*"), which no worker runs. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "dbtest.h"
#include "jobs.h"

/* The handler of this test's kinds, which no worker runs. */
static enum job_outcome dbtest_run(struct job *j)
{
	(void)j;
	return JOB_DONE;
}

static const struct job_kind dbtest_kinds[] = {
	/* name		handler		attempts backoff	delay_ms max_delay limit_ms period_s */
	{ "dbtest.once",	dbtest_run, 2,	JOB_FIXED,	1000,	0,	2000,	0 },
	{ "dbtest.fixed",	dbtest_run, 3,	JOB_FIXED,	30000,	0,	2000,	0 },
	{ "dbtest.exp",		dbtest_run, 6,	JOB_EXPONENTIAL, 10000,	80000,	2000,	0 },
	{ "dbtest.hourly",	dbtest_run, 2,	JOB_FIXED,	1000,	0,	2000,	3600 },
	{ NULL, NULL, 0, JOB_FIXED, 0, 0, 0, 0 }
};

static struct db *W;		/* a worker's connection (jobs_worker_stmts) */

/* Deletes every job of this test's kinds (as the owner). */
static void clean(void)
{
	q("DELETE FROM jobs WHERE kind LIKE 'dbtest.%'", 0, NULL);
}

/* The number of this test's jobs, as text. */
static const char *count(void)
{
	return q("SELECT count(*) FROM jobs WHERE kind LIKE 'dbtest.%'", 0, NULL);
}

/* Column `col` of job `id`, as text ("" for NULL). */
static const char *col(const char *id, const char *expr)
{
	const char *p[2] = { id, expr };
	const char *v = q("SELECT coalesce((to_jsonb(j) ->> $2), '') FROM jobs j WHERE id = $1", 2, p);

	return v ? v : "(no such job)";
}

/* Seconds from now to job `id`'s run_at. */
static double due_in(const char *id)
{
	return atof(q("SELECT extract(epoch FROM run_at - now()) FROM jobs WHERE id = $1", 1, &id));
}

/* Makes job `id` due now (as time passing would). */
static void make_due(const char *id)
{
	q("UPDATE jobs SET run_at = now() WHERE id = $1", 1, &id);
}

/* Waits up to `ms` for a notification for a job of kind dbtest.once on
 * the owner's connection, which LISTENs on carebox_jobs (the tests running
 * beside this one add jobs of other kinds). Returns 1 if one came. */
static int notified(int ms)
{
	struct pollfd pfd = { PQsocket(OWNER), POLLIN, 0 };
	PGnotify *n;
	int got = 0;

	PQconsumeInput(OWNER);
	if ((n = PQnotifies(OWNER)) == NULL && poll(&pfd, 1, ms) > 0) {
		PQconsumeInput(OWNER);
		n = PQnotifies(OWNER);
	}
	for (; n; n = PQnotifies(OWNER)) {
		got |= strcmp(n->relname, "carebox_jobs") == 0 && strcmp(n->extra, "dbtest.once") == 0;
		PQfreemem(n);
	}
	return got;
}

static void test_transactional_enqueue(void)
{
	char id[JOB_ID_LEN + 1];

	clean();
	q("LISTEN carebox_jobs", 0, NULL);
	notified(0);
	/* A request's transaction (route.c) that fails: rolled back. */
	ok(db_command(DB, "BEGIN") == 0, "a request's transaction begins");
	ok(jobs_enqueue(DB, "dbtest.once", NULL, NULL, NULL, NULL, id) == 1 && strlen(id) == 36,
	   "a job is added inside it (%s)", id);
	is_str(count(), "0", "nobody else sees it before the commit");
	ok(!notified(200), "and no worker is woken yet");
	ok(db_command(DB, "ROLLBACK") == 0, "the request fails: rolled back");
	is_str(count(), "0", "a rolled-back request leaves no job");
	ok(!notified(200), "and wakes no worker");
	/* One that succeeds: the job commits with it. */
	ok(db_command(DB, "BEGIN") == 0 &&
	   jobs_enqueue(DB, "dbtest.once", NULL, NULL, NULL, NULL, id) == 1 &&
	   db_command(DB, "COMMIT") == 0, "a job added in a transaction that commits");
	is_str(count(), "1", "is there after the commit");
	ok(notified(2000), "and the commit woke the workers (NOTIFY carebox_jobs, its kind)");
	is_str(col(id, "state"), "queued", "queued");
	is_str(col(id, "attempts"), "0", "never tried");
	is_str(col(id, "max_attempts"), "2", "with its kind's max_attempts");
	ok(due_in(id) <= 0 && due_in(id) > -5, "due now");
	q("UNLISTEN carebox_jobs", 0, NULL);
}

static void test_enqueue_values(void)
{
	struct json_object *payload = json_object_new_object();
	const char *clinic = q("INSERT INTO clinics (name) VALUES ('Jobs ' || gen_random_uuid())"
			       " RETURNING id", 0, NULL);
	char id[JOB_ID_LEN + 1];

	clean();
	json_object_object_add(payload, "note", json_object_new_string("a \"quoted\" 'text' ü"));
	json_object_object_add(payload, "n", json_object_new_int(7));
	ok(jobs_enqueue(DB, "dbtest.once", payload, "2031-02-03 04:05:06+00", NULL, clinic, id) == 1,
	   "a job with a payload, a time and a clinic");
	json_object_put(payload);
	is_str(q("SELECT payload::text FROM jobs WHERE id = $1", 1, (const char *[]){ id }),
	       "{\"n\": 7, \"note\": \"a \\\"quoted\\\" 'text' ü\"}", "its payload is stored as JSON");
	is_str(col(id, "clinic_id"), clinic, "for the clinic");
	is_str(q("SELECT run_at = '2031-02-03 04:05:06+00' FROM jobs WHERE id = $1", 1,
		 (const char *[]){ id }), "t", "due when asked");
	ok(jobs_enqueue(DB, "no.such.kind", NULL, NULL, NULL, NULL, id) == -1 && id[0] == '\0',
	   "a kind nobody declared is refused");
	is_str(count(), "1", "and adds nothing");
}

/* Claims as `worker`; returns the job's id, or NULL when none came. */
static const char *claim(const char *worker, struct job *j)
{
	int got = jobs_claim(W, worker, A, j);

	if (got == 1)
		json_object_put(j->payload);
	return got == 1 ? j->id : NULL;
}

static void test_unique_keys(void)
{
	char a[JOB_ID_LEN + 1], b[JOB_ID_LEN + 1], c[JOB_ID_LEN + 1];
	struct job j;

	clean();
	ok(jobs_enqueue(DB, "dbtest.once", NULL, NULL, "pay:42", NULL, a) == 1, "a job with key pay:42");
	ok(jobs_enqueue(DB, "dbtest.once", NULL, NULL, "pay:42", NULL, b) == 0 && b[0] == '\0',
	   "a second one with the key, while the first waits, adds nothing");
	ok(jobs_enqueue(DB, "dbtest.once", NULL, NULL, "pay:43", NULL, c) == 1, "another key adds one");
	is_str(claim("w1", &j), a, "the first is claimed");
	ok(jobs_enqueue(DB, "dbtest.once", NULL, NULL, "pay:42", NULL, b) == 0,
	   "while it runs, the key still adds nothing");
	ok(jobs_finish(W, "w1", &j, JOB_DONE, NULL) == 1, "it is done");
	ok(jobs_enqueue(DB, "dbtest.once", NULL, NULL, "pay:42", NULL, b) == 1,
	   "once it is finished, the key may be used again");
	is_str(q("SELECT count(*) FROM jobs WHERE unique_key = 'pay:42'", 0, NULL), "2",
	       "two jobs with the key, one of them unfinished");
}

static void test_claim_and_finish(void)
{
	char id[JOB_ID_LEN + 1], later[JOB_ID_LEN + 1];
	const char *state;
	struct job j;

	clean();
	jobs_enqueue(DB, "dbtest.once", NULL, "2999-01-01 00:00:00+00", NULL, NULL, later);
	ok(claim("w1", &j) == NULL, "a job not yet due is not claimed");
	jobs_enqueue(DB, "dbtest.once", NULL, NULL, NULL, NULL, id);
	is_str(claim("w1", &j), id, "a due job is claimed");
	ok(j.attempt == 1 && j.max_attempts == 2 && strcmp(j.kind->name, "dbtest.once") == 0,
	   "with its attempt counted, its kind and max_attempts");
	is_str(col(id, "state"), "running", "it is running");
	is_str(col(id, "locked_by"), "w1", "held by the worker");
	is_str(q("SELECT abs(extract(epoch FROM lease_until - now()) - 3) < 0.5 FROM jobs WHERE id = $1",
		 1, (const char *[]){ id }), "t", "for its time limit and the margin (3 s)");
	ok(claim("w2", &j) == NULL, "another worker does not get it");
	j.id = id;
	j.attempt = 1;
	ok(jobs_finish(W, "w2", &j, JOB_DONE, NULL) == 0, "nor may another worker finish it");
	j.attempt = 2;
	ok(jobs_finish(W, "w1", &j, JOB_DONE, NULL) == 0, "nor another attempt");
	j.attempt = 1;
	ok(jobs_finish(W, "w1", &j, JOB_DONE, &state) == 1 && strcmp(state, "done") == 0,
	   "its worker records it done");
	is_str(col(id, "state"), "done", "done");
	is_str(q("SELECT locked_by IS NULL AND lease_until IS NULL AND finished_at IS NOT NULL"
		 " FROM jobs WHERE id = $1", 1, (const char *[]){ id }), "t", "released, with its end");
	ok(jobs_finish(W, "w1", &j, JOB_DONE, NULL) == 0, "a second outcome is not recorded");
	ok(jobs_next_ms(W) > 0, "then nothing of this test is due: the next is later (%ld ms)",
	   jobs_next_ms(W));
	make_due(later);
	ok(jobs_next_ms(W) == 0, "a due job: due now");
	is_str(claim("w1", &j), later, "the next");
	j.error = "the card was declined";
	ok(jobs_finish(W, "w1", &j, JOB_FAILED, &state) == 1 && strcmp(state, "failed") == 0,
	   "a handler's failure is recorded");
	is_str(col(later, "state"), "failed", "failed for good");
	is_str(col(later, "last_error"), "the card was declined", "with its reason");
}

static void test_lease(void)
{
	char id[JOB_ID_LEN + 1];
	struct job j, again;

	clean();
	jobs_enqueue(DB, "dbtest.once", NULL, NULL, NULL, NULL, id);
	claim("w1", &j);
	/* The worker died: its lease runs out. */
	q("UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1", 1,
	  (const char *[]){ id });
	is_str(claim("w2", &again), id, "a job whose lease ran out is claimed again");
	ok(again.attempt == 2, "its attempt counted (%d)", again.attempt);
	is_str(col(id, "locked_by"), "w2", "by the new worker");
	ok(strstr(col(id, "last_error"), "attempt 1 ended without an outcome") != NULL,
	   "the lost attempt is noted (%s)", col(id, "last_error"));
	ok(jobs_finish(W, "w1", &j, JOB_DONE, NULL) == 0, "the old worker's outcome is refused");
	/* The second worker dies too, on the last attempt. */
	q("UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1", 1,
	  (const char *[]){ id });
	is_str(claim("w3", &j), id, "claimed once more");
	ok(j.attempt == 3 && j.attempt > j.max_attempts,
	   "past its max_attempts (%d of %d): the worker fails it without running it", j.attempt,
	   j.max_attempts);
	j.error = "gave up";
	ok(jobs_finish(W, "w3", &j, JOB_FAILED, NULL) == 1, "recorded");
	is_str(col(id, "state"), "failed", "failed");
}

static void test_finish_claim(void)
{
	char a[JOB_ID_LEN + 1], b[JOB_ID_LEN + 1];
	const char *state;
	struct job j, next;
	int got;

	clean();
	jobs_enqueue(DB, "dbtest.once", NULL, "2000-01-01 00:00:00+00", NULL, NULL, a);
	jobs_enqueue(DB, "dbtest.once", NULL, NULL, NULL, NULL, b);
	is_str(claim("w1", &j), a, "the job due first is claimed first");
	ok(jobs_finish_claim(W, "w1", &j, JOB_DONE, &state, A, &next, &got) == 1 && got == 1,
	   "one round trip records its outcome and claims the next");
	json_object_put(next.payload);
	is_str(next.id, b, "the next due job");
	is_str(col(a, "state"), "done", "the first is done");
	is_str(col(b, "locked_by"), "w1", "the next is the worker's");
	/* Its lease ran out, but no one took it: still the worker's to finish,
	 * not to claim again. */
	q("UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1", 1,
	  (const char *[]){ b });
	ok(jobs_finish_claim(W, "w1", &next, JOB_DONE, &state, A, &j, &got) == 1 && got == 0,
	   "a job whose lease ran out is finished by its worker, not claimed in the same breath");
	is_str(col(b, "state"), "done", "done once");
	is_str(col(b, "attempts"), "1", "in one attempt");
	ok(jobs_finish_claim(W, "w2", &next, JOB_DONE, &state, A, &j, &got) == 0 && got == 0,
	   "another worker's outcome is not recorded, and nothing is due");
}

/* Claims job `id` (made due first), finishes it with a retry and returns
 * the seconds until it is due again; its stored state in *state. */
static double retry_once(const char *id, struct job *j, const char **state)
{
	make_due(id);
	if (claim("w1", j) == NULL || strcmp(j->id, id) != 0)
		return -1;
	j->error = "the provider did not answer";
	if (jobs_finish(W, "w1", j, JOB_RETRY, state) != 1)
		return -1;
	return due_in(id);
}

static void test_retry_fixed(void)
{
	char id[JOB_ID_LEN + 1];
	const char *state;
	struct job j;
	double d;

	clean();
	jobs_enqueue(DB, "dbtest.fixed", NULL, NULL, NULL, NULL, id);
	for (int attempt = 1; attempt <= 2; attempt++) {
		d = retry_once(id, &j, &state);
		ok(strcmp(state, "queued") == 0 && d > 29 && d <= 30.001,
		   "fixed: after attempt %d the job is queued again 30 s later (%.3f s)", attempt, d);
		is_str(col(id, "last_error"), "the provider did not answer", "with the reason");
		is_str(col(id, "attempts"), attempt == 1 ? "1" : "2", "the attempt counted");
	}
	retry_once(id, &j, &state);
	ok(strcmp(state, "failed") == 0, "after the last of its 3 attempts a retry fails it");
	is_str(col(id, "state"), "failed", "failed for good");
	is_str(col(id, "last_error"), "gave up after 3 attempts: the provider did not answer",
	       "saying so");
	ok(*col(id, "finished_at") != '\0', "with its end");
}

static void test_retry_exponential(void)
{
	static const double want[] = { 10, 20, 40, 80, 80 };
	const struct job_kind *k = jobs_kind("dbtest.exp");
	char id[JOB_ID_LEN + 1];
	const char *state;
	long lo = 1000000, hi = 0;
	struct job j;
	double d;

	clean();
	jobs_enqueue(DB, "dbtest.exp", NULL, NULL, NULL, NULL, id);
	for (int attempt = 1; attempt <= 5; attempt++) {
		d = retry_once(id, &j, &state);
		ok(strcmp(state, "queued") == 0 && d > want[attempt - 1] / 2 - 1 && d <= want[attempt - 1] + 0.001,
		   "exponential: after attempt %d, due again in %.0f to %.0f s (%.3f s)", attempt,
		   want[attempt - 1] / 2, want[attempt - 1], d);
	}
	retry_once(id, &j, &state);
	ok(strcmp(state, "failed") == 0, "the 6th and last attempt's retry fails it");
	for (int i = 0; i < 200; i++) {
		long ms = jobs_retry_delay_ms(k, 1);

		lo = ms < lo ? ms : lo;
		hi = ms > hi ? ms : hi;
	}
	ok(lo >= 5000 && hi <= 10000 && hi - lo > 1000,
	   "the jitter spreads the first delay over 5 to 10 s (200 draws: %ld to %ld ms)", lo, hi);
	ok(jobs_retry_delay_ms(k, 30) <= 80000 && jobs_retry_delay_ms(k, 30) >= 40000,
	   "and the delay stops growing at its maximum");

	/* A handler that names the time. */
	clean();
	jobs_enqueue(DB, "dbtest.exp", NULL, NULL, NULL, NULL, id);
	claim("w1", &j);
	j.retry_at = "2030-01-02 03:04:05+00";
	ok(jobs_finish(W, "w1", &j, JOB_RETRY, &state) == 1 && strcmp(state, "queued") == 0,
	   "a retry at a given time");
	is_str(q("SELECT run_at = '2030-01-02 03:04:05+00' FROM jobs WHERE id = $1", 1,
		 (const char *[]){ id }), "t", "is due then");
}

static void test_periodic(void)
{
	const char *first, *next;

	clean();
	ok(jobs_schedule(W) >= 1, "the schedule queues the periodic kinds' jobs");
	first = q("SELECT id FROM jobs WHERE kind = 'dbtest.hourly'", 0, NULL);
	ok(first != NULL, "one for dbtest.hourly");
	is_str(q("SELECT run_at = date_trunc('hour', created_at) AND clinic_id IS NULL"
		 " AND unique_key = 'dbtest.hourly:' || to_char(run_at AT TIME ZONE 'UTC',"
		 " 'YYYY-MM-DD\"T\"HH24:00:00Z') FROM jobs WHERE id = $1", 1, &first), "t",
	       "a system job for the current hour, due at its start, keyed by it");
	ok(jobs_schedule(W) == 0, "scheduling again adds nothing");
	ok(jobs_schedule(W) == 0, "nor again");
	is_str(count(), "1", "one job for the period");
	q("UPDATE jobs SET state = 'done', finished_at = now() WHERE id = $1", 1, &first);
	ok(jobs_schedule(W) == 1, "once it is done, the schedule queues the next");
	next = q("SELECT id FROM jobs WHERE kind = 'dbtest.hourly' AND state = 'queued'", 0, NULL);
	is_str(q("SELECT n.run_at = f.run_at + interval '1 hour' AND n.unique_key ="
		 " 'dbtest.hourly:' || to_char(n.run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:00:00Z')"
		 " FROM jobs f, jobs n WHERE f.id = $1 AND n.id = $2", 2, (const char *[]){ first, next }),
	       "t", "for the next hour, due at its start: one job per period");
	ok(jobs_schedule(W) == 0, "and no more");
	is_str(count(), "2", "two periods, two jobs");
	/* A periodic job that failed for good: the next period gets its job too. */
	q("DELETE FROM jobs WHERE id = $1", 1, &next);
	q("UPDATE jobs SET state = 'failed' WHERE id = $1", 1, &first);
	ok(jobs_schedule(W) == 1 && jobs_schedule(W) == 0,
	   "after a job that failed for good, the next period's is queued, once");
	is_str(q("SELECT count(*) FILTER (WHERE state = 'queued') || ' ' || count(DISTINCT unique_key)"
		 " FROM jobs WHERE kind = 'dbtest.hourly'", 0, NULL), "1 2", "for its own period");
}

int main(void)
{
	const char *url = getenv("CAREBOX_DATABASE_URL");
	const struct db_stmt *const sets[] = { jobs_stmts, jobs_worker_stmts, NULL };

	if (dbtest_start() < 0)
		return 1;
	W = db_new(url ? url : "", 5000, sets);
	if (jobs_register(dbtest_kinds) < 0 || db_ensure(W) < 0) {
		puts("not ok 1 - the worker's statements do not prepare");
		return 1;
	}
	test_transactional_enqueue();
	test_enqueue_values();
	test_unique_keys();
	test_claim_and_finish();
	test_lease();
	test_finish_claim();
	test_retry_fixed();
	test_retry_exponential();
	test_periodic();
	clean();
	db_free(W);
	dbtest_end();
	return tap_done();
}
