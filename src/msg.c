/* msg.c - messages: who may write to whom, posting, read state, archiving,
 * and the inbox's unread counter, which every change here keeps exact. */
#include "msg.h"

#include <string.h>

#include "auth.h"
#include "http_parse.h"
#include "row.h"

/* Every statement that changes read or archived state also moves the
 * inbox's unread_count, in the same statement, so the two cannot drift.
 * Unread means: not read and not archived. */
/* Posting moves the conversation rows and the inbox's unread_count by
 * triggers (sql/0017_conversations.sql); the statements that change read
 * or archived state name the viewer's conversation row, whose triggers
 * keep the count exact, in the same statement. */
const struct db_stmt msg_stmts[] = {
	{ "msg_post",
	  "INSERT INTO messages (inbox_id, outbox_id, parent_id, subject, body, routing,"
	  " prescription_id, appointment_id)"
	  " SELECT i.id, (SELECT id FROM outboxes WHERE user_id = $2), $3, $4, $5,"
	  " $6::message_routing, $7, $8 FROM inboxes i WHERE i.user_id = $1 RETURNING id" },
	/* Through a clinic both belong to (active memberships): a patient
	 * there to its staff, staff to anyone there; staff only in the clinic
	 * they act for ($3). Staff who have not set up their account (no
	 * password, perhaps no name yet) are no one's recipient. $1 the
	 * sender, $2 the recipient. */
	{ "msg_may_write",
	  "SELECT EXISTS (SELECT 1 FROM memberships ms"
	  " JOIN memberships mr ON mr.clinic_id = ms.clinic_id AND mr.user_id = $2 AND mr.active"
	  " JOIN users s ON s.id = ms.user_id AND s.active"
	  " JOIN users r ON r.id = mr.user_id AND r.active AND r.id <> s.id"
	  " WHERE ms.user_id = $1 AND ms.active"
	  " AND (ms.role = 'patient' OR ms.clinic_id = $3)"
	  " AND (ms.role <> 'patient' OR mr.role <> 'patient')"
	  " AND (mr.role = 'patient' OR r.password_hash IS NOT NULL))" },
	/* The same rule, driven by the sender's memberships; a person's role
	 * is their highest where both belong. The chosen person ($4) first,
	 * so it is always among the rows; $2 narrows by name or e-mail. */
	{ "msg_recipients",
	  "SELECT id, name, role, chosen AS selected FROM (SELECT r.id,"
	  " display_name(r.first_name, r.last_name, r.email) AS name,"
	  " max(mr.role)::text AS role, lower(r.last_name) AS l, lower(r.first_name) AS f,"
	  " r.id::text = $4 AS chosen"
	  " FROM memberships ms JOIN memberships mr ON mr.clinic_id = ms.clinic_id AND mr.active"
	  " JOIN users r ON r.id = mr.user_id AND r.active AND r.id <> ms.user_id"
	  " WHERE ms.user_id = $1 AND ms.active"
	  " AND (ms.role = 'patient' OR ms.clinic_id = $3)"
	  " AND (ms.role <> 'patient' OR mr.role <> 'patient')"
	  " AND (mr.role = 'patient' OR r.password_hash IS NOT NULL)"
	  " AND ($2 = '' OR r.id::text = $4 OR strpos(lower(r.first_name || ' ' || r.last_name"
	  " || ' ' || r.email), lower($2)) > 0)"
	  " GROUP BY r.id) x"
	  " ORDER BY chosen DESC, l, f, id LIMIT 101" },
	/* The messages $1 received in conversation $2 that are unread
	 * become read, and their conversation row loses as many. (A message
	 * arriving meanwhile is not in this statement's snapshot: it stays
	 * unread and counted.) Opened, the conversation may be mailed about
	 * again (mailed: src/mail.c). */
	{ "msg_read_thread",
	  "WITH r AS (UPDATE messages m SET read = true, read_at = now(), status = 'read'"
	  " WHERE m.inbox_id = (SELECT id FROM inboxes WHERE user_id = $1) AND NOT m.read"
	  " AND (m.id = $2 OR m.parent_id = $2) RETURNING 1)"
	  " UPDATE conversation_members SET unread = unread - (SELECT count(*) FROM r), mailed = false"
	  " WHERE user_id = $1 AND root_id = $2 AND (mailed OR EXISTS (SELECT 1 FROM r))" },
	/* The latest message $1 received in conversation $2 becomes unread
	 * again; one row if the conversation is one they received in. */
	{ "msg_mark_unread",
	  "WITH cv AS (SELECT root_id FROM conversation_members"
	  " WHERE user_id = $1 AND root_id = $2 AND received > 0),"
	  " l AS (SELECT m.id FROM cv, messages m"
	  " WHERE m.inbox_id = (SELECT id FROM inboxes WHERE user_id = $1)"
	  " AND (m.id = cv.root_id OR m.parent_id = cv.root_id)"
	  " ORDER BY m.created_at DESC, m.id DESC LIMIT 1),"
	  " u AS (UPDATE messages x SET read = false, read_at = NULL, status = 'delivered'"
	  " FROM l WHERE x.id = l.id AND x.read RETURNING 1),"
	  " c AS (UPDATE conversation_members SET unread = unread + 1"
	  " WHERE user_id = $1 AND root_id = $2 AND EXISTS (SELECT 1 FROM u))"
	  " SELECT count(*) FROM cv" },
	{ "msg_archive_thread",
	  "UPDATE conversation_members SET archived = $3::boolean"
	  " WHERE user_id = $1 AND root_id = $2 AND received > 0 AND archived <> $3::boolean" },
	{ "msg_claim_token",
	  "INSERT INTO form_tokens (token, user_id) VALUES ($2, $1)"
	  " ON CONFLICT DO NOTHING RETURNING 1" },
	{ NULL, NULL }
};

const char *msg_post(struct db *db, struct arena *a, const struct msg_new *m)
{
	const char *routing = m->sender_id == NULL ? "auto" : m->root_id ? "reply" : "direct";
	const char *p[8] = {
		m->recipient_id, m->sender_id, m->root_id, m->root_id ? NULL : m->subject,
		m->body, routing, m->prescription_id, m->appointment_id
	};
	PGresult *res = db_exec(db, "msg_post", 8, p);
	const char *id = NULL;

	if (res && PQntuples(res) == 1)
		id = arena_strdup(a, PQgetvalue(res, 0, 0));
	PQclear(res);
	return id;
}

const char *msg_post_auto(struct db *db, struct arena *a, const char *recipient_id,
			  const char *subject, const char *body,
			  const char *prescription_id, const char *appointment_id)
{
	struct msg_new m = {
		NULL, recipient_id, NULL, subject, body, prescription_id, appointment_id
	};

	return msg_post(db, a, &m);
}

int msg_may_write(struct db *db, const char *sender_id, const char *clinic_id,
		  const char *recipient_id)
{
	const char *p[3] = { sender_id, recipient_id, clinic_id };
	PGresult *res = db_exec(db, "msg_may_write", 3, p);
	int ok;

	if (res == NULL)
		return -1;
	ok = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return ok;
}

struct tv *msg_recipients(struct db *db, struct arena *a, const char *user_id,
			  const char *clinic_id, const char *selected_id, const char *find,
			  int *more)
{
	const char *p[4] = { user_id, find ? find : "", clinic_id, selected_id ? selected_id : "" };
	PGresult *res = db_exec(db, "msg_recipients", 4, p);
	struct tv *list;
	int n;

	if (res == NULL)
		return NULL;
	n = PQntuples(res);
	*more = n > MSG_RECIPIENTS_MAX;
	list = row_list(a, res, 0, n < MSG_RECIPIENTS_MAX ? n : MSG_RECIPIENTS_MAX, 0);
	PQclear(res);
	return list;
}

/* Runs a statement whose result does not matter; 0 or -1. */
static int run_only(struct db *db, const char *name, int n, const char *const *p)
{
	PGresult *res = db_exec(db, name, n, p);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int msg_read_thread(struct db *db, const char *user_id, const char *root_id)
{
	const char *p[2] = { user_id, root_id };

	return run_only(db, "msg_read_thread", 2, p);
}

int msg_mark_unread(struct db *db, const char *user_id, const char *root_id)
{
	const char *p[2] = { user_id, root_id };
	PGresult *res = db_exec(db, "msg_mark_unread", 2, p);
	int mine;

	if (res == NULL)
		return -1;
	mine = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
	PQclear(res);
	return mine;
}

int msg_archive_thread(struct db *db, const char *user_id, const char *root_id,
		       int archived)
{
	const char *p[3] = { user_id, root_id, archived ? "true" : "false" };

	return run_only(db, "msg_archive_thread", 3, p);
}

int msg_claim_form_token(struct db *db, const char *user_id, const char *token)
{
	const char *p[2] = { user_id, token };
	PGresult *res;
	int fresh;

	if (!auth_token_valid(token))
		return 0;
	res = db_exec(db, "msg_claim_token", 2, p);
	if (res == NULL)
		return -1;
	fresh = PQntuples(res) == 1;
	PQclear(res);
	return fresh;
}
