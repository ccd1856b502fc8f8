/* test_route.c - what the router guarantees whatever a handler does:
 * SESSION_IN_QUERY pages hand their session over, and route tables whose
 * flags contradict each other are refused before the server starts. */
#include <libpq-fe.h>
#include <string.h>

#include "route.h"
#include "sess.h"
#include "tap.h"

static struct arena *A;
static struct tpl_set *TPL;
static struct buf HEADERS, BODY;

/* A fresh GET of `path` carrying a well-formed session cookie (the page's
 * query, not the router, decides whether it is alive). */
static void req_init(struct req *r, const char *path)
{
	const char *cookie;

	arena_reset(A);
	cookie = arena_printf(A, "%s=%s", SESSION_COOKIE,
			      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	buf_reset(&HEADERS);
	buf_reset(&BODY);
	memset(r, 0, sizeof(*r));
	r->arena = A;
	r->tpl = TPL;
	r->headers = &HEADERS;
	r->body_out = &BODY;
	r->view = tv_map(A);
	r->method = M_GET;
	r->method_name = "GET";
	r->path = path;
	r->request_id = "test";
	http_parse_cookies(A, cookie, strlen(cookie), &r->cookies);
}

/* A list page that forgets its session: answers 200 with a page of its own. */
static int forgetful_get(struct req *r)
{
	buf_puts(r->body_out, "every message of everyone");
	r->status = 200;
	r->content_type_out = "text/html; charset=utf-8";
	return 200;
}

/* A list page refusing bad input before its query: a bare 400. */
static int early_error_get(struct req *r)
{
	(void)r;
	return 400;
}

/* A list page that does it right: its query found no live session, and it
 * hands that result over before anything else. */
static int careful_get(struct req *r)
{
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	int status = route_session(r, res);

	PQclear(res);
	return status ? status : forgetful_get(r);
}

static void test_session_in_query(void)
{
	const struct route forgetful = { "/inbox", forgetful_get, NULL, ROLE_ANY | SESSION_IN_QUERY };
	const struct route early = { "/inbox", early_error_get, NULL, ROLE_ANY | SESSION_IN_QUERY };
	const struct route careful = { "/inbox", careful_get, NULL, ROLE_ANY | SESSION_IN_QUERY };
	struct req r;

	req_init(&r, "/inbox");
	ok(route_run(&r, &forgetful) == 500, "a page that never handed its session over is refused");
	ok(strstr(BODY.data ? BODY.data : "", "everyone") == NULL, "and what it made is not sent");
	req_init(&r, "/inbox");
	ok(route_run(&r, &early) == 400, "a bare error before the query stays that error");
	req_init(&r, "/inbox");
	ok(route_run(&r, &careful) == 303 && strstr(HEADERS.data, "Location: /login?next=%2Finbox"),
	   "a page that hands over a dead session sends the visitor to /login");
	req_init(&r, "/inbox");
	r.cookies.n = 0;
	ok(route_run(&r, &forgetful) == 303, "without a cookie the router answers before the page");
}

/* The response head carries any length of header whole. */
static void test_head(void)
{
	struct req r;
	char type[301], where[1001];
	const char *head;

	req_init(&r, "/");
	memset(type, 'x', sizeof(type) - 1);
	type[sizeof(type) - 1] = '\0';
	memcpy(type, "text/plain; x=", 14);
	memset(where, 'a', sizeof(where) - 1);
	where[0] = '/';
	where[sizeof(where) - 1] = '\0';
	r.content_type_out = type;
	http_redirect(&r, where);
	buf_puts(r.body_out, "body");
	head = http_head(&r);
	is_str(head, arena_printf(A, "Status: 303 See Other\r\nContent-Type: %s\r\n"
				  "Content-Length: 4\r\nCache-Control: no-store\r\n", type),
	       "a 300-byte Content-Type is sent whole, with every header after it");
	ok(strstr(HEADERS.data, where) && strlen(HEADERS.data) == sizeof(where) + 11,
	   "a 1000-byte Location is one whole header line");
}

/* 1 if route_check refuses the one route `rt`, with `why` in its message. */
static int refused(struct route rt, const char *why)
{
	struct buf err = BUF_INIT;
	int no = route_check(&rt, 1, &err) < 0 && strstr(err.data, why) != NULL;

	if (!no)
		printf("# %s\n", err.data ? err.data : "accepted");
	buf_free(&err);
	return no;
}

static void test_check(void)
{
	const struct route twice[] = {
		{ "/x", forgetful_get, NULL, PUBLIC }, { "/x", NULL, careful_get, PUBLIC },
	};
	struct buf err = BUF_INIT, out = BUF_INIT;

	if (!ok(route_check(route_table, route_count, &err) == 0, "the route table is sound"))
		printf("# %s\n", err.data);
	ok(refused((struct route){ "/inbox", careful_get, careful_get, ROLE_ANY | SESSION_IN_QUERY },
		   "SESSION_IN_QUERY"), "SESSION_IN_QUERY on a route with a POST is refused");
	ok(refused((struct route){ "/inbox", NULL, careful_get, ROLE_ANY | SESSION_IN_QUERY },
		   "SESSION_IN_QUERY"), "SESSION_IN_QUERY on a POST-only route is refused");
	ok(refused((struct route){ "/inbox", careful_get, NULL, PUBLIC | SESSION_IN_QUERY },
		   "SESSION_IN_QUERY"), "SESSION_IN_QUERY on a public page is refused");
	ok(refused((struct route){ "/up", careful_get, NULL, ROLE_ANY | UPLOADS }, "UPLOADS"),
	   "UPLOADS on a route without a POST is refused");
	ok(refused((struct route){ "/up", NULL, careful_get, PUBLIC | UPLOADS }, "UPLOADS"),
	   "UPLOADS for visitors is refused");
	ok(refused((struct route){ "/h", careful_get, NULL, ROLE_ANY | NO_SESSION }, "NO_SESSION"),
	   "NO_SESSION with a role is refused");
	ok(refused((struct route){ "/h", careful_get, careful_get, NO_SESSION }, "NO_SESSION"),
	   "NO_SESSION with a POST is refused");
	ok(refused((struct route){ "/h", careful_get, NULL, 0x8000 }, "unknown bits"),
	   "unknown access bits are refused");
	ok(refused((struct route){ "/h", NULL, NULL, PUBLIC }, "no handler"),
	   "a route without a handler is refused");
	ok(refused((struct route){ "h", careful_get, NULL, PUBLIC }, "begin with /"),
	   "a pattern not beginning with / is refused");
	ok(refused((struct route){ "/a{id}", careful_get, NULL, PUBLIC }, "{id}") &&
	   refused((struct route){ "/a/{name}", careful_get, NULL, PUBLIC }, "{id}") &&
	   refused((struct route){ "/a/{id}x", careful_get, NULL, PUBLIC }, "{id}") &&
	   refused((struct route){ "/a?b", careful_get, NULL, PUBLIC }, "query"),
	   "a pattern with a { } other than a whole {id} segment, or a query, is refused");
	ok(refused((struct route){ "/{id}/{id}/{id}/{id}/{id}", careful_get, NULL, PUBLIC }, "more {id}"),
	   "more {id} parts than a request holds are refused");
	buf_reset(&err);
	ok(route_check(twice, 2, &err) == 0 ? 0 : strstr(err.data, "same pattern") != NULL,
	   "a pattern that repeats an earlier one is refused");
	route_list(twice, 1, &out);
	route_list(route_table, route_count, &out);
	ok(strncmp(out.data, "/x\tGET, HEAD\tpublic\n", 19) == 0, "route_list: pattern, methods, access");
	ok(strstr(out.data, "\n/inbox\tGET, HEAD\tpatient,doctor,admin,session-in-query\n") &&
	   strstr(out.data, "\n/messages\tPOST\tpatient,doctor,admin,uploads,keeps-draft\n") &&
	   strstr(out.data, "\n/healthz\tGET, HEAD\tpublic,no-session\n") &&
	   strstr(out.data, "\n/login\tGET, HEAD, POST\tpublic\n"),
	   "route_list names the flags and methods of the real table");
	buf_free(&err);
	buf_free(&out);
}

int main(void)
{
	struct buf err = BUF_INIT;
	static const char error_tpl[] = "{{error_status}} {{error_title}}";

	A = arena_new(4096);
	TPL = tpl_set_new();
	if (tpl_add(TPL, "error", "error", error_tpl, sizeof(error_tpl) - 1, &err) < 0)
		return 1;
	test_session_in_query();
	test_check();
	test_head();
	tpl_set_free(TPL);
	arena_free(A);
	buf_free(&HEADERS);
	buf_free(&BODY);
	buf_free(&err);
	return tap_done();
}
