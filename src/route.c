/* route.c - the route table and dispatch: path, methods and handler of each page. */
#include "route.h"

#include <string.h>

#include "attachment.h"
#include "audit.h"
#include "auth.h"
#include "jobs.h"
#include "log.h"
#include "mail.h"
#include "msg.h"
#include "page.h"
#include "rx.h"
#include "sess.h"
#include "throttle.h"

/* An action that is hard to undo (deactivate, remove, leave, log out
 * everywhere) has a GET that only asks (page_confirm) and a POST that acts. */
const struct route route_table[] = {
	/* pattern			GET			POST				access */
	{ "/",				page_home,		NULL,				PUBLIC },
	{ "/healthz",			page_health,		NULL,				PUBLIC | NO_SESSION },
	{ "/login",			page_login_get,		page_login_post,		PUBLIC },
	{ "/login/code",		page_login_code_get,	page_login_code_post,		PUBLIC },
	{ "/logout",			NULL,			page_logout_post,		ROLE_ANY | TWO_STEP_SETUP },
	{ "/signup",			page_signup_get,	page_signup_post,		PUBLIC },
	{ "/account",			page_account_get,	page_account_post,		ROLE_ANY },
	{ "/account/password",		NULL,			page_account_password_post,	ROLE_ANY },
	{ "/account/sessions",		page_account_sessions_get, page_account_sessions_post,	ROLE_ANY },
	{ "/account/notices",		NULL,			page_account_notices_post,	ROLE_ANY },
	{ "/account/verify",		NULL,			page_account_verify_post,	ROLE_ANY },
	{ "/account/two-step",		page_two_step_get,	page_two_step_post,		ROLE_ANY | TWO_STEP_SETUP },
	{ "/account/two-step/qr",	page_two_step_qr_get,	NULL,				ROLE_ANY | TWO_STEP_SETUP },
	{ "/account/two-step/off",	NULL,			page_two_step_off_post,		ROLE_ANY },
	{ "/account/activity",		page_activity_get,	NULL,				ROLE_ANY },
	{ "/account/clinics",		page_memberships_get,	NULL,				ROLE_ANY },
	{ "/account/clinics/request",	NULL,			page_memberships_request_post,	ROLE_ANY },
	{ "/account/clinics/{id}/act",	NULL,			page_memberships_act_post,	ROLE_ANY },
	{ "/account/clinics/{id}/leave", page_memberships_leave_get, page_memberships_leave_post, ROLE_ANY },
	{ "/account/recipients",	page_recipients_get,	NULL,				ROLE_ANY },
	{ "/account/recipients/new",	page_recipient_new_get,	page_recipient_new_post,	ROLE_ANY },
	{ "/account/recipients/{id}",	page_recipient_get,	page_recipient_post,		ROLE_ANY },
	{ "/account/recipients/{id}/archive", NULL,		page_recipient_archive_post,	ROLE_ANY },
	{ "/account/recipients/{id}/unarchive", NULL,		page_recipient_unarchive_post,	ROLE_ANY },
	{ "/invite",			page_invite_get,	page_invite_post,		PUBLIC },
	{ "/reset",			page_reset_get,		page_reset_post,		PUBLIC },
	{ "/verify",			page_verify_get,	page_verify_post,		PUBLIC },
	{ "/forgot",			page_forgot_get,	page_forgot_post,		PUBLIC },
	{ "/join",			page_join_get,		page_join_post,			PUBLIC },
	{ "/patients/new",		page_patient_new_get,	page_patient_new_post,		ROLE_STAFF },
	{ "/patients/requests",		page_patient_requests_get, NULL,			ROLE_STAFF },
	{ "/patients/requests/{id}/accept", NULL,		page_patient_accept_post,	ROLE_STAFF },
	{ "/patients/requests/{id}/decline", NULL,		page_patient_decline_post,	ROLE_STAFF },
	{ "/patients",			page_patient_list_get,	NULL,				ROLE_STAFF },
	{ "/patients/{id}",		page_patient_get,	NULL,				ROLE_STAFF },
	{ "/admin/users",		page_admin_users_get,	NULL,				ROLE_ADMIN },
	{ "/admin/users/{id}",		page_admin_user_get,	NULL,				ROLE_ADMIN },
	{ "/admin/users/{id}/reset",	NULL,			page_admin_reset_post,		ROLE_ADMIN },
	{ "/admin/users/{id}/deactivate", page_admin_deactivate_get, page_admin_deactivate_post, ROLE_ADMIN },
	{ "/admin/users/{id}/activate",	NULL,			page_admin_activate_post,	ROLE_ADMIN },
	{ "/admin/users/{id}/unpause",	NULL,			page_admin_unpause_post,	ROLE_ADMIN },
	{ "/admin/users/{id}/two-step-reset", NULL,		page_admin_two_step_reset_post,	ROLE_ADMIN },
	{ "/admin/users/{id}/remove",	page_admin_remove_get,	page_admin_remove_post,		ROLE_ADMIN },
	{ "/admin/invite",		page_admin_invite_get,	page_admin_invite_post,		ROLE_ADMIN },
	{ "/admin/audit",		page_admin_audit_get,	NULL,				ROLE_ADMIN },
	{ "/admin/clinic",		page_clinic_profile_get, page_clinic_profile_post,	ROLE_ADMIN },
	{ "/admin/jobs",		page_jobs_get,		NULL,				ROLE_ADMIN },
	{ "/admin/jobs/{id}/retry",	NULL,			page_jobs_retry_post,		ROLE_ADMIN },
	{ "/clinics",			page_clinics_get,	NULL,				PUBLIC },
	{ "/clinics/{id}",		page_clinic_get,	NULL,				PUBLIC },
	{ "/inbox",			page_inbox_get,		NULL,				ROLE_ANY | SESSION_IN_QUERY },
	{ "/sent",			page_sent_get,		NULL,				ROLE_ANY | SESSION_IN_QUERY },
	{ "/archive",			page_archive_get,	NULL,				ROLE_ANY | SESSION_IN_QUERY },
	{ "/messages/new",		page_message_new_get,	NULL,				ROLE_ANY },
	{ "/messages",			NULL,			page_message_post,		ROLE_ANY | UPLOADS | KEEPS_DRAFT },
	{ "/messages/{id}",		page_thread_get,	NULL,				ROLE_ANY | SESSION_IN_QUERY },
	{ "/messages/{id}/reply",	NULL,			page_reply_post,		ROLE_ANY | UPLOADS | KEEPS_DRAFT },
	{ "/messages/{id}/unread",	NULL,			page_unread_post,		ROLE_ANY },
	{ "/messages/{id}/archive",	NULL,			page_archive_post,		ROLE_ANY },
	{ "/messages/{id}/unarchive",	NULL,			page_unarchive_post,		ROLE_ANY },
	{ "/search",			page_search_get,	NULL,				ROLE_ANY | SESSION_IN_QUERY },
	{ "/attachments/{id}",		page_attachment_get,	NULL,				ROLE_ANY },
	{ "/demo/mail",			page_demo_mail_get,	NULL,				PUBLIC },
	{ "/demo/mail/{id}",		page_demo_mail_one_get,	NULL,				PUBLIC },
};
const size_t route_count = sizeof(route_table) / sizeof(route_table[0]);

const struct db_stmt *const route_stmts[] = {
	page_health_stmts,
	sess_stmts,
	audit_stmts,
	throttle_stmts,
	page_login_stmts,
	page_two_step_stmts,
	page_signup_stmts,
	page_account_stmts,
	page_memberships_stmts,
	page_activity_stmts,
	page_recipients_stmts,
	page_invite_stmts,
	page_forgot_stmts,
	page_patients_stmts,
	page_patient_stmts,
	page_join_stmts,
	page_admin_stmts,
	page_clinic_stmts,
	msg_stmts,
	page_inbox_stmts,
	page_message_stmts,
	page_search_stmts,
	attachment_stmts,
	jobs_stmts,
	page_jobs_stmts,
	mail_stmts,
	rx_stmts,
	NULL
};

const struct db_stmt *const route_once_stmts[] = {
	page_search_once,
	page_admin_audit_once,
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
			char *id = arena_strndup(r->arena, path, n);

			/* One spelling for comparisons: ids are lower-case. */
			for (char *c = id; *c; c++)
				if (*c >= 'A' && *c <= 'F')
					*c = (char)(*c - 'A' + 'a');
			r->params[r->nparams++] = id;
			pattern += 4;
			path += n;
		} else if (*pattern++ != *path++) {
			return 0;
		}
	}
	return *pattern == '\0' && *path == '\0';
}

/* The methods route `rt` answers, as an Allow header lists them. */
static const char *route_allow(const struct route *rt)
{
	return rt->get && rt->post ? "GET, HEAD, POST" : rt->get ? "GET, HEAD" : "POST";
}

const struct route *route_find(struct req *r, int *status, const char **allow)
{
	for (size_t i = 0; i < route_count; i++) {
		const struct route *rt = &route_table[i];

		if (!route_match(r, rt->pattern, r->path))
			continue;
		if ((r->method & (M_GET | M_HEAD)) && rt->get)
			return rt;
		if (r->method == M_POST && rt->post)
			return rt;
		*status = 405;
		*allow = route_allow(rt);
		return NULL;
	}
	*status = 404;
	*allow = NULL;
	return NULL;
}

/* Sends a visitor to the login page, remembering where they wanted to go
 * (only GET pages: a form post cannot be replayed). */
static int route_to_login(struct req *r)
{
	struct buf next = BUF_INIT;
	const char *loc = "/login";

	if (r->method != M_POST) {
		buf_puts(&next, "/login?next=");
		buf_put_urlarg(&next, r->path, strlen(r->path));
		loc = arena_strdup(r->arena, next.data);
		buf_free(&next);
	}
	return http_redirect(r, loc);
}

/* A visitor without a live session posting a KEEPS_DRAFT form: if the
 * browser's session has ended (sess_ended), r->ended_user is its owner and
 * the post goes to page_message_keep() (0); otherwise to /login. */
static int route_ended(struct req *r)
{
	int status;

	if (r->method != M_POST || !(r->access & KEEPS_DRAFT))
		return route_to_login(r);
	if ((status = sess_ended(r, 0, &r->ended_user)))
		return status;
	return r->ended_user ? 0 : route_to_login(r);
}

/* Who may come in, once the session is known: a visitor on a page that
 * needs a login goes to /login (or keeps a draft: route_ended), a user
 * without the role gets 403. Returns 0 or that status. */
static int route_who(struct req *r)
{
	unsigned roles = r->access & ROLE_ANY;

	sess_view(r);
	if (roles && r->user == NULL)
		return route_ended(r);
	/* Staff who must use two-step sign-in and have not enrolled can do
	 * nothing else (the session says so: sess_start_enrol_only). */
	if (r->user && r->user->enrol_only && !(r->access & TWO_STEP_SETUP))
		return http_redirect(r, "/account/two-step");
	if (roles && !(r->user->role & roles))
		return 403;
	return 0;
}

/* The access rule proper: route_who, and a POST without the right CSRF
 * token (a form field: the body has been read) gets 403 (a form whose
 * session ended is checked against that session by page_message_keep).
 * Returns 0 or that status. */
static int route_access(struct req *r)
{
	int status = route_who(r);

	if (status == 0 && r->method == M_POST && !r->ended_user && !sess_csrf_ok(r))
		return 403;
	return status;
}

/* Loads the session and applies the table's rules; returns 0 to run the
 * handler or the status of the answer already made. SESSION_IN_QUERY
 * pages load the session with their own query (route_session); after
 * route_admit only the CSRF token, now read, is left to check. */
static int route_guard(struct req *r, const struct route *rt)
{
	int status;

	if (r->session_loaded)
		return r->method == M_POST && !r->ended_user && !sess_csrf_ok(r) ? 403 : 0;
	r->access = rt->access;
	if (rt->access & SESSION_IN_QUERY)
		return auth_token_valid(http_cookie(r, SESSION_COOKIE)) ? 0 : route_to_login(r);
	if (!(rt->access & NO_SESSION) && (status = sess_load(r)))
		return status;
	return route_access(r);
}

/* Makes the error page for a failure `status` unless the answer is made. */
static int route_answer(struct req *r, int status)
{
	/* A handler that rendered its own page (a form with errors) has set
	 * r->status itself; any other error status gets the error page. */
	if (status >= 400 && status != r->status)
		http_error(r, status, NULL);
	return status;
}

int route_admit(struct req *r, const struct route *rt)
{
	int status;

	r->access = rt->access;
	if ((status = sess_load(r)) == 0) {
		r->session_loaded = 1;
		status = route_who(r);
	}
	return route_answer(r, status);
}

int route_session(struct req *r, PGresult *res)
{
	int status = sess_take(r, res);

	r->session_loaded = 1;
	return status ? status : route_access(r);
}

/* After the handler of a SESSION_IN_QUERY page answered `status`: a page
 * that never handed its query's session to route_session() has skipped
 * the access rule, so a success or a page of its own is dropped for a 500
 * (logged). A bare error status (input refused before the query) stands:
 * the router's error page shows nothing of anyone's. Returns the status. */
static int route_session_handed(struct req *r, const struct route *rt, int status)
{
	if (!(rt->access & SESSION_IN_QUERY) || r->session_loaded ||
	    (status >= 400 && status != r->status))
		return status;
	log_msg("%s answered %d without handing over its session id=%s",
		rt->pattern, status, r->request_id);
	r->status = 0;
	return 500;
}

/* Ends the page's transaction after the handler answered `status`:
 * commits a success (or a failure that must stand: page_keep), rolls back
 * anything else. Returns `status`, or the failure status if COMMIT failed. */
static int route_end_tx(struct req *r, int status)
{
	if (status < 400 || r->keep_on_error)
		return db_command(r->db, "COMMIT") < 0 ? db_failure_status(r->db) : status;
	db_command(r->db, "ROLLBACK");
	return status;
}

/* A POST's handler runs in one transaction; a GET writes at most one
 * statement (marking a thread read, auditing a download) and needs none. */
int route_run(struct req *r, const struct route *rt)
{
	int status = route_guard(r, rt);

	if (status == 0 && r->method != M_POST)
		status = route_session_handed(r, rt, rt->get(r));
	else if (status == 0 && db_command(r->db, "BEGIN") < 0)
		status = db_failure_status(r->db);
	else if (status == 0)
		status = route_end_tx(r, r->ended_user ? page_message_keep(r) : rt->post(r));
	route_answer(r, status);
	return r->status;
}

/* The words route_list() uses for the bits of an access rule. */
static const struct {
	unsigned bit;
	const char *word;
} route_words[] = {
	{ ROLE_PATIENT, "patient" },
	{ ROLE_DOCTOR, "doctor" },
	{ ROLE_ADMIN, "admin" },
	{ NO_SESSION, "no-session" },
	{ UPLOADS, "uploads" },
	{ SESSION_IN_QUERY, "session-in-query" },
	{ KEEPS_DRAFT, "keeps-draft" },
	{ TWO_STEP_SETUP, "two-step-setup" },
};
#define ROUTE_NWORDS (sizeof(route_words) / sizeof(route_words[0]))

/* Checks a route's pattern `p`: a path from "/" whose "{id}" parts are
 * whole segments, at most HTTP_MAX_PARAMS of them. Returns NULL or the
 * problem. */
static const char *route_pattern_problem(const char *p)
{
	int ids = 0;

	if (p == NULL || p[0] != '/')
		return "its pattern does not begin with /";
	for (; *p; p++) {
		if (*p == '{' && p[-1] == '/' && strncmp(p, "{id}", 4) == 0 &&
		    (p[4] == '/' || p[4] == '\0')) {
			ids++;
			p += 3;
		} else if (*p == '{' || *p == '}' || *p == '?') {
			return "its pattern has a query or a { } other than a whole {id} segment";
		}
	}
	return ids > HTTP_MAX_PARAMS ? "its pattern has more {id} parts than a request holds" : NULL;
}

/* The first rule route `rt` breaks (its flags contradict each other or its
 * methods), or NULL. */
static const char *route_problem(const struct route *rt)
{
	unsigned known = 0, roles = rt->access & ROLE_ANY;
	const char *problem = route_pattern_problem(rt->pattern);

	for (size_t i = 0; i < ROUTE_NWORDS; i++)
		known |= route_words[i].bit;
	if (problem)
		return problem;
	if (rt->get == NULL && rt->post == NULL)
		return "it has no handler";
	if (rt->access & ~known)
		return "its access rule has unknown bits";
	if ((rt->access & NO_SESSION) && (roles || rt->post || (rt->access & ~NO_SESSION)))
		return "NO_SESSION goes only on a public GET page (a role or a CSRF "
		       "token needs the session)";
	if ((rt->access & SESSION_IN_QUERY) && (rt->post || !rt->get || !roles))
		return "SESSION_IN_QUERY goes only on a GET page that needs a login (a "
		       "POST's CSRF check and transaction are the router's)";
	if ((rt->access & UPLOADS) && (!rt->post || !roles))
		return "UPLOADS goes only on a POST that needs a login (files are read "
		       "only for someone let in)";
	if ((rt->access & KEEPS_DRAFT) && (!rt->post || !roles))
		return "KEEPS_DRAFT goes only on a POST that needs a login (it keeps "
		       "the typing of someone whose session ended)";
	return NULL;
}

int route_check(const struct route *table, size_t n, struct buf *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *problem = route_problem(&table[i]);

		for (size_t j = 0; problem == NULL && j < i; j++)
			if (strcmp(table[j].pattern, table[i].pattern) == 0)
				problem = "an earlier route has the same pattern";
		if (problem) {
			buf_printf(err, "route %s: %s", table[i].pattern ? table[i].pattern : "(none)",
				   problem);
			return -1;
		}
	}
	return 0;
}

void route_list(const struct route *table, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		const char *sep = "";

		buf_printf(out, "%s\t%s\t", table[i].pattern, route_allow(&table[i]));
		if (!(table[i].access & ROLE_ANY))
			buf_puts(out, "public"), sep = ",";
		for (size_t w = 0; w < ROUTE_NWORDS; w++) {
			if (table[i].access & route_words[w].bit) {
				buf_printf(out, "%s%s", sep, route_words[w].word);
				sep = ",";
			}
		}
		buf_putc(out, '\n');
	}
}
