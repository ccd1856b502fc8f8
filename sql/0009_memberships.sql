-- 0009_memberships.sql - a role belongs to a membership (one person may be a
-- patient at one clinic and a doctor at another), a membership can end, and
-- a session remembers the clinic its user acts for.

ALTER TABLE memberships
	ADD COLUMN role user_role,
	ADD COLUMN active boolean NOT NULL DEFAULT true,
	ADD COLUMN ended_at timestamptz;
UPDATE memberships m SET role = u.role FROM users u WHERE u.id = m.user_id;
ALTER TABLE memberships ALTER COLUMN role SET NOT NULL,
	ADD CONSTRAINT memberships_ended CHECK (active = (ended_at IS NULL));
ALTER TABLE users DROP COLUMN role;

-- The clinic the session's user acts for (the switcher in the navigation);
-- NULL: their first active membership, staff ones first.
ALTER TABLE sessions ADD COLUMN clinic_id uuid REFERENCES clinics ON DELETE SET NULL;

-- The people of a clinic: its active members.
CREATE OR REPLACE FUNCTION clinic_people(clinic uuid) RETURNS SETOF users
LANGUAGE sql STABLE AS $$
	SELECT u.* FROM users u
	WHERE u.id IN (SELECT m.user_id FROM memberships m WHERE m.clinic_id = clinic AND m.active)
$$;

-- Whether `person` is an active member of a clinic other than `clinic`.
CREATE OR REPLACE FUNCTION member_elsewhere(clinic uuid, person uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM memberships m
		       WHERE m.user_id = person AND m.clinic_id <> clinic AND m.active)
$$;
