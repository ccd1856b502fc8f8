/* audit.h - the audit log: who did what, to whom, from where. */
#ifndef CAREBOX_AUDIT_H
#define CAREBOX_AUDIT_H

#include "db.h"
#include "http.h"

extern const struct db_stmt audit_stmts[];

/* Who acts: a user (NULL: nobody logged in, or carebox itself), from an
 * address ("" for a background process), in a request ("" outside one). */
struct audit_actor {
	const char *user_id;
	const char *address;
	const char *request_id;
};

/* Records `action` by `who` about `subject_id` (a user, may be NULL) in
 * `clinic_id` (may be NULL), with a short `detail` (may be NULL; never a
 * secret). Runs on `db` inside its open transaction, if any, so the entry
 * commits with the change it records or not at all. Returns 0, or -1 if
 * the database failed (logged). Any process may call it: the app, the
 * worker, carebox-admin. */
int audit_write(struct db *db, const struct audit_actor *who, const char *action,
		const char *clinic_id, const char *subject_id, const char *detail);

/* audit_write() for a request: the actor is the logged-in user (or
 * nobody), from the client's address, with the request's id. Returns 0 or
 * the error status the failure deserves. */
int audit(struct req *r, const char *action, const char *clinic_id,
	  const char *subject_id, const char *detail);

#endif
