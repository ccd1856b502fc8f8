-- 0002_accounts.sql - clinics, users, memberships, sessions, one-time links,
-- login throttling and the audit log.

CREATE TABLE clinics (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX clinics_name_key ON clinics (lower(name));
CREATE TRIGGER clinics_updated_at BEFORE UPDATE ON clinics
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Opening hours: one row per day and interval (weekday 1 = Monday, ISO).
CREATE TABLE clinic_hours (
	clinic_id uuid NOT NULL REFERENCES clinics ON DELETE CASCADE,
	weekday smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
	opens time NOT NULL,
	closes time NOT NULL CHECK (closes > opens),
	PRIMARY KEY (clinic_id, weekday, opens)
);

CREATE TYPE user_role AS ENUM ('patient', 'doctor', 'admin');

-- Users are deactivated, never deleted. password_hash is NULL until an
-- invited user has set a password.
CREATE TABLE users (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
	first_name text NOT NULL CHECK (length(first_name) <= 100),
	last_name text NOT NULL CHECK (length(last_name) <= 100),
	role user_role NOT NULL,
	password_hash text,
	active boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE TRIGGER users_updated_at BEFORE UPDATE ON users
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Staff (doctors, admins) belong to clinics; patients are registered with
-- them. The user's role says which of the two a row is.
CREATE TABLE memberships (
	clinic_id uuid NOT NULL REFERENCES clinics,
	user_id uuid NOT NULL REFERENCES users,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (clinic_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- Only a hash of the session token is stored: a copy of this table lets
-- nobody log in. flash holds a one-time notice for the next page.
CREATE TABLE sessions (
	token_hash bytea PRIMARY KEY,
	user_id uuid NOT NULL REFERENCES users,
	csrf_token text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL DEFAULT now() + interval '12 hours',
	flash_kind text,
	flash_text text
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Invitation and password-reset links: hashed, one hour, one use.
CREATE TABLE one_time_links (
	token_hash bytea PRIMARY KEY,
	kind text NOT NULL CHECK (kind IN ('invite', 'reset')),
	user_id uuid NOT NULL REFERENCES users,
	clinic_id uuid REFERENCES clinics,
	created_by uuid REFERENCES users,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL DEFAULT now() + interval '1 hour',
	used_at timestamptz
);
CREATE INDEX one_time_links_user ON one_time_links (user_id);

-- Failed logins, for throttling by e-mail and by client address.
CREATE TABLE login_failures (
	id bigserial PRIMARY KEY,
	email text NOT NULL,
	address text NOT NULL,
	at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email ON login_failures (lower(email), at);
CREATE INDEX login_failures_address ON login_failures (address, at);

CREATE TABLE audit_log (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	clinic_id uuid REFERENCES clinics,
	actor_id uuid REFERENCES users,
	subject_id uuid REFERENCES users,
	action text NOT NULL,
	detail text NOT NULL DEFAULT '',
	address text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_clinic ON audit_log (clinic_id, at DESC);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at DESC);
CREATE INDEX audit_log_subject ON audit_log (subject_id, at DESC);
