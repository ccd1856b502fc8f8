/* main.c - carebox: reads its settings, binds the socket and runs the master (supervise.c) over the FastCGI workers. */
#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "auth.h"
#include "buf.h"
#include "log.h"
#include "route.h"
#include "serve.h"
#include "site.h"
#include "supervise.h"
#include "totp.h"
#include "tpl.h"

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

/* What the master hands its children and its SIGHUP handler. */
struct master {
	struct serve_config cfg;
	const char *datadir;
};

/* A child: one FastCGI worker. */
static int master_child(void *arg, int slot)
{
	(void)slot;
	return serve_worker(&((struct master *)arg)->cfg);
}

/* SIGHUP: re-reads the templates; with a good set, the workers are
 * replaced (they finish their requests first) and the new ones use it;
 * a broken set keeps the old workers and templates. */
static int master_hup(void *arg)
{
	struct master *m = arg;
	struct tpl_set *fresh = load_templates(m->datadir);

	if (fresh == NULL)
		return 0;
	tpl_set_free((struct tpl_set *)m->cfg.tpl);
	m->cfg.tpl = fresh;
	log_msg("templates reloaded; replacing workers");
	return 1;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *group = NULL, *datadir = getenv("CAREBOX_DATADIR");
	const char *db = getenv("CAREBOX_DATABASE_URL"), *tmo = getenv("CAREBOX_STATEMENT_TIMEOUT_MS");
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	struct master m;
	struct supervisor sup = { .child = master_child, .arg = &m, .on_hup = master_hup,
				  .stop_wait_s = 30 };
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
	if (optind != argc || n < 1 || n > SUPERVISE_MAX) {
		usage();
		return 2;
	}
	/* A table whose rules contradict each other serves no request. */
	rc = check_routes(print_routes);
	if (rc < 0 || print_routes)
		return rc < 0 ? 1 : 0;
	if (datadir == NULL || *datadir == '\0')
		datadir = CAREBOX_DATADIR;
	memset(&m, 0, sizeof(m));
	m.datadir = datadir;
	m.cfg.conninfo = db ? db : "";
	m.cfg.statement_timeout_ms = tmo ? atoi(tmo) : 5000;
	if (m.cfg.statement_timeout_ms <= 0)
		m.cfg.statement_timeout_ms = 5000;
	if (site_init() < 0 || totp_init() < 0)
		return 2;
	if (auth_init() < 0) {
		log_msg("libsodium failed to start");
		return 1;
	}
	m.cfg.tpl = load_templates(datadir);
	if (m.cfg.tpl == NULL)
		return 1;
	if (FCGX_Init() != 0) {
		log_msg("FCGX_Init failed");
		return 1;
	}
	m.cfg.listen_fd = sock ? listen_unix(sock, group) : listen_stdin();
	if (m.cfg.listen_fd < 0)
		return 1;
	/* Workers poll, then accept; a worker that loses the race for a
	 * connection must not block in accept() (see serve.c). */
	fcntl(m.cfg.listen_fd, F_SETFL, fcntl(m.cfg.listen_fd, F_GETFL) | O_NONBLOCK);
	sup.n = (int)n;
	rc = supervise(&sup);
	if (sock)
		unlink(sock);
	tpl_set_free((struct tpl_set *)m.cfg.tpl);
	return rc;
}
