/* supervise.h - the master process of carebox and carebox-worker: keeps N children running, respawns the dead, stops them gracefully. */
#ifndef CAREBOX_SUPERVISE_H
#define CAREBOX_SUPERVISE_H

#include <signal.h>
#include <sys/types.h>

#define SUPERVISE_MAX 64	/* children at most */

/* What a master runs. Only `n` and `child` are required. */
struct supervisor {
	int n;				/* children to keep running, 1..SUPERVISE_MAX */
	/* A child's main, run in the forked process with SIGTERM, SIGINT,
	 * SIGHUP and SIGCHLD blocked and the master's handlers still set (it
	 * sets its own, then unblocks what it waits with); its return is the
	 * child's exit status. `slot` (0..n-1) is the child's place, which
	 * its replacement takes. */
	int (*child)(void *arg, int slot);
	void *arg;
	/* SIGHUP: returns 1 to replace every child (each gets SIGTERM and is
	 * respawned once it has exited), 0 to keep them. NULL: SIGHUP is
	 * ignored. */
	int (*on_hup)(void *arg);
	/* A child of `slot` ended without being asked to (a crash, or a
	 * non-zero exit status `status` as waitpid() gives it), after the
	 * master logged it. NULL: nothing more. */
	void (*on_death)(void *arg, int slot, pid_t pid, int status);
	/* After SIGTERM or SIGINT the master passes SIGTERM on and waits for
	 * the children this long before it kills them (SIGKILL). */
	int stop_wait_s;
};

/* Runs the master until SIGTERM or SIGINT: starts `s->n` children and
 * starts a new one in the slot of each that dies (after a second, if the
 * last one of that slot lived less than a second, so a crash loop cannot
 * spin), handles SIGHUP as `s->on_hup` says, and on SIGTERM or SIGINT
 * stops the children (SIGTERM, then SIGKILL after `s->stop_wait_s`).
 * Returns 0 once all have exited. */
int supervise(const struct supervisor *s);

/* A child's signals, set first thing by s->child: SIGTERM and SIGINT call
 * `on_stop` (the child ends after the work in flight) and stay blocked, so
 * that no system call (libpq's, libfcgi's, a handler's) is interrupted
 * half-way, except while the child waits with the mask *open gets (nothing
 * blocked: ppoll(..., open)); SIGHUP (the master's) and SIGPIPE are
 * ignored; SIGCHLD is back to its default. */
void supervise_child_signals(void (*on_stop)(int), sigset_t *open);

#endif
