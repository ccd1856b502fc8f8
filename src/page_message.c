/* page_message.c - writing a message, a thread and its replies, and the
 * thread's read and archive buttons; every change goes through msg.c. */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "attachment.h"
#include "auth.h"
#include "mail.h"
#include "msg.h"
#include "route.h"
#include "row.h"
#include "sess.h"

/* The conversation of message `id` if `viewer` may see that message: its
 * root, the root's subject and, seen from the viewer, the other party
 * (NULL when carebox wrote the root: no reply possible); no row when
 * the viewer may not see the message. */
#define CONVERSATION_OF(viewer, id) \
	"SELECT rt.id AS root, rt.subject," \
	" CASE WHEN ro.user_id = " viewer " THEN ri.user_id ELSE ro.user_id END AS other" \
	" FROM viewer_messages(" viewer ") m JOIN messages rt ON rt.id = coalesce(m.parent_id, m.id)" \
	" JOIN inboxes ri ON ri.id = rt.inbox_id LEFT JOIN outboxes ro ON ro.id = rt.outbox_id" \
	" WHERE m.id = " id

const struct db_stmt page_message_stmts[] = {
	/* The conversation of message $1 if $2 may see it; no row: not theirs. */
	{ "message_open", CONVERSATION_OF("$2", "$1") },
	/* The thread page in one statement: the session ($1 its token; no
	 * row without a live one), then, if the viewer may see message $2,
	 * its conversation ("o": root, subject, the other party the viewer
	 * would reply to, NULL when carebox wrote the root, and the viewer's
	 * state of it) and its messages oldest first, each with whether it
	 * has files (a thread without any needs no file query). A message
	 * the viewer may not see gives no "root": 404. */
	{ "thread_page",
	  "WITH me AS (" SESS_SELECT ")"
	  " SELECT me.*, o.*, l.* FROM me"
	  " LEFT JOIN LATERAL (SELECT o.*, coalesce(cv.archived, false) AS archived,"
	  "  coalesce(cv.received, 0) AS received, coalesce(cv.unread, 0) AS unread"
	  "  FROM (" CONVERSATION_OF("me.user_id", "$2::uuid") ") o"
	  "  LEFT JOIN conversation_members cv ON cv.user_id = me.user_id AND cv.root_id = o.root) o"
	  " ON true"
	  " LEFT JOIN LATERAL (SELECT m.id, m.created_at AS time, m.body,"
	  "  coalesce(m.sender_name, 'carebox') AS sender, m.recipient_name AS recipient,"
	  "  coalesce(mo.user_id = me.user_id, false) AS mine,"
	  "  CASE WHEN mo.user_id = me.user_id THEN m.read_at END AS read_at,"
	  "  EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id) AS has_files"
	  "  FROM viewer_messages(me.user_id) m LEFT JOIN outboxes mo ON mo.id = m.outbox_id"
	  "  WHERE m.id = o.root OR m.parent_id = o.root) l ON true"
	  " ORDER BY l.time, l.id" },
	/* What $1 was writing when their session ended (page_message_keep):
	 * a reply keeps its conversation only if $1 may see message $2. */
	{ "draft_keep",
	  "INSERT INTO drafts (user_id, root_id, to_id, subject, body)"
	  " SELECT $1, (SELECT coalesce(m.parent_id, m.id) FROM viewer_messages($1) m"
	  " WHERE m.id = $2::uuid), $3::uuid, left($4, 1000), left($5, 100000)"
	  " RETURNING id, root_id" },
	/* A draft of the viewer $2, for the form it came from. */
	{ "draft_load",
	  "SELECT to_id AS to, subject, body FROM drafts WHERE id = $1 AND user_id = $2"
	  " AND root_id IS NOT DISTINCT FROM $3::uuid" },
	{ "draft_done", "DELETE FROM drafts WHERE id = $1 AND user_id = $2" },
	{ NULL, NULL }
};

/* The fields of the message forms, each declared once; `fl` adds flags. */
#define FIELD_TO(fl) { .name = "to", .label = "who to write to", .type = FT_UUID, .flags = fl }
#define FIELD_SUBJECT(fl) \
	{ .name = "subject", .label = "a subject", .type = FT_TEXT, .flags = fl, \
	  .max = MSG_SUBJECT_MAX }
#define FIELD_BODY(fl) \
	{ .name = "body", .label = "a message", .type = FT_TEXT, .flags = FIELD_MULTILINE | fl, \
	  .max = MSG_BODY_MAX }
#define FIELD_FIND { .name = "find", .label = "a name to find", .type = FT_TEXT, .max = 100 }
#define FIELD_DRAFT { .name = "draft", .label = "the kept message", .type = FT_UUID }
/* What sending a message and a reply share. */
#define FIELDS_SEND \
	FIELD_BODY(FIELD_REQUIRED), \
	{ .name = "attachment", .label = "files", .type = FT_FILE, .max = MULTIPART_MAX_FILES }, \
	{ .name = "form_token", .label = "the form's token", .type = FT_TEXT, .max = 64 }, \
	FIELD_DRAFT

static const struct field compose_fields[] = {
	FIELD_TO(FIELD_REQUIRED), FIELD_SUBJECT(FIELD_REQUIRED), FIELDS_SEND, FIELD_FIND, { 0 }
};
static const struct form compose_form_decl = { compose_fields };

static const struct field reply_fields[] = { FIELDS_SEND, { 0 } };
static const struct form reply_form_decl = { reply_fields };

/* The compose page's own query: who to preselect, whom to find, and a kept
 * draft to fill in. */
static const struct field find_fields[] = { FIELD_TO(0), FIELD_FIND, FIELD_DRAFT, { 0 } };
static const struct form find_form_decl = { find_fields };

/* The compose form as typed, nothing required: sent back through "Find",
 * or kept when its session has ended (page_message_keep). */
static const struct field typed_fields[] = {
	FIELD_TO(0), FIELD_FIND, FIELD_DRAFT, FIELD_SUBJECT(0), FIELD_BODY(0), { 0 }
};
static const struct form typed_form_decl = { typed_fields };

/* A thread's own query: a draft of a reply to fill in (page_message_keep). */
static const struct field thread_query_fields[] = { FIELD_DRAFT, { 0 } };
static const struct form thread_query_decl = { thread_query_fields };

/* Puts a fresh one-time form token into the view as "form_token". */
static void form_view(struct req *r)
{
	char token[TOKEN_HEX + 1];

	auth_token(token);
	tv_set_str(r->arena, r->view, "form_token", arena_strdup(r->arena, token));
}

/* Renders the compose form with the people the user may write to, `to`
 * preselected and the list narrowed by `find` (may be NULL), answering
 * `status`. */
static int compose_form(struct req *r, const char *to, const char *find, int status)
{
	int more = 0;
	struct tv *list = msg_recipients(r->db, r->arena, r->user->id, r->user->clinic_id, to, find, &more);

	if (list == NULL)
		return db_failure_status(r->db);
	/* The one person found is the one meant. */
	if (find && *find && list->u.list.n == 1)
		tv_set_bool(r->arena, list->u.list.items[0], "selected", 1);
	tv_set(r->arena, r->view, "recipients", list);
	tv_set_bool(r->arena, r->view, "has_recipients", list->u.list.n > 0 || (find && *find));
	tv_set_bool(r->arena, r->view, "more_recipients", more);
	tv_set_bool(r->arena, r->view, "none_found", list->u.list.n == 0);
	tv_set_str(r->arena, r->view, "title", "Write a message");
	form_view(r);
	return http_render_status(r, "message_new", status);
}

/* A kept draft (page_message_keep) the form `d` was filled from is sent:
 * it goes. Returns 0 or an error status. */
static int draft_done(struct req *r, const struct form_data *d)
{
	const struct form_value *v = form_get(d, "draft");
	const char *p[2] = { v->sql, r->user->id };
	PGresult *res;

	if (v->error || !*v->text)
		return 0;
	if ((res = db_exec(r->db, "draft_done", 2, p)) == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	return 0;
}

/* Fills the form from the viewer's draft `id` (the query's "draft", may
 * be NULL) kept for conversation `root` (NULL: a new message): its fields
 * into the view (the body as `body_key`, the subject of a new message), a word that it is back, and that
 * files must be chosen again. Sets *to to the person chosen (arena) if
 * `to` is not NULL. A draft not theirs, or gone, fills nothing. Returns 0
 * or an error status. */
static int draft_fill(struct req *r, const struct form_value *id, const char *root,
		      const char *body_key, const char **to)
{
	const char *p[3] = { id->sql, r->user->id, root };
	PGresult *res;

	if (id->error || !*id->text)
		return 0;
	if ((res = db_exec(r->db, "draft_load", 3, p)) == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) == 1) {
		if (root == NULL)
			tv_set_str(r->arena, r->view, "subject", row_text(r->arena, res, 0, "subject"));
		tv_set_str(r->arena, r->view, body_key, row_text(r->arena, res, 0, "body"));
		tv_set_str(r->arena, r->view, "draft", id->sql);
		tv_set_bool(r->arena, r->view, "draft_back", 1);
		tv_set_bool(r->arena, r->view, "files_again", 1);
		if (to)
			*to = row_text(r->arena, res, 0, "to");
	}
	PQclear(res);
	return 0;
}

/* In the page's transaction: claims the form's one-time token, posts `m`,
 * stores its attachments (`files`) and leaves the flash `sent` (or "This
 * message was already sent." for a used token). Sets *id to the new
 * message (arena) or to NULL for a used token. Returns 0 or an error
 * status. */
static int message_send(struct req *r, const struct msg_new *m, const struct form_data *d,
			const char *sent, const char **id)
{
	const char *token = form_text(d, "form_token");
	int fresh, status;

	*id = NULL;
	/* Browsers always send the token the form carried; a request without
	 * one was not made from our form: refuse it rather than say "sent". */
	if (!auth_token_valid(token))
		return 400;
	fresh = msg_claim_form_token(r->db, r->user->id, token);
	if (fresh < 0)
		return db_failure_status(r->db);
	if (fresh && (*id = msg_post(r->db, r->arena, m)) == NULL)
		return db_failure_status(r->db);
	/* The recipient's notice by mail commits with the message, or not. */
	if (*id && mail_notice_message(r->db, m->recipient_id, m->root_id ? m->root_id : *id,
				       r->user->clinic_id) < 0)
		return db_failure_status(r->db);
	if ((status = draft_done(r, d)))
		return status;
	if (*id && (status = attachment_store(r, *id, form_get(d, "attachment"))))
		return status;
	return sess_flash(r, "ok", fresh ? sent : "This message was already sent.");
}

int page_message_new_get(struct req *r)
{
	struct form_data d = { 0 };
	const char *to;
	int status;

	form_read(r, &find_form_decl, &d);
	to = form_get(&d, "to")->error ? NULL : form_get(&d, "to")->sql;
	if ((status = draft_fill(r, form_get(&d, "draft"), NULL, "body", &to)))
		return status;
	return compose_form(r, to, form_get(&d, "find")->sql, 200);
}

/* Marks `to` wrong unless the user may write to that person. Returns 0,
 * 422 or an error status. */
static int may_write(struct req *r, struct form_data *d, const char *field, const char *to)
{
	int may = to ? msg_may_write(r->db, r->user->id, r->user->clinic_id, to) : 0;

	if (may < 0)
		return db_failure_status(r->db);
	if (!may)
		return form_fail(r, d, field, "You cannot write to this person: choose one of "
				 "the people offered.");
	return 0;
}

/* The compose form came back through "Find": shows it again with the
 * people offered narrowed, what was typed kept, and a word that attached
 * files must be chosen again (a page cannot fill a file field). */
static int compose_refind(struct req *r)
{
	struct form_data d = { 0 };
	const struct form_value *to;

	form_read(r, &typed_form_decl, &d);
	to = form_get(&d, "to");
	tv_set_bool(r->arena, r->view, "files_again", r->nuploads > 0);
	return compose_form(r, to->error || !*to->text ? NULL : to->sql, form_text(&d, "find"),
			    d.errors ? 422 : 200);
}

int page_message_post(struct req *r)
{
	struct form_data d = { 0 };
	struct msg_new m = { r->user->id, NULL, NULL, NULL, NULL, NULL, NULL };
	const struct form_value *to;
	const char *id, *action = http_form(r, "do");
	int status;

	if (action && strcmp(action, "find") == 0)
		return compose_refind(r);
	form_read(r, &compose_form_decl, &d);
	to = form_get(&d, "to");
	/* An id nobody offered reads like any person one may not write to. */
	if (*to->text && (status = may_write(r, &d, "to", to->error ? NULL : to->sql)) &&
	    status != 422)
		return status;
	if (d.errors) {
		tv_set_bool(r->arena, r->view, "files_again", r->nuploads > 0);
		return compose_form(r, to->error ? NULL : to->sql, form_text(&d, "find"), 422);
	}
	m.recipient_id = to->sql;
	m.subject = form_text(&d, "subject");
	m.body = form_text(&d, "body");
	if ((status = message_send(r, &m, &d, "Message sent.", &id)))
		return status;
	return http_redirect(r, id ? arena_printf(r->arena, "/messages/%s", id) : "/sent");
}

/* Opens the thread of the message in the path, if the user may see that
 * message: its root into *root, the subject into the view ("subject",
 * "title"), the other party the user would reply to into *other (NULL for
 * a thread carebox started); all in the arena. Returns 0, 404 (not
 * theirs, unknown: never 403, which would confirm the id exists) or an
 * error status. */
static int thread_open(struct req *r, const char **root, const char **other)
{
	const char *p[2] = { r->params[0], r->user->id };
	PGresult *res;
	int status = row_load(r, "message_open", 2, p, 0, &res);
	const char *subject;

	if (status)
		return status;
	*root = row_text(r->arena, res, 0, "root");
	*other = row_text(r->arena, res, 0, "other");
	subject = row_text(r->arena, res, 0, "subject");
	PQclear(res);
	tv_set_str(r->arena, r->view, "subject", subject);
	tv_set_str(r->arena, r->view, "title", subject);
	return 0;
}

/* Sets the thread's buttons from the viewer's state of the conversation
 * (none if they received nothing in it): "can_mark" (mark as unread),
 * "can_archive", "can_unarchive". */
static void thread_buttons(struct req *r, int received, int archived)
{
	tv_set_bool(r->arena, r->view, "can_mark", received);
	tv_set_bool(r->arena, r->view, "can_archive", received && !archived);
	tv_set_bool(r->arena, r->view, "can_unarchive", received && archived);
}

/* Gives each message of the list `messages` its text as HTML paragraphs
 * ("body_html", buf_put_paragraphs: escaped, line breaks kept). */
static void thread_bodies(struct arena *a, struct tv *messages)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < messages->u.list.n; i++) {
		struct tv *m = messages->u.list.items[i], *body = tv_get(m, "body");

		buf_reset(&b);
		buf_put_paragraphs(&b, body->u.str.s, body->u.str.len);
		tv_set(a, m, "body_html", tv_strn(a, arena_strndup(a, b.len ? b.data : "", b.len),
						  b.len));
	}
	buf_free(&b);
}

/* Runs thread_page for message `id` (the path's): the session, the
 * conversation and its messages, into *res (the caller PQclear()s it).
 * Returns 0 or the status of a database failure. */
static int thread_query(struct req *r, const char *id, PGresult **res)
{
	const char *p[2] = { http_cookie(r, SESSION_COOKIE), id };

	*res = db_exec(r->db, "thread_page", 2, p);
	return *res ? 0 : db_failure_status(r->db);
}

/* Renders the thread page from `res` (thread_query, its session taken)
 * with the reply form, answering `status` (422 when a reply came back
 * with an error). A conversation the viewer may not see is a 404. When
 * `read` (a GET), the viewer's unread messages in it become read first.
 * Returns the status. */
static int thread_render(struct req *r, PGresult *res, int read, int status)
{
	int n = PQntuples(res), first = PQfnumber(res, "id"), files = 0, err;
	const char *root = n ? row_text(r->arena, res, 0, "root") : NULL;
	long unread;
	struct tv *messages;

	if (root == NULL)
		return 404;
	unread = strtol(PQgetvalue(res, 0, PQfnumber(res, "unread")), NULL, 10);
	/* Only a GET reads the thread: a HEAD (a link checker) marks nothing. */
	if (read && unread > 0) {
		if (msg_read_thread(r->db, r->user->id, root) < 0)
			return db_failure_status(r->db);
		if (!row_bool(res, 0, "archived"))
			r->user->unread_count -= unread;
		sess_view(r);
	}
	tv_set_str(r->arena, r->view, "subject", row_text(r->arena, res, 0, "subject"));
	tv_set_str(r->arena, r->view, "title", row_text(r->arena, res, 0, "subject"));
	tv_set_str(r->arena, r->view, "root", root);
	tv_set_bool(r->arena, r->view, "can_reply", !PQgetisnull(res, 0, PQfnumber(res, "other")));
	thread_buttons(r, strcmp(PQgetvalue(res, 0, PQfnumber(res, "received")), "0") != 0,
		       row_bool(res, 0, "archived"));
	messages = tv_set(r->arena, r->view, "messages", row_list(r->arena, res, 0, n, first));
	thread_bodies(r->arena, messages);
	for (int i = 0; i < n; i++)
		files |= row_bool(res, i, "has_files");
	/* Each message's files, with their download links. */
	if (files && (err = attachment_view_thread(r, root, messages)))
		return err;
	form_view(r);
	return http_render_status(r, "thread", status);
}

/* The thread page again after a reply the form refused, answering 422. */
static int thread_again(struct req *r)
{
	PGresult *res;
	int status = thread_query(r, r->params[0], &res);

	if (status)
		return status;
	status = thread_render(r, res, 0, 422);
	PQclear(res);
	return status;
}

int page_thread_get(struct req *r)
{
	struct form_data d = { 0 };
	PGresult *res;
	int status = thread_query(r, r->params[0], &res);

	if (status)
		return status;
	if ((status = route_session(r, res)) == 0) {
		form_read(r, &thread_query_decl, &d);
		status = row_text(r->arena, res, 0, "root") == NULL ? 404 :
			 draft_fill(r, form_get(&d, "draft"), row_text(r->arena, res, 0, "root"),
				    "reply_body", NULL);
	}
	if (status == 0)
		status = thread_render(r, res, r->method == M_GET, 200);
	PQclear(res);
	return status;
}

int page_reply_post(struct req *r)
{
	struct form_data d = { 0 };
	struct msg_new m = { r->user->id, NULL, NULL, NULL, NULL, NULL, NULL };
	const char *root, *other, *id;
	int status;

	if ((status = thread_open(r, &root, &other)))
		return status;
	form_read(r, &reply_form_decl, &d);
	tv_set_str(r->arena, r->view, "reply_body", form_text(&d, "body"));
	if (other == NULL) {
		tv_set_str(r->arena, r->view, "reply_error", "Messages from carebox cannot be "
			   "answered. Write a new message to your clinic instead.");
		return thread_again(r);
	}
	if ((status = msg_may_write(r->db, r->user->id, r->user->clinic_id, other)) < 0)
		return db_failure_status(r->db);
	if (!status)
		tv_set_str(r->arena, r->view, "reply_error", "You can no longer write to this person.");
	if (d.errors || !status) {
		tv_set_bool(r->arena, r->view, "files_again", r->nuploads > 0);
		return thread_again(r);
	}
	m.recipient_id = other;
	m.root_id = root;
	m.body = form_text(&d, "body");
	if ((status = message_send(r, &m, &d, "Reply sent.", &id)))
		return status;
	return http_redirect(r, id ? arena_printf(r->arena, "/messages/%s#m-%s", root, id)
				: arena_printf(r->arena, "/messages/%s", root));
}

int page_unread_post(struct req *r)
{
	int done = msg_mark_unread(r->db, r->user->id, r->params[0]), status;

	if (done < 0)
		return db_failure_status(r->db);
	if (!done)
		return 404;
	if ((status = sess_flash(r, "ok", "Marked as unread.")))
		return status;
	return http_redirect(r, "/inbox");
}

/* Moves the user's received messages of the thread in the path into the
 * archive (archived = 1) or back to the inbox, then redirects. */
static int archive_set(struct req *r, int archived)
{
	const char *root, *other;
	int status = thread_open(r, &root, &other);

	if (status)
		return status;
	if (msg_archive_thread(r->db, r->user->id, root, archived) < 0)
		return db_failure_status(r->db);
	if ((status = sess_flash(r, "ok", archived ? "The conversation was archived."
				 : "The conversation is back in your inbox.")))
		return status;
	return http_redirect(r, archived ? "/inbox" : arena_printf(r->arena, "/messages/%s", root));
}

int page_archive_post(struct req *r)
{
	return archive_set(r, 1);
}

int page_unarchive_post(struct req *r)
{
	return archive_set(r, 0);
}

int page_message_keep(struct req *r)
{
	struct form_data d = { 0 };
	const char *owner, *p[5], *id, *root;
	PGresult *res;
	int status;

	/* Only a form of that very session: its CSRF token proves it. */
	if ((status = sess_ended(r, 1, &owner)))
		return status;
	if (owner == NULL)
		return http_redirect(r, "/login");
	form_read(r, &typed_form_decl, &d);
	p[0] = owner;
	p[1] = r->nparams ? r->params[0] : NULL;
	p[2] = form_get(&d, "to")->error || !*form_text(&d, "to") ? NULL : form_get(&d, "to")->sql;
	p[3] = form_text(&d, "subject");
	p[4] = form_text(&d, "body");
	if ((res = db_exec(r->db, "draft_keep", 5, p)) == NULL)
		return db_failure_status(r->db);
	id = row_text(r->arena, res, 0, "id");
	root = row_text(r->arena, res, 0, "root_id");
	PQclear(res);
	return page_login_again(r, root ? arena_printf(r->arena, "/messages/%s?draft=%s", root, id)
				   : arena_printf(r->arena, "/messages/new?draft=%s", id),
				"Your session has ended: log in again to send your message. It is "
				"kept: after you log in, you are back at it, filled in. Files you "
				"attached will have to be chosen again.");
}
