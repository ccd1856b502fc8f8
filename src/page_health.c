/* page_health.c - GET /healthz: 200 "ok" when the database answers, else 503. */
#include "page.h"

#include <libpq-fe.h>

const struct db_stmt page_health_stmts[] = {
	{ "health", "SELECT 1" },
	{ NULL, NULL }
};

int page_health(struct req *r)
{
	PGresult *res = db_exec(r->db, "health", 0, NULL);

	if (res == NULL)
		return 503;
	PQclear(res);
	buf_reset(r->body_out);
	buf_puts(r->body_out, "ok\n");
	r->content_type_out = "text/plain; charset=utf-8";
	r->status = 200;
	return 200;
}
