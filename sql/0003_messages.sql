-- 0003_messages.sql - secure messaging: inboxes, outboxes, threaded messages,
-- attachments. The inbox's unread_count is kept exact by the code paths that
-- change it (msg.c), always in the same transaction as the change.

CREATE TABLE inboxes (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL UNIQUE REFERENCES users,
	unread_count integer NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER inboxes_updated_at BEFORE UPDATE ON inboxes
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE outboxes (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL UNIQUE REFERENCES users,
	created_at timestamptz NOT NULL DEFAULT now()
);

-- Every user gets an inbox and an outbox when created, whatever creates it.
CREATE FUNCTION create_mailboxes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO inboxes (user_id) VALUES (NEW.id);
	INSERT INTO outboxes (user_id) VALUES (NEW.id);
	RETURN NEW;
END;
$$;
CREATE TRIGGER users_mailboxes AFTER INSERT ON users
	FOR EACH ROW EXECUTE FUNCTION create_mailboxes();
INSERT INTO inboxes (user_id) SELECT id FROM users;
INSERT INTO outboxes (user_id) SELECT id FROM users;

CREATE TYPE message_status AS ENUM ('sent', 'delivered', 'read');
CREATE TYPE message_routing AS ENUM ('direct', 'reply', 'auto');

-- One row per message: it sits in the recipient's inbox and the sender's
-- outbox. A reply points at its thread's root (parent_id); only roots
-- have a subject. `archived` is the recipient's: an archived thread is
-- hidden from their inbox, nothing is deleted.
CREATE TABLE messages (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	inbox_id uuid NOT NULL REFERENCES inboxes,
	outbox_id uuid REFERENCES outboxes,		-- NULL for auto messages
	parent_id uuid REFERENCES messages,
	subject text CHECK (length(subject) <= 200),
	body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
	prescription_id uuid,
	appointment_id uuid,
	routing message_routing NOT NULL DEFAULT 'direct',
	status message_status NOT NULL DEFAULT 'delivered',
	read boolean NOT NULL DEFAULT false,
	read_at timestamptz,
	archived boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	search tsvector GENERATED ALWAYS AS
		(to_tsvector('simple', coalesce(subject, '') || ' ' || body)) STORED,
	CHECK ((parent_id IS NULL) = (subject IS NOT NULL)),
	CHECK (read = (read_at IS NOT NULL))
);
CREATE TRIGGER messages_updated_at BEFORE UPDATE ON messages
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The inbox and archive lists, newest first, keyset-paged.
CREATE INDEX messages_inbox ON messages (inbox_id, archived, created_at DESC, id DESC);
-- The unread messages of an inbox (marking a thread read, recounting).
CREATE INDEX messages_unread ON messages (inbox_id) WHERE NOT read;
-- The sent list.
CREATE INDEX messages_outbox ON messages (outbox_id, created_at DESC, id DESC);
-- A thread, oldest first.
CREATE INDEX messages_thread ON messages (parent_id, created_at);
-- Messages about a prescription or an appointment.
CREATE INDEX messages_prescription ON messages (prescription_id) WHERE prescription_id IS NOT NULL;
CREATE INDEX messages_appointment ON messages (appointment_id) WHERE appointment_id IS NOT NULL;
-- Full-text search.
CREATE INDEX messages_search ON messages USING gin (search);

-- Files attached to a message, checked by content on the way in.
CREATE TABLE attachments (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	message_id uuid NOT NULL REFERENCES messages,
	filename text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
	content_type text NOT NULL CHECK (content_type IN
		('application/pdf', 'image/png', 'image/jpeg', 'text/plain; charset=utf-8')),
	size integer NOT NULL CHECK (size BETWEEN 1 AND 10485760),
	data bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_message ON attachments (message_id);

-- One-time tokens of compose and reply forms: a reload after sending
-- cannot send twice.
CREATE TABLE form_tokens (
	token text PRIMARY KEY,
	user_id uuid NOT NULL REFERENCES users,
	used_at timestamptz NOT NULL DEFAULT now()
);
