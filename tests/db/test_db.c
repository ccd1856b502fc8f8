/* test_db.c - the database layer: a failed statement is logged without the
 * values it carried (a constraint violation's DETAIL holds the row, a bad
 * value's message quotes it). */
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

int main(void)
{
	if (dbtest_start() < 0)
		return 1;
	test_failure_log();
	dbtest_end();
	return tap_done();
}
