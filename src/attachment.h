/* attachment.h - files attached to messages: checking, storing, listing, downloading. */
#ifndef CAREBOX_ATTACHMENT_H
#define CAREBOX_ATTACHMENT_H

#include "buf.h"
#include "db.h"
#include "http.h"
#include "tpl.h"

extern const struct db_stmt attachment_stmts[];

/* Checks every file of r->uploads by content (multipart_sniff): each must
 * be a non-empty PDF, PNG, JPEG or UTF-8 plain text file. Call it before
 * anything is stored. For each refused file appends one sentence naming it
 * ("report.exe is not a PDF, PNG, JPEG or plain text file.", "x.txt is
 * empty.") to `errors`, space-separated. Returns 0 if all are fine, else
 * 422 (nothing rendered: the caller shows its form with `errors`). */
int attachment_check_all(struct req *r, struct buf *errors);

/* Stores every file of r->uploads as an attachment of `message_id`, with
 * its cleaned filename and sniffed type, the bytes sent as binary. Call it
 * inside the caller's transaction, after the message insert, and after
 * attachment_check_all() passed: a file that fails the check now puts the
 * sentence in `errors` and returns 422 (the caller rolls back). Returns 0,
 * 422, or the status of a database failure (500/503). Allocates nothing
 * beyond the request arena. */
int attachment_store_all(struct req *r, const char *message_id, struct buf *errors);

/* For the thread page, in one query: gives every message map of the list
 * `messages` (each a map with an "id") an "attachments" list (empty if
 * none) of maps {id, filename, size} for the files of the messages of the
 * thread `root_id` that the logged-in user sent or received; "size" is
 * text such as "912 bytes", "48 KB", "2.4 MB". Lists live in the arena.
 * Returns 0, or the status of a database failure. */
int attachment_view_thread(struct req *r, const char *root_id, struct tv *messages);

/* The same for one message map `message_tv` of message `message_id`. */
int attachment_view(struct req *r, struct tv *message_tv, const char *message_id);

/* GET /attachments/{id}: the file, if the logged-in user sent or received
 * its message (else 404, as for an unknown id), with its stored type and
 * Content-Disposition: attachment (an ASCII filename and the UTF-8 one as
 * filename*). The bytes go to r->body_out. Returns 200, 404 or a database
 * failure status. */
int page_attachment_get(struct req *r);

#endif
