-- 0016_two_step.sql - two-step sign-in (issue 12): time-based codes for
-- staff, optional for patients (src/totp.c).

-- A person's authenticator. The secret is sealed with the server key
-- (CAREBOX_SECRET_KEY, never in the database) and bound to its user.
-- confirmed_at is NULL while enrolment waits for the first code; last_step
-- is the time step of the last code taken, and a code is taken only for a
-- later step (one UPDATE), so no code works twice.
CREATE TABLE two_step (
	user_id uuid PRIMARY KEY REFERENCES users ON DELETE CASCADE,
	secret_sealed text NOT NULL,
	confirmed_at timestamptz,
	last_step bigint NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now()
);

-- Ten one-time recovery codes per enrolment, shown once, stored hashed.
CREATE TABLE recovery_codes (
	user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
	code_hash bytea NOT NULL,
	used_at timestamptz,
	PRIMARY KEY (user_id, code_hash)
);

-- Between the password and the code: the pending sign-in, for 5 minutes,
-- known to the browser by a token whose hash only is stored.
CREATE TABLE login_steps (
	token_hash bytea PRIMARY KEY,
	user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
	next text NOT NULL DEFAULT '',
	expires_at timestamptz NOT NULL DEFAULT now() + interval '5 minutes'
);
CREATE INDEX login_steps_expires ON login_steps (expires_at);

-- A session of staff who must use two-step sign-in and have not enrolled
-- yet: it opens only the enrolment page (and logout) until they have.
ALTER TABLE sessions ADD COLUMN enrol_only boolean NOT NULL DEFAULT false;

-- Whether the clinic's doctors and admins must use two-step sign-in: on
-- for clinics made from now on; the clinics there are keep their way until
-- an admin turns it on.
ALTER TABLE clinics ADD COLUMN staff_two_step boolean NOT NULL DEFAULT false;
ALTER TABLE clinics ALTER COLUMN staff_two_step SET DEFAULT true;

-- What the app does to them (0015_app_role.sql's convention): enrols,
-- confirms, takes a step, resets; uses and replaces recovery codes; opens
-- and ends the pending step.
GRANT SELECT, INSERT, UPDATE, DELETE ON two_step, recovery_codes TO carebox_app;
GRANT SELECT, INSERT, DELETE ON login_steps TO carebox_app;
