/* audit.c - the audit log: who did what, to whom, from where. */
#include "audit.h"

#include "sess.h"

const struct db_stmt audit_stmts[] = {
	{ "audit_insert",
	  "INSERT INTO audit_log (action, actor_id, clinic_id, subject_id, detail, address)"
	  " VALUES ($1, $2, $3, $4, coalesce($5, ''), $6)" },
	{ NULL, NULL }
};

int audit(struct req *r, const char *action, const char *clinic_id,
	  const char *subject_id, const char *detail)
{
	const char *p[6] = {
		action, r->user ? r->user->id : NULL, clinic_id, subject_id,
		detail, r->remote_addr
	};
	PGresult *res = db_exec(r->db, "audit_insert", 6, p);

	if (res == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	return 0;
}
