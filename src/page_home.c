/* page_home.c - GET /: the front page. */
#include "page.h"

int page_home(struct req *r)
{
	tv_set_str(r->arena, r->view, "title", "Welcome");
	return http_render(r, "home");
}
