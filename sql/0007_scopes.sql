-- 0007_scopes.sql - who may see what, answered once per domain. A page
-- loads a row "if this viewer may see it, else 404" with a statement that
-- scopes it through one of these functions (src/row.c: row_load), never
-- with a predicate of its own. They are plain SQL, so the planner inlines
-- them into the statement that calls them.

-- A message is its sender's (outbox) and its recipient's (inbox).
CREATE FUNCTION message_visible(m messages, viewer uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM inboxes i WHERE i.id = m.inbox_id AND i.user_id = viewer)
	    OR EXISTS (SELECT 1 FROM outboxes o WHERE o.id = m.outbox_id AND o.user_id = viewer)
$$;

-- What only the recipient may do to a message (read state, archive).
CREATE FUNCTION message_received(m messages, viewer uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM inboxes i WHERE i.id = m.inbox_id AND i.user_id = viewer)
$$;

-- A person is one of a clinic's (patient or staff): what its staff may see
-- of them.
CREATE FUNCTION clinic_member(clinic uuid, person uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM memberships m WHERE m.clinic_id = clinic AND m.user_id = person)
$$;

-- A person also belongs to a clinic other than `clinic`: no single clinic
-- may then reset their password or lock their account.
CREATE FUNCTION member_elsewhere(clinic uuid, person uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = person AND m.clinic_id <> clinic)
$$;

-- An audit entry a clinic's admins read: the clinic's own, and the
-- clinic-less ones (logins, account changes) by or about its members;
-- entries another clinic recorded about a shared patient stay there.
CREATE FUNCTION audit_visible(a audit_log, clinic uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT a.clinic_id = clinic OR (a.clinic_id IS NULL AND
		(clinic_member(clinic, a.actor_id) OR clinic_member(clinic, a.subject_id)))
$$;
