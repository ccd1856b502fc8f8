-- 0020_drafts.sql - what someone was writing when their session ended: a
-- message form sent after that keeps its text here for the session's owner
-- (src/page_message.c, page_message_keep), and their next login leads back
-- to the form filled in from it. Only they can load it; sending it, or a
-- week (carebox-admin prune), removes it.
CREATE TABLE drafts (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL REFERENCES users,
	root_id uuid REFERENCES messages,	-- a reply's conversation; NULL: a new message
	to_id uuid,				-- whom a new message was for, as chosen
	subject text NOT NULL DEFAULT '' CHECK (length(subject) <= 1000),
	body text NOT NULL CHECK (length(body) <= 100000),
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX drafts_created_at ON drafts (created_at);
GRANT SELECT, INSERT, DELETE ON drafts TO carebox_app;
