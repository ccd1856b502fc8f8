/* page_home.c - GET /: a user's home is the inbox; visitors go to /login. */
#include "page.h"

#include "sess.h"

int page_home(struct req *r)
{
	return http_redirect(r, r->user ? "/inbox" : "/login");
}
