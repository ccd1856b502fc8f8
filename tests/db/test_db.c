/* test_db.c - the database layer: a failed statement is logged without the
 * values it carried (a constraint violation's DETAIL holds the row, a bad
 * value's message quotes it), and the app's role has only the rights the
 * app needs (sql/0015_app_role.sql). */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "dbtest.h"

/* Runs `sql` with `p` (expected to fail) on the app's connection and
 * returns what db.c logged to standard error meanwhile, in the arena. */
static const char *logged(const char *name, const char *sql, int n, const char *const *p)
{
	char path[] = "/tmp/carebox-test-db-XXXXXX", buf[4096];
	int fd = mkstemp(path), saved = dup(2);
	ssize_t got;

	fflush(stderr);
	dup2(fd, 2);
	ok(db_exec_once(DB, name, sql, n, p) == NULL, "%s fails", name);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unlink(path);
	while (got > 0 && buf[got - 1] == '\n')
		got--;
	buf[got > 0 ? got : 0] = '\0';
	return arena_strdup(A, buf);
}

/* Runs `sql` without parameters on the app's connection; returns the first
 * column of the first row (arena copy), "" for none, or NULL on failure. */
static const char *app_q(const char *sql)
{
	PGresult *res = db_exec_once(DB, "app_q", sql, 0, NULL);
	const char *v;

	if (res == NULL)
		return NULL;
	v = arena_strdup(A, PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return v;
}

/* Checks that the app's connection is refused `sql` for want of privilege. */
static void refused(const char *what, const char *sql)
{
	const char *log = logged(what, sql, 0, NULL);

	ok(strcmp(db_last_sqlstate(DB), "42501") == 0, "the app may not %s (%s)", what, log);
}

static void test_failure_log(void)
{
	const char *email[1] = { "private-marker-7q@db.test" };
	const char *note[1] = { "private-marker-8z" };
	const char *phone[1] = { "447700900123" };
	const char *log;

	q("INSERT INTO users (email, first_name, last_name) VALUES ($1, 'A', 'B') RETURNING id", 1, email);
	log = logged("dup", "INSERT INTO users (email, first_name, last_name) VALUES ($1, 'A', 'B')",
		     1, email);
	ok(strstr(log, "23505") && strstr(log, "users_email_key") && strstr(log, "users"),
	   "a unique violation names the SQLSTATE, constraint and table (%s)", log);
	ok(strstr(log, "private-marker") == NULL, "but not the duplicate address");
	log = logged("toolong", "INSERT INTO users (email, first_name, last_name)"
		     " VALUES ('x' || $1, repeat('y', 101), 'B')", 1, note);
	ok(strstr(log, "23514") && strstr(log, "users_first_name_check") &&
	   strstr(log, "new row for relation"),
	   "a check violation names the SQLSTATE, constraint and primary message (%s)", log);
	ok(strstr(log, "private-marker") == NULL, "but not the failing row");
	log = logged("badcast", "SELECT $1::date", 1, note);
	ok(strstr(log, "22007") && strstr(log, "invalid input syntax for type date"),
	   "a bad value names its SQLSTATE and the primary message (%s)", log);
	ok(strstr(log, "private-marker") == NULL, "but not the value it quotes");
	log = logged("baduuid", "SELECT $1::uuid", 1, note);
	ok(strstr(log, "22P02") && strstr(log, "for type uuid") &&
	   strstr(log, "private-marker") == NULL, "nor does a bad id (%s)", log);
	log = logged("range", "SELECT $1::integer", 1, phone);
	ok(strstr(log, "22003") && strstr(log, "447700900123") == NULL,
	   "nor a number out of range, quoted in the middle of the message (%s)", log);
	db_user("admin", "Log Clinic", "Logger");
	log = logged("zone", "UPDATE clinics SET time_zone = $1 WHERE name = 'Log Clinic'", 1, note);
	ok(strstr(log, "23514") && strstr(log, "unknown time zone") &&
	   strstr(log, "private-marker") == NULL,
	   "nor a trigger's own message, which ends with the value (%s)", log);
	log = logged("nosuch", "SELECT * FROM no_such_table_here", 0, NULL);
	ok(strstr(log, "42P01") && strstr(log, "no_such_table_here"),
	   "other errors keep their message (%s)", log);
	ok(strcmp(db_last_sqlstate(DB), "42P01") == 0, "and the SQLSTATE is recorded");
}

/* The app's role (CAREBOX_DATABASE_URL) owns nothing and may do to each
 * table only what the app does; the owner (CAREBOX_ADMIN_DATABASE_URL),
 * which migrated, is no superuser either. */
static void test_app_role(void)
{
	const char *actor[1];
	PGresult *res;

	is_str(app_q("SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"), "false",
	       "the app's role is no superuser");
	is_str(q("SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user", 0, NULL), "false",
	       "nor is the owner's");
	is_str(q("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		 " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v', 'm', 'i')"
		 " AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)", 0, NULL),
	       "0", "the owner owns every table, index and sequence: it ran the migrations");
	is_str(app_q("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		     " WHERE n.nspname = 'public' AND pg_has_role(c.relowner, 'USAGE')"), "0",
	       "the app's role owns nothing, nor is it a member of the owner");

	refused("create a table", "CREATE TABLE app_made (x integer)");
	refused("create a temporary table", "CREATE TEMPORARY TABLE app_made (x integer)");
	refused("create a function", "CREATE FUNCTION app_made() RETURNS integer"
		" LANGUAGE sql AS 'SELECT 1'");
	refused("alter a table", "ALTER TABLE users ADD COLUMN app_made integer");
	refused("create an index", "CREATE INDEX app_made ON users (first_name)");
	refused("drop a table", "DROP TABLE form_tokens");
	refused("truncate a table", "TRUNCATE sessions");
	refused("change the audit log", "UPDATE audit_log SET detail = 'rewritten'");
	refused("delete from the audit log", "DELETE FROM audit_log");
	refused("delete a user", "DELETE FROM users WHERE false");
	refused("add a clinic", "INSERT INTO clinics (name) VALUES ('Not By The App')");

	actor[0] = db_user("patient", "Log Clinic", "Audited");
	res = db_exec_once(DB, "audit", "INSERT INTO audit_log (actor_id, action) VALUES ($1, 'db test')",
			   1, actor);
	ok(res != NULL, "the app writes the audit log");
	PQclear(res);
	is_str(app_q("SELECT count(*) FROM audit_log WHERE action = 'db test'"), "1",
	       "and reads it");

	/* The convention of sql/0015_app_role.sql: a table the app gets
	 * nothing on is one a migration forgot. */
	is_str(app_q("SELECT coalesce(string_agg(c.relname, ' ' ORDER BY c.relname), '')"
		     " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		     " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
		     " AND c.relname <> 'schema_migrations'"
		     " AND NOT has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE, DELETE')"), "",
	       "every table grants the app what it does (a new table's migration grants it)");
	is_str(app_q("SELECT coalesce(string_agg(c.relname, ' ' ORDER BY c.relname), '')"
		     " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		     " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
		     " AND has_table_privilege(c.oid, 'TRUNCATE, REFERENCES, TRIGGER')"), "",
	       "and none lets it truncate, reference or trigger");
	is_str(app_q("SELECT coalesce(string_agg(c.relname, ' ' ORDER BY c.relname), '')"
		     " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		     " WHERE n.nspname = 'public'"
		     " AND CASE WHEN c.relkind = 'S' THEN NOT has_sequence_privilege(c.oid, 'USAGE') END"),
	       "",
	       "it may use every sequence");
}

/* Both roles keep what their statements carry out of PostgreSQL's log
 * (carebox-admin create-roles): their errors are not logged there, and
 * what is has no DETAIL. */
static void test_role_logging(void)
{
	const char *both = "SELECT current_setting('log_min_messages') || ' '"
			   " || current_setting('log_error_verbosity')";

	is_str(app_q(both), "log terse", "the app's errors stay out of PostgreSQL's log");
	is_str(q(both, 0, NULL), "log terse", "and so do the owner's");
}

int main(void)
{
	if (dbtest_start() < 0)
		return 1;
	test_failure_log();
	test_app_role();
	test_role_logging();
	dbtest_end();
	return tap_done();
}
