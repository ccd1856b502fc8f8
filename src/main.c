/* main.c - carebox: the master process that preforks and supervises workers. */
#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "buf.h"
#include "log.h"
#include "route.h"
#include "serve.h"
#include "site.h"
#include "totp.h"
#include "tpl.h"

#define MAX_WORKERS 64

struct worker {
	pid_t pid;
	time_t started;
};

static volatile sig_atomic_t got_stop, got_hup, got_chld;

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_stop = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

static void usage(void)
{
	fputs("usage: carebox [-s SOCKET [-g GROUP]] [-w WORKERS] [-d DATADIR] | -r\n"
	      "  -s SOCKET  bind this unix socket (mode 0660); without it, fd 0 must\n"
	      "             be a listening socket (spawn-fcgi, systemd)\n"
	      "  -g GROUP   give the socket to this group (nginx's, e.g. www-data)\n"
	      "  -w N       worker processes (default: one per core)\n"
	      "  -d DIR     where templates/ is (default: $CAREBOX_DATADIR or "
	      CAREBOX_DATADIR ")\n"
	      "  -r         print the routes (pattern, methods, access; tab-separated)\n"
	      "             and exit\n"
	      "environment: CAREBOX_DATABASE_URL (libpq conninfo; default: PG* variables),\n"
	      "  CAREBOX_STATEMENT_TIMEOUT_MS (default 5000)\n", stderr);
}

/* Binds a unix socket at `path`, mode 0660 and group `group` (if given),
 * replacing a stale socket file. Returns the listening fd or -1 (logged). */
static int listen_unix(const char *path, const char *group)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_msg("socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0660) < 0 || listen(fd, 1024) < 0) {
		log_msg("cannot listen on %s: %s", path, strerror(errno));
		return -1;
	}
	if (group) {
		struct group *g = getgrnam(group);

		if (g == NULL || chown(path, (uid_t)-1, g->gr_gid) < 0) {
			log_msg("cannot give %s to group %s", path, group);
			return -1;
		}
	}
	return fd;
}

/* Checks that fd 0 is a listening socket (the FastCGI convention). */
static int listen_stdin(void)
{
	int acc = 0;
	socklen_t len = sizeof(acc);

	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc) {
		log_msg("standard input is not a listening socket; use -s SOCKET");
		return -1;
	}
	return 0;
}

/* Checks the route table (route_check), logging what is wrong; with
 * `print`, writes it to standard output (route_list). Returns 0 or -1. */
static int check_routes(int print)
{
	struct buf err = BUF_INIT, out = BUF_INIT;
	int rc = route_check(route_table, route_count, &err);

	if (rc < 0)
		log_msg("%s", err.data);
	else if (print)
		route_list(route_table, route_count, &out);
	if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = -1;
	buf_free(&err);
	buf_free(&out);
	return rc;
}

static struct tpl_set *load_templates(const char *datadir)
{
	struct buf err = BUF_INIT, dir = BUF_INIT;
	struct tpl_set *set;

	buf_printf(&dir, "%s/templates", datadir);
	set = tpl_load_dir(dir.data, &err);
	if (set == NULL)
		log_msg("templates not loaded: %s", err.data ? err.data : dir.data);
	buf_free(&err);
	buf_free(&dir);
	return set;
}

static pid_t spawn(const struct serve_config *cfg)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* Signals stay blocked until the worker has its own handlers
		 * (worker_signals unblocks them), so none is lost or caught
		 * by the master's handlers in between. */
		_exit(serve_worker(cfg));
	}
	if (pid < 0)
		log_msg("fork: %s", strerror(errno));
	return pid;
}

static void signal_all(struct worker *w, int n, int sig)
{
	for (int i = 0; i < n; i++)
		if (w[i].pid > 0)
			kill(w[i].pid, sig);
}

/* Collects exited workers; logs deaths that were not asked for. Returns how
 * many are still alive. */
static int reap(struct worker *w, int n, int stopping)
{
	int status, alive = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < n; i++) {
			if (w[i].pid != pid)
				continue;
			w[i].pid = 0;
			if (WIFSIGNALED(status) && !stopping)
				log_msg("worker %d killed by signal %d", (int)pid, WTERMSIG(status));
			else if (WIFEXITED(status) && WEXITSTATUS(status) && !stopping)
				log_msg("worker %d exited with status %d", (int)pid, WEXITSTATUS(status));
		}
	}
	for (int i = 0; i < n; i++)
		alive += w[i].pid > 0;
	return alive;
}

/* Starts workers in empty slots; a slot whose last worker lived under a
 * second waits a second, so a crash loop cannot spin. */
static void fill(struct worker *w, int n, const struct serve_config *cfg)
{
	time_t now = time(NULL);

	for (int i = 0; i < n; i++) {
		if (w[i].pid > 0 || (w[i].started && now - w[i].started < 1))
			continue;
		w[i].pid = spawn(cfg);
		w[i].started = now;
	}
}

/* The supervision loop: respawn, reload on SIGHUP, stop on SIGTERM/SIGINT
 * after the workers have finished their requests. */
static int supervise(struct serve_config *cfg, int n, const char *datadir)
{
	struct worker w[MAX_WORKERS] = { { 0, 0 } };
	sigset_t block, oldmask;
	struct sigaction sa;
	struct timespec tick = { 1, 0 };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &oldmask);

	fill(w, n, cfg);
	log_msg("started %d workers", n);
	while (!got_stop) {
		/* Sleeps until a signal arrives, atomically unblocking them;
		 * the timeout retries throttled slots. */
		ppoll(NULL, 0, &tick, &oldmask);
		if (got_chld) {
			got_chld = 0;
			reap(w, n, 0);
		}
		if (got_hup) {
			struct tpl_set *fresh = load_templates(datadir);

			got_hup = 0;
			if (fresh) {
				tpl_set_free((struct tpl_set *)cfg->tpl);
				cfg->tpl = fresh;
				log_msg("templates reloaded; replacing workers");
				signal_all(w, n, SIGTERM);
			}
		}
		if (!got_stop)
			fill(w, n, cfg);
	}
	log_msg("stopping");
	signal_all(w, n, SIGTERM);
	for (int waited = 0; reap(w, n, 1) > 0; waited++) {
		if (waited == 300) {
			log_msg("workers still busy after 30s; killing them");
			signal_all(w, n, SIGKILL);
		}
		nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *group = NULL, *datadir = getenv("CAREBOX_DATADIR");
	const char *db = getenv("CAREBOX_DATABASE_URL"), *tmo = getenv("CAREBOX_STATEMENT_TIMEOUT_MS");
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	struct serve_config cfg;
	int c, rc, print_routes = 0;

	log_init("carebox");
	while ((c = getopt(argc, argv, "s:g:w:d:rh")) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'g': group = optarg; break;
		case 'w': n = strtol(optarg, NULL, 10); break;
		case 'd': datadir = optarg; break;
		case 'r': print_routes = 1; break;
		default: usage(); return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc || n < 1 || n > MAX_WORKERS) {
		usage();
		return 2;
	}
	/* A table whose rules contradict each other serves no request. */
	rc = check_routes(print_routes);
	if (rc < 0 || print_routes)
		return rc < 0 ? 1 : 0;
	if (datadir == NULL || *datadir == '\0')
		datadir = CAREBOX_DATADIR;
	memset(&cfg, 0, sizeof(cfg));
	cfg.conninfo = db ? db : "";
	cfg.statement_timeout_ms = tmo ? atoi(tmo) : 5000;
	if (cfg.statement_timeout_ms <= 0)
		cfg.statement_timeout_ms = 5000;
	if (site_init() < 0 || totp_init() < 0)
		return 2;
	if (auth_init() < 0) {
		log_msg("libsodium failed to start");
		return 1;
	}
	cfg.tpl = load_templates(datadir);
	if (cfg.tpl == NULL)
		return 1;
	if (FCGX_Init() != 0) {
		log_msg("FCGX_Init failed");
		return 1;
	}
	cfg.listen_fd = sock ? listen_unix(sock, group) : listen_stdin();
	if (cfg.listen_fd < 0)
		return 1;
	/* Workers poll, then accept; a worker that loses the race for a
	 * connection must not block in accept() (see serve.c). */
	fcntl(cfg.listen_fd, F_SETFL, fcntl(cfg.listen_fd, F_GETFL) | O_NONBLOCK);
	rc = supervise(&cfg, (int)n, datadir);
	if (sock)
		unlink(sock);
	tpl_set_free((struct tpl_set *)cfg.tpl);
	return rc;
}
