/* jobs.c - background jobs on a PostgreSQL queue: the kind table, adding a job, claiming, finishing, periodic jobs. */
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "mail.h"
#include "prune.h"
#include "rx.h"

/* Every kind of job carebox runs, like the route table: what runs it, how
 * often it is tried, how long it waits between tries, how long one run
 * may take, and for a periodic job its period. */
const struct job_kind job_kinds[] = {
	/* name	handler		attempts backoff	delay_ms max_delay limit_ms	period_s */
	{ "prune", prune_job,	3,	JOB_FIXED,	60000,	0,	600000,		3600 },
	/* 1 min, 2, 4, ... at most an hour apart: about 8 hours in all */
	{ "mail.send", mail_job, 12,	JOB_EXPONENTIAL, 60000,	3600000, 60000,		0 },
	/* A payment's charge: RX_CHARGE_ATTEMPTS answers, RX_RETRY_MS apart
	 * (the handler sets each retry's time: CAREBOX_PAY_RETRY_MS), and as
	 * many runs again for workers that died mid-charge; a gateway call
	 * is cut at 15 s. */
	{ "payment.charge", rx_charge_job, 2 * RX_CHARGE_ATTEMPTS, JOB_FIXED, RX_RETRY_MS, 0, 15000, 0 },
	/* A declined prescription's refund: until the provider answers. */
	{ "payment.refund", rx_refund_job, 10,	JOB_EXPONENTIAL, 10000,	600000,	15000,		0 },
	{ NULL, NULL, 0, JOB_FIXED, 0, 0, 0, 0 }
};

#define JOBS_MAX_TABLES 4

/* The kind tables this process runs (jobs_register); and, made from them
 * (jobs_arrays), the PostgreSQL array literals the worker's statements
 * take: the names and leases of every kind, the names, periods and
 * attempts of the periodic ones. */
static const struct job_kind *jobs_tables[JOBS_MAX_TABLES];
static int jobs_ntables;
static struct {
	char names[2048], leases[1024];
	char periodic[1024], periods[512], attempts[512];
	int nperiodic;
} jobs_arr = { "{}", "{}", "{}", "{}", "{}", 0 };

/* Appends `item` to the array literal `arr` ("{}", "{a,b}"; `n` bytes).
 * Returns 0, or -1 when it does not fit. */
static int jobs_arr_add(char *arr, size_t n, const char *item)
{
	size_t len = strlen(arr);
	int w = snprintf(arr + len - 1, n - len + 1, "%s%s}", len > 2 ? "," : "", item);

	return w < 0 || (size_t)w >= n - len + 1 ? -1 : 0;
}

/* Makes the array literals of jobs_arr from the kinds this process runs.
 * Returns 0 or -1 (too many kinds; logged). */
static int jobs_arrays(void)
{
	char num[16];
	int bad = 0;

	memset(&jobs_arr, 0, sizeof(jobs_arr));
	strcpy(jobs_arr.names, "{}");
	strcpy(jobs_arr.leases, "{}");
	strcpy(jobs_arr.periodic, "{}");
	strcpy(jobs_arr.periods, "{}");
	strcpy(jobs_arr.attempts, "{}");
	for (int t = 0; t < jobs_ntables; t++) {
		for (const struct job_kind *k = jobs_tables[t]; k->name; k++) {
			snprintf(num, sizeof(num), "%d", k->limit_ms + JOB_LEASE_MARGIN_MS);
			bad |= jobs_arr_add(jobs_arr.names, sizeof(jobs_arr.names), k->name);
			bad |= jobs_arr_add(jobs_arr.leases, sizeof(jobs_arr.leases), num);
			if (k->period_s <= 0)
				continue;
			bad |= jobs_arr_add(jobs_arr.periodic, sizeof(jobs_arr.periodic), k->name);
			snprintf(num, sizeof(num), "%d", k->period_s);
			bad |= jobs_arr_add(jobs_arr.periods, sizeof(jobs_arr.periods), num);
			snprintf(num, sizeof(num), "%d", k->max_attempts);
			bad |= jobs_arr_add(jobs_arr.attempts, sizeof(jobs_arr.attempts), num);
			jobs_arr.nperiodic++;
		}
	}
	if (bad)
		log_msg("too many job kinds");
	return bad ? -1 : 0;
}

int jobs_register(const struct job_kind *table)
{
	for (const struct job_kind *k = table; k->name; k++) {
		size_t n = strlen(k->name);

		/* The names go into array literals as they are. */
		if (n == 0 || n > 100 || strspn(k->name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n ||
		    k->run == NULL || k->max_attempts < 1 || k->limit_ms < 1) {
			log_msg("job kind %.100s: bad name or settings", k->name);
			return -1;
		}
	}
	if (jobs_ntables == JOBS_MAX_TABLES) {
		log_msg("too many job kind tables");
		return -1;
	}
	jobs_tables[jobs_ntables++] = table;
	return jobs_arrays();
}

/* The kind named `name` in `table`, or NULL. */
static const struct job_kind *jobs_find(const struct job_kind *table, const char *name)
{
	for (const struct job_kind *k = table; name && k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

const struct job_kind *jobs_kind(const char *name)
{
	const struct job_kind *k = jobs_find(job_kinds, name);

	for (int t = 0; k == NULL && t < jobs_ntables; t++)
		k = jobs_find(jobs_tables[t], name);
	return k;
}

int jobs_runs(const char *name)
{
	for (int t = 0; t < jobs_ntables; t++)
		if (jobs_find(jobs_tables[t], name))
			return 1;
	return 0;
}

int jobs_max_limit_ms(void)
{
	int max = 0;

	for (int t = 0; t < jobs_ntables; t++)
		for (const struct job_kind *k = jobs_tables[t]; k->name; k++)
			if (k->limit_ms > max)
				max = k->limit_ms;
	return max;
}

/* The unique key of the period of periodic kind p.kind that starts at
 * `at` (SQL): "prune:2026-12-07T21:00:00Z". */
#define JOBS_PERIOD_KEY(at) \
	"p.kind || ':' || to_char((" at ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* A job is unfinished while queued or running: the unique key's scope
 * (the partial index jobs_unique_key of sql/0021_jobs.sql). */
#define JOBS_UNFINISHED "state IN ('queued', 'running')"
#define JOBS_ON_KEY_CONFLICT \
	" ON CONFLICT (unique_key) WHERE " JOBS_UNFINISHED " AND unique_key IS NOT NULL DO NOTHING"

const struct db_stmt jobs_stmts[] = {
	/* $1 kind, $2 payload, $3 run_at (NULL: now), $4 unique key, $5
	 * clinic, $6 the kind's max_attempts. */
	{ "jobs_add",
	  "INSERT INTO jobs (kind, payload, run_at, unique_key, clinic_id, max_attempts)"
	  " VALUES ($1, $2::jsonb, coalesce($3::timestamptz, now()), $4, $5::uuid, $6::int)"
	  JOBS_ON_KEY_CONFLICT " RETURNING id" },
	{ NULL, NULL }
};

/* The claim (jobs_claim), as the CTEs k, lost, due and claimed, for the
 * worker `w`, the kinds it runs `kinds` and their leases (ms) `leases`
 * (parameters), never job `skip` (the one the same statement finishes). A
 * running job whose lease ran out comes first (its worker died during the
 * attempt, which counts: its error says so), else the queued job due first
 * (jobs_due, sql/0021_jobs.sql); SKIP LOCKED passes over what another
 * worker is claiming this very moment. "claimed" returns the job's columns
 * as jobs_fill() reads them. */
#define JOBS_CLAIM_CTES(w, kinds, leases, skip) \
	" k AS (SELECT * FROM unnest(" kinds "::text[], " leases "::int[]) AS k(kind, lease_ms))," \
	" lost AS (SELECT j.id FROM jobs j WHERE j.state = 'running' AND j.lease_until < now()" \
	" AND j.kind = ANY(" kinds "::text[]) AND j.id IS DISTINCT FROM " skip \
	" ORDER BY j.lease_until LIMIT 1 FOR UPDATE SKIP LOCKED)," \
	" due AS (SELECT d.id FROM jobs_due(" kinds "::text[]," \
	" CASE WHEN EXISTS (SELECT 1 FROM lost) THEN 0 ELSE 1 END) AS d(id))," \
	" claimed AS (UPDATE jobs j SET state = 'running', attempts = j.attempts + 1," \
	" locked_by = " w ", lease_until = now() + k.lease_ms * interval '1 millisecond'," \
	" started_at = now(), last_error = CASE WHEN j.state = 'running' THEN 'attempt '" \
	" || j.attempts || ' ended without an outcome: its worker stopped (a crash or the time limit)'" \
	" ELSE j.last_error END" \
	" FROM k WHERE k.kind = j.kind AND j.id IN (SELECT id FROM lost UNION ALL SELECT id FROM due)" \
	" RETURNING j.id, j.kind, j.payload, j.attempts, j.max_attempts, j.clinic_id, j.unique_key)"

/* The outcome (jobs_finish): $1 the job, $2 the worker, $3 the attempt, $4
 * the new state, $5 a retry's time or NULL, $6 else its delay (ms), $7 the
 * error. Only the worker holding this attempt may record its outcome. */
#define JOBS_FINISH \
	"UPDATE jobs SET state = $4::job_state," \
	" run_at = CASE WHEN $4::job_state = 'queued'" \
	" THEN coalesce($5::timestamptz, now() + $6::int * interval '1 millisecond') ELSE run_at END," \
	" last_error = coalesce($7, last_error), locked_by = NULL, lease_until = NULL," \
	" finished_at = CASE WHEN $4::job_state = 'queued' THEN NULL ELSE now() END" \
	" WHERE id = $1 AND locked_by = $2 AND attempts = $3::int AND state = 'running'" \
	" RETURNING id"

const struct db_stmt jobs_worker_stmts[] = {
	/* $1 the worker, $2 the kinds it runs, $3 their leases. */
	{ "jobs_claim", "WITH" JOBS_CLAIM_CTES("$1", "$2", "$3", "NULL::uuid") " SELECT * FROM claimed" },
	{ "jobs_finish", JOBS_FINISH },
	/* Both, in one round trip and one transaction: $1 to $7 the outcome,
	 * $8 and $9 the kinds and their leases; the count of outcomes recorded
	 * (0 or 1) and the job claimed, if any. */
	{ "jobs_finish_claim",
	  "WITH finished AS (" JOBS_FINISH "),"
	  JOBS_CLAIM_CTES("$2", "$8", "$9", "$1::uuid")
	  " SELECT (SELECT count(*) FROM finished)::int AS finished, c.*"
	  " FROM (SELECT 1) one LEFT JOIN claimed c ON true" },
	/* One schedule at a time (jobs_schedule): each then sees what the
	 * one before it queued. */
	{ "jobs_schedule_lock", "SELECT pg_advisory_xact_lock(" DB_LOCK_JOBS ", 0)" },
	/* $1 the periodic kinds, $2 their periods (s), $3 their attempts.
	 * The period is the statement's, taken once the lock is held, not
	 * the transaction's (now()), which began before the wait: a schedule
	 * that waited past a period's end would take the period before, find
	 * its job there, and queue again the period whose job the one before
	 * it queued and a worker already ran. */
	{ "jobs_schedule",
	  "INSERT INTO jobs (kind, unique_key, run_at, max_attempts)"
	  " SELECT p.kind, " JOBS_PERIOD_KEY("n.at") ", n.at, p.max_attempts"
	  " FROM unnest($1::text[], $2::int[], $3::int[]) AS p(kind, period_s, max_attempts)"
	  " CROSS JOIN LATERAL (SELECT date_bin(p.period_s * interval '1 second', statement_timestamp(),"
	  " timestamptz '2000-01-01 00:00:00+00') AS at) c"
	  " CROSS JOIN LATERAL (SELECT CASE WHEN EXISTS (SELECT 1 FROM jobs j WHERE j.clinic_id IS NULL"
	  " AND j.kind = p.kind AND j.unique_key = " JOBS_PERIOD_KEY("c.at") ")"
	  " THEN c.at + p.period_s * interval '1 second' ELSE c.at END AS at) n"
	  " WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.clinic_id IS NULL AND j.kind = p.kind"
	  " AND j." JOBS_UNFINISHED ")"
	  JOBS_ON_KEY_CONFLICT " RETURNING id" },
	/* $1 the kinds the worker knows. */
	{ "jobs_next",
	  "SELECT ceil(extract(epoch FROM least("
	  "(SELECT min(run_at) FROM jobs WHERE state = 'queued' AND kind = ANY($1::text[])),"
	  " (SELECT min(lease_until) FROM jobs WHERE state = 'running' AND kind = ANY($1::text[])))"
	  " - now()) * 1000)::bigint AS ms" },
	{ NULL, NULL }
};

int jobs_enqueue(struct db *db, const char *kind, struct json_object *payload,
		 const char *run_at, const char *unique_key, const char *clinic_id,
		 char id[JOB_ID_LEN + 1])
{
	const struct job_kind *k = jobs_kind(kind);
	char max[16];
	const char *p[6] = {
		kind, payload ? json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN) : "{}",
		run_at, unique_key, clinic_id, max
	};
	PGresult *res;
	int added;

	if (id)
		id[0] = '\0';
	if (k == NULL) {
		log_msg("jobs_enqueue: no job kind %.100s", kind);
		return -1;
	}
	snprintf(max, sizeof(max), "%d", k->max_attempts);
	if ((res = db_exec(db, "jobs_add", 6, p)) == NULL)
		return -1;
	added = PQntuples(res) == 1;
	if (added && id)
		snprintf(id, JOB_ID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return added;
}

/* Column `col` of row 0 of `res` in arena `a`, NULL for SQL NULL. */
static const char *jobs_col(struct arena *a, PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : arena_strdup(a, PQgetvalue(res, 0, col));
}

/* Fills `j` from row 0 of `res`, the columns of "claimed" from column
 * `from` on (strings in `a`); returns 1, or 0 when there is no job (no row,
 * or a NULL id: the combined statement's LEFT JOIN). */
static int jobs_fill(PGresult *res, int from, struct db *db, struct arena *a, struct job *j)
{
	memset(j, 0, sizeof(*j));
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, from))
		return 0;
	j->id = jobs_col(a, res, from);
	j->kind = jobs_kind(PQgetvalue(res, 0, from + 1));
	j->payload = json_tokener_parse(PQgetvalue(res, 0, from + 2));
	j->attempt = atoi(PQgetvalue(res, 0, from + 3));
	j->max_attempts = atoi(PQgetvalue(res, 0, from + 4));
	j->clinic_id = jobs_col(a, res, from + 5);
	j->unique_key = jobs_col(a, res, from + 6);
	j->db = db;
	j->arena = a;
	return 1;
}

int jobs_claim(struct db *db, const char *worker, struct arena *a, struct job *j)
{
	const char *p[3] = { worker, jobs_arr.names, jobs_arr.leases };
	PGresult *res = db_exec(db, "jobs_claim", 3, p);
	int got;

	if (res == NULL)
		return -1;
	got = jobs_fill(res, 0, db, a, j);
	PQclear(res);
	return got;
}

long jobs_retry_delay_ms(const struct job_kind *k, int attempt)
{
	unsigned int r = 0;
	long d = k->delay_ms;

	if (k->backoff == JOB_FIXED)
		return d;
	for (int i = 1; i < attempt && d < k->max_delay_ms; i++)
		d *= 2;
	if (d > k->max_delay_ms)
		d = k->max_delay_ms;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned int)d;
	return d / 2 + (long)(r % (unsigned long)(d - d / 2 + 1));
}

/* `text` cut to at most `max` bytes on a UTF-8 character boundary, in
 * arena `a` (last_error's limit is 1000 characters). */
static const char *jobs_cut(struct arena *a, const char *text, size_t max)
{
	size_t n = strlen(text);

	if (n <= max)
		return text;
	while (max > 0 && ((unsigned char)text[max] & 0xC0) == 0x80)
		max--;
	return arena_strndup(a, text, max);
}

/* The parameters of JOBS_FINISH for outcome `o` of job `j` into `p` (7,
 * `attempt` and `delay` its buffers); the state to store in *state. */
static void jobs_outcome(const struct job *j, enum job_outcome o, const char *worker,
			 const char **p, char attempt[16], char delay[24], const char **state)
{
	const char *error = NULL;

	*state = "done";
	snprintf(attempt, 16, "%d", j->attempt);
	snprintf(delay, 24, "0");
	p[4] = NULL;
	if (o == JOB_FAILED) {
		*state = "failed";
		error = j->error ? j->error : "failed";
	} else if (o == JOB_RETRY && j->attempt >= j->max_attempts) {
		*state = "failed";
		error = arena_printf(j->arena, "gave up after %d attempts: %s", j->attempt,
				     j->error ? j->error : "retry asked");
	} else if (o == JOB_RETRY) {
		*state = "queued";
		error = j->error ? j->error : "retry asked";
		p[4] = j->retry_at;
		snprintf(delay, 24, "%ld", jobs_retry_delay_ms(j->kind, j->attempt));
	}
	p[0] = j->id;
	p[1] = worker;
	p[2] = attempt;
	p[3] = *state;
	p[5] = delay;
	p[6] = error ? jobs_cut(j->arena, error, 1000) : NULL;
}

int jobs_finish(struct db *db, const char *worker, const struct job *j, enum job_outcome o,
		const char **recorded)
{
	char attempt[16], delay[24];
	const char *p[7], *state;
	PGresult *res;
	int mine;

	jobs_outcome(j, o, worker, p, attempt, delay, &state);
	if ((res = db_exec(db, "jobs_finish", 7, p)) == NULL)
		return -1;
	mine = PQntuples(res) == 1;
	PQclear(res);
	if (recorded)
		*recorded = state;
	return mine;
}

int jobs_finish_claim(struct db *db, const char *worker, const struct job *j, enum job_outcome o,
		      const char **recorded, struct arena *a, struct job *next, int *got)
{
	char attempt[16], delay[24];
	const char *p[9], *state;
	PGresult *res;
	int mine;

	*got = 0;
	jobs_outcome(j, o, worker, p, attempt, delay, &state);
	p[7] = jobs_arr.names;
	p[8] = jobs_arr.leases;
	if ((res = db_exec(db, "jobs_finish_claim", 9, p)) == NULL)
		return -1;
	mine = atoi(PQgetvalue(res, 0, 0)) == 1;
	*got = jobs_fill(res, 1, db, a, next);
	PQclear(res);
	if (recorded)
		*recorded = state;
	return mine;
}

int jobs_schedule(struct db *db)
{
	const char *p[3] = { jobs_arr.periodic, jobs_arr.periods, jobs_arr.attempts };
	PGresult *res = NULL;
	int n = -1;

	if (jobs_arr.nperiodic == 0)
		return 0;
	if (db_command(db, "BEGIN") < 0)
		return -1;
	if ((res = db_exec(db, "jobs_schedule_lock", 0, NULL)) != NULL) {
		PQclear(res);
		if ((res = db_exec(db, "jobs_schedule", 3, p)) != NULL)
			n = PQntuples(res);
		PQclear(res);
	}
	if (n < 0 || db_command(db, "COMMIT") < 0) {
		db_end_request(db);	/* rolls back, if the connection is there */
		return -1;
	}
	return n;
}

long jobs_next_ms(struct db *db)
{
	const char *p[1] = { jobs_arr.names };
	PGresult *res;
	long ms;

	if ((res = db_exec(db, "jobs_next", 1, p)) == NULL)
		return -2;
	ms = PQgetisnull(res, 0, 0) ? -1 : atol(PQgetvalue(res, 0, 0));
	if (!PQgetisnull(res, 0, 0) && ms < 0)
		ms = 0;
	PQclear(res);
	return ms;
}
