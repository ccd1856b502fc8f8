/* page_message.c - writing a message, a thread and its replies, and the
 * thread's read and archive buttons; every change goes through msg.c. */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "attachment.h"
#include "auth.h"
#include "msg.h"
#include "sess.h"

const struct db_stmt page_message_stmts[] = {
	/* If $2 sent or received message $1: its thread's root, the root's
	 * subject and, seen from $2, the other party of the thread (NULL when
	 * carebox wrote the root: no reply possible). No row: not theirs. */
	{ "message_open",
	  "SELECT rt.id, rt.subject, CASE WHEN ro.user_id = $2 THEN ri.user_id ELSE ro.user_id END"
	  " FROM messages m JOIN inboxes i ON i.id = m.inbox_id"
	  " LEFT JOIN outboxes o ON o.id = m.outbox_id"
	  " JOIN messages rt ON rt.id = coalesce(m.parent_id, m.id)"
	  " JOIN inboxes ri ON ri.id = rt.inbox_id LEFT JOIN outboxes ro ON ro.id = rt.outbox_id"
	  " WHERE m.id = $1 AND (i.user_id = $2 OR o.user_id = $2)" },
	/* The thread of root $1 oldest first, only what $2 sent or received,
	 * $2's unread count (for the navigation after reading), and whether
	 * a message has files (a thread without any needs no file query). */
	{ "message_thread",
	  "SELECT m.id, to_char(m.created_at, 'DD Mon YYYY HH24:MI'), m.body,"
	  " coalesce(m.sender_name, 'carebox'), m.recipient_name,"
	  " coalesce(o.user_id = $2, false), i.user_id = $2,"
	  " to_char(m.read_at, 'DD Mon YYYY HH24:MI'), m.archived,"
	  " (SELECT unread_count FROM inboxes WHERE user_id = $2),"
	  " EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)"
	  " FROM messages m JOIN inboxes i ON i.id = m.inbox_id"
	  " LEFT JOIN outboxes o ON o.id = m.outbox_id"
	  " WHERE (m.id = $1 OR m.parent_id = $1) AND (i.user_id = $2 OR o.user_id = $2)"
	  " ORDER BY m.created_at, m.id" },
	{ NULL, NULL }
};

static const char *const compose_fields[] = { "subject", NULL };

/* Attachments 1/3 (files_check, files_store and the list in thread_page
 * are the only places this page handles files): checks the uploaded files
 * before anything is stored; on a problem puts "attachment_error" into the
 * view. Returns 0 or 422. */
static int files_check(struct req *r)
{
	struct buf errors = BUF_INIT;
	int status = attachment_check_all(r, &errors);

	if (status)
		tv_set_str(r->arena, r->view, "attachment_error",
			   arena_strdup(r->arena, errors.data ? errors.data : ""));
	buf_free(&errors);
	return status;
}

/* Attachments 2/3: stores the files with message `id`, inside the send's
 * transaction (rolled back here on a refused file, which then puts
 * "attachment_error" into the view). Returns 0, 422 or an error status. */
static int files_store(struct req *r, const char *id)
{
	struct buf errors = BUF_INIT;
	int status = attachment_store_all(r, id, &errors);

	if (status == 422) {
		tv_set_str(r->arena, r->view, "attachment_error",
			   arena_strdup(r->arena, errors.data ? errors.data : ""));
		if (db_command(r->db, "ROLLBACK") < 0)
			status = db_failure_status(r->db);
	}
	buf_free(&errors);
	return status;
}

/* Puts a fresh one-time form token into the view as "form_token". */
static void form_view(struct req *r)
{
	char token[TOKEN_HEX + 1];

	auth_token(token);
	tv_set_str(r->arena, r->view, "form_token", arena_strdup(r->arena, token));
}

/* The posted "body" trimmed, with CRLF line breaks made LF (browsers send
 * CRLF; the limit counts a line break as one character). Arena string. */
static const char *form_body(struct req *r)
{
	const char *in = http_form_trim(r, "body");
	char *out = arena_alloc(r->arena, strlen(in) + 1), *o = out;

	for (; *in; in++)
		if (!(in[0] == '\r' && in[1] == '\n'))
			*o++ = *in;
	*o = '\0';
	return out;
}

/* Checks `body` with msg_body_problem(); on a problem puts "body_error"
 * into the view. Returns 1 if the body can be sent. */
static int body_ok(struct req *r, const char *body)
{
	const char *problem = msg_body_problem(body);

	if (problem)
		tv_set_str(r->arena, r->view, "body_error", problem);
	return problem == NULL;
}

/* Renders the compose form with the people the user may write to, `to`
 * preselected, answering `status`. */
static int compose_form(struct req *r, const char *to, int status)
{
	const char *find = http_query(r, "find");
	int more = 0;
	struct tv *list = msg_recipients(r->db, r->arena, r->user->id, to, find, &more);

	if (list == NULL)
		return db_failure_status(r->db);
	tv_set(r->arena, r->view, "recipients", list);
	tv_set_bool(r->arena, r->view, "has_recipients", list->u.list.n > 0 || (find && *find));
	tv_set_bool(r->arena, r->view, "more_recipients", more);
	tv_set_bool(r->arena, r->view, "none_found", list->u.list.n == 0);
	if (find)
		tv_set_str(r->arena, r->view, "find", find);
	tv_set_str(r->arena, r->view, "title", "Write a message");
	form_view(r);
	return http_render_status(r, "message_new", status);
}

/* Validates a new message, putting "to_error", "subject_error" and
 * "body_error" into the view. Returns 0 if it can be sent, 422 if not,
 * or an error status if the database failed. */
static int compose_check(struct req *r, const char *to, const char *subject,
			 const char *body)
{
	const char *problem = msg_subject_problem(subject);
	int may = uuid_valid(to, strlen(to)) ? msg_may_write(r->db, r->user->id, to) : 0;
	int good = problem == NULL;

	if (may < 0)
		return db_failure_status(r->db);
	if (problem)
		tv_set_str(r->arena, r->view, "subject_error", problem);
	if (!may)
		tv_set_str(r->arena, r->view, "to_error", *to == '\0' ? "Choose who to write to." :
			   "You cannot write to this person: choose one of the people offered.");
	good &= body_ok(r, body) & may;
	return good ? 0 : 422;
}

/* In one transaction: claims the form's one-time token, posts `m`, stores
 * its attachments, leaves the flash `sent` (or "This message was already
 * sent." for a used token) and commits. Sets *id to the new message (arena)
 * or to NULL for a used token. Returns 0, 422 if a file was refused (rolled
 * back, "attachment_error" in the view) or an error status; a transaction
 * left open is rolled back by db_end_request(). */
static int message_send(struct req *r, const struct msg_new *m, const char *sent,
			const char **id)
{
	int fresh, status;

	*id = NULL;
	/* Browsers always send the token the form carried; a request without
	 * one was not made from our form: refuse it rather than say "sent". */
	if (!auth_token_valid(http_form(r, "form_token")))
		return 400;
	if ((status = page_begin(r)))
		return status;
	fresh = msg_claim_form_token(r->db, r->user->id, http_form(r, "form_token"));
	if (fresh < 0)
		return db_failure_status(r->db);
	if (fresh && (*id = msg_post(r->db, r->arena, m)) == NULL)
		return db_failure_status(r->db);
	if (*id && (status = files_store(r, *id)))
		return status;
	if ((status = sess_flash(r, "ok", fresh ? sent : "This message was already sent.")))
		return status;
	return page_commit(r);
}

int page_message_new_get(struct req *r)
{
	const char *to = http_query(r, "to");

	if (to && !uuid_valid(to, strlen(to)))
		to = NULL;
	return compose_form(r, to, 200);
}

int page_message_post(struct req *r)
{
	const char *to = http_form_trim(r, "to"), *body = form_body(r);
	struct msg_new m = { r->user->id, to, NULL, http_form_trim(r, "subject"), body, NULL, NULL };
	const char *id;
	int status;

	http_keep_fields(r, compose_fields);
	tv_set_str(r->arena, r->view, "body", body);
	status = compose_check(r, to, m.subject, body);
	if ((status == 0 || status == 422) && files_check(r))
		status = 422;
	if (status == 0)
		status = message_send(r, &m, "Message sent.", &id);
	if (status == 422)
		return compose_form(r, to, 422);
	if (status)
		return status;
	return http_redirect(r, id ? arena_printf(r->arena, "/messages/%s", id) : "/sent");
}

/* The root of the thread of the message in the path, if the user sent or
 * received that message, into *root. Returns 0, 404 (not theirs, unknown:
 * never 403, which would confirm the id exists) or an error status. */
static int thread_root(struct req *r, const char **root)
{
	int found = msg_thread_root(r->db, r->arena, r->params[0], r->user->id, root);

	if (found < 0)
		return db_failure_status(r->db);
	return found ? 0 : 404;
}

/* Opens the thread of the message in the path, if the user sent or
 * received that message: its root into *root, the subject into the view
 * ("subject", "title"), the other party the user would reply to into
 * *other (NULL for a thread carebox started); all in the arena. Returns
 * 0, 404 (as thread_root) or an error status. */
static int thread_open(struct req *r, const char **root, const char **other)
{
	const char *p[2] = { r->params[0], r->user->id };
	PGresult *res = db_exec(r->db, "message_open", 2, p);
	const char *subject;

	if (res == NULL || PQntuples(res) != 1) {
		PQclear(res);
		return res ? 404 : db_failure_status(r->db);
	}
	*root = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
	subject = arena_strdup(r->arena, PQgetvalue(res, 0, 1));
	tv_set_str(r->arena, r->view, "subject", subject);
	tv_set_str(r->arena, r->view, "title", subject);
	*other = PQgetisnull(res, 0, 2) ? NULL : arena_strdup(r->arena, PQgetvalue(res, 0, 2));
	PQclear(res);
	return 0;
}

/* One message of the thread as the template sees it; read receipts only
 * on the viewer's own messages. */
static struct tv *thread_row(struct arena *a, PGresult *res, int i)
{
	struct tv *m = tv_map(a);
	int mine = strcmp(PQgetvalue(res, i, 5), "t") == 0;

	tv_set_str(a, m, "id", arena_strdup(a, PQgetvalue(res, i, 0)));
	tv_set_str(a, m, "time", arena_strdup(a, PQgetvalue(res, i, 1)));
	tv_set_str(a, m, "body", arena_strdup(a, PQgetvalue(res, i, 2)));
	tv_set_str(a, m, "sender", arena_strdup(a, PQgetvalue(res, i, 3)));
	tv_set_str(a, m, "recipient", arena_strdup(a, PQgetvalue(res, i, 4)));
	tv_set_bool(a, m, "mine", mine);
	if (mine && !PQgetisnull(res, i, 7))
		tv_set_str(a, m, "read_at", arena_strdup(a, PQgetvalue(res, i, 7)));
	tv_set(a, m, "attachments", tv_list(a));	/* filled by thread_page */
	return m;
}

/* Sets the thread's buttons from what the viewer received (none if they
 * received nothing in it): "unread_id" (the last message they received),
 * "can_archive" (some are in the inbox), "can_unarchive" (all are
 * archived). */
static void thread_buttons(struct req *r, PGresult *res)
{
	const char *last = NULL;
	int archived = 0, inbox = 0;

	for (int i = 0; i < PQntuples(res); i++) {
		if (strcmp(PQgetvalue(res, i, 6), "t") != 0)
			continue;
		last = PQgetvalue(res, i, 0);
		if (strcmp(PQgetvalue(res, i, 8), "t") == 0)
			archived++;
		else
			inbox++;
	}
	if (last)
		tv_set_str(r->arena, r->view, "unread_id", arena_strdup(r->arena, last));
	tv_set_bool(r->arena, r->view, "can_archive", inbox > 0);
	tv_set_bool(r->arena, r->view, "can_unarchive", archived > 0 && inbox == 0);
}

/* Puts the messages of thread `root` the viewer may see into the view
 * ("messages", the buttons) and refreshes the navigation's unread count;
 * *files tells whether any has attachments. Returns 0 or an error status. */
static int thread_messages(struct req *r, const char *root, int *files)
{
	const char *p[2] = { root, r->user->id };
	PGresult *res = db_exec(r->db, "message_thread", 2, p);
	struct tv *list;

	if (res == NULL)
		return db_failure_status(r->db);
	list = tv_set(r->arena, r->view, "messages", tv_list(r->arena));
	*files = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		tv_push(r->arena, list, thread_row(r->arena, res, i));
		*files |= strcmp(PQgetvalue(res, i, 10), "t") == 0;
	}
	if (PQntuples(res) > 0) {
		r->user->unread_count = strtol(PQgetvalue(res, 0, 9), NULL, 10);
		sess_view(r);
	}
	thread_buttons(r, res);
	PQclear(res);
	return 0;
}

/* Renders the thread `root` (opened by thread_open, which found `other`)
 * with the reply form, answering `status` (422 when a reply came back with
 * an error). Returns the status. */
static int thread_page(struct req *r, const char *root, const char *other, int status)
{
	int err, files = 0;

	if ((err = thread_messages(r, root, &files)))
		return err;
	/* Attachments 3/3: each message's files, with their download links. */
	if (files && (err = attachment_view_thread(r, root, tv_get(r->view, "messages"))))
		return err;
	tv_set_str(r->arena, r->view, "root", root);
	tv_set_bool(r->arena, r->view, "can_reply", other != NULL);
	form_view(r);
	return http_render_status(r, "thread", status);
}

int page_thread_get(struct req *r)
{
	const char *root, *other;
	int status = thread_open(r, &root, &other);

	if (status)
		return status;
	/* Only a GET reads the thread: a HEAD (a link checker) marks nothing. */
	if (r->method == M_GET && msg_read_thread(r->db, r->user->id, root) < 0)
		return db_failure_status(r->db);
	return thread_page(r, root, other, 200);
}

/* Validates a reply to `other` (NULL: carebox's thread), putting
 * "reply_error" or "body_error" into the view. Returns 0 if it can be
 * sent, 422 if not, or an error status. */
static int reply_check(struct req *r, const char *other, const char *body)
{
	int may;

	if (other == NULL) {
		tv_set_str(r->arena, r->view, "reply_error",
			   "Messages from carebox cannot be answered. Write a new message to your clinic instead.");
		return 422;
	}
	if ((may = msg_may_write(r->db, r->user->id, other)) < 0)
		return db_failure_status(r->db);
	if (!may)
		tv_set_str(r->arena, r->view, "reply_error",
			   "You can no longer write to this person.");
	return body_ok(r, body) && may ? 0 : 422;
}

int page_reply_post(struct req *r)
{
	const char *root, *other, *body = form_body(r), *id;
	struct msg_new m = { r->user->id, NULL, NULL, NULL, body, NULL, NULL };
	int status;

	if ((status = thread_open(r, &root, &other)))
		return status;
	tv_set_str(r->arena, r->view, "reply_body", body);
	status = reply_check(r, other, body);
	if ((status == 0 || status == 422) && files_check(r))
		status = 422;
	m.recipient_id = other;
	m.root_id = root;
	if (status == 0)
		status = message_send(r, &m, "Reply sent.", &id);
	if (status == 422)
		return thread_page(r, root, other, 422);
	if (status)
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
	const char *root;
	int status = thread_root(r, &root);

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
