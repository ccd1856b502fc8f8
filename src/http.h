/* http.h - the request context every handler gets, and the response builder. */
#ifndef CAREBOX_HTTP_H
#define CAREBOX_HTTP_H

#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "db.h"
#include "http_parse.h"
#include "multipart.h"
#include "tpl.h"

#define HTTP_MAX_BODY (1024 * 1024)	/* urlencoded forms; uploads: MULTIPART_MAX_BODY */
#define HTTP_MAX_PARAMS 4		/* path parameters of one route */

struct user;

enum http_method { M_GET = 1, M_HEAD = 2, M_POST = 4, M_OTHER = 8 };

/* Everything about one request and its response. Created by serve.c for
 * each request; everything hanging off it lives in `arena`, except the
 * response buffers, which the worker reuses. */
struct req {
	struct arena *arena;
	struct db *db;
	const struct tpl_set *tpl;

	/* the request, validated */
	enum http_method method;
	const char *method_name;
	const char *path;		/* without the query string */
	const char *request_id;
	const char *remote_addr;
	const char *content_type;
	const char *body;		/* NUL-terminated, body_len bytes */
	size_t body_len;
	struct kvlist query;
	struct kvlist form;		/* POST fields (urlencoded or multipart) */
	struct upload *uploads;		/* files of a multipart POST (UPLOADS routes) */
	size_t nuploads;
	struct kvlist cookies;
	const char *params[HTTP_MAX_PARAMS];	/* {id} parts of the path */
	unsigned access;		/* the route's access rule (route.h) */
	int session_loaded;		/* and the access rule applied: by route_admit
					 * (before the body) or route_session() */
	int keep_on_error;		/* commit though the answer is an error (page_keep) */
	const char *ended_user;		/* a KEEPS_DRAFT post whose session ended: its
					 * owner (route.c), for page_message_keep() */
	int nparams;

	/* who is asking (sess.c); NULL for a visitor */
	struct user *user;
	const char *session_token;	/* secret: never logged or rendered */
	const char *csrf_token;		/* what this page's forms carry */
	const char *flash_kind, *flash_text;

	/* the page data every template sees (layout fields); handlers add */
	struct tv *view;

	/* the response */
	int status;
	const char *content_type_out;
	struct buf *headers;		/* extra "Name: value\r\n" lines */
	struct buf *body_out;
};

/* Renders template `name` with r->view into the response body with status
 * 200 and text/html. Returns 200, or 500 (logged) if rendering failed. */
int http_render(struct req *r, const char *name);

/* Renders template `name` like http_render() but answers with `status`
 * (a form sent back with errors: 422, 401, 429...). Returns `status`, or
 * 500 if rendering failed. */
int http_render_status(struct req *r, const char *name, int status);

/* 1 if `next` is a safe place to send the user after a form: a same-site
 * absolute path ("/x", never "//host" or "/\host", no controls). */
int http_local_path(const char *next);

/* Sets a 303 See Other to `location` (a same-site path). Returns 303. */
int http_redirect(struct req *r, const char *location);

/* Adds a response header line; `value` must not contain CR or LF (it is
 * cut at the first one if it does). */
void http_header(struct req *r, const char *name, const char *value);

/* The head of the response: the Status line and the Content-Type,
 * Content-Length (of r->body_out, also for a HEAD) and Cache-Control:
 * no-store headers, each ending in CRLF, whatever their length; in the
 * arena. The extra headers (r->headers) and the blank line follow it. */
const char *http_head(struct req *r);

/* Replaces the response with the error page for `status` (4xx/5xx), with
 * `message` shown to the user (NULL: the standard text for the status). */
void http_error(struct req *r, int status, const char *message);

/* The standard reason phrase of an HTTP status. */
const char *http_reason(int status);

/* Form field `name` of a POST, or NULL. */
const char *http_form(const struct req *r, const char *name);

/* Query argument `name`, or NULL. */
const char *http_query(const struct req *r, const char *name);

/* Cookie `name`, or NULL. */
const char *http_cookie(const struct req *r, const char *name);

#endif
