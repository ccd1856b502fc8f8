/* dbtest.h - what the C database tests share: the app's own connection to the
 * test database, the owner's for setting up and checking, and small helpers
 * to run SQL and make users. */
#ifndef CAREBOX_DBTEST_H
#define CAREBOX_DBTEST_H

#include <stdio.h>
#include <stdlib.h>

#include "arena.h"
#include "db.h"
#include "route.h"
#include "../unit/tap.h"

static struct db *DB;		/* the app's, as a worker has it */
static PGconn *OWNER;		/* the owner's: what the app may not do */
static struct arena *A;

/* Connects like a worker does (every statement prepared) to
 * $CAREBOX_DATABASE_URL, and as the owner to $CAREBOX_ADMIN_DATABASE_URL
 * (or, unset, the app's). Returns 0, or prints a failed check and returns
 * -1. */
static inline int dbtest_start(void)
{
	const char *url = getenv("CAREBOX_DATABASE_URL");
	const char *owner = getenv("CAREBOX_ADMIN_DATABASE_URL");

	A = arena_new(1 << 16);
	DB = db_new(url ? url : "", 5000, route_stmts);
	OWNER = PQconnectdb(owner ? owner : url ? url : "");
	if (db_ensure(DB) < 0 || PQstatus(OWNER) != CONNECTION_OK) {
		puts("not ok 1 - cannot connect to the test database");
		return -1;
	}
	return 0;
}

/* Runs SQL with text parameters as the owner, which may do anything to the
 * tables (set a test up, look at what the app did); returns the first
 * column of the first row (arena copy), or NULL. Exits on failure. */
static inline const char *q(const char *sql, int n, const char *const *p)
{
	PGresult *res = PQexecParams(OWNER, sql, n, NULL, p, NULL, NULL, 0);
	const char *v = NULL;

	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "SQL failed: %s\n%s\n", sql, PQresultErrorMessage(res));
		exit(2);
	}
	if (PQntuples(res) > 0)
		v = arena_strdup(A, PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* Creates a user of `role` named `name` in clinic `clinic` (made if new);
 * returns the id. */
static inline const char *db_user(const char *role, const char *clinic, const char *name)
{
	const char *p[3] = { role, clinic, name };

	return q("WITH c AS (INSERT INTO clinics (name) VALUES ($2)"
		 " ON CONFLICT ((lower(name))) DO UPDATE SET name = clinics.name RETURNING id),"
		 " u AS (INSERT INTO users (email, first_name, last_name, password_hash)"
		 " VALUES ($3 || '-' || gen_random_uuid() || '@db.test', $3, 'Test', 'set up')"
		 " RETURNING id),"
		 " m AS (INSERT INTO memberships (clinic_id, user_id, role)"
		 " SELECT c.id, u.id, $1::user_role FROM c, u)"
		 " SELECT id FROM u", 3, p);
}

/* Disconnects and frees what dbtest_start made. */
static inline void dbtest_end(void)
{
	PQfinish(OWNER);
	db_free(DB);
	arena_free(A);
}

#endif
