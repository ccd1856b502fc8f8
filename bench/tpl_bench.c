/* tpl_bench.c - how long rendering an inbox page takes, and what it allocates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "tpl.h"

/*
 * Heap use is counted by standing in for malloc and friends: the program's
 * own definitions win over the C library's, and pass the calls on to
 * glibc's __libc_* functions. Only counted while `counting` is set.
 */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static int counting;
static unsigned long n_allocs, n_bytes;

void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);

/* Counts, then calls glibc's malloc. */
void *malloc(size_t n)
{
	if (counting) {
		n_allocs++;
		n_bytes += n;
	}
	return __libc_malloc(n);
}

/* Counts, then calls glibc's calloc. */
void *calloc(size_t n, size_t size)
{
	if (counting) {
		n_allocs++;
		n_bytes += n * size;
	}
	return __libc_calloc(n, size);
}

/* Counts, then calls glibc's realloc. */
void *realloc(void *p, size_t n)
{
	if (counting) {
		n_allocs++;
		n_bytes += n;
	}
	return __libc_realloc(p, n);
}

static const char layout[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<title>{{$title}}carebox{{/title}} · carebox</title>\n"
	"<link rel=\"stylesheet\" href=\"/static/style.css\">\n</head>\n<body>\n"
	"<header class=\"site\">\n<a class=\"brand\" href=\"/\">carebox</a>\n"
	"<nav aria-label=\"Main\">\n{{>nav}}\n</nav>\n</header>\n"
	"{{#flash}}\n<p class=\"flash flash-{{kind}}\" role=\"status\">{{text}}</p>\n{{/flash}}\n"
	"<main>\n  {{$content}}\n  {{/content}}\n</main>\n"
	"<footer class=\"site\"><p>carebox</p></footer>\n</body>\n</html>\n";

static const char nav[] =
	"<ul>\n<li><a href=\"/\">Home</a></li>\n<li><a href=\"/inbox\">Inbox</a>"
	"{{#unread}} ({{unread}}){{/unread}}</li>\n<li><a href=\"/logout\">Log out</a></li>\n</ul>\n";

static const char inbox[] =
	"{{<layout}}\n{{$title}}Inbox ({{unread}}){{/title}}\n{{$content}}\n"
	"<h1>Inbox of {{user.name}}</h1>\n"
	"{{#any}}\n<table class=\"inbox\">\n"
	"<tr><th>From</th><th>Subject</th><th>Date</th></tr>\n"
	"{{#messages}}\n{{>row}}\n{{/messages}}\n</table>\n{{/any}}\n"
	"{{^any}}\n<p>No messages.</p>\n{{/any}}\n"
	"{{/content}}\n{{/layout}}\n";

static const char row[] =
	"<tr class=\"{{^read}}unread{{/read}}\">\n"
	"  <td>{{from}}</td>\n"
	"  <td><a href=\"/inbox/{{id}}\">{{subject}}</a></td>\n"
	"  <td>{{date}}</td>\n</tr>\n";

/* The data of an inbox with 10 messages, built in the arena as a handler
 * would, with text that needs escaping. */
static struct tv *inbox_data(struct arena *a)
{
	struct tv *root = tv_map(a), *user = tv_map(a), *msgs = tv_list(a);

	tv_set_str(a, user, "name", "Zoë O'Brien");
	tv_set(a, root, "user", user);
	tv_set_num(a, root, "unread", 3);
	for (int i = 0; i < 10; i++) {
		struct tv *m = tv_map(a);

		tv_set_num(a, m, "id", 1000 + i);
		tv_set_str(a, m, "from", "Dr. Smith & Partners <clinic@example.org>");
		tv_set_str(a, m, "subject", arena_printf(a, "Your results (#%d) \"ready\"", i));
		tv_set_str(a, m, "date", "2024-05-17 10:42");
		tv_set_bool(a, m, "read", i >= 3);
		tv_push(a, msgs, m);
	}
	tv_set(a, root, "messages", msgs);
	tv_set_bool(a, root, "any", msgs->u.list.n > 0);
	return root;
}

/* The monotonic clock in nanoseconds. */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Adds a template from a string; exits on an error. */
static void add(struct tpl_set *set, const char *name, const char *src)
{
	struct buf err = BUF_INIT;

	if (tpl_add(set, name, name, src, strlen(src), &err) < 0) {
		fprintf(stderr, "%s\n", err.data);
		exit(1);
	}
	buf_free(&err);
}

/* Renders `n` times; `fresh` gives each render a new buffer (a cold worker),
 * otherwise one buffer is reset and reused (a warm one). Prints the time
 * and heap use per render. */
static void run(struct tpl_set *set, const struct tv *data, long n, int fresh)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	size_t len = 0;
	double t0;

	tpl_render(set, "inbox", data, &out, &err);	/* warm up */
	n_allocs = n_bytes = 0;
	counting = 1;
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (fresh)
			buf_free(&out);
		buf_reset(&out);
		if (tpl_render(set, "inbox", data, &out, &err) < 0) {
			fprintf(stderr, "%s\n", err.data);
			exit(1);
		}
		len = out.len;
	}
	counting = 0;
	printf("%-28s %8.0f ns/render  %6.1f allocs/render  %8.0f bytes allocated/render"
	       "  (%zu bytes of HTML)\n", fresh ? "render, new buffer each:" :
	       "render, buffer reused:", (now_ns() - t0) / n, (double)n_allocs / n,
	       (double)n_bytes / n, len);
	buf_free(&out);
	buf_free(&err);
}

/* Builds the data in a reset arena and renders into a reused buffer, as a
 * worker does per request. */
static void run_request(struct tpl_set *set, long n)
{
	struct arena *a = arena_new(64 * 1024);
	struct buf out = BUF_INIT, err = BUF_INIT;
	double t0;

	n_allocs = n_bytes = 0;
	counting = 1;
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		arena_reset(a);
		buf_reset(&out);
		tpl_render(set, "inbox", inbox_data(a), &out, &err);
	}
	counting = 0;
	printf("%-28s %8.0f ns/request %6.1f allocs/request %8.0f bytes allocated/request\n",
	       "build data + render:", (now_ns() - t0) / n, (double)n_allocs / n,
	       (double)n_bytes / n);
	arena_free(a);
	buf_free(&out);
	buf_free(&err);
}

/* tpl_bench [N]: N renders of each kind (default 200000). */
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	struct tpl_set *set = tpl_set_new();
	struct arena *a = arena_new(64 * 1024);
	const struct tv *data = inbox_data(a);

	add(set, "layout", layout);
	add(set, "nav", nav);
	add(set, "row", row);
	add(set, "inbox", inbox);
	printf("inbox page, 10 messages, %ld renders\n", n);
	run(set, data, n, 0);
	run(set, data, n, 1);
	run_request(set, n);
	tpl_set_free(set);
	arena_free(a);
	return 0;
}
