/* site.h - where carebox lives: its public base URL, and what follows from
 * it (links built from it, never from the Host header; secure cookies and
 * HSTS when it is https). Set once at start-up, before workers fork. */
#ifndef CAREBOX_SITE_H
#define CAREBOX_SITE_H

#include "arena.h"

struct site {
	const char *base_url;		/* "https://portal.example.org", no '/' at the end */
	int https;			/* the base URL is https: Secure __Host- cookies, HSTS */
	const char *session_cookie;	/* the cookie names, "__Host-"-prefixed on https */
	const char *pre_cookie;
	const char *link_cookie;
	const char *step_cookie;	/* the sign-in between password and code */
};

extern struct site site;

/* The HSTS header value sent on every answer of an https site. */
#define SITE_HSTS "max-age=31536000; includeSubDomains"

/* Reads CAREBOX_BASE_URL (scheme and host, optional port, nothing after)
 * and CAREBOX_INSECURE_HTTP (1 allows an http base URL: development only).
 * Returns 0, or -1 after logging what is wrong. */
int site_init(void);

/* Sets the site from `base_url`; `insecure_ok` allows http. Returns 0, or
 * -1 after logging what is wrong (site_init's work, for tests). */
int site_set(const char *base_url, int insecure_ok);

/* The absolute URL of the same-site `path` ("/join?key=..."), in `a`. */
const char *site_url(struct arena *a, const char *path);

#endif
