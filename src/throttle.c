/* throttle.c - how often someone may try (throttle.h).
 *
 * Passwords: a check of an account's password first takes that account's
 * advisory lock without waiting (pg_try_advisory_xact_lock): a second
 * check of the same account while one is being hashed is refused at once,
 * never hashed. With the lock held, the account's recorded failures decide
 * its pause (login_paused_until, sql/0014), and a failure is recorded in
 * the same transaction, so the next check sees it. Per client address,
 * each check holds a shared advisory lock of the address while it runs:
 * the failures recorded plus the checks in flight (the lock's holders, in
 * pg_locks) are counted, so checks at once count each other even before
 * any of them is recorded.
 *
 * Signups, join keys and reset links asked for: one row per address (or
 * other key: an e-mail address, an account) and kind, whose count is
 * raised before the work, in one statement that locks the row. */
#include "throttle.h"

#include <stdlib.h>
#include <string.h>

#include "page.h"

const struct db_stmt throttle_stmts[] = {
	{ "throttle_account_lock",
	  "SELECT pg_try_advisory_xact_lock(" DB_LOCK_ACCOUNT ", hashtext(lower($1)))" },
	{ "throttle_address_lock",
	  "SELECT pg_advisory_xact_lock_shared(" DB_LOCK_ADDRESS ", hashtext($1))" },
	/* The checks of address $1 in progress (their shared locks, this
	 * one's included). Read in a statement before the failures are
	 * counted: a check that ends in between has its failure committed
	 * before its lock goes, so the count's snapshot, taken after, holds
	 * it. (In one statement the snapshot comes first, and a check
	 * ending between it and the reading of the locks was counted
	 * nowhere.) */
	{ "throttle_address_checks",
	  "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
	  " AND classid = " DB_LOCK_ADDRESS " AND objsubid = 2"
	  " AND objid = (hashtext($1)::bigint & 4294967295)::oid" },
	/* $1 account, $2 address, $3 whether the address counts. */
	{ "throttle_password_state",
	  "SELECT ceil(extract(epoch FROM login_paused_until($1) - now()) / 60)::bigint AS minutes,"
	  " CASE WHEN $3::boolean THEN"
	  "  (SELECT count(*) FROM login_failures"
	  "   WHERE address = $2 AND at > now() - interval '15 minutes')"
	  " ELSE 0 END AS tries" },
	{ "throttle_password_failed", "INSERT INTO login_failures (email, address) VALUES ($1, $2)" },
	{ "throttle_password_clear", "DELETE FROM login_failures WHERE lower(email) = lower($1)" },
	/* $1 kind, $2 address, $3 the window: a new window starts at 1. */
	{ "throttle_address_claim",
	  "INSERT INTO address_counts AS c (kind, address, n) VALUES ($1, $2, 1)"
	  " ON CONFLICT (kind, address) DO UPDATE SET"
	  " n = CASE WHEN c.since > now() - $3::interval THEN c.n + 1 ELSE 1 END,"
	  " since = CASE WHEN c.since > now() - $3::interval THEN c.since ELSE now() END"
	  " RETURNING n" },
	{ "throttle_address_refund",
	  "UPDATE address_counts SET n = greatest(n - 1, 0) WHERE kind = $1 AND address = $2" },
	{ NULL, NULL }
};

/* Runs `stmt` and returns its first value as a number (0 if NULL), or -1
 * if the database failed. */
static long first_number(struct req *r, const char *stmt, int n, const char *const *p)
{
	PGresult *res = db_exec(r->db, stmt, n, p);
	long v;

	if (res == NULL)
		return -1;
	v = PQntuples(res) ? atol(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return v;
}

int throttle_password(struct req *r, const char *email, int by_address, long *minutes)
{
	const char *p[3] = { email, r->remote_addr, by_address ? "true" : "false" };
	PGresult *res = db_exec(r->db, "throttle_account_lock", 1, p);
	int mine;
	long tries = 0;

	*minutes = 0;
	if (res == NULL)
		return -1;
	mine = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!mine)
		return THROTTLE_BUSY;
	if (by_address && (first_number(r, "throttle_address_lock", 1, &r->remote_addr) < 0 ||
			   (tries = first_number(r, "throttle_address_checks", 1, &r->remote_addr)) < 0))
		return -1;
	res = db_exec(r->db, "throttle_password_state", 3, p);
	if (res == NULL)
		return -1;
	*minutes = atol(PQgetvalue(res, 0, 0));
	tries += atol(PQgetvalue(res, 0, 1));
	PQclear(res);
	if (*minutes > 0)
		return THROTTLE_PAUSED;
	return tries > THROTTLE_ADDRESS_MAX ? THROTTLE_ADDRESS : THROTTLE_OK;
}

int throttle_password_failed(struct req *r, const char *email, int by_address)
{
	const char *p[2] = { email, by_address ? r->remote_addr : "" };

	if (first_number(r, "throttle_password_failed", 2, p) < 0)
		return db_failure_status(r->db);
	return 0;
}

int throttle_password_clear(struct req *r, const char *email)
{
	if (first_number(r, "throttle_password_clear", 1, &email) < 0)
		return db_failure_status(r->db);
	return 0;
}

int throttle_key(struct req *r, const char *kind, const char *key, int max, const char *window)
{
	const char *p[3] = { kind, key, window };
	long n = first_number(r, "throttle_address_claim", 3, p);

	if (n < 0)
		return db_failure_status(r->db);
	return n > max ? 429 : 0;
}

int throttle_address(struct req *r, const char *kind, int max, const char *window)
{
	return throttle_key(r, kind, r->remote_addr, max, window);
}

int throttle_address_refund(struct req *r, const char *kind)
{
	const char *p[2] = { kind, r->remote_addr };

	if (first_number(r, "throttle_address_refund", 2, p) < 0)
		return db_failure_status(r->db);
	return 0;
}
