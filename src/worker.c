/* worker.c - carebox-worker: runs the background jobs of src/jobs.c, one at a time per process, under a master that keeps N processes running. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "mail.h"
#include "msg.h"
#include "rx.h"
#include "site.h"
#include "supervise.h"

/* A worker with nothing due looks again this often even without a
 * notification (one lost while it reconnected, a job's run_at reached). */
#define WORKER_POLL_MS 10000
/* While the database is unreachable, a worker tries again after 1 s, then
 * 2, 4, up to this. */
#define WORKER_BACKOFF_MAX_MS 5000
/* The exit status of a worker process whose job ran past its limit. */
#define WORKER_TIMED_OUT 3

/* What one worker process is doing, in memory shared with the master: the
 * start of the running job's log line ("job prune <id> attempt 1"), empty
 * between jobs, so that the master can log the job of a worker that died
 * (a crash or the time limit) with its outcome. */
struct worker_slot {
	char job[160];
};

struct worker_config {
	const char *conninfo;
	int statement_timeout_ms;
	struct worker_slot *slots;	/* one per process, shared */
};

static volatile sig_atomic_t worker_stop;

/* SIGTERM, SIGINT: the worker stops after its job. */
static void worker_on_stop(int sig)
{
	(void)sig;
	worker_stop = 1;
}

/* A job past its time limit cannot be taken back from its handler: the
 * process ends, the master logs the job and starts another, and the job's
 * lease runs out (it is claimed again, the attempt counted). */
static void worker_on_alarm(int sig)
{
	(void)sig;
	_exit(WORKER_TIMED_OUT);
}

/* Prints how to run carebox-worker to stderr. */
static void usage(void)
{
	fputs("usage: carebox-worker [-w WORKERS]\n"
	      "  -w N  worker processes, each running one job at a time (default 1)\n"
	      "environment: CAREBOX_DATABASE_URL (libpq conninfo; default: PG* variables),\n"
	      "  CAREBOX_STATEMENT_TIMEOUT_MS (default 5000),\n"
	      "  CAREBOX_BASE_URL (the links in mails), CAREBOX_SMTP_URL, CAREBOX_MAIL_FROM,\n"
	      "  CAREBOX_MAIL_DIR (mail: README, \"E-mail\"),\n"
	      "  CAREBOX_TEST_JOBS=1 (the test kinds of job instead of carebox's: for the\n"
	      "  tests and the bench; =mail: test.mail alone, for the mail test)\n"
	      "SIGTERM or SIGINT: each worker finishes its job (within the job's time limit),\n"
	      "  then all exit\n", stderr);
}

/* SIGTERM and SIGINT stop the worker after its job: they stay blocked
 * (supervise_child_signals) except while it waits (worker_wait);
 * worker_stopping() sees one that came meanwhile. SIGALRM (the time
 * limit) ends the process. On return *open is the mask to wait with. */
static void worker_signals(sigset_t *open)
{
	struct sigaction sa;

	supervise_child_signals(worker_on_stop, open);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_alarm;
	sigaction(SIGALRM, &sa, NULL);
}

/* 1 once SIGTERM or SIGINT came (caught while waiting, or pending). */
static int worker_stopping(void)
{
	sigset_t pending;

	if (!worker_stop && sigpending(&pending) == 0 &&
	    (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT)))
		worker_stop = 1;
	return worker_stop;
}

/* Drops the notifications that reached the connection. Returns 1 if any
 * was for a kind of job this process runs. */
static int worker_drain(PGconn *c)
{
	PGnotify *n;
	int any = 0;

	while (c && (n = PQnotifies(c)) != NULL) {
		any |= jobs_runs(n->extra);
		PQfreemem(n);
	}
	return any;
}

/* Sleeps up to `ms` milliseconds, until a notification reaches the
 * database connection `c` (may be NULL: none), or a stop signal comes. */
static void worker_wait(PGconn *c, long ms, const sigset_t *open)
{
	struct pollfd pfd = { c ? PQsocket(c) : -1, POLLIN, 0 };
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (worker_stopping())
		return;
	if (ppoll(&pfd, pfd.fd >= 0 ? 1 : 0, &ts, open) > 0 && c)
		PQconsumeInput(c);	/* a dead connection shows at the next statement */
}

/* Arms (ms > 0) or disarms (0) the time limit of the job in flight. */
static void worker_alarm(long ms)
{
	struct itimerval t = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };

	setitimer(ITIMER_REAL, &t, NULL);
}

/* Milliseconds since `t0` (CLOCK_MONOTONIC). */
static long worker_ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000L + (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* Runs the claimed job `j` within its kind's time limit (one whose
 * attempts are used up, by crashes or the limit, fails without running),
 * rolls back what its handler left open, records the outcome as worker
 * `name` and logs the job's line: kind, id, attempt, outcome,
 * milliseconds; never the payload or the error text. Frees the payload.
 * With `more`, unless a stop signal came meanwhile (looked at once the
 * job has run), the same round trip claims the next due job into `next`
 * (its strings in arena `na`): returns 1 then, else 0. */
static int worker_job(struct db *db, const char *name, struct worker_slot *slot, struct job *j,
		      int more, struct arena *na, struct job *next)
{
	struct timespec t0;
	enum job_outcome o = JOB_FAILED;
	const char *state = "", *outcome;
	int rc, got = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(slot->job, sizeof(slot->job), "job %s %s attempt %d", j->kind->name, j->id,
		 j->attempt);
	if (j->attempt > j->max_attempts) {
		j->error = "gave up: its worker stopped (a crash or the time limit) on the last attempt";
	} else if (j->payload == NULL) {
		j->error = "its payload is not a JSON value";
	} else {
		worker_alarm(j->kind->limit_ms);
		o = j->kind->run(j);
		worker_alarm(0);
	}
	db_end_request(db);
	rc = more && !worker_stopping() ? jobs_finish_claim(db, name, j, o, &state, na, next, &got)
		  : jobs_finish(db, name, j, o, &state);
	outcome = rc < 0 ? "not recorded (database failure): its lease will run out"
		: rc == 0 ? "not recorded: its lease ran out and another worker has it"
		: strcmp(state, "queued") == 0 ? "retry" : state;
	log_msg("%s %s %ldms", slot->job, outcome, worker_ms_since(&t0));
	slot->job[0] = '\0';
	json_object_put(j->payload);
	return got;
}

/* One worker process (the master's child in `slot`): connects, LISTENs,
 * claims and runs due jobs one at a time (recording one job's outcome and
 * claiming the next in one round trip while there are due jobs), and in
 * between sleeps until the next is due, a notification or the fallback
 * poll; reconnects with back-off while the database is away. A job
 * claimed is run, even if SIGTERM came meanwhile; no other is claimed
 * after it. Returns the exit status. */
static int worker_run(void *arg, int slot_no)
{
	const struct worker_config *cfg = arg;
	struct worker_slot *slot = &cfg->slots[slot_no];
	/* The payment jobs move prescriptions and post their auto messages. */
	const struct db_stmt *const sets[] = { jobs_stmts, jobs_worker_stmts, mail_worker_stmts, msg_stmts,
					       rx_stmts, NULL };
	struct db *db = db_new(cfg->conninfo, cfg->statement_timeout_ms, sets);
	struct arena *a[2] = { arena_new(16 * 1024), arena_new(16 * 1024) };
	PGconn *seen = NULL;	/* the connection whose notifications are read */
	unsigned long connects = 0;	/* db_connects() when the jobs were last scheduled */
	char name[128], host[64] = "", app[32];
	long backoff = 0, ms;
	int cur = 0, have = 0;
	sigset_t open;
	struct job j, next;

	worker_signals(&open);
	log_init("carebox-worker");
	slot->job[0] = '\0';
	gethostname(host, sizeof(host) - 1);
	snprintf(name, sizeof(name), "%s:%d", host, (int)getpid());
	/* Its commits do not wait for the disk: a claim or an outcome lost
	 * in a crash of PostgreSQL (its last fraction of a second) only runs
	 * a job again, which handlers are written for (jobs.h), and a commit
	 * that waits costs a disk flush for each job. Jobs are added by the
	 * app, whose commits wait: none is lost. A handler whose own writes
	 * must be on disk before it goes on sets synchronous_commit back on
	 * in its transaction. */
	/* Its connection is named with its process id: pg_stat_activity tells
	 * which worker holds which. */
	snprintf(app, sizeof(app), "carebox-worker %d", (int)getpid());
	db_configure(db, app, "SET synchronous_commit = off; LISTEN carebox_jobs");
	while (have || !worker_stopping()) {
		int got = have;

		if (have) {
			int periodic = j.kind->period_s > 0;

			have = worker_job(db, name, slot, &j, !periodic, a[!cur], &next);
			if (periodic)
				jobs_schedule(db);
			arena_reset(a[cur]);
			cur = !cur;
			j = next;
			continue;
		}
		if (db_ensure(db) < 0)
			got = -1;
		/* A new connection: the periodic jobs are checked (a period
		 * may have begun while the database was away). */
		if (got == 0 && db_connects(db) != connects) {
			connects = db_connects(db);
			log_msg("connected to the database; waiting for jobs");
			got = jobs_schedule(db) < 0 ? -1 : 0;
		}
		seen = db_conn(db);
		if (got == 0)
			got = jobs_claim(db, name, a[cur], &j);
		if (got < 0) {
			connects = 0;	/* schedule again once it works */
			backoff = backoff ? (backoff * 2 > WORKER_BACKOFF_MAX_MS ?
					     WORKER_BACKOFF_MAX_MS : backoff * 2) : 1000;
			worker_wait(NULL, backoff, &open);
			continue;
		}
		backoff = 0;
		if ((have = got == 1))
			continue;
		/* Nothing due. A notification already read came for a job the
		 * next statement sees; one read by it may not be, so it makes
		 * the worker look again instead of sleeping. */
		worker_drain(seen);
		ms = jobs_next_ms(db);
		if (ms == -2) {
			/* The database failed (a restart ended the connection):
			 * back in a second to reconnect, not after a whole poll,
			 * as the socket of a lost connection wakes nobody. */
			connects = 0;
			worker_wait(NULL, 1000, &open);
			continue;
		}
		if (worker_drain(seen) || ms == 0)
			continue;
		worker_wait(seen, ms < 0 || ms > WORKER_POLL_MS ? WORKER_POLL_MS : ms, &open);
		if (ms < 0 || ms > WORKER_POLL_MS)
			jobs_schedule(db);
	}
	db_free(db);
	arena_free(a[0]);
	arena_free(a[1]);
	return 0;
}

/* The master's note of a worker that died (`status` from waitpid): the
 * job it was running, if any, with what became of it. */
static void worker_died(void *arg, int slot_no, pid_t pid, int status)
{
	struct worker_slot *slot = &((struct worker_config *)arg)->slots[slot_no];

	(void)pid;
	if (slot->job[0] == '\0')
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_TIMED_OUT)
		log_msg("%s timed out: retried when its lease runs out", slot->job);
	else if (WIFSIGNALED(status))
		log_msg("%s crashed (signal %d): retried when its lease runs out", slot->job,
			WTERMSIG(status));
	else
		log_msg("%s ended with its worker: retried when its lease runs out", slot->job);
	slot->job[0] = '\0';
}

int main(int argc, char **argv)
{
	const char *db = getenv("CAREBOX_DATABASE_URL"), *tmo = getenv("CAREBOX_STATEMENT_TIMEOUT_MS");
	const char *test = getenv("CAREBOX_TEST_JOBS");
	struct worker_config cfg = { db ? db : "", tmo ? atoi(tmo) : 5000, NULL };
	struct supervisor sup = { .n = 1, .child = worker_run, .arg = &cfg, .on_death = worker_died };
	int c;

	log_init("carebox-worker");
	while ((c = getopt(argc, argv, "w:h")) != -1) {
		switch (c) {
		case 'w': sup.n = (int)strtol(optarg, NULL, 10); break;
		default: usage(); return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc || sup.n < 1 || sup.n > SUPERVISE_MAX) {
		usage();
		return 2;
	}
	if (cfg.statement_timeout_ms <= 0)
		cfg.statement_timeout_ms = 5000;
	/* Without it mails wait (their jobs retry): the other jobs run. */
	if (site_init() < 0)
		log_msg("mails cannot be sent until CAREBOX_BASE_URL is set");
	/* A test's worker runs its test's jobs alone: carebox's own (the
	 * mails of other tests running meanwhile, prune) are the stack's
	 * worker's, and would change what the test measures. */
	if (test && (strcmp(test, "1") == 0 || strcmp(test, "mail") == 0)) {
		if (jobs_register(*test == '1' ? job_test_kinds : job_test_mail_kinds) < 0)
			return 1;
		log_msg("the test kinds of job alone (CAREBOX_TEST_JOBS=%s)", test);
	} else if (jobs_register(job_kinds) < 0) {
		return 1;
	}
	cfg.slots = mmap(NULL, sizeof(struct worker_slot) * (size_t)sup.n, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cfg.slots == MAP_FAILED) {
		log_msg("mmap: %s", strerror(errno));
		return 1;
	}
	/* Stopping waits for the jobs in flight, each within its limit. */
	sup.stop_wait_s = (jobs_max_limit_ms() + JOB_LEASE_MARGIN_MS) / 1000 + 5;
	return supervise(&sup);
}
