/* page_jobs.c - /admin/jobs: a clinic's admins watch its background jobs (src/jobs.c) and retry the failed ones. */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "row.h"
#include "sess.h"

#define JOBS_FAILURES 20	/* latest failures shown */
#define JOBS_BEHIND_S 60	/* a due job waiting longer: the worker is behind */

/* The columns of a count row: per kind, its jobs in each state, and since
 * when and how long (seconds) the oldest due one has waited. */
#define JOBS_COUNTS \
	" kind, count(*) FILTER (WHERE state = 'queued') AS queued," \
	" count(*) FILTER (WHERE state = 'running') AS running," \
	" count(*) FILTER (WHERE state = 'done') AS done," \
	" count(*) FILTER (WHERE state = 'failed') AS failed," \
	" count(*) FILTER (WHERE state = 'cancelled') AS cancelled," \
	" min(run_at) FILTER (WHERE state = 'queued' AND run_at <= now()) AS due_since," \
	" extract(epoch FROM now() - min(run_at) FILTER (WHERE state = 'queued'" \
	" AND run_at <= now()))::bigint AS waited_s"

/* Every statement takes the admin's clinic and reads its jobs FROM
 * clinic_jobs, the system's (prune) FROM system_jobs and only as counts
 * (sql/0021_jobs.sql). */
const struct db_stmt page_jobs_stmts[] = {
	{ "jobs_counts",
	  "SELECT false AS system," JOBS_COUNTS " FROM clinic_jobs($1) GROUP BY kind"
	  " UNION ALL SELECT true," JOBS_COUNTS " FROM system_jobs() GROUP BY kind"
	  " ORDER BY system, kind" },
	{ "jobs_failures",
	  "SELECT j.id, j.kind, j.attempts, j.last_error AS error, j.finished_at AS failed_at"
	  " FROM clinic_jobs($1) j WHERE j.state = 'failed'"
	  " ORDER BY j.finished_at DESC, j.id LIMIT " DB_NUM(JOBS_FAILURES) },
	/* Locks failed job $1 of clinic $2 and every job with its unique
	 * key, in id order, so that two retries of it, or of two jobs with one
	 * key, happen one after the other: the second then reads what the
	 * first committed (jobs_one is a statement of its own, after this). */
	{ "jobs_lock",
	  "SELECT 1 FROM jobs WHERE id IN (SELECT j.id FROM clinic_jobs($2) j WHERE j.id = $1)"
	  " OR unique_key = (SELECT j.unique_key FROM clinic_jobs($2) j WHERE j.id = $1)"
	  " ORDER BY id FOR UPDATE" },
	/* $1 the job, $2 the clinic. blocked: an unfinished job has its
	 * unique key, so this one may not be queued again. */
	{ "jobs_one",
	  "SELECT j.kind, j.state::text AS state, EXISTS (SELECT 1 FROM jobs o"
	  " WHERE o.unique_key = j.unique_key AND o.state IN ('queued', 'running')) AS blocked"
	  " FROM clinic_jobs($2) j WHERE j.id = $1" },
	/* Queued again at once, with its attempts anew. */
	{ "jobs_retry",
	  "UPDATE jobs SET state = 'queued', run_at = now(), attempts = 0, finished_at = NULL"
	  " WHERE id = $1 AND id IN (SELECT id FROM clinic_jobs($2)) AND state = 'failed'"
	  " RETURNING id" },
	{ NULL, NULL }
};

/* `s` seconds in words: "45 seconds", "3 minutes", "5 hours", "2 days".
 * In the arena. */
static const char *jobs_age(struct arena *a, long s)
{
	if (s < 120)
		return arena_printf(a, "%ld second%s", s, s == 1 ? "" : "s");
	if (s < 120 * 60)
		return arena_printf(a, "%ld minutes", s / 60);
	if (s < 48 * 3600)
		return arena_printf(a, "%ld hours", s / 3600);
	return arena_printf(a, "%ld days", s / 86400);
}

/* Puts the counts into the view: "clinic_jobs" and "system_jobs", each
 * {rows, none} for the partial job_counts (rows: {kind, queued, running,
 * done, failed, cancelled, due_since, waited}), and "waited" (how long the
 * oldest due job of either has waited, in words; missing when none is
 * due) with "behind" (over JOBS_BEHIND_S). Returns 0 or a database
 * failure status. */
static int jobs_counts(struct req *r)
{
	const char *p[1] = { r->user->clinic_id };
	PGresult *res = db_exec(r->db, "jobs_counts", 1, p);
	struct tv *lists[2] = { tv_list(r->arena), tv_list(r->arena) };
	long oldest = -1;

	if (res == NULL)
		return db_failure_status(r->db);
	for (int i = 0; i < PQntuples(res); i++) {
		struct tv *row = row_view(r->arena, res, i, 1);
		const char *w = row_text(r->arena, res, i, "waited_s");

		/* (Always set: a row's missing key would be looked up in
		 * the page's view, which has one.) */
		tv_set_bool(r->arena, row, "waited", 0);
		if (w) {
			long s = atol(w);

			tv_set_str(r->arena, row, "waited", jobs_age(r->arena, s));
			oldest = s > oldest ? s : oldest;
		}
		tv_push(r->arena, lists[row_bool(res, i, "system")], row);
	}
	PQclear(res);
	for (int i = 0; i < 2; i++) {
		struct tv *group = tv_map(r->arena);

		tv_set(r->arena, group, "rows", lists[i]);
		tv_set_bool(r->arena, group, "none", lists[i]->u.list.n == 0);
		tv_set(r->arena, r->view, i ? "system_jobs" : "clinic_jobs", group);
	}
	if (oldest >= 0)
		tv_set_str(r->arena, r->view, "waited", jobs_age(r->arena, oldest));
	tv_set_bool(r->arena, r->view, "behind", oldest > JOBS_BEHIND_S);
	return 0;
}

/* GET /admin/jobs: the clinic's jobs by kind and state, the system's as
 * counts, how long the oldest due job has waited (is the worker keeping
 * up?), and the clinic's latest JOBS_FAILURES failures with their error
 * text and a "Retry now" button each ("failures" [{id, kind, attempts,
 * error, failed_at}], "no_failures"). */
int page_jobs_get(struct req *r)
{
	int n, status;

	if ((status = jobs_counts(r)) ||
	    (status = row_list_view(r, "jobs_failures", 1, &r->user->clinic_id, "failures", 0, &n)))
		return status;
	tv_set_bool(r->arena, r->view, "no_failures", n == 0);
	tv_set_num(r->arena, r->view, "max_failures", JOBS_FAILURES);
	tv_set_str(r->arena, r->view, "title", "Background jobs");
	return http_render(r, "jobs");
}

/* Sends the admin back to /admin/jobs with a flash of `kind`. */
static int jobs_back(struct req *r, const char *kind, const char *text)
{
	int status = sess_flash(r, kind, text);

	return status ? status : http_redirect(r, "/admin/jobs");
}

/* POST /admin/jobs/{id}/retry: queues a failed job of the clinic again,
 * due now, its attempts anew, audited ("job retried", its kind); a job of
 * another clinic, or the system's, answers 404. A job that is not failed
 * (retried already), or whose unique key another unfinished job holds,
 * stays as it is, with a flash that says why; so do the second of two
 * retries at once (jobs_lock). */
int page_jobs_retry_post(struct req *r)
{
	const char *p[2] = { r->params[0], r->user->clinic_id };
	const char *kind, *state;
	PGresult *res;
	int status, blocked;

	if ((res = db_exec(r->db, "jobs_lock", 2, p)) == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	if ((status = row_load(r, "jobs_one", 2, p, 0, &res)))
		return status;
	kind = row_text(r->arena, res, 0, "kind");
	state = row_text(r->arena, res, 0, "state");
	blocked = row_bool(res, 0, "blocked");
	PQclear(res);
	if (strcmp(state, "failed") != 0)
		return jobs_back(r, "error", arena_printf(r->arena, "This job is %s, not failed: "
				 "there is nothing to retry.", strcmp(state, "queued") == 0 ?
				 "waiting to run" : state));
	if (blocked)
		return jobs_back(r, "error", "Another job for the same thing is waiting or running: "
				 "this one is not retried.");
	if ((status = row_load(r, "jobs_retry", 2, p, 0, &res)))
		return status;
	PQclear(res);
	if ((status = audit(r, "job retried", r->user->clinic_id, NULL, kind)))
		return status;
	return jobs_back(r, "ok", arena_printf(r->arena, "The %s job is queued again and runs "
			 "as soon as a worker is free.", kind));
}
