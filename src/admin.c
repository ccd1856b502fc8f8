/* admin.c - carebox-admin: database migrations and other operator commands. */
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth.h"
#include "form.h"
#include "buf.h"
#include "db.h"
#include "dirlist.h"
#include "log.h"
#include "prune.h"

static void usage(void)
{
	fputs("usage: carebox-admin [-d DATADIR] COMMAND\n"
	      "commands:\n"
	      "  migrate     apply the pending migrations of DATADIR/sql, each in a transaction\n"
	      "  create-user --role patient|doctor|admin --email EMAIL --clinic NAME\n"
	      "              [--first NAME] [--last NAME]\n"
	      "              create a user of the clinic (created if new); the password is\n"
	      "              asked on the terminal or read as one line from standard input\n"
	      "  seed-demo   load the demo clinics, their staff, patients and history (once)\n"
	      "  prune [--batch N]\n"
	      "              delete expired sessions, old form tokens, login failures,\n"
	      "              one-time links and finished jobs, N rows per statement\n"
	      "              (default 1000); safe to run while carebox serves; carebox-worker\n"
	      "              runs the same every hour; the audit log stays\n"
	      "  create-roles\n"
	      "              create the roles carebox (owner) and carebox_app (the app's)\n"
	      "              if missing; what their statements carry stays out of\n"
	      "              PostgreSQL's log; run once as a superuser, before migrate\n"
	      "environment (libpq conninfo; default: PG* variables):\n"
	      "  CAREBOX_ADMIN_DATABASE_URL  the owner: migrate, seed-demo, create-user\n"
	      "                              (default: CAREBOX_DATABASE_URL)\n"
	      "  CAREBOX_DATABASE_URL        the app's role: prune\n"
	      "  create-roles uses the PG* variables only\n"
	      "  CAREBOX_DATADIR (default " CAREBOX_DATADIR ")\n", stderr);
}

/* Applies one migration file if it is not recorded yet, in a transaction.
 * Returns 1 if applied, 0 if already there, -1 on error (rolled back). */
static int apply_one(PGconn *c, const char *dir, const char *name)
{
	const char *p[1] = { name };
	struct buf path = BUF_INIT, sql = BUF_INIT;
	PGresult *res;
	int rc = -1, seen;

	if (db_conn_run(c, "BEGIN", 0, NULL) < 0)
		return -1;
	seen = db_conn_run(c, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, p);
	if (seen != 0) {
		db_conn_run(c, "ROLLBACK", 0, NULL);
		return seen > 0 ? 0 : -1;
	}
	buf_printf(&path, "%s/%s", dir, name);
	if (buf_read_file(&sql, path.data, NULL) < 0 || sql.len == 0) {
		fprintf(stderr, "carebox-admin: cannot read %s\n", path.data);
		goto out;
	}
	/* A migration is a fixed file of the release, run as it is. */
	res = PQexec(c, sql.data);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_log_failure(name, res, c);
		PQclear(res);
		goto out;
	}
	PQclear(res);
	if (db_conn_run(c, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, p) < 0 ||
	    db_conn_run(c, "COMMIT", 0, NULL) < 0)
		goto out;
	printf("applied %s\n", name);
	rc = 1;
out:
	if (rc < 0)
		db_conn_run(c, "ROLLBACK", 0, NULL);
	buf_free(&path);
	buf_free(&sql);
	return rc;
}

static int migrate(PGconn *c, const char *datadir)
{
	struct buf dir = BUF_INIT;
	size_t n = 0, applied = 0;
	char **names;
	int rc = 0;

	buf_printf(&dir, "%s/sql", datadir);
	names = dir_list(dir.data, ".sql");
	if (names == NULL)
		fprintf(stderr, "carebox-admin: %s: %s\n", dir.data, strerror(errno));
	while (names && names[n])
		n++;
	if (names == NULL ||
	    db_conn_run(c, "SET client_min_messages = warning", 0, NULL) < 0 ||
	    db_conn_run(c, "SELECT pg_advisory_lock(72173)", 0, NULL) < 0 ||
	    db_conn_run(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
		   " version text PRIMARY KEY,"
		   " applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL) < 0)
		rc = 1;
	for (size_t i = 0; i < n; i++) {
		int r = rc ? 0 : apply_one(c, dir.data, names[i]);

		if (r < 0)
			rc = 1;
		applied += r > 0;
	}
	dir_list_free(names);
	if (rc == 0)
		printf("migrations: %zu applied, %zu already there\n", applied, n - applied);
	buf_free(&dir);
	return rc;
}

/* The two roles of a deployment: the owner "carebox", which runs the
 * migrations (and owns the database: createdb -O carebox), and
 * "carebox_app", which the web workers and prune use, with only the rights
 * sql/0015_app_role.sql grants. Creates each if it is missing, and sets
 * both so that PostgreSQL's log never holds what their statements carried:
 * their errors are not logged there at all (log_min_messages above error;
 * carebox and carebox-admin log each failure themselves, without values),
 * and what is, at terse verbosity, without the DETAIL lines that quote
 * rows. Both settings need a superuser, as creating roles does. Safe to
 * run again. Returns 0, or 1 after logging the failure. */
static int create_roles(PGconn *c)
{
	static const char *const sql[] = {
		"DO $$ BEGIN"
		" IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'carebox') THEN"
		"  CREATE ROLE carebox LOGIN; END IF;"
		" IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'carebox_app') THEN"
		"  CREATE ROLE carebox_app LOGIN; END IF;"
		" END $$",
		"ALTER ROLE carebox SET log_min_messages = log",
		"ALTER ROLE carebox SET log_error_verbosity = terse",
		"ALTER ROLE carebox_app SET log_min_messages = log",
		"ALTER ROLE carebox_app SET log_error_verbosity = terse",
	};

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
		if (db_conn_run(c, sql[i], 0, NULL) < 0)
			return 1;
	printf("roles carebox (owner) and carebox_app (the app's) are ready\n");
	return 0;
}

/* Reads one line into `out` (at most `n`-1 bytes), without the newline;
 * with echo off when standard input is a terminal. Returns 0 or -1. */
static int read_secret(const char *prompt, char *out, size_t n)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), rc = 0;

	if (tty) {
		fputs(prompt, stderr);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (fgets(out, (int)n, stdin) == NULL)
		rc = -1;
	else
		out[strcspn(out, "\r\n")] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return rc;
}

/* The value after option `name` in argv, or `dflt`. */
static const char *option(int argc, char **argv, const char *name, const char *dflt)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return dflt;
}

static int create_user(PGconn *c, int argc, char **argv)
{
	const char *role = option(argc, argv, "--role", NULL);
	const char *email = option(argc, argv, "--email", NULL);
	const char *clinic = option(argc, argv, "--clinic", NULL);
	const char *first = option(argc, argv, "--first", role);
	const char *last = option(argc, argv, "--last", "");
	char pw[1024], again[1024], hash[HASH_MAX];
	const char *problem;

	if (role == NULL || email == NULL || clinic == NULL ||
	    (strcmp(role, "patient") && strcmp(role, "doctor") && strcmp(role, "admin"))) {
		usage();
		return 2;
	}
	if ((problem = form_email_problem(email))) {
		fprintf(stderr, "carebox-admin: %s\n", problem);
		return 1;
	}
	if (read_secret("Password: ", pw, sizeof(pw)) < 0 ||
	    (isatty(STDIN_FILENO) && read_secret("Again: ", again, sizeof(again)) < 0)) {
		fputs("carebox-admin: no password given\n", stderr);
		return 1;
	}
	if (isatty(STDIN_FILENO) && strcmp(pw, again) != 0) {
		fputs("carebox-admin: the two passwords differ\n", stderr);
		return 1;
	}
	if ((problem = auth_password_problem(pw, email, first, last))) {
		fprintf(stderr, "carebox-admin: %s\n", problem);
		return 1;
	}
	if (auth_hash(pw, hash) < 0)
		return 1;
	sodium_memzero(pw, sizeof(pw));
	{
		const char *p[6] = { email, first, last, role, hash, clinic };

		if (db_conn_run(c, "WITH c AS (INSERT INTO clinics (name) VALUES ($6)"
			   " ON CONFLICT ((lower(name))) DO UPDATE SET name = clinics.name RETURNING id),"
			   " u AS (INSERT INTO users (email, first_name, last_name, password_hash)"
			   " VALUES ($1, $2, $3, $5) RETURNING id)"
			   " INSERT INTO memberships (clinic_id, user_id, role)"
			   " SELECT c.id, u.id, $4::user_role FROM c, u", 6, p) < 0)
			return 1;
	}
	printf("created %s %s in %s\n", role, email, clinic);
	return 0;
}

/* The demo's people: e-mail, first and last name, role, clinic. */
static const char *const demo_people[][5] = {
	{ "admin@demo.test", "Ada", "Adams", "admin", "Demo Clinic" },
	{ "doctor@demo.test", "Dana", "Okafor", "doctor", "Demo Clinic" },
	{ "doctor2@demo.test", "Omar", "Lindqvist", "doctor", "Demo Clinic" },
	{ "patient@demo.test", "Pat", "Jones", "patient", "Demo Clinic" },
	{ "patient2@demo.test", "Rosa", "Martinez", "patient", "Demo Clinic" },
	{ "patient3@demo.test", "Li", "Wei", "patient", "Demo Clinic" },
	{ "vet@demo.test", "Hana", "Novak", "doctor", "Demo Vets" },
};

/* Creates the demo people of `clinic` (which exists), members for 30
 * days, with the password "carebox-demo". Returns 0 or -1. */
static int demo_people_of(PGconn *c, const char *clinic)
{
	for (size_t i = 0; i < sizeof(demo_people) / sizeof(demo_people[0]); i++) {
		char hash[HASH_MAX];
		const char *p[6] = { demo_people[i][0], demo_people[i][1], demo_people[i][2],
				     demo_people[i][3], hash, clinic };

		if (strcmp(demo_people[i][4], clinic) != 0)
			continue;
		if (auth_hash("carebox-demo", hash) < 0 ||
		    /* Their addresses count as confirmed: the demo's mails (to
		     * its mail folder, /demo/mail) reach them. */
		    db_conn_run(c, "WITH u AS (INSERT INTO users (email, first_name, last_name,"
			   " password_hash, created_at, mail_to) VALUES ($1, $2, $3, $5,"
			   " now() - interval '30 days', $1) RETURNING id)"
			   " INSERT INTO memberships (clinic_id, user_id, role, created_at)"
			   " SELECT c.id, u.id, $4::user_role, now() - interval '30 days' FROM clinics c, u"
			   " WHERE c.name = $6", 6, p) < 0)
			return -1;
	}
	return 0;
}

/* The demo's conversations: a patient's question with the doctor's reply
 * (both read), an unread question for the doctor, a message from carebox.
 * (Their conversations and unread counts follow by triggers.) Returns 0
 * or -1. */
static int demo_messages(PGconn *c)
{
	return db_conn_run(c, "WITH p AS (SELECT u.email, i.id AS inbox, o.id AS outbox FROM users u"
		   " JOIN inboxes i ON i.user_id = u.id JOIN outboxes o ON o.user_id = u.id"
		   " WHERE u.email LIKE '%@demo.test'),"
		   " root AS (INSERT INTO messages (inbox_id, outbox_id, subject, body, read, read_at,"
		   " status, created_at) SELECT d.inbox, pt.outbox, 'Repeat prescription for my inhaler',"
		   " E'Hello Dr Okafor,\n\nmy inhaler is nearly empty. Could I have a repeat"
		   " prescription?\n\nThanks, Pat', true, now() - interval '2 days 3 hours', 'read',"
		   " now() - interval '2 days 4 hours' FROM p d, p pt"
		   " WHERE d.email = 'doctor@demo.test' AND pt.email = 'patient@demo.test' RETURNING id),"
		   " reply AS (INSERT INTO messages (inbox_id, outbox_id, parent_id, body, routing, read,"
		   " read_at, status, created_at) SELECT pt.inbox, d.outbox, root.id, E'Hello Pat,\n\n"
		   "of course. I have renewed it; you can collect it at the front desk from tomorrow."
		   "\n\nDana Okafor', 'reply', true, now() - interval '1 day', 'read',"
		   " now() - interval '2 days' FROM p d, p pt, root"
		   " WHERE d.email = 'doctor@demo.test' AND pt.email = 'patient@demo.test'),"
		   " question AS (INSERT INTO messages (inbox_id, outbox_id, subject, body, created_at)"
		   " SELECT d.inbox, pt.outbox, 'Blood test results', E'Good morning,\n\nare the"
		   " results of last week''s blood test in yet?\n\nRosa Martinez',"
		   " now() - interval '3 hours' FROM p d, p pt"
		   " WHERE d.email = 'doctor@demo.test' AND pt.email = 'patient2@demo.test')"
		   " INSERT INTO messages (inbox_id, subject, body, routing, created_at)"
		   " SELECT p.inbox, 'Welcome to carebox', E'Your clinic now answers messages here."
		   " Write to your doctor from Write; messages are not for emergencies.', 'auto',"
		   " now() - interval '30 days' FROM p WHERE p.email LIKE 'patient%'", 0, NULL) < 0
		   ? -1 : 0;
}

/* Loads the Demo Clinic (staff, patients, hours, history, messages).
 * Returns 0 or -1. */
static int demo_clinic(PGconn *c)
{
	const char *clinic[1] = { "Demo Clinic" };

	/* Its staff sign in with the password alone, so that the demo stays
	 * two clicks; Demo Vets, like every new clinic, asks for two steps. */
	if (db_conn_run(c, "INSERT INTO clinics (name, staff_two_step) VALUES ($1, false)", 1, clinic) < 0 ||
	    db_conn_run(c, "INSERT INTO clinic_hours (clinic_id, weekday, opens, closes)"
		   " SELECT c.id, d, time '08:00', time '17:00' FROM clinics c, generate_series(1, 5) d"
		   " WHERE c.name = $1 UNION ALL"
		   " SELECT c.id, 6, time '09:00', time '12:00' FROM clinics c WHERE c.name = $1", 1, clinic) < 0 ||
	    demo_people_of(c, clinic[0]) < 0)
		return -1;
	/* Some history, oldest first: how the staff and patients came in (the
	 * clinic's entries) and logins (the person's own: no clinic). */
	if (db_conn_run(c, "INSERT INTO audit_log (at, clinic_id, actor_id, subject_id, action, detail, address)"
		   " SELECT now() - h.ago, CASE WHEN h.action <> 'login' THEN c.id END, a.id, s.id,"
		   " h.action, h.detail, '127.0.0.1'"
		   " FROM clinics c, (VALUES"
		   "  (interval '29 days', 'admin@demo.test', 'doctor@demo.test', 'invitation created', 'doctor'),"
		   "  (interval '29 days' - interval '2 hours', 'doctor@demo.test', 'doctor@demo.test', 'invitation accepted', ''),"
		   "  (interval '28 days', 'admin@demo.test', 'doctor2@demo.test', 'invitation created', 'doctor'),"
		   "  (interval '27 days', 'doctor@demo.test', 'patient3@demo.test', 'patient registered', ''),"
		   "  (interval '3 days', NULL, 'patient@demo.test', 'login', ''),"
		   "  (interval '2 days', NULL, 'doctor@demo.test', 'login', '')"
		   " ) AS h(ago, actor, subject, action, detail)"
		   " LEFT JOIN users a ON a.email = h.actor JOIN users s ON s.email = h.subject"
		   " WHERE c.name = $1 ORDER BY h.ago DESC", 1, clinic) < 0)
		return -1;
	return demo_messages(c);
}

/* Gives the Demo Clinic its profile if it has none yet (a demo loaded
 * before clinics had profiles gets it too). Returns the number of clinics
 * changed (0 or 1), or -1. */
static int demo_clinic_profile(PGconn *c)
{
	return db_conn_run(c, "UPDATE clinics SET kind = 'medical', address_line1 = '12 Harley Street',"
		   " postcode = 'W1G 9PG', city = 'London', country = 'United Kingdom',"
		   " phone = '+44 20 7946 0000', public_email = 'reception@democlinic.example',"
		   " time_zone = 'Europe/London', prescription_fee = 9.50, currency = 'GBP',"
		   " description = E'A family practice in central London: GP appointments,"
		   " repeat prescriptions and vaccinations. Write to us on carebox; in an"
		   " emergency call 999.'"
		   " WHERE name = 'Demo Clinic' AND address_line1 = ''", 0, NULL);
}

/* Loads Demo Vets, a veterinary practice in New York with one doctor,
 * vet@demo.test. Returns 0 or -1. */
static int demo_vets(PGconn *c)
{
	const char *clinic[1] = { "Demo Vets" };

	if (db_conn_run(c, "INSERT INTO clinics (name, kind, address_line1, address_line2, postcode,"
		   " city, country, phone, public_email, time_zone, prescription_fee, currency,"
		   " description) VALUES ($1, 'veterinary', '350 West 42nd Street', 'Suite 5',"
		   " 'NY 10036', 'New York', 'United States', '+1 212 555 0142',"
		   " 'hello@demovets.example', 'America/New_York', 25.00, 'USD',"
		   " 'Care for cats, dogs and small pets in Midtown Manhattan: check-ups,"
		   " vaccinations and repeat prescriptions.')", 1, clinic) < 0 ||
	    db_conn_run(c, "INSERT INTO clinic_hours (clinic_id, weekday, opens, closes)"
		   " SELECT c.id, d, time '08:00', time '18:00' FROM clinics c, generate_series(1, 5) d"
		   " WHERE c.name = $1", 1, clinic) < 0)
		return -1;
	return demo_people_of(c, clinic[0]);
}

/* Whom the demo patient (patient@demo.test) seeks care for: their son at
 * the Demo Clinic, and Biscuit, their dog, at Demo Vets, where they are a
 * patient too. Adds each piece that is missing (a demo loaded before
 * people and pets gets them). Returns the number of rows added, or -1. */
static int demo_family(PGconn *c)
{
	int son, member, dog;

	son = db_conn_run(c, "INSERT INTO care_recipients (owner_id, kind, first_name, last_name,"
		  " date_of_birth, relationship, notes) SELECT u.id, 'person', 'Sam', 'Jones',"
		  " date '2016-04-09', 'son', E'Allergic to penicillin.\nMild asthma: salbutamol"
		  " inhaler when needed.' FROM users u WHERE u.email = 'patient@demo.test'"
		  " AND NOT EXISTS (SELECT 1 FROM care_recipients r WHERE r.owner_id = u.id"
		  " AND r.kind = 'person')", 0, NULL);
	member = db_conn_run(c, "INSERT INTO memberships (clinic_id, user_id, role, created_at)"
		     " SELECT c.id, u.id, 'patient', now() - interval '20 days' FROM clinics c, users u"
		     " WHERE c.name = 'Demo Vets' AND u.email = 'patient@demo.test'"
		     " ON CONFLICT (clinic_id, user_id) DO NOTHING", 0, NULL);
	dog = db_conn_run(c, "INSERT INTO care_recipients (owner_id, kind, first_name, date_of_birth,"
		  " species, breed, sex, neutered, weight_kg, microchip, notes)"
		  " SELECT u.id, 'pet', 'Biscuit', date '2019-06-02', 'dog', 'beagle', 'male', true,"
		  " 12.4, '985112004512398', 'Sensitive stomach: chicken-free food only.'"
		  " FROM users u WHERE u.email = 'patient@demo.test'"
		  " AND NOT EXISTS (SELECT 1 FROM care_recipients r WHERE r.owner_id = u.id"
		  " AND r.kind = 'pet')", 0, NULL);
	return son < 0 || member < 0 || dog < 0 ? -1 : son + member + dog;
}

/* Loads each part of the demo that is not there yet, all in one
 * transaction: the Demo Clinic, its profile, Demo Vets, the demo
 * patient's family and pet. Every demo login has the password
 * "carebox-demo". */
static int seed_demo(PGconn *c)
{
	const char *names[2] = { "Demo Clinic", "Demo Vets" }, *loaded[3];
	int has_clinic, has_vets, profile = 0, family = 0, n = 0;

	if (db_conn_run(c, "BEGIN", 0, NULL) < 0)
		return 1;
	has_clinic = db_conn_run(c, "SELECT 1 FROM clinics WHERE name = $1", 1, &names[0]);
	has_vets = db_conn_run(c, "SELECT 1 FROM clinics WHERE name = $1", 1, &names[1]);
	if (has_clinic < 0 || has_vets < 0 ||
	    (!has_clinic && demo_clinic(c) < 0) ||
	    (profile = demo_clinic_profile(c)) < 0 ||
	    (!has_vets && demo_vets(c) < 0) ||
	    (family = demo_family(c)) < 0 ||
	    db_conn_run(c, "COMMIT", 0, NULL) < 0) {
		db_conn_run(c, "ROLLBACK", 0, NULL);
		return 1;
	}
	if (!has_clinic)
		loaded[n++] = "Demo Clinic with 2 doctors, 1 admin, 3 patients, messages";
	else if (profile)
		loaded[n++] = "the Demo Clinic's profile";
	if (!has_vets)
		loaded[n++] = "Demo Vets with 1 doctor";
	if (family)
		loaded[n++] = "the demo patient's son and dog";
	if (n == 0)
		printf("demo data already there\n");
	for (int i = 0; i < n; i++)
		printf("%s%s%s", i ? "; " : "demo data loaded: ", loaded[i], i == n - 1 ? "\n" : "");
	return 0;
}

/* Prints what prune_run() removed from `table`, or where it stopped. */
static void prune_print(void *arg, const char *table, long removed, int failed)
{
	(void)arg;
	if (failed) {
		fprintf(stderr, "carebox-admin: prune stopped at %s (%ld rows removed)\n", table,
			removed);
		return;
	}
	printf("%s: %ld removed\n", table, removed);
	fflush(stdout);
}

/* Deletes the dead rows of each table (prune_run) in batches of --batch
 * rows, printing the count per table. Stops at the first database error. */
static int prune(PGconn *c, int argc, char **argv)
{
	const char *arg = option(argc, argv, "--batch", "1000");
	char *end;
	long n = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || n < 1 || n > 1000000) {
		usage();
		return 2;
	}
	return prune_run(c, n, prune_print, NULL) < 0 ? 1 : 0;
}

/* The connection string for `command`: each connects as the role it
 * needs and no more (README, "Deploying behind nginx"). create-roles as a
 * superuser, from libpq's PG* variables; prune as the app
 * (CAREBOX_DATABASE_URL), whose rights it needs, so that a cron job never
 * holds the owner's; the schema and setup work (migrate, seed-demo,
 * create-user, which creates clinics) as the owner,
 * CAREBOX_ADMIN_DATABASE_URL, or CAREBOX_DATABASE_URL when that is unset
 * (a development database with one role). "" means the PG* variables. */
static const char *command_conninfo(const char *command)
{
	const char *app = getenv("CAREBOX_DATABASE_URL");
	const char *owner = getenv("CAREBOX_ADMIN_DATABASE_URL");

	if (strcmp(command, "create-roles") == 0)
		return "";
	if (strcmp(command, "prune") == 0 || owner == NULL || *owner == '\0')
		return app ? app : "";
	return owner;
}

int main(int argc, char **argv)
{
	const char *datadir = getenv("CAREBOX_DATADIR");
	static const char *const keys[] = { "dbname", "application_name", NULL };
	const char *vals[] = { NULL, "carebox-admin", NULL };
	PGconn *c;
	int i = 1, rc;

	log_init("carebox-admin");
	if (auth_init() < 0)
		return 1;
	if (argc > 2 && strcmp(argv[1], "-d") == 0) {
		datadir = argv[2];
		i = 3;
	}
	if (datadir == NULL || *datadir == '\0')
		datadir = CAREBOX_DATADIR;
	if (i >= argc || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
		usage();
		return i >= argc ? 2 : 0;
	}
	vals[0] = command_conninfo(argv[i]);
	c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "carebox-admin: %s", PQerrorMessage(c));
		PQfinish(c);
		return 1;
	}
	if (strcmp(argv[i], "migrate") == 0) {
		rc = migrate(c, datadir);
	} else if (strcmp(argv[i], "seed-demo") == 0) {
		rc = seed_demo(c);
	} else if (strcmp(argv[i], "create-user") == 0) {
		rc = create_user(c, argc - i, argv + i);
	} else if (strcmp(argv[i], "prune") == 0) {
		rc = prune(c, argc - i, argv + i);
	} else if (strcmp(argv[i], "create-roles") == 0) {
		rc = create_roles(c);
	} else {
		usage();
		rc = 2;
	}
	PQfinish(c);
	return rc;
}
