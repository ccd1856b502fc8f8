/* supervise.c - the master process of carebox and carebox-worker: keeps N children running, respawns the dead, stops them gracefully. */
#include "supervise.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct child {
	pid_t pid;
	time_t started;
};

static volatile sig_atomic_t got_stop, got_hup, got_chld;

/* The master's handler: notes which signal came, for the loop. */
static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_stop = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

/* Forks the child of `slot`, which runs s->child and exits with its
 * return. Returns its pid, or -1 (logged). */
static pid_t spawn(const struct supervisor *s, int slot)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* Signals stay blocked until the child has its own handlers,
		 * so none is lost or caught by the master's handlers in
		 * between. */
		_exit(s->child(s->arg, slot));
	}
	if (pid < 0)
		log_msg("fork: %s", strerror(errno));
	return pid;
}

/* Sends `sig` to each of the `n` children that runs. */
static void signal_all(struct child *c, int n, int sig)
{
	for (int i = 0; i < n; i++)
		if (c[i].pid > 0)
			kill(c[i].pid, sig);
}

/* Collects exited children; logs deaths that were not asked for and tells
 * s->on_death. Returns how many are still alive. */
static int reap(const struct supervisor *s, struct child *c, int stopping)
{
	int status, alive = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < s->n; i++) {
			int unasked = !stopping && (WIFSIGNALED(status) ||
						    (WIFEXITED(status) && WEXITSTATUS(status)));

			if (c[i].pid != pid)
				continue;
			c[i].pid = 0;
			if (WIFSIGNALED(status) && unasked)
				log_msg("worker %d killed by signal %d", (int)pid, WTERMSIG(status));
			else if (unasked)
				log_msg("worker %d exited with status %d", (int)pid, WEXITSTATUS(status));
			if (unasked && s->on_death)
				s->on_death(s->arg, i, pid, status);
		}
	}
	for (int i = 0; i < s->n; i++)
		alive += c[i].pid > 0;
	return alive;
}

/* Starts children in empty slots; a slot whose last child lived under a
 * second waits a second, so a crash loop cannot spin. */
static void fill(const struct supervisor *s, struct child *c)
{
	time_t now = time(NULL);

	for (int i = 0; i < s->n; i++) {
		if (c[i].pid > 0 || (c[i].started && now - c[i].started < 1))
			continue;
		c[i].pid = spawn(s, i);
		c[i].started = now;
	}
}

/* Sets `handler` for each signal of the 0-terminated `sigs`. */
static void handle(void (*handler)(int), const int *sigs)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	for (; *sigs; sigs++)
		sigaction(*sigs, &sa, NULL);
}

/* Sets the master's handlers and blocks the signals they handle; *oldmask
 * gets the mask to wait with. */
static void master_signals(sigset_t *oldmask)
{
	sigset_t block;

	handle(on_signal, (const int[]){ SIGTERM, SIGINT, SIGHUP, SIGCHLD, 0 });
	handle(SIG_IGN, (const int[]){ SIGPIPE, 0 });
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, oldmask);
}

void supervise_child_signals(void (*on_stop)(int), sigset_t *open)
{
	sigset_t stop;

	handle(on_stop, (const int[]){ SIGTERM, SIGINT, 0 });
	handle(SIG_IGN, (const int[]){ SIGHUP, SIGPIPE, 0 });
	handle(SIG_DFL, (const int[]){ SIGCHLD, 0 });
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_SETMASK, &stop, NULL);
	sigemptyset(open);
}

int supervise(const struct supervisor *s)
{
	struct child c[SUPERVISE_MAX];
	struct timespec tick = { 1, 0 };
	sigset_t oldmask;

	memset(c, 0, sizeof(c));
	master_signals(&oldmask);
	fill(s, c);
	log_msg("started %d workers", s->n);
	while (!got_stop) {
		/* Sleeps until a signal arrives, atomically unblocking them;
		 * the timeout retries throttled slots. */
		ppoll(NULL, 0, &tick, &oldmask);
		if (got_chld) {
			got_chld = 0;
			reap(s, c, 0);
		}
		if (got_hup) {
			got_hup = 0;
			if (s->on_hup && s->on_hup(s->arg))
				signal_all(c, s->n, SIGTERM);
		}
		if (!got_stop)
			fill(s, c);
	}
	log_msg("stopping");
	signal_all(c, s->n, SIGTERM);
	for (int waited = 0; reap(s, c, 1) > 0; waited++) {
		if (waited == s->stop_wait_s * 10) {
			log_msg("workers still busy after %ds; killing them", s->stop_wait_s);
			signal_all(c, s->n, SIGKILL);
		}
		nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	}
	return 0;
}
