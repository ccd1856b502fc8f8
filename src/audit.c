/* audit.c - the audit log: who did what, to whom, from where. */
#include "audit.h"

#include "sess.h"

const struct db_stmt audit_stmts[] = {
	{ "audit_insert",
	  "INSERT INTO audit_log (action, actor_id, clinic_id, subject_id, detail, address, request_id)"
	  " VALUES ($1, $2, $3, $4, coalesce($5, ''), $6, $7)" },
	{ NULL, NULL }
};

int audit_write(struct db *db, const struct audit_actor *who, const char *action,
		const char *clinic_id, const char *subject_id, const char *detail)
{
	const char *p[7] = {
		action, who->user_id, clinic_id, subject_id, detail,
		who->address ? who->address : "", who->request_id ? who->request_id : ""
	};
	PGresult *res = db_exec(db, "audit_insert", 7, p);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int audit(struct req *r, const char *action, const char *clinic_id,
	  const char *subject_id, const char *detail)
{
	struct audit_actor who = {
		r->user ? r->user->id : NULL, r->remote_addr, r->request_id
	};

	if (audit_write(r->db, &who, action, clinic_id, subject_id, detail) < 0)
		return db_failure_status(r->db);
	return 0;
}
