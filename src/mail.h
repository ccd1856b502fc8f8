/* mail.h - e-mail: which mails carebox sends and when (queued as jobs in the transaction of their event), composing each kind, and the job that hands one to carebox-mail. */
#ifndef CAREBOX_MAIL_H
#define CAREBOX_MAIL_H

/* The exit status of carebox-mail (src/mail_send.c), as the sysexits
 * codes: sent (or written to CAREBOX_MAIL_DIR), try again later, never. */
#define MAIL_SENT 0
#define MAIL_USAGE 64
#define MAIL_PERMANENT 69	/* EX_UNAVAILABLE: a 5xx answer, a bad setting */
#define MAIL_TEMPORARY 75	/* EX_TEMPFAIL: a 4xx answer, no connection */

/* carebox-mail's own limit on one delivery, connecting included, and how
 * long the worker waits for it before killing it (below the mail.send
 * job's time limit, src/jobs.c, so the outcome is recorded as a retry). */
#define MAIL_SEND_TIMEOUT_S 30
#define MAIL_RUN_TIMEOUT_MS 45000

#ifndef CAREBOX_MAIL_SEND	/* carebox-mail needs the codes only */

#include "buf.h"
#include "db.h"
#include "jobs.h"

/* A person counts as active (no new-message mail: they are looking) while
 * a session of theirs was seen within this many minutes; sessions record
 * their last request at most once a minute (src/sess.c). */
#define MAIL_ACTIVE_MINUTES 5

/* Statements for db_new(): mail_stmts for the app (queuing mails: its
 * route_stmts hold them), mail_worker_stmts for carebox-worker (sending). */
extern const struct db_stmt mail_stmts[];
extern const struct db_stmt mail_worker_stmts[];

/* The job kind's handler ("mail.send", src/jobs.c): builds the mail its
 * payload names, at send time from the rows as they are then (a notice
 * whose conversation was read meanwhile, or whose person turned notices
 * off, is not sent: done), and runs carebox-mail (beside this program)
 * with it: done when sent, a retry on a temporary failure, failed for good
 * on a permanent one; the error says why in words with no address. */
enum job_outcome mail_job(struct job *j);

/* Each of these queues one mail on `db`, inside its open transaction (the
 * event's: route.c), and returns 0, or -1 if the database failed. */

/* A new message (or reply) for `user_id` in conversation `root_id`, of
 * clinic `clinic_id` (may be NULL): queued unless a mail about it has gone
 * since they last opened it (conversation_members.mailed, which this
 * sets; opening the thread clears it: msg_read_thread), or they turned
 * the notice off, or have no proven address. */
int mail_notice_message(struct db *db, const char *user_id, const char *root_id,
			const char *clinic_id);

/* A verification link for the login address of `user_id`, as it is when
 * the mail is sent (the payload holds the person's id, never an address),
 * unless it is proven by then. One waits per person at most (unique key
 * "mail:verify:<id>"): a second request meanwhile adds nothing. */
int mail_verify(struct db *db, const char *user_id);

/* A password reset link for `user_id`, to their proven address. Sets
 * *queued (may be NULL) to 1 if queued, 0 if one is waiting already. */
int mail_reset(struct db *db, const char *user_id, int *queued);

/* The join link `link_id` (the row page_join_handout made for clinic
 * `clinic_id`), mailed to the address staff typed there: the worker gives
 * that row a second token (mail_token_hash) when it sends, so the handout's
 * link, its code and the mailed link open one registration, which
 * whichever is used first consumes. The payload holds the row's id only. */
int mail_join(struct db *db, const char *clinic_id, const char *link_id);

/* One composed mail. */
struct mail {
	const char *from_name;	/* the display name: the clinic's, or "carebox" */
	const char *from;	/* CAREBOX_MAIL_FROM */
	const char *to;
	const char *subject;
	const char *body;	/* UTF-8, lines ending "\n"; the footer follows */
	const char *id;		/* Message-ID's left part: the job's id (a notice;
				 * a second run after a crash sends the same
				 * mail), or with the attempt ("<id>.2": a link
				 * mail, whose link each attempt makes anew) */
	const char *host;	/* Message-ID's right part */
	long long date;		/* seconds since the epoch */
};

/* Writes `m` to `out` as an RFC 5322 message: From (the display name
 * quoted, or encoded per RFC 2047 when not ASCII), To, Subject (encoded
 * when not ASCII), Date (UTC), Message-ID <id@host>, Auto-Submitted:
 * auto-generated, MIME-Version 1.0, text/plain UTF-8 8bit; then the body
 * with CRLF line ends and the footer every mail has (how to change which
 * notices one receives, at `base_url`/account). Control characters in
 * header values become spaces: nothing can add a header. */
void mail_compose(struct buf *out, const struct mail *m, const char *base_url);

/* Appends `text` to `out` as a header value: as it is if printable
 * ASCII, else as RFC 2047 encoded words (UTF-8, base64), each at most 75
 * characters, folded onto continuation lines. With `phrase` (a display
 * name), ASCII text is a quoted string. */
void mail_header_text(struct buf *out, const char *text, int phrase);

/* The value of header `name` ("Subject") of the composed mail `msg`, its
 * folded lines joined and its RFC 2047 words (UTF-8, base64) decoded, in
 * arena `a`; NULL when the mail has no such header. For the demo's mail
 * page (src/page_demo.c). */
const char *mail_header_get(struct arena *a, const char *msg, const char *name);

/* The body of the composed mail `msg` (after the blank line), or "". */
const char *mail_body(const char *msg);

#endif
#endif
