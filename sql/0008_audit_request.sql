-- 0008_audit_request.sql - each audit entry names the request that made it
-- (nginx's $request_id, also in both logs), or '' when a background
-- process or carebox-admin wrote it.
ALTER TABLE audit_log ADD COLUMN request_id text NOT NULL DEFAULT '';
