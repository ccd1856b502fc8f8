/* page_home.c - GET /: a user's home page; visitors are sent to /login. */
#include "page.h"

#include "sess.h"

int page_home(struct req *r)
{
	if (r->user == NULL)
		return http_redirect(r, "/login");
	tv_set_str(r->arena, r->view, "title", "Home");
	return http_render(r, "home");
}
