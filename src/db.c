/* db.c - one PostgreSQL connection per worker, with prepared statements. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct db {
	const char *conninfo;
	int timeout_ms;
	const struct db_stmt *const *sets;
	const char *app_name;	/* application_name of its connections */
	const char *on_connect;	/* a command each new connection runs, or NULL */
	PGconn *conn;
	unsigned long connects;	/* connections made so far (db_connects) */
	time_t last_attempt;
	char sqlstate[6];
	int first;		/* no statement run yet in this request */
	int may_retry;		/* the request changes nothing (GET, HEAD) */
};

struct db *db_new(const char *conninfo, int timeout_ms,
		  const struct db_stmt *const *sets)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db == NULL) {
		log_msg("out of memory");
		abort();
	}
	db->conninfo = conninfo;
	db->timeout_ms = timeout_ms;
	db->sets = sets;
	db->app_name = "carebox";
	return db;
}

void db_configure(struct db *db, const char *application_name, const char *on_connect)
{
	db->app_name = application_name;
	db->on_connect = on_connect;
}

static void db_drop(struct db *db)
{
	PQfinish(db->conn);
	db->conn = NULL;
}

/* The primary message of a failure in SQLSTATE class 22 (a bad value:
 * invalid input syntax for type uuid: "…"), 23 (a constraint) or P0 (a
 * RAISE, which may end with the value after a colon) may quote what the
 * statement carried; the others name only what the statement's constant
 * text or the server holds (a table, a timeout). For those three the
 * message is copied into `out` (`n` bytes) up to its first double quote or
 * colon, where a value may start, with "…" for the rest; the constraint,
 * table and column names that the cut may take are logged from their own
 * fields. Returns the message to log. */
static const char *db_message_without_values(const char *state, const char *msg,
					     char *out, size_t n)
{
	size_t len;

	if (msg == NULL)
		return "";
	if (strncmp(state, "22", 2) != 0 && strncmp(state, "23", 2) != 0 &&
	    strncmp(state, "P0", 2) != 0)
		return msg;
	len = strcspn(msg, "\":");
	if (msg[len] == '\0')
		return msg;
	while (len > 0 && msg[len - 1] == ' ')
		len--;
	snprintf(out, n, "%.*s …", (int)len, msg);
	return out;
}

void db_log_failure(const char *what, const PGresult *res, PGconn *conn)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *name[3], *label[3] = { "constraint", "table", "column" };
	char names[256] = "", msg[256];
	size_t used = 0;

	if (state == NULL) {	/* libpq's own: the connection, not the data */
		const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);

		log_msg("query %.60s failed: %s", what, m && *m ? m : "(no message)");
		return;
	}
	name[0] = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	name[1] = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
	name[2] = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
	for (int i = 0; i < 3 && used < sizeof(names); i++)
		if (name[i])
			used += (size_t)snprintf(names + used, sizeof(names) - used, " %s %s",
						 label[i], name[i]);
	log_msg("query %.60s failed: %s %s%s%s%s", what, state,
		db_message_without_values(state, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
					  msg, sizeof(msg)),
		*names ? " (" : "", *names ? names + 1 : "", *names ? ")" : "");
}

/* Checks a result; on failure logs it (db_log_failure), records the
 * SQLSTATE, clears the result and returns NULL. */
static PGresult *db_check(struct db *db, PGresult *res, const char *what)
{
	ExecStatusType st = PQresultStatus(res);
	const char *state;

	db->sqlstate[0] = '\0';
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state)
		snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state);
	db_log_failure(what, res, db->conn);
	PQclear(res);
	return NULL;
}

/* Sets the session up and prepares every statement: one round trip each,
 * once per connection, so a request never pays for parsing or planning
 * setup; then runs the on_connect command, if any. Returns 0, or -1 after
 * logging the failure. */
static int db_setup(struct db *db)
{
	char ms[16];
	const char *params[1] = { ms };
	PGresult *res;

	snprintf(ms, sizeof(ms), "%d", db->timeout_ms);
	res = db_check(db, PQexecParams(db->conn,
		"SELECT set_config('statement_timeout', $1, false),"
		" set_config('TimeZone', 'UTC', false), set_config('DateStyle', 'ISO', false)",
		1, NULL, params, NULL, NULL, 0), "session settings");
	if (res == NULL)
		return -1;
	PQclear(res);
	for (const struct db_stmt *const *set = db->sets; set && *set; set++) {
		for (const struct db_stmt *st = *set; st->name; st++) {
			res = PQprepare(db->conn, st->name, st->sql, 0, NULL);
			if (PQresultStatus(res) != PGRES_COMMAND_OK) {
				db_log_failure(st->name, res, db->conn);
				PQclear(res);
				return -1;
			}
			PQclear(res);
		}
	}
	if (db->on_connect) {
		res = db_check(db, PQexec(db->conn, db->on_connect), db->on_connect);
		if (res == NULL)
			return -1;
		PQclear(res);
	}
	return 0;
}

int db_ensure(struct db *db)
{
	static const char *const keys[] = {
		"dbname", "connect_timeout", "application_name", NULL
	};
	const char *vals[] = { db->conninfo, "3", db->app_name, NULL };
	time_t now = time(NULL);

	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	if (db->conn)
		db_drop(db);
	if (now == db->last_attempt)
		return -1;
	db->last_attempt = now;
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_msg("database connection failed: %s", PQerrorMessage(db->conn));
		db_drop(db);
		return -1;
	}
	if (db_setup(db) < 0) {
		db_drop(db);
		return -1;
	}
	db->last_attempt = 0;
	db->connects++;
	return 0;
}

unsigned long db_connects(struct db *db)
{
	return db->connects;
}

void db_begin_request(struct db *db, int may_retry)
{
	db->first = 1;
	db->may_retry = may_retry;
	db_ensure(db);
}

/* A connection the server closed while it sat idle (a database restart, a
 * pooler's timeout) is found dead only by the next statement. If that is
 * the first statement of a request that changes nothing, it may run again
 * on a new connection instead of failing the page: returns 1 when `res`
 * failed that way and the new connection is up (res is then cleared).
 * Returns 0 otherwise, leaving `res` to db_check(). */
static int db_stale(struct db *db, PGresult *res)
{
	int first = db->first;

	db->first = 0;
	if (!first || !db->may_retry || PQstatus(db->conn) != CONNECTION_BAD ||
	    PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK)
		return 0;
	log_msg("database connection lost; reconnecting");
	if (db_ensure(db) < 0)
		return 0;
	PQclear(res);
	return 1;
}

/* Runs the prepared statement `name`, or with `sql` that text unprepared;
 * once more on a new connection if db_stale() says so (at most once: it
 * clears db->first). */
static PGresult *db_run(struct db *db, const char *name, const char *sql, int n,
			const char *const *params, const int *lengths,
			const int *formats, int result_format)
{
	PGresult *res;

	if (db->conn == NULL) {
		db->sqlstate[0] = '\0';
		return NULL;
	}
	do
		res = sql ? PQexecParams(db->conn, sql, n, NULL, params, lengths, formats, result_format)
			  : PQexecPrepared(db->conn, name, n, params, lengths, formats, result_format);
	while (db_stale(db, res));
	return db_check(db, res, name);
}

PGresult *db_exec_binary(struct db *db, const char *name, int n,
			 const char *const *params, const int *lengths,
			 const int *formats, int result_format)
{
	return db_run(db, name, NULL, n, params, lengths, formats, result_format);
}

PGresult *db_exec_once(struct db *db, const char *name, const char *sql, int n,
		       const char *const *params)
{
	return db_run(db, name, sql, n, params, NULL, NULL, 0);
}

PGresult *db_exec(struct db *db, const char *name, int n,
		  const char *const *params)
{
	return db_exec_binary(db, name, n, params, NULL, NULL, 0);
}

int db_command(struct db *db, const char *sql)
{
	PGresult *res;

	if (db->conn == NULL)
		return -1;
	do
		res = PQexec(db->conn, sql);
	while (db_stale(db, res));
	res = db_check(db, res, sql);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

const char *db_last_sqlstate(const struct db *db)
{
	return db->sqlstate;
}

int db_failure_status(const struct db *db)
{
	return db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK ? 503 : 500;
}

void db_end_request(struct db *db)
{
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK &&
	    PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		db_command(db, "ROLLBACK");
}

PGconn *db_conn(struct db *db)
{
	return db->conn;
}

int db_conn_run(PGconn *c, const char *sql, int n, const char *const *p)
{
	PGresult *res = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	int rows = st == PGRES_TUPLES_OK ? PQntuples(res) : atoi(PQcmdTuples(res));

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		db_log_failure(sql, res, c);
		rows = -1;
	}
	PQclear(res);
	return rows;
}

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	db_drop(db);
	free(db);
}
