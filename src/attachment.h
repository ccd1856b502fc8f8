/* attachment.h - files attached to messages: checking, storing, listing, downloading. */
#ifndef CAREBOX_ATTACHMENT_H
#define CAREBOX_ATTACHMENT_H

#include "buf.h"
#include "db.h"
#include "form.h"
#include "http.h"
#include "tpl.h"

extern const struct db_stmt attachment_stmts[];

/* Stores the files of a form's FT_FILE field `files` (checked by
 * form_read(), their types sniffed) as attachments of `message_id`, each
 * with its cleaned filename and type, the bytes sent as binary, inside the
 * page's transaction, after the message insert. A file that would not pass
 * the check stops the store with 422 (the caller's transaction then rolls
 * back). Returns 0, 422, or the status of a database failure (500/503).
 * Allocates nothing beyond the request arena. */
int attachment_store(struct req *r, const char *message_id, const struct form_value *files);

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
