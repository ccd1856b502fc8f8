-- 0015_app_role.sql - least privilege: the web workers (and the future
-- background worker) connect as carebox_app, which owns nothing and may do
-- only what the app does to each table; the owner (the role that runs
-- carebox-admin migrate) alone changes the schema. A superuser creates
-- both roles once, before this runs: carebox-admin create-roles (README,
-- "Deploying behind nginx").
--
-- The convention for every later migration: a new table gets its GRANT to
-- carebox_app in the migration that creates it, naming only what the app
-- does to it (tests/db/test_db.c fails on a table without one). Sequences
-- (bigserial) follow by themselves: the default privileges below give the
-- app USAGE on every sequence the owner creates. Functions need nothing:
-- PUBLIC may execute them, and each runs with its caller's rights (none is
-- SECURITY DEFINER), so EXECUTE gives the app no access its table grants
-- do not.

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'carebox_app') THEN
		RAISE EXCEPTION 'role carebox_app does not exist; a superuser creates it with carebox-admin create-roles (README, Deploying behind nginx)'
			USING ERRCODE = 'undefined_object';
	END IF;
END;
$$;

-- No tables of its own, not even temporary ones. (PostgreSQL 15 no longer
-- lets PUBLIC create in schema public, but a database upgraded from an
-- older release still does. Only the owner of the database and of its
-- schema public may revoke these, so it must own both (createdb -O
-- carebox); for anyone else each REVOKE is only a warning, and
-- tests/db/test_db.c fails.)
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
DO $$
BEGIN
	EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END;
$$;

-- Per table, what the app does (src/page_*.c, msg.c, sess.c, audit.c and
-- the triggers it fires, which run with its rights). DELETE on the short-
-- lived tables is also carebox-admin prune's, which runs as the app.
-- Reading only: what staff and the directory show.
GRANT SELECT ON clinic_hours TO carebox_app;
-- Clinics are created by carebox-admin; the app edits their profiles.
GRANT SELECT, UPDATE ON clinics TO carebox_app;
-- Accounts and what hangs on them are deactivated or ended, never deleted.
-- (A new user's inbox, outbox and self come from triggers.)
GRANT SELECT, INSERT, UPDATE ON users, memberships, inboxes, messages, join_requests,
	care_recipients TO carebox_app;
GRANT SELECT, INSERT ON outboxes, attachments TO carebox_app;
-- What logout, a successful login and prune delete; the throttling's
-- counts per address are raised and given back (src/throttle.c).
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions, one_time_links, address_counts TO carebox_app;
GRANT SELECT, INSERT, DELETE ON login_failures, form_tokens TO carebox_app;
-- The audit log is written and read, never changed: not even a stolen app
-- connection can rewrite what happened.
GRANT SELECT, INSERT ON audit_log TO carebox_app;

GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO carebox_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO carebox_app;
