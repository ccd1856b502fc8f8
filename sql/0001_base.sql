-- 0001_base.sql - what every later table relies on: the updated_at trigger.

-- Sets updated_at on every UPDATE, so no code path can forget it.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END;
$$;
