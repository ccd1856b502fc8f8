-- 0019_audit.sql - a clinic's audit log in the order things happened: by
-- time, then id (entries of one transaction share their time), not by id
-- alone (a transaction that began earlier may write its entry later, and
-- data loaded by hand, as the demo's history, may be written in any
-- order). Each index below is walked from the newest end and stops after
-- a page, so a deep page (a keyset cursor on (at, id)) costs what the first
-- does: the whole log, a person's actions, one action, each of a clinic.

CREATE INDEX audit_log_clinic_order ON audit_log (clinic_id, at, id);
CREATE INDEX audit_log_clinic_actor ON audit_log (clinic_id, actor_id, at, id);
-- Also what the list of the actions in a clinic's log walks, one probe per
-- action (src/page_admin.c, admin_audit_actions).
CREATE INDEX audit_log_clinic_action ON audit_log (clinic_id, action, at, id);

-- Both read by nothing now: the clinic's entries by time have the index
-- above, and no page lists an actor's entries across clinics (the
-- person's own are found by subject: own_activity).
DROP INDEX audit_log_clinic;
DROP INDEX audit_log_actor;
