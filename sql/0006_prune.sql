-- 0006_prune.sql - indexes for carebox-admin prune, which deletes by age in
-- small batches: without them each batch would scan the whole table, and
-- these two are the ones that grow fast (a row per message sent, a row per
-- failed login, thousands a minute under a password-guessing attack). Both
-- columns are set once at insert, so the indexes cost an insert little.
-- (The first run builds them with a plain CREATE INDEX, inside the
-- migration's transaction: writes to these two tables wait for the build.)
CREATE INDEX form_tokens_used_at ON form_tokens (used_at);
CREATE INDEX login_failures_at ON login_failures (at);
