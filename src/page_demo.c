/* page_demo.c - /demo/mail: the mails of the demo (CAREBOX_MAIL_DIR, written there instead of sent), listed and shown so a visitor can follow their links; only with CAREBOX_DEMO=1. */
#include "page.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "dirlist.h"
#include "http_parse.h"
#include "mail.h"
#include "site.h"

#define DEMO_MAILS_MAX 100	/* the newest, listed */

int page_demo_on(void)
{
	const char *v = getenv("CAREBOX_DEMO");

	return v && strcmp(v, "1") == 0;
}

/* The mail folder, or NULL when the demo is off or has none. */
static const char *demo_dir(void)
{
	const char *d = getenv("CAREBOX_MAIL_DIR");

	return page_demo_on() && d && *d ? d : NULL;
}

/* Reads mail `name` ("<job id>.eml") of `dir` into `b`, its time into
 * *mtime. Returns 0 or -1. */
static int demo_read(const char *dir, const char *name, struct buf *b, time_t *mtime)
{
	char path[4096];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    stat(path, &st) < 0 || st.st_size > 256 * 1024)
		return -1;
	*mtime = st.st_mtime;
	return buf_read_file(b, path, NULL);
}

/* A listed mail: its file's time, for the order. */
struct demo_mail {
	time_t mtime;
	struct tv *view;
};

/* Newest first (qsort). */
static int demo_cmp(const void *x, const void *y)
{
	const struct demo_mail *a = x, *b = y;

	return a->mtime < b->mtime ? 1 : a->mtime > b->mtime ? -1 : 0;
}

/* The view of mail `msg` named `id`: id, subject, to, date, from. */
static struct tv *demo_view(struct req *r, const char *id, const char *msg)
{
	struct tv *m = tv_map(r->arena);
	static const char *const names[][2] = {
		{ "subject", "Subject" }, { "to", "To" }, { "date", "Date" }, { "from", "From" },
	};

	tv_set_str(r->arena, m, "id", id);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = mail_header_get(r->arena, msg, names[i][1]);

		tv_set_str(r->arena, m, names[i][0], v ? v : "");
	}
	return m;
}

/* GET /demo/mail: the demo's mails, newest first: subject, to, date. */
int page_demo_mail_get(struct req *r)
{
	const char *dir = demo_dir();
	char **names;
	struct demo_mail *list;
	struct tv *mails = tv_list(r->arena);
	size_t n = 0, cap = 0;

	if (dir == NULL)
		return 404;
	names = dir_list(dir, ".eml");
	for (size_t i = 0; names && names[i]; i++)
		cap++;
	list = arena_alloc(r->arena, (cap + 1) * sizeof(*list));
	for (size_t i = 0; names && names[i]; i++) {
		struct buf b = BUF_INIT;
		size_t len = strlen(names[i]) - 4;

		if (uuid_valid(names[i], len) && demo_read(dir, names[i], &b, &list[n].mtime) == 0)
			list[n++].view = demo_view(r, arena_strndup(r->arena, names[i], len), b.data);
		buf_free(&b);
	}
	dir_list_free(names);
	qsort(list, n, sizeof(*list), demo_cmp);
	for (size_t i = 0; i < n && i < DEMO_MAILS_MAX; i++)
		tv_push(r->arena, mails, list[i].view);
	tv_set(r->arena, r->view, "mails", mails);
	tv_set_bool(r->arena, r->view, "none", n == 0);
	tv_set_str(r->arena, r->view, "title", "The demo's mails");
	return http_render(r, "demo_mail");
}

/* GET /demo/mail/{id}: one mail, its links to follow: "parts" of the body,
 * each {text} or {link} (an address of this carebox). */
int page_demo_mail_one_get(struct req *r)
{
	const char *dir = demo_dir(), *s, *base = site.base_url;
	struct buf b = BUF_INIT;
	struct tv *m, *parts = tv_list(r->arena);
	time_t mtime;
	size_t nb = base ? strlen(base) : 0;

	if (dir == NULL || demo_read(dir, arena_printf(r->arena, "%s.eml", r->params[0]), &b,
				     &mtime) < 0) {
		buf_free(&b);
		return 404;
	}
	m = demo_view(r, r->params[0], b.data);
	for (s = mail_body(b.data); *s;) {
		const char *at = nb ? strstr(s, base) : NULL;
		struct tv *part = tv_map(r->arena);
		size_t n = at ? (size_t)(at - s) : strlen(s);

		if (n == 0) {	/* a link: up to the end of its line */
			n = strcspn(s, " \r\n");
			tv_set_str(r->arena, part, "link", arena_strndup(r->arena, s, n));
		} else {	/* text, its lines ending in LF alone */
			char *t = arena_strndup(r->arena, s, n), *o = t;

			for (const char *c = t; *c; c++)
				if (*c != '\r')
					*o++ = *c;
			*o = '\0';
			tv_set_str(r->arena, part, "text", t);
		}
		tv_push(r->arena, parts, part);
		s += n;
	}
	buf_free(&b);
	tv_set(r->arena, m, "parts", parts);
	tv_set(r->arena, r->view, "mail", m);
	tv_set_str(r->arena, r->view, "title", "A mail of the demo");
	return http_render(r, "demo_mail");
}
