/* http.c - rendering pages, redirects, headers and error pages into a response. */
#include "http.h"

#include <string.h>

#include "log.h"

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/* What the error page says when the handler gave no message. */
static const char *error_text(int status)
{
	switch (status) {
	case 400: return "The request could not be understood.";
	case 403: return "You may not do that. If you were filling in a form, "
			 "reload it and try again.";
	case 404: return "There is no such page.";
	case 405: return "This page does not accept that kind of request.";
	case 413: return "What you sent is too large.";
	case 415: return "This kind of upload is not accepted here.";
	case 503: return "The service is briefly unavailable. "
			 "Please try again in a moment.";
	default: return "Something went wrong on our side. "
			"The error has been logged.";
	}
}

int http_render(struct req *r, const char *name)
{
	struct buf err = BUF_INIT;

	buf_reset(r->body_out);
	if (tpl_render(r->tpl, name, r->view, r->body_out, &err) < 0) {
		log_msg("render %s: %s id=%s", name, err.data ? err.data : "",
			r->request_id);
		buf_free(&err);
		return 500;
	}
	r->status = 200;
	r->content_type_out = "text/html; charset=utf-8";
	return 200;
}

int http_render_status(struct req *r, const char *name, int status)
{
	if (http_render(r, name) != 200)
		return 500;
	r->status = status;
	return status;
}

int http_local_path(const char *next)
{
	if (next == NULL || next[0] != '/' || next[1] == '/' || next[1] == '\\')
		return 0;
	for (const char *p = next; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return 0;
	return 1;
}

int http_redirect(struct req *r, const char *location)
{
	buf_reset(r->body_out);
	http_header(r, "Location", location);
	r->status = 303;
	return 303;
}

void http_header(struct req *r, const char *name, const char *value)
{
	buf_puts(r->headers, name);
	buf_put(r->headers, ": ", 2);
	buf_put(r->headers, value, strcspn(value, "\r\n"));
	buf_put(r->headers, "\r\n", 2);
}

const char *http_head(struct req *r)
{
	/* In the arena, so that any length fits (a fixed buffer once cut a
	 * long header and sent what lay past it); formatted here because
	 * libfcgi's own printf knows no %zu. */
	return arena_printf(r->arena, "Status: %d %s\r\nContent-Type: %s\r\n"
			    "Content-Length: %zu\r\nCache-Control: no-store\r\n",
			    r->status, http_reason(r->status),
			    r->content_type_out ? r->content_type_out : "text/html; charset=utf-8",
			    r->body_out->len);
}

void http_error(struct req *r, int status, const char *message)
{
	struct tv *v = r->view;
	struct buf err = BUF_INIT;

	buf_reset(r->headers);
	buf_reset(r->body_out);
	r->status = status;
	r->content_type_out = "text/html; charset=utf-8";
	tv_set_num(r->arena, v, "error_status", status);
	tv_set_str(r->arena, v, "error_title", http_reason(status));
	tv_set_str(r->arena, v, "error_message", message ? message : error_text(status));
	tv_set_str(r->arena, v, "title", http_reason(status));
	if (tpl_render(r->tpl, "error", v, r->body_out, &err) == 0)
		return;
	/* The error template itself failed: a minimal page, still escaped. */
	log_msg("render error page: %s id=%s", err.data ? err.data : "", r->request_id);
	buf_free(&err);
	buf_reset(r->body_out);
	buf_printf(r->body_out, "<!DOCTYPE html>\n<html lang=\"en\"><head><title>%d %s"
		   "</title></head><body><h1>%d %s</h1><p>Request id %s</p></body></html>\n",
		   status, http_reason(status), status, http_reason(status), r->request_id);
}

const char *http_form(const struct req *r, const char *name)
{
	return kv_get(&r->form, name);
}

const char *http_query(const struct req *r, const char *name)
{
	return kv_get(&r->query, name);
}

const char *http_cookie(const struct req *r, const char *name)
{
	return kv_get(&r->cookies, name);
}
