/* serve.h - the FastCGI worker: accept, parse, dispatch, send, log, repeat. */
#ifndef CAREBOX_SERVE_H
#define CAREBOX_SERVE_H

#include "tpl.h"

struct serve_config {
	int listen_fd;			/* a listening socket */
	const char *conninfo;		/* libpq connection string */
	int statement_timeout_ms;
	const struct tpl_set *tpl;
};

/* Runs one worker: serves requests on cfg->listen_fd until SIGTERM or
 * SIGINT, finishing the request in flight. Returns the exit status. */
int serve_worker(const struct serve_config *cfg);

#endif
