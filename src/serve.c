/* serve.c - the FastCGI worker: accept, parse, dispatch, send, log, repeat. */
#include "serve.h"

#include <errno.h>
#include <fcgiapp.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "route.h"
#include "site.h"
#include "supervise.h"
#include "when.h"

/* Buffers that grew past this (a large page) are released after the
 * request, so one big response does not pin a worker's memory. */
#define KEEP_BUFFER (256 * 1024)

static volatile sig_atomic_t worker_stopping;

/* SIGTERM and SIGINT end the worker after the request in flight. They
 * stay blocked except while the worker waits for a connection (ppoll in
 * worker_wait: supervise_child_signals), so no system call of libfcgi or
 * libpq is ever interrupted half-way: an interrupted accept-time check
 * would drop nginx's connection (a 502). */
static void worker_on_stop(int sig)
{
	(void)sig;
	worker_stopping = 1;
	FCGX_ShutdownPending();
}

/* Waits until the listening socket has a connection or a stop signal came.
 * Returns 1 to try accepting, 0 to stop. */
static int worker_wait(int listen_fd, const sigset_t *waiting)
{
	struct pollfd pfd = { listen_fd, POLLIN, 0 };

	while (!worker_stopping) {
		if (ppoll(&pfd, 1, NULL, waiting) > 0)
			return 1;
	}
	return 0;
}

static long usec_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

/* The request id: nginx's $request_id when it passed one (so the two logs
 * line up), else 16 random hex digits. Always [0-9a-f], safe anywhere. */
static const char *request_id(struct arena *a, const char *from_nginx)
{
	unsigned char rnd[8];
	char *id;

	if (from_nginx && strlen(from_nginx) <= 32 && *from_nginx &&
	    strspn(from_nginx, "0123456789abcdef") == strlen(from_nginx))
		return arena_strdup(a, from_nginx);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	id = arena_alloc(a, 17);
	for (int i = 0; i < 8; i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	return id;
}

static enum http_method method_of(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return M_GET;
	if (strcmp(m, "HEAD") == 0)
		return M_HEAD;
	if (strcmp(m, "POST") == 0)
		return M_POST;
	return M_OTHER;
}

/* Fills r from the FastCGI parameters. Never fails: missing parameters
 * become safe defaults. */
static void req_from_params(struct req *r, FCGX_ParamArray env)
{
	const char *uri = FCGX_GetParam("REQUEST_URI", env);
	const char *m = FCGX_GetParam("REQUEST_METHOD", env);
	const char *addr = FCGX_GetParam("REMOTE_ADDR", env);
	const char *ct = FCGX_GetParam("CONTENT_TYPE", env);

	if (uri == NULL || *uri != '/')
		uri = "/";
	r->path = arena_strndup(r->arena, uri, strcspn(uri, "?"));
	r->method_name = m ? m : "GET";
	r->method = method_of(r->method_name);
	r->remote_addr = addr ? addr : "";
	r->content_type = ct ? ct : "";
	r->request_id = request_id(r->arena, FCGX_GetParam("REQUEST_ID", env));
}

/* 1 if the declared content type is `want`, ignoring parameters. */
static int content_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* 1 if the request declares a multipart/form-data body (file uploads). */
static int req_multipart(const struct req *r)
{
	return content_type_is(r->content_type, "multipart/form-data");
}

/* Parses the query string and cookies, and checks the declared body size:
 * HTTP_MAX_BODY, or MULTIPART_MAX_BODY for uploads. Returns 0, or an error
 * status (400, 413) with the message in *msg. */
static int req_read_head(struct req *r, FCGX_Request *fr, const char **msg)
{
	const char *qs = FCGX_GetParam("QUERY_STRING", fr->envp);
	const char *cookie = FCGX_GetParam("HTTP_COOKIE", fr->envp);
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	long max = req_multipart(r) ? MULTIPART_MAX_BODY : HTTP_MAX_BODY;
	char *end;
	long len;

	if (cookie)
		http_parse_cookies(r->arena, cookie, strlen(cookie), &r->cookies);
	if (qs && (*msg = http_parse_urlencoded(r->arena, qs, strlen(qs), &r->query)))
		return 400;
	len = cl && *cl ? strtol(cl, &end, 10) : 0;
	if (cl && *cl && (*end || len < 0)) {
		*msg = "The request had an invalid length.";
		return 400;
	}
	if (len > max) {
		*msg = "What you sent is too large.";
		return 413;
	}
	r->body_len = (size_t)len;
	return 0;
}

/* Reads and parses the body of a POST to route `rt` (its size already
 * checked): urlencoded into r->form; multipart, only where the route takes
 * UPLOADS, into r->form and r->uploads (pointing into r->body). Returns 0,
 * or an error status (400, 413, 415) with the message in *msg. */
static int req_read_body(struct req *r, FCGX_Request *fr, const struct route *rt,
			 const char **msg)
{
	int multipart = req_multipart(r), status = 0;
	char *body;

	if (multipart && !(rt->access & UPLOADS)) {
		*msg = "This page does not accept files.";
		return 415;	/* before reading what may be 50 MB */
	}
	body = arena_alloc(r->arena, r->body_len + 1);
	if (FCGX_GetStr(body, (int)r->body_len, fr->in) != (int)r->body_len) {
		*msg = "The request body was cut short.";
		return 400;
	}
	body[r->body_len] = '\0';
	r->body = body;
	if (multipart) {
		*msg = multipart_parse(r->arena, r->content_type, body, r->body_len,
				       &r->form, &r->uploads, &r->nuploads, &status);
		return status;
	}
	if (!content_type_is(r->content_type, "application/x-www-form-urlencoded")) {
		*msg = "This page only accepts ordinary form submissions.";
		return 415;
	}
	if ((*msg = http_parse_urlencoded(r->arena, body, r->body_len, &r->form)))
		return 400;
	return 0;
}

/* Routes the request and runs its handler; every failure on the way
 * becomes an error page. A bad request never reaches the database. */
static void req_handle(struct req *r, FCGX_Request *fr)
{
	const char *msg = NULL, *allow = NULL;
	const struct route *rt;
	int status = req_read_head(r, fr, &msg);

	if (status) {
		http_error(r, status, msg);
		return;
	}
	rt = route_find(r, &status, &allow);
	if (rt == NULL) {
		http_error(r, status, NULL);
		if (allow)
			http_header(r, "Allow", allow);
		return;
	}
	db_begin_request(r->db, r->method != M_POST);
	/* Files are read only for someone the route lets in; route_admit
	 * answers anyone else (to /login, 403 or 503). */
	if (r->method == M_POST && req_multipart(r) && (rt->access & UPLOADS))
		status = route_admit(r, rt);
	if (status == 0 && r->method == M_POST && (status = req_read_body(r, fr, rt, &msg)))
		http_error(r, status, msg);
	else if (status == 0)
		route_run(r, rt);
	db_end_request(r->db);
}

/* Sends status line, headers and (unless HEAD) the body in one go. */
static void req_send(struct req *r, FCGX_Request *fr)
{
	const char *head = http_head(r);

	FCGX_PutStr(head, (int)strlen(head), fr->out);
	if (r->headers->len)
		FCGX_PutStr(r->headers->data, (int)r->headers->len, fr->out);
	FCGX_PutStr("\r\n", 2, fr->out);
	if (r->method != M_HEAD && r->body_out->len)
		FCGX_PutStr(r->body_out->data, (int)r->body_out->len, fr->out);
}

/* Handles one accepted request from start to log line. */
static void serve_one(FCGX_Request *fr, struct arena *a, struct db *db,
		      const struct tpl_set *tpl, struct buf *headers, struct buf *body)
{
	struct timespec t0;
	struct req r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&r, 0, sizeof(r));
	r.arena = a;
	r.db = db;
	r.tpl = tpl;
	r.headers = headers;
	r.body_out = body;
	r.view = tv_map(a);
	when_zone(NULL);	/* UTC, until a session names the viewer's zone */
	req_from_params(&r, fr->envp);
	tv_set_str(a, r.view, "request_id", r.request_id);
	req_handle(&r, fr);
	/* On an https site every answer says so (error pages too: they reset
	 * the headers), whoever terminates TLS in front. */
	if (site.https)
		http_header(&r, "Strict-Transport-Security", SITE_HSTS);
	req_send(&r, fr);
	log_request(r.method_name, r.path, r.status, usec_since(&t0), r.request_id);
	/* When nginx's whole request has been read, the connection can simply
	 * be closed: libfcgi's default close half-shuts it and waits for nginx
	 * to hang up first, three system calls and a wait per request. Input
	 * left unread (a body refused before reading) keeps that default, so
	 * closing never resets a connection with data in flight. */
	if ((r.body_len == 0 || r.body) && FCGX_GetChar(fr->in) == EOF)
		FCGX_Detach(fr);
}

int serve_worker(const struct serve_config *cfg)
{
	FCGX_Request fr;
	struct arena *a = arena_new(64 * 1024);
	struct buf headers = BUF_INIT, body = BUF_INIT;
	struct db *db = db_new(cfg->conninfo, cfg->statement_timeout_ms, route_stmts);
	sigset_t waiting;

	supervise_child_signals(worker_on_stop, &waiting);
	log_init("carebox");
	/* Password hashing takes 19 MiB at a time: keep such blocks mmap'd so
	 * they go back to the system at once instead of pinning the heap. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (FCGX_InitRequest(&fr, cfg->listen_fd, 0) != 0) {
		log_msg("FCGX_InitRequest failed");
		return 1;
	}
	db_ensure(db);
	/* The socket is non-blocking: the workers all wake for a connection,
	 * one wins it, the others' accept fails at once and they wait again. */
	while (worker_wait(cfg->listen_fd, &waiting)) {
		if (FCGX_Accept_r(&fr) != 0)
			continue;
		serve_one(&fr, a, db, cfg->tpl, &headers, &body);
		FCGX_Finish_r(&fr);
		arena_reset(a);
		buf_reset(&headers);
		buf_reset(&body);
		if (body.cap > KEEP_BUFFER)
			buf_free(&body);
	}
	FCGX_Free(&fr, 1);
	db_free(db);
	arena_free(a);
	buf_free(&headers);
	buf_free(&body);
	return 0;
}
