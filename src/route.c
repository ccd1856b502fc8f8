/* route.c - the route table and dispatch: path, methods and handler of each page. */
#include "route.h"

#include <string.h>

#include "page.h"

static const struct route routes[] = {
	/* pattern		GET		POST */
	{ "/",			page_home,	NULL },
	{ "/healthz",		page_health,	NULL },
};

const struct db_stmt *const route_stmts[] = {
	page_health_stmts,
	NULL
};

/* Matches `path` against `pattern`, segment by segment; "{id}" takes one
 * UUID segment. Stores the parameters in r->params. Returns 1 on a match. */
static int route_match(struct req *r, const char *pattern, const char *path)
{
	r->nparams = 0;
	while (*pattern && *path) {
		if (strncmp(pattern, "{id}", 4) == 0) {
			size_t n = strcspn(path, "/");

			if (!uuid_valid(path, n) || r->nparams == HTTP_MAX_PARAMS)
				return 0;
			r->params[r->nparams++] = arena_strndup(r->arena, path, n);
			pattern += 4;
			path += n;
		} else if (*pattern++ != *path++) {
			return 0;
		}
	}
	return *pattern == '\0' && *path == '\0';
}

const struct route *route_find(struct req *r, int *status, const char **allow)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];

		if (!route_match(r, rt->pattern, r->path))
			continue;
		if ((r->method & (M_GET | M_HEAD)) && rt->get)
			return rt;
		if (r->method == M_POST && rt->post)
			return rt;
		*status = 405;
		*allow = rt->get && rt->post ? "GET, HEAD, POST" :
			 rt->get ? "GET, HEAD" : "POST";
		return NULL;
	}
	*status = 404;
	*allow = NULL;
	return NULL;
}

int route_run(struct req *r, const struct route *rt)
{
	int status = r->method == M_POST ? rt->post(r) : rt->get(r);

	if (status >= 400)
		http_error(r, status, NULL);
	return r->status;
}
