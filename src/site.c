/* site.c - the public base URL and what follows from it (site.h). */
#include "site.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Until site_set(), the development names (tools and tests that never
 * start the site). */
struct site site = { NULL, 0, "carebox_session", "carebox_pre", "carebox_link", "carebox_step" };

/* 1 if `host` is a host name or address with an optional port. */
static int host_ok(const char *host, size_t n)
{
	return n > 0 && n <= 260 &&
	       strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789.-:[]") == n;
}

int site_set(const char *base_url, int insecure_ok)
{
	static char url[300];
	const char *host;
	size_t n;
	int https;

	if (base_url == NULL || *base_url == '\0') {
		log_msg("CAREBOX_BASE_URL is not set: say where carebox is reached, "
			"e.g. https://portal.example-clinic.org");
		return -1;
	}
	https = strncmp(base_url, "https://", 8) == 0;
	if (!https && strncmp(base_url, "http://", 7) != 0) {
		log_msg("CAREBOX_BASE_URL must begin with https://");
		return -1;
	}
	if (!https && !insecure_ok) {
		log_msg("CAREBOX_BASE_URL is plain http: only for development, with "
			"CAREBOX_INSECURE_HTTP=1; a real site is reached over https");
		return -1;
	}
	host = base_url + (https ? 8 : 7);
	n = strlen(host);
	if (n > 0 && host[n - 1] == '/')
		n--;
	if (!host_ok(host, n) || (size_t)(host - base_url) + n >= sizeof(url)) {
		log_msg("CAREBOX_BASE_URL must be a scheme and a host with an optional "
			"port, nothing after it");
		return -1;
	}
	memcpy(url, base_url, (size_t)(host - base_url) + n);
	url[(size_t)(host - base_url) + n] = '\0';
	site.base_url = url;
	site.https = https;
	/* A __Host- cookie is refused by browsers unless it is Secure, has
	 * Path=/ and no Domain: nothing else on the host can set or shadow it. */
	site.session_cookie = https ? "__Host-carebox_session" : "carebox_session";
	site.pre_cookie = https ? "__Host-carebox_pre" : "carebox_pre";
	site.link_cookie = https ? "__Host-carebox_link" : "carebox_link";
	site.step_cookie = https ? "__Host-carebox_step" : "carebox_step";
	return 0;
}

int site_init(void)
{
	const char *insecure = getenv("CAREBOX_INSECURE_HTTP");

	return site_set(getenv("CAREBOX_BASE_URL"), insecure && strcmp(insecure, "1") == 0);
}

const char *site_url(struct arena *a, const char *path)
{
	return arena_printf(a, "%s%s", site.base_url, path);
}
