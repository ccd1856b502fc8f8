/* jobs.h - background jobs on a PostgreSQL queue: the kinds, adding a job (inside a request's transaction), claiming, finishing, periodic jobs. */
#ifndef CAREBOX_JOBS_H
#define CAREBOX_JOBS_H

#include <json-c/json.h>

#include "arena.h"
#include "db.h"

/* Time a worker has, past a job's time limit, to record the outcome
 * before the job's lease runs out and another worker may claim it. */
#define JOB_LEASE_MARGIN_MS 1000
#define JOB_ID_LEN 36		/* a job's id: a UUID */

/* What a handler answers. A crash, or a run past the kind's time limit,
 * counts as a retry too (the lease runs out: the job is claimed again). */
enum job_outcome {
	JOB_DONE,	/* finished for good */
	JOB_RETRY,	/* try again: at j->retry_at, or as the kind's policy says */
	JOB_FAILED	/* failed for good, because of j->error */
};

enum job_backoff {
	JOB_FIXED,		/* delay_ms between attempts */
	JOB_EXPONENTIAL		/* delay_ms after the first, doubling each time up
				 * to max_delay_ms, each drawn between half and
				 * all of it (jitter, so failed jobs do not
				 * return together) */
};

/* One job being run, as its handler sees it. */
struct job {
	const struct job_kind *kind;
	const char *id;
	const char *clinic_id;		/* NULL: a system job */
	const char *unique_key;		/* NULL: none */
	int attempt;			/* 1 on the first run */
	int max_attempts;
	struct json_object *payload;	/* the worker's; freed after the job */
	struct db *db;			/* the worker's connection, no transaction open */
	struct arena *arena;		/* reset after the job */
	/* Set by the handler: */
	const char *error;		/* JOB_RETRY, JOB_FAILED: why, in a few words
					 * that hold no personal data (the clinic's
					 * admins read it; the log never holds it) */
	const char *retry_at;		/* JOB_RETRY: when (a timestamptz), or NULL
					 * for the kind's policy */
};

/* A handler does the job's work once. It must be idempotent: a job whose
 * worker died after the work but before recording it runs again, so work
 * outside this database is done under the job's id or unique key (the
 * payment's idempotency key), and work in it is written so that a second
 * run changes nothing (ON CONFLICT on that key). */
typedef enum job_outcome job_handler_fn(struct job *j);

/* One kind of job. */
struct job_kind {
	const char *name;		/* [a-z0-9._-]+ */
	job_handler_fn *run;
	int max_attempts;		/* runs at most, crashes included */
	enum job_backoff backoff;
	int delay_ms;
	int max_delay_ms;		/* JOB_EXPONENTIAL: the longest delay */
	int limit_ms;			/* one run's time limit: past it the worker
					 * process ends (the master starts another)
					 * and the job is retried; its lease is
					 * limit_ms + JOB_LEASE_MARGIN_MS */
	int period_s;			/* > 0: a periodic system job, one queued per
					 * period of this many seconds (from
					 * 2000-01-01 UTC) by the workers themselves */
};

/* The kinds of carebox, NULL-name terminated (src/jobs.c). */
extern const struct job_kind job_kinds[];

/* The test kinds (src/job_test.c), which the worker runs only with
 * CAREBOX_TEST_JOBS=1 in its environment, and then none of job_kinds (a
 * test's worker takes no mail or prune of the stack's): harmless without their table
 * (tests/db/jobs_test.sql), which no migration creates. */
extern const struct job_kind job_test_kinds[];

/* test.mail (mail.send's handler, quick retries), which the worker runs
 * only with CAREBOX_TEST_JOBS=mail, and then no other kind: the mail
 * test's worker, pointed at a relay of its own (tests/http/mail.test.js). */
extern const struct job_kind job_test_mail_kinds[];

/* Makes this process run the kinds of `table` (NULL-name terminated,
 * static), besides those of earlier calls: jobs_claim(), jobs_schedule()
 * and jobs_next_ms() take only the kinds registered (carebox-worker
 * registers job_kinds, or job_test_kinds with CAREBOX_TEST_JOBS=1), and
 * jobs_enqueue() takes them as well as job_kinds. Returns 0, or -1
 * (logged) for a bad name or too many kinds. */
int jobs_register(const struct job_kind *table);

/* The kind named `name` of job_kinds or a registered table, or NULL. */
const struct job_kind *jobs_kind(const char *name);

/* 1 if this process runs kind `name` (a registered table has it), else 0:
 * a worker woken for another kind (the notification names it) sleeps on. */
int jobs_runs(const char *name);

/* The longest limit_ms of the kinds this process runs, for a master that
 * waits for its workers to finish their jobs. */
int jobs_max_limit_ms(void);

/* Statements for db_new(): jobs_stmts for every process that adds jobs
 * (the app's route_stmts hold it), jobs_worker_stmts for carebox-worker. */
extern const struct db_stmt jobs_stmts[];
extern const struct db_stmt jobs_worker_stmts[];

/* Adds a job of kind `kind` (one this process knows) with `payload` (may
 * be NULL: {}; serialized, not kept), due at `run_at` (a timestamptz; NULL:
 * now), for clinic `clinic_id` (NULL: a system job), with `unique_key`
 * (may be NULL). Runs on `db` inside the transaction open there, if any
 * (every POST's: route.c), so the job commits with the request's change
 * or not at all, and the workers are woken at that commit. Returns 1 and
 * the new job's id in `id` (may be NULL); 0 when an unfinished job with
 * the same unique key is there already (nothing added, `id` ""); -1 on a
 * failure (logged), as for an unknown kind. */
int jobs_enqueue(struct db *db, const char *kind, struct json_object *payload,
		 const char *run_at, const char *unique_key, const char *clinic_id,
		 char id[JOB_ID_LEN + 1]);

/* Claims for worker `worker` (its name: host and process id) the next due
 * job of a kind this process runs (jobs_register): a running job whose lease ran out (its worker
 * died: claimed again, the attempt counted), else the queued job due
 * first; marks it running with a fresh lease and its attempt counted.
 * Fills `j`: its strings in arena `a`, its payload parsed with json-c
 * (the caller frees it with json_object_put()), j->db = `db`.
 * Returns 1 with a job, 0 when none is due, -1 on a database failure. */
int jobs_claim(struct db *db, const char *worker, struct arena *a, struct job *j);

/* Records outcome `o` of job `j`, claimed by `worker`: done; failed with
 * j->error; or a retry, queued again at j->retry_at or after the kind's
 * delay for this attempt (jobs_retry_delay_ms), which becomes failed for
 * good ("gave up after N attempts: error") once the job has had
 * max_attempts. Sets *recorded (may be NULL) to the state stored: "done",
 * "queued" (a retry), "failed". Returns 1; 0 when the job is no longer
 * this worker's (its lease ran out and another claimed it: nothing
 * recorded); -1 on a database failure. */
int jobs_finish(struct db *db, const char *worker, const struct job *j, enum job_outcome o,
		const char **recorded);

/* jobs_finish(), and in the same statement (one round trip, one
 * transaction) jobs_claim() of the next job into `next`, its strings in
 * arena `a` (not j's: the caller resets j's after): *got is 1 with a job,
 * else 0. Returns what jobs_finish() returns. */
int jobs_finish_claim(struct db *db, const char *worker, const struct job *j, enum job_outcome o,
		      const char **recorded, struct arena *a, struct job *next, int *got);

/* The delay before attempt `attempt` + 1 of kind `k`, in milliseconds,
 * with the jitter drawn (JOB_EXPONENTIAL). */
long jobs_retry_delay_ms(const struct job_kind *k, int attempt);

/* Queues the next job of each periodic kind this process runs that has none queued or
 * running: the current period's (its unique key "KIND:2026-12-07T21:00:00Z",
 * the period's start in UTC) if it has had none, else the next period's,
 * due at its start. Workers run it under one lock, so a period gets one
 * job however many workers there are. Returns the number queued, or -1 on
 * a database failure (rolled back). */
int jobs_schedule(struct db *db);

/* Milliseconds until the next job of a kind this process runs falls due or the next lease runs
 * out (0 if one is due now); -1 when there is none; -2 on a database
 * failure. */
long jobs_next_ms(struct db *db);

#endif
