/* job_test.c - the test kinds of job, known to a worker only with CAREBOX_TEST_JOBS=1: what the tests and bench/jobs.sh run. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs.h"
#include "mail.h"

/* test.noop: does nothing (bench/jobs.sh's throughput). */
static enum job_outcome job_test_noop(struct job *j)
{
	(void)j;
	return JOB_DONE;
}

/* The integer `name` of the job's payload, or 0. */
static int job_test_int(const struct job *j, const char *name)
{
	struct json_object *v;

	return json_object_object_get_ex(j->payload, name, &v) ? json_object_get_int(v) : 0;
}

/* The string `name` of the job's payload, or NULL. */
static const char *job_test_str(const struct job *j, const char *name)
{
	struct json_object *v;

	return json_object_object_get_ex(j->payload, name, &v) ? json_object_get_string(v) : NULL;
}

/* Sleeps `ms` milliseconds, whatever signal comes meanwhile (the time
 * limit's SIGALRM ends the process). */
static void job_test_sleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* Records a run of the job under idempotency key `key` in the table
 * job_test_effects (tests/db/jobs_test.sql, which only the tests and the
 * bench create): the effect, once per key, however often the job runs
 * (ON CONFLICT), and the runs counted. Unprepared (db_exec_once), so a
 * worker connects where the table is missing. Returns 0 or -1. */
static int job_test_effect(struct job *j, const char *key)
{
	const char *p[2] = { key, j->id };
	PGresult *res = db_exec_once(j->db, "job_test_effect",
		"INSERT INTO job_test_effects (key, job_id) VALUES ($1, $2)"
		" ON CONFLICT (key) DO UPDATE SET runs = job_test_effects.runs + 1", 2, p);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* test.record and test.fixed: what the payload asks, in this order (each
 * number N applies to the attempts 1 to N): "crash" N, the process
 * aborts; the effect, under the payload's "key" (default: the job's id);
 * "sleep_ms" M, it sleeps M ms (every attempt); "hang" N, it sleeps past
 * its time limit; "retry" N, it asks for a retry (at "retry_at", if
 * given); "fail", it fails for good with that text as the reason. */
static enum job_outcome job_test_record(struct job *j)
{
	const char *key = job_test_str(j, "key"), *fail = job_test_str(j, "fail");

	if (j->attempt <= job_test_int(j, "crash"))
		abort();
	if (job_test_effect(j, key ? key : j->id) < 0) {
		j->error = "the effect was not recorded";
		return JOB_RETRY;
	}
	if (job_test_int(j, "sleep_ms") > 0)
		job_test_sleep(job_test_int(j, "sleep_ms"));
	if (j->attempt <= job_test_int(j, "hang"))
		job_test_sleep(2L * j->kind->limit_ms + 1000);
	if (j->attempt <= job_test_int(j, "retry")) {
		j->error = "the test asked for a retry";
		j->retry_at = job_test_str(j, "retry_at");
		return JOB_RETRY;
	}
	if (fail) {
		j->error = fail;
		return JOB_FAILED;
	}
	return JOB_DONE;
}

/* test.tick: a periodic job that records its run under its unique key
 * (one per period). */
static enum job_outcome job_test_tick(struct job *j)
{
	if (job_test_effect(j, j->unique_key ? j->unique_key : j->id) < 0) {
		j->error = "the effect was not recorded";
		return JOB_RETRY;
	}
	return JOB_DONE;
}

const struct job_kind job_test_kinds[] = {
	/* name		handler		attempts backoff	delay_ms max_delay limit_ms period_s */
	{ "test.noop",	job_test_noop,	1,	JOB_FIXED,	0,	0,	1000,	0 },
	{ "test.record", job_test_record, 5,	JOB_EXPONENTIAL, 1000,	4000,	3000,	0 },
	{ "test.fixed",	job_test_record, 3,	JOB_FIXED,	1500,	0,	3000,	0 },
	{ "test.tick",	job_test_tick,	1,	JOB_FIXED,	0,	0,	1000,	1 },
	{ NULL, NULL, 0, JOB_FIXED, 0, 0, 0, 0 }
};

/* A table of its own, so that only the mail test's worker (with its own
 * relay) runs it, and that worker no other test's jobs. */
const struct job_kind job_test_mail_kinds[] = {
	/* mail.send's handler, retried within seconds: a relay that is down */
	{ "test.mail",	mail_job,	10,	JOB_FIXED,	1000,	0,	60000,	0 },
	{ NULL, NULL, 0, JOB_FIXED, 0, 0, 0, 0 }
};
