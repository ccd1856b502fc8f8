/* prune.c - deleting the rows that can no longer matter: carebox-admin prune and the worker's hourly prune job run this same code. */
#include "prune.h"

#include <stdio.h>

#include "sess.h"

/* A bounded DELETE of the rows of `table` (primary key `key`) for which
 * `pred` holds: at most $1 rows, picked by the subquery. The predicate is
 * repeated outside it because PostgreSQL re-checks only the outer one on a
 * row changed meanwhile: a session touched just now then stays. */
#define PRUNE(table, key, pred) \
	"DELETE FROM " table " WHERE " key " IN (SELECT " key " FROM " table \
	" WHERE " pred " LIMIT $1) AND " pred

/* Every row that can no longer matter, per table; the audit log is never
 * pruned. The intervals mirror where the rows are read. */
static const struct {
	const char *table, *sql;
} prune_stmts[] = {
	/* SESS_DEAD (sess.h): what sess_load no longer takes. Live sessions
	 * are few (the app drops a user's dead ones at login), so this
	 * predicate has no index: one on last_seen_at would cost every
	 * session touch its HOT update. */
	{ "sessions", PRUNE("sessions", "token_hash", SESS_DEAD) },
	/* A form token stops a resend of its form. That form also carries its
	 * session's CSRF token, so it is dead after 12 hours; a week is ample. */
	{ "form_tokens", PRUNE("form_tokens", "token", "used_at < now() - interval '7 days'") },
	/* An account's pause counts its failures of the last day; addresses
	 * count the last 15 minutes, or hour (throttle.c, sql/0014). */
	{ "login_failures", PRUNE("login_failures", "id", "at < now() - interval '1 day'") },
	{ "address_counts", PRUNE("address_counts", "ctid", "since < now() - interval '1 day'") },
	/* A message kept when its session ended waits a week for its
	 * writer's next login (page_message.c). */
	{ "drafts", PRUNE("drafts", "id", "created_at < now() - interval '7 days'") },
	/* A sign-in waits 5 minutes for its code (page_two_step.c). */
	{ "login_steps", PRUNE("login_steps", "token_hash", "expires_at < now()") },
	/* A link works once, within an hour (page_invite.c) or, to join a
	 * clinic, seven days (page_patients.c). A dead one is kept
	 * a week, so "did they ever use it?" can still be answered. */
	{ "one_time_links", PRUNE("one_time_links", "token_hash",
		"(expires_at < now() - interval '7 days' OR used_at < now() - interval '7 days')") },
	/* A finished job is kept a week, a failed one a month: the admin page
	 * (page_jobs.c) shows the latest failures, to retry or look into. No
	 * index serves this hourly scan: one on finished_at would cost every
	 * job's finish another index entry. */
	{ "jobs", PRUNE("jobs", "id",
		"((state IN ('done', 'cancelled') AND finished_at < now() - interval '7 days')"
		" OR (state = 'failed' AND finished_at < now() - interval '30 days'))") },
};

int prune_run(PGconn *c, long batch, prune_report_fn *report, void *arg)
{
	char n[24];
	const char *p[1] = { n };

	snprintf(n, sizeof(n), "%ld", batch);
	for (size_t i = 0; i < sizeof(prune_stmts) / sizeof(prune_stmts[0]); i++) {
		long total = 0;
		int got;

		do {
			got = db_conn_run(c, prune_stmts[i].sql, 1, p);
			total += got > 0 ? got : 0;
		} while (got == batch);
		if (report)
			report(arg, prune_stmts[i].table, total, got < 0);
		if (got < 0)
			return -1;
	}
	return 0;
}

enum job_outcome prune_job(struct job *j)
{
	PGconn *c = db_conn(j->db);

	if (c == NULL || prune_run(c, 1000, NULL, NULL) < 0) {
		j->error = "the database failed during prune";
		return JOB_RETRY;
	}
	return JOB_DONE;
}
