/* audit.h - the audit log: who did what, to whom, from where. */
#ifndef CAREBOX_AUDIT_H
#define CAREBOX_AUDIT_H

#include "db.h"
#include "http.h"

extern const struct db_stmt audit_stmts[];

/* Records `action` by the logged-in user (or nobody) from the client's
 * address, about `subject_id` (a user, may be NULL) in `clinic_id` (may be
 * NULL), with a short `detail` (may be NULL; never a secret). Returns 0 or
 * an error status. Runs inside the caller's transaction, if any. */
int audit(struct req *r, const char *action, const char *clinic_id,
	  const char *subject_id, const char *detail);

#endif
