-- 0004_memberships_order.sql - a user's first clinic, read on every request
-- with the session, comes straight from this index.
DROP INDEX memberships_user;
CREATE INDEX memberships_user ON memberships (user_id, created_at, clinic_id);
