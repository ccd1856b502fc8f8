/* msg.h - messages: who may write to whom, posting, read state, archiving,
 * and the inbox's unread counter, which every change here keeps exact. */
#ifndef CAREBOX_MSG_H
#define CAREBOX_MSG_H

#include "db.h"
#include "http.h"

#define MSG_BODY_MAX 20000	/* characters */
#define MSG_SUBJECT_MAX 200	/* characters */
#define MSG_PAGE 10		/* conversations per list page */
#define MSG_RECIPIENTS_MAX 100	/* people offered at once in the compose form */

extern const struct db_stmt msg_stmts[];

/* A new message, as msg_post() takes it. */
struct msg_new {
	const char *sender_id;		/* NULL: written by carebox (routing auto) */
	const char *recipient_id;
	const char *root_id;		/* NULL for a new thread, else the thread's root */
	const char *subject;		/* thread roots only */
	const char *body;
	const char *prescription_id;	/* optional links, may be NULL */
	const char *appointment_id;
};

/* Stores `m` in the recipient's inbox and the sender's outbox; its
 * conversation's rows and the recipient's unread count follow (triggers). Routing is auto without
 * a sender, reply with a root, direct otherwise. Returns the new message's
 * id (in `a`), or NULL if the database failed or the recipient does not
 * exist. Does not check who may write to whom: see msg_may_write(). */
const char *msg_post(struct db *db, struct arena *a, const struct msg_new *m);

/* Posts a message written by carebox itself (a prescription was issued, an
 * appointment moved) into `recipient_id`'s inbox. Returns the id or NULL. */
const char *msg_post_auto(struct db *db, struct arena *a, const char *recipient_id,
			  const char *subject, const char *body,
			  const char *prescription_id, const char *appointment_id);

/* 1 if `sender_id` may write to `recipient_id`: a patient to the doctors
 * and admins of a clinic they are a patient of; staff to the patients and
 * staff of `clinic_id`, the clinic they act for (NULL: none); both active
 * members and accounts, never oneself. 0 if not, -1 if the database
 * failed. */
int msg_may_write(struct db *db, const char *sender_id, const char *clinic_id,
		  const char *recipient_id);

/* The people `user_id` (acting for `clinic_id`) may write to, as a list of maps {id, name, role,
 * selected} ordered by name, `selected_id` first and marked; only those
 * whose name or e-mail contains `find` (any case) unless it is NULL or "".
 * At most MSG_RECIPIENTS_MAX; *more is set when there are others. Returns
 * the list, or NULL if the database failed. */
struct tv *msg_recipients(struct db *db, struct arena *a, const char *user_id,
			  const char *clinic_id, const char *selected_id, const char *find,
			  int *more);

/* Marks `user_id`'s unread messages of the thread `root_id` read (now) and
 * lowers their unread count to match. Returns 0 or -1. */
int msg_read_thread(struct db *db, const char *user_id, const char *root_id);

/* Marks the latest message `user_id` received in conversation `root_id`
 * unread again; the conversation and the count follow. Returns 1 if done
 * (or it was unread already), 0 if `user_id` received nothing in such a
 * conversation, -1 on a database failure. */
int msg_mark_unread(struct db *db, const char *user_id, const char *root_id);

/* Archives (archived = 1) or brings back (0) `user_id`'s conversation
 * `root_id` (if they received something in it), keeping the count exact
 * (archived conversations do not count as unread). Returns 0 or -1. */
int msg_archive_thread(struct db *db, const char *user_id, const char *root_id,
		       int archived);

/* Claims the one-time token of a compose or reply form for `user_id`.
 * Returns 1 the first time, 0 if it was used already (a reload: do not
 * send again) or is not a token we issue, -1 on a database failure. Call it in the transaction that
 * stores the message, so a failed send leaves the token unused. */
int msg_claim_form_token(struct db *db, const char *user_id, const char *token);

#endif
