-- 0013_audit_scope.sql - a clinic's admins read only the entries of their
-- clinic's work; entries about an account itself (logins, failed logins,
-- password changes) carry no clinic and are shown to the person alone.

CREATE OR REPLACE FUNCTION clinic_audit(clinic uuid) RETURNS SETOF audit_log
LANGUAGE sql STABLE AS $$
	SELECT a.* FROM audit_log a WHERE a.clinic_id = clinic
$$;

CREATE FUNCTION own_activity(person uuid) RETURNS SETOF audit_log
LANGUAGE sql STABLE AS $$
	SELECT a.* FROM audit_log a WHERE a.subject_id = person AND a.clinic_id IS NULL
$$;
