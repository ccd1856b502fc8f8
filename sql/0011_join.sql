-- 0011_join.sql - joining a clinic takes both sides: a join link (or its
-- short code) that staff hand to a patient, which whoever accepts it uses
-- for their own account; and a request to join that staff accept.

-- A join link belongs to no account until it is used: user_id is then the
-- account that accepted it. code_hash is the SHA-256 of the short code
-- (upper case, without the dash) typed at /join; role is what the
-- membership becomes; for_name and for_email are what staff typed, for the
-- handout and the clinic's records (never used to find an account).
ALTER TABLE one_time_links DROP CONSTRAINT one_time_links_kind_check;
ALTER TABLE one_time_links
	ALTER COLUMN user_id DROP NOT NULL,
	ADD COLUMN code_hash bytea UNIQUE,
	ADD COLUMN role user_role,
	ADD COLUMN for_name text CHECK (length(for_name) <= 201),
	ADD COLUMN for_email text CHECK (length(for_email) <= 254),
	ADD CONSTRAINT one_time_links_kind_check CHECK (kind IN ('invite', 'reset', 'join')),
	ADD CONSTRAINT one_time_links_join CHECK (kind = 'join' OR user_id IS NOT NULL),
	ADD CONSTRAINT one_time_links_join_parts CHECK (kind <> 'join' OR
		(clinic_id IS NOT NULL AND code_hash IS NOT NULL AND role IS NOT NULL
		 AND (used_at IS NULL) = (user_id IS NULL)));

-- Join links and codes that did not open anything, per client address: the
-- /join pages refuse an address with too many in 15 minutes.
CREATE TABLE join_failures (
	id bigserial PRIMARY KEY,
	address text NOT NULL,
	at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX join_failures_address ON join_failures (address, at);
CREATE INDEX join_failures_at ON join_failures (at);

-- A patient who signed up on their own asks a clinic to take them on; the
-- clinic's staff compare the name and date of birth with their records.
CREATE TABLE join_requests (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	clinic_id uuid NOT NULL REFERENCES clinics,
	user_id uuid NOT NULL REFERENCES users,
	date_of_birth date NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	decided_at timestamptz,
	decided_by uuid REFERENCES users,
	accepted boolean,
	CHECK ((decided_at IS NULL) = (accepted IS NULL)),
	CHECK ((decided_at IS NULL) = (decided_by IS NULL))
);
CREATE UNIQUE INDEX join_requests_open ON join_requests (clinic_id, user_id) WHERE decided_at IS NULL;
CREATE INDEX join_requests_pending ON join_requests (clinic_id, created_at) WHERE decided_at IS NULL;
CREATE INDEX join_requests_user ON join_requests (user_id, created_at);
