-- jobs_test.sql - what the test kinds of job (src/job_test.c) write: one row
-- per idempotency key, however often a job ran (runs). Only the test stack
-- (tests/stack) and bench/jobs.sh create it, as the owner, after the
-- migrations: a production database never has it, and there the test kinds
-- are off (CAREBOX_TEST_JOBS).
CREATE TABLE IF NOT EXISTS job_test_effects (
	key text PRIMARY KEY,
	job_id uuid NOT NULL,
	runs integer NOT NULL DEFAULT 1,
	at timestamptz NOT NULL DEFAULT clock_timestamp()
);
GRANT SELECT, INSERT, UPDATE ON job_test_effects TO carebox_app;
