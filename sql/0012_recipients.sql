-- 0012_recipients.sql - care recipients: whom a patient account seeks care
-- for. Every account has its 'self' (made with the account, its names kept
-- equal to the account's); a patient adds family members ('person') and
-- pets ('pet'). Recipients are archived, never deleted: prescriptions and
-- appointments will refer to them.

-- Optional texts are NULL when not given (never ''), so "given" is one test;
-- names are NOT NULL (a pet's name is first_name, its last_name '').
CREATE TABLE care_recipients (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	owner_id uuid NOT NULL REFERENCES users,
	kind text NOT NULL CHECK (kind IN ('self', 'person', 'pet')),
	first_name text NOT NULL CHECK (length(first_name) <= 100),
	last_name text NOT NULL DEFAULT '' CHECK (length(last_name) <= 100),
	date_of_birth date CHECK (date_of_birth >= date '1900-01-01'),
	relationship text CHECK (length(relationship) BETWEEN 1 AND 100),
	species text CHECK (length(species) BETWEEN 1 AND 100),
	breed text CHECK (length(breed) BETWEEN 1 AND 100),
	sex text CHECK (sex IN ('female', 'male', 'unknown')),
	neutered boolean,
	weight_kg numeric(6,2) CHECK (weight_kg > 0),
	microchip text CHECK (length(microchip) BETWEEN 1 AND 50),
	-- Allergies, conditions: what the clinic should know.
	notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
	archived boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	-- The self has the account's names (which may be empty for an account
	-- made without them); the others are named by the patient.
	CONSTRAINT care_recipients_named CHECK (kind = 'self' OR btrim(first_name) <> ''),
	CONSTRAINT care_recipients_last_name CHECK (CASE kind WHEN 'person' THEN btrim(last_name) <> ''
		WHEN 'pet' THEN last_name = '' ELSE true END),
	CONSTRAINT care_recipients_relationship CHECK (kind = 'person' OR relationship IS NULL),
	-- A pet has a species, a sex and whether it is neutered; only pets have
	-- pet fields.
	CONSTRAINT care_recipients_pet CHECK (CASE WHEN kind = 'pet'
		THEN species IS NOT NULL AND sex IS NOT NULL AND neutered IS NOT NULL
		ELSE species IS NULL AND breed IS NULL AND sex IS NULL AND neutered IS NULL
		     AND weight_kg IS NULL AND microchip IS NULL END),
	CONSTRAINT care_recipients_self_stays CHECK (kind <> 'self' OR NOT archived)
);
CREATE UNIQUE INDEX care_recipients_self ON care_recipients (owner_id) WHERE kind = 'self';
-- A patient's list: the active ones, then the archived ones.
CREATE INDEX care_recipients_owner ON care_recipients (owner_id, archived, created_at);
CREATE TRIGGER care_recipients_updated_at BEFORE UPDATE ON care_recipients
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Every account gets its self when created, whatever creates it (signup,
-- joining, invitations, carebox-admin, the tests' direct INSERT).
CREATE FUNCTION create_self_recipient() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO care_recipients (owner_id, kind, first_name, last_name)
	VALUES (NEW.id, 'self', NEW.first_name, NEW.last_name);
	RETURN NULL;
END;
$$;
CREATE TRIGGER users_self_recipient AFTER INSERT ON users
	FOR EACH ROW EXECUTE FUNCTION create_self_recipient();
INSERT INTO care_recipients (owner_id, kind, first_name, last_name)
	SELECT id, 'self', first_name, last_name FROM users;

-- The self follows the account's names.
CREATE FUNCTION user_names_to_self() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE care_recipients SET first_name = NEW.first_name, last_name = NEW.last_name
	WHERE owner_id = NEW.id AND kind = 'self';
	RETURN NULL;
END;
$$;
CREATE TRIGGER users_self_names AFTER UPDATE OF first_name, last_name ON users
	FOR EACH ROW WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name
			   OR OLD.last_name IS DISTINCT FROM NEW.last_name)
	EXECUTE FUNCTION user_names_to_self();

-- Scopes (as in 0007_scopes.sql: one SELECT each, inlined by the planner).

-- A person's own recipients: the only ones they see and change.
CREATE FUNCTION viewer_recipients(viewer uuid) RETURNS SETOF care_recipients
LANGUAGE sql STABLE AS $$
	SELECT r.* FROM care_recipients r WHERE r.owner_id = viewer
$$;

-- A clinic's patients: people with an active patient membership there.
-- Staff see a patient's page only through this.
CREATE FUNCTION clinic_patients(clinic uuid) RETURNS SETOF users
LANGUAGE sql STABLE AS $$
	SELECT u.* FROM users u
	WHERE u.id IN (SELECT m.user_id FROM memberships m
		       WHERE m.clinic_id = clinic AND m.role = 'patient' AND m.active)
$$;

-- The recipients a clinic's staff may see: those of its patients that the
-- clinic cares for, the pets at a veterinary practice, the patients
-- themselves and their family at a medical one (a vet never reads a
-- person's notes, nor a GP a pet's).
CREATE FUNCTION clinic_recipients(clinic uuid) RETURNS SETOF care_recipients
LANGUAGE sql STABLE AS $$
	SELECT r.* FROM care_recipients r
	WHERE r.owner_id IN (SELECT m.user_id FROM memberships m
			     WHERE m.clinic_id = clinic AND m.role = 'patient' AND m.active)
	  AND (r.kind = 'pet') = (SELECT c.kind = 'veterinary' FROM clinics c WHERE c.id = clinic)
$$;
