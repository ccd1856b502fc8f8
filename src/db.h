/* db.h - one PostgreSQL connection per worker, with prepared statements. */
#ifndef CAREBOX_DB_H
#define CAREBOX_DB_H

#include <libpq-fe.h>

/* A statement the app runs, prepared once per connection under `name`.
 * SQL text is always a constant with $1..$n parameters, never assembled. */
struct db_stmt {
	const char *name;
	const char *sql;
};

struct db;

/* A number constant of C (a #define) as text, for the SQL of a statement:
 * " LIMIT " DB_NUM(PAGE_MAX), so the number is written once. */
#define DB_NUM(n) DB_NUM_(n)
#define DB_NUM_(n) #n

/* The first keys of carebox's advisory locks, each a kind of thing locked
 * ("cb" 1, 2, 3, 4, so that no other program's locks meet them); the
 * second key is the hash of the thing: an account being logged in to and a
 * client address (src/throttle.c), an e-mail address being written
 * (page_email_claim in src/page_signup.c); or 0: the schedule of periodic
 * jobs (jobs_schedule in src/jobs.c). */
#define DB_LOCK_ACCOUNT "1667366913"
#define DB_LOCK_ADDRESS "1667366914"
#define DB_LOCK_EMAIL "1667366915"
#define DB_LOCK_JOBS "1667366916"

/* A handle that connects lazily with `conninfo` (a libpq connection string
 * or URI; "" means libpq's PG* environment variables) and, on each new
 * connection, sets statement_timeout to `timeout_ms` and prepares every
 * statement of the NULL-name-terminated arrays in `sets` (NULL-terminated).
 * Nothing is copied: the strings must outlive the handle. Free with
 * db_free(). */
struct db *db_new(const char *conninfo, int timeout_ms,
		  const struct db_stmt *const *sets);

/* Names the handle's connections `application_name` in PostgreSQL
 * (pg_stat_activity; the default is "carebox") and runs the constant
 * command `on_connect` (may be NULL) on each new one after its setup: the
 * worker's LISTEN, which a new connection must repeat. Call before the
 * first db_ensure(); nothing is copied. */
void db_configure(struct db *db, const char *application_name, const char *on_connect);

/* Connects if there is no usable connection (at most once a second while
 * the database is down). Returns 0 when connected, -1 otherwise. */
int db_ensure(struct db *db);

/* Starts a request: connects if need be (db_ensure) and notes whether the
 * request changes nothing (`may_retry`: GET, HEAD). For such a request the
 * first statement, if it finds the connection closed by the server (a
 * restart), runs once more on a new one instead of failing. */
void db_begin_request(struct db *db, int may_retry);

/* Runs the prepared statement `name` with `n` text parameters (NULL is SQL
 * NULL). Returns the result on PGRES_TUPLES_OK or PGRES_COMMAND_OK, which the
 * caller frees with PQclear(); NULL on any failure, which is logged (without
 * parameter values) and, if the connection broke, makes the next
 * db_ensure() reconnect. */
PGresult *db_exec(struct db *db, const char *name, int n,
		  const char *const *params);

/* Runs `sql` (named `name` in the log) unprepared, so it is planned for
 * these very parameter values: for the rare query whose best plan depends
 * on them (search: how common the words are). Every other query is a
 * prepared statement. Same ownership and failure rules as db_exec(). */
PGresult *db_exec_once(struct db *db, const char *name, const char *sql, int n,
		       const char *const *params);

/* db_exec() for binary data: parameter i is `lengths[i]` bytes in format
 * `formats[i]` (0 text, 1 binary, e.g. raw bytes for a bytea), and the
 * result comes back in `result_format` (1: binary for every column; text
 * columns are then their bytes, a bytea its raw bytes, as PQgetvalue()
 * and PQgetlength() give them). NULL lengths/formats mean all text. Same
 * ownership and failure rules as db_exec(). */
PGresult *db_exec_binary(struct db *db, const char *name, int n,
			 const char *const *params, const int *lengths,
			 const int *formats, int result_format);

/* Runs a constant SQL command without parameters (BEGIN, COMMIT, ...).
 * Returns 0 on success, -1 on failure (logged). */
int db_command(struct db *db, const char *sql);

/* The SQLSTATE of the last failure of db_exec/db_command ("" if none), so a
 * handler can tell a unique violation (23505) from an outage. */
const char *db_last_sqlstate(const struct db *db);

/* The HTTP status a failed query deserves: 503 if the connection is gone
 * (the database is down or restarting), 500 otherwise. */
int db_failure_status(const struct db *db);

/* Ends a request: rolls back a transaction the handler left open. */
void db_end_request(struct db *db);

/* Logs (log_msg) that statement `what` failed with `res`, or, when `res`
 * is NULL, with the error of connection `conn`: the SQLSTATE, PostgreSQL's
 * primary message and the constraint, table and column it names, never
 * the DETAIL or a value the statement carried (an e-mail address in "Key
 * (email)=(…)", a message body in "Failing row contains (…)"). Every
 * failed statement of carebox and carebox-admin is logged this way. */
void db_log_failure(const char *what, const PGresult *res, PGconn *conn);

/* The raw connection (NULL when not connected), for carebox-admin. */
PGconn *db_conn(struct db *db);

/* How many connections `db` has made so far: a caller that must act on
 * each new one (carebox-worker) compares this, as the PGconn of a new
 * connection may have the address of the one before. */
unsigned long db_connects(struct db *db);

/* Runs `sql` with `n` text parameters `p` unprepared on the raw
 * connection `c` (carebox-admin's, or db_conn() of a worker's: the rare
 * statement not worth preparing on every connection, as prune's). Returns
 * the number of rows it returned or, for a command without RETURNING, the
 * number of rows it changed; -1 on failure, logged (db_log_failure: never
 * a value or row it quotes). */
int db_conn_run(PGconn *c, const char *sql, int n, const char *const *p);

void db_free(struct db *db);

#endif
