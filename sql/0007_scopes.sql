-- 0007_scopes.sql - who may see what, answered once per domain. A page
-- loads rows for a viewer FROM one of these functions instead of the table
-- (src/row.c: row_load), never with a visibility predicate of its own:
-- "the viewer's messages", "the clinic's people". Each is one SQL SELECT,
-- so the planner inlines it into the statement that calls it and plans
-- the whole as if written out (a pkey lookup stays a pkey lookup).

-- The messages a person may see: those they received (inbox) or sent
-- (outbox).
CREATE FUNCTION viewer_messages(viewer uuid) RETURNS SETOF messages
LANGUAGE sql STABLE AS $$
	SELECT m.* FROM messages m
	WHERE m.inbox_id IN (SELECT i.id FROM inboxes i WHERE i.user_id = viewer)
	   OR m.outbox_id IN (SELECT o.id FROM outboxes o WHERE o.user_id = viewer)
$$;

-- The messages a person received: what only the recipient may change
-- (read state, archive).
CREATE FUNCTION received_messages(viewer uuid) RETURNS SETOF messages
LANGUAGE sql STABLE AS $$
	SELECT m.* FROM messages m
	WHERE m.inbox_id IN (SELECT i.id FROM inboxes i WHERE i.user_id = viewer)
$$;

-- The people of a clinic (patients and staff): whom its staff may see.
CREATE FUNCTION clinic_people(clinic uuid) RETURNS SETOF users
LANGUAGE sql STABLE AS $$
	SELECT u.* FROM users u
	WHERE u.id IN (SELECT m.user_id FROM memberships m WHERE m.clinic_id = clinic)
$$;

-- The audit entries a clinic's admins read: the clinic's own, and the
-- clinic-less ones (logins, account changes) by or about its people;
-- entries another clinic recorded about a shared patient stay there.
CREATE FUNCTION clinic_audit(clinic uuid) RETURNS SETOF audit_log
LANGUAGE sql STABLE AS $$
	SELECT a.* FROM audit_log a
	WHERE a.clinic_id = clinic
	   OR (a.clinic_id IS NULL AND
	       (a.actor_id IN (SELECT m.user_id FROM memberships m WHERE m.clinic_id = clinic)
	        OR a.subject_id IN (SELECT m.user_id FROM memberships m WHERE m.clinic_id = clinic)))
$$;

-- A person also belongs to a clinic other than `clinic`: no single clinic
-- may then reset their password or lock their account.
CREATE FUNCTION member_elsewhere(clinic uuid, person uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = person AND m.clinic_id <> clinic)
$$;
