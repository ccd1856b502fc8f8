-- 0010_clinic_profile.sql - a clinic's profile (what kind of practice, where,
-- how to reach it, its time zone, its prescription fee, a description) for
-- the public directory, and clinic_doctors(), the doctors it lists.

-- Texts default to '' (not NULL): an empty field is "not given", one way.
ALTER TABLE clinics
	ADD COLUMN kind text NOT NULL DEFAULT 'medical'
		CHECK (kind IN ('medical', 'veterinary')),
	ADD COLUMN address_line1 text NOT NULL DEFAULT '' CHECK (length(address_line1) <= 200),
	ADD COLUMN address_line2 text NOT NULL DEFAULT '' CHECK (length(address_line2) <= 200),
	ADD COLUMN postcode text NOT NULL DEFAULT '' CHECK (length(postcode) <= 20),
	ADD COLUMN city text NOT NULL DEFAULT '' CHECK (length(city) <= 100),
	ADD COLUMN country text NOT NULL DEFAULT '' CHECK (length(country) <= 100),
	ADD COLUMN phone text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
	ADD COLUMN public_email text NOT NULL DEFAULT '' CHECK (length(public_email) <= 254),
	-- An IANA name that pg_timezone_names lists: the trigger below.
	ADD COLUMN time_zone text NOT NULL DEFAULT 'Europe/London'
		CHECK (length(time_zone) BETWEEN 1 AND 100),
	ADD COLUMN prescription_fee numeric(10,2) NOT NULL DEFAULT 0
		CHECK (prescription_fee >= 0),
	-- An ISO 4217 code.
	ADD COLUMN currency text NOT NULL DEFAULT 'GBP' CHECK (currency ~ '^[A-Z]{3}$'),
	ADD COLUMN description text NOT NULL DEFAULT '' CHECK (length(description) <= 1000);

-- A CHECK cannot read pg_timezone_names, so a trigger refuses a zone it
-- does not list (the app checks first, with a message next to the field;
-- this is the last line for every other writer). Reading the view costs
-- tens of milliseconds, so the check runs only when a zone is set: not for
-- a new clinic with the default zone, nor for an update that keeps it.
CREATE FUNCTION clinics_time_zone_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.time_zone) THEN
		RAISE EXCEPTION 'unknown time zone: %', NEW.time_zone
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER clinics_time_zone_insert BEFORE INSERT ON clinics
	FOR EACH ROW WHEN (NEW.time_zone <> 'Europe/London')
	EXECUTE FUNCTION clinics_time_zone_check();
CREATE TRIGGER clinics_time_zone_update BEFORE UPDATE ON clinics
	FOR EACH ROW WHEN (NEW.time_zone IS DISTINCT FROM OLD.time_zone)
	EXECUTE FUNCTION clinics_time_zone_check();

-- The doctors a clinic's public page lists: its active doctors who have
-- joined (set a password), names only. The directory reads doctors only
-- through this function, so when roles move from users to memberships
-- only this definition changes. One SELECT: PostgreSQL inlines it.
CREATE FUNCTION clinic_doctors(clinic uuid)
RETURNS TABLE (id uuid, first_name text, last_name text)
LANGUAGE sql STABLE AS $$
	SELECT u.id, u.first_name, u.last_name FROM users u
	WHERE u.id IN (SELECT m.user_id FROM memberships m
		       WHERE m.clinic_id = clinic AND m.role = 'doctor' AND m.active)
	  AND u.active AND u.password_hash IS NOT NULL
$$;
