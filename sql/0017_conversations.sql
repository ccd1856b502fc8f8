-- 0017_conversations.sql - messages as conversations. A conversation is a
-- thread: its root message and the replies to it, always between the same
-- two people (or carebox and one person). Each of the two has one row
-- here, which the message lists read: one row per conversation, newest
-- first, with what a list shows (the subject, the other person, the latest
-- message's first words and time, how many messages, how many unread) and
-- the person's own state of it (archived). The rows are kept exact by
-- triggers in the transaction that changes a message, whatever changes
-- it: a new message (any writer: a page, carebox itself, carebox-admin)
-- moves both rows; reading, marking unread and archiving move the
-- person's row (src/msg.c); and a row's unread moves the inbox's
-- unread_count, which counts the unread messages of conversations not
-- archived.

-- The first words of a message as one line: runs of white space become
-- one space, and "…" ends a cut.
CREATE FUNCTION message_preview(body text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT CASE WHEN length(s) > 100 OR length(body) > 400
		    THEN rtrim(left(s, 100)) || '…' ELSE s END
	FROM (SELECT btrim(regexp_replace(left(body, 400), '\s+', ' ', 'g')) AS s) x);

CREATE TABLE conversation_members (
	user_id uuid NOT NULL REFERENCES users,
	root_id uuid NOT NULL REFERENCES messages,
	other_id uuid REFERENCES users,		-- NULL: carebox wrote it
	subject text NOT NULL,			-- the root's
	other_name text NOT NULL,		-- display_name(), or 'carebox'
	messages integer NOT NULL CHECK (messages > 0),
	received integer NOT NULL CHECK (received BETWEEN 0 AND messages),
	unread integer NOT NULL DEFAULT 0 CHECK (unread BETWEEN 0 AND received),
	archived boolean NOT NULL DEFAULT false CHECK (NOT archived OR received > 0),
	last_at timestamptz NOT NULL,		-- the latest message, either way
	last_id uuid NOT NULL,
	last_mine boolean NOT NULL,		-- written by this person
	preview text NOT NULL,			-- message_preview() of it
	sent_at timestamptz,			-- this person's latest message in it
	sent_id uuid,
	PRIMARY KEY (user_id, root_id),
	CHECK ((sent_id IS NULL) = (sent_at IS NULL))
);
-- Inbox and Archive: the conversations with a message for this person.
CREATE INDEX conversations_received ON conversation_members
	(user_id, archived, last_at DESC, root_id DESC) WHERE received > 0;
-- Sent: the conversations with a message from this person.
CREATE INDEX conversations_sent ON conversation_members
	(user_id, last_at DESC, root_id DESC) WHERE sent_id IS NOT NULL;
-- A person's new name reaches the rows that show it.
CREATE INDEX conversations_other ON conversation_members (other_id);

GRANT SELECT, INSERT, UPDATE ON conversation_members TO carebox_app;

-- A new message moves the rows of its sender and of its recipient (made
-- on the conversation's first message). The lower user id goes first, so
-- two messages of one conversation crossing each other lock the two rows
-- in the same order and never deadlock. A received message brings an
-- archived conversation back to the inbox.
CREATE FUNCTION message_to_conversations() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	root uuid := coalesce(NEW.parent_id, NEW.id);
	rcp uuid := (SELECT user_id FROM inboxes WHERE id = NEW.inbox_id);
	snd uuid := (SELECT user_id FROM outboxes WHERE id = NEW.outbox_id);
	subj text := coalesce(NEW.subject, (SELECT subject FROM messages WHERE id = NEW.parent_id));
	pv text := message_preview(NEW.body);
	who uuid;
	mine boolean;
BEGIN
	FOR who, mine IN SELECT u, m FROM (VALUES (rcp, false), (snd, true)) v (u, m)
			 WHERE u IS NOT NULL ORDER BY u LOOP
		INSERT INTO conversation_members AS c (user_id, root_id, other_id, subject,
			other_name, messages, received, unread, last_at, last_id, last_mine,
			preview, sent_at, sent_id)
		VALUES (who, root, CASE WHEN mine THEN rcp ELSE snd END, subj,
			CASE WHEN mine THEN NEW.recipient_name ELSE coalesce(NEW.sender_name, 'carebox') END,
			1, (NOT mine)::int, (NOT mine AND NOT NEW.read)::int, NEW.created_at, NEW.id,
			mine, pv, CASE WHEN mine THEN NEW.created_at END, CASE WHEN mine THEN NEW.id END)
		ON CONFLICT (user_id, root_id) DO UPDATE SET
			messages = c.messages + 1,
			received = c.received + excluded.received,
			unread = c.unread + excluded.unread,
			archived = c.archived AND mine,
			last_at = greatest(c.last_at, excluded.last_at),
			last_id = CASE WHEN (excluded.last_at, excluded.last_id) > (c.last_at, c.last_id)
				  THEN excluded.last_id ELSE c.last_id END,
			last_mine = CASE WHEN (excluded.last_at, excluded.last_id) > (c.last_at, c.last_id)
				    THEN excluded.last_mine ELSE c.last_mine END,
			preview = CASE WHEN (excluded.last_at, excluded.last_id) > (c.last_at, c.last_id)
				  THEN excluded.preview ELSE c.preview END,
			sent_at = greatest(c.sent_at, excluded.sent_at),
			sent_id = CASE WHEN excluded.sent_id IS NOT NULL AND (c.sent_id IS NULL OR
				  (excluded.sent_at, excluded.sent_id) > (c.sent_at, c.sent_id))
				  THEN excluded.sent_id ELSE c.sent_id END;
	END LOOP;
	RETURN NULL;
END;
$$;
CREATE TRIGGER messages_conversations AFTER INSERT ON messages
	FOR EACH ROW EXECUTE FUNCTION message_to_conversations();

-- A row's unread messages count in the inbox's unread_count unless the
-- conversation is archived: each change moves the count by the difference.
CREATE FUNCTION conversation_unread_to_inbox() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	d integer := CASE WHEN NEW.archived THEN 0 ELSE NEW.unread END
		- CASE WHEN TG_OP = 'UPDATE' AND NOT OLD.archived THEN OLD.unread ELSE 0 END;
BEGIN
	IF d <> 0 THEN
		UPDATE inboxes SET unread_count = unread_count + d WHERE user_id = NEW.user_id;
	END IF;
	RETURN NULL;
END;
$$;
CREATE TRIGGER conversation_members_unread AFTER INSERT OR UPDATE OF unread, archived
	ON conversation_members FOR EACH ROW EXECUTE FUNCTION conversation_unread_to_inbox();

-- A person's new name reaches the conversations where they are the other
-- person (the messages' own copies follow sql/0005).
CREATE OR REPLACE FUNCTION user_names_to_messages() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE messages SET sender_name = NULL
	WHERE outbox_id = (SELECT id FROM outboxes WHERE user_id = NEW.id);
	UPDATE messages SET recipient_name = NULL
	WHERE inbox_id = (SELECT id FROM inboxes WHERE user_id = NEW.id);
	UPDATE conversation_members
	SET other_name = display_name(NEW.first_name, NEW.last_name, NEW.email)
	WHERE other_id = NEW.id;
	RETURN NULL;
END;
$$;

-- Builds every row from the messages at once (this migration, and the
-- bench's loader, which stores its messages with the triggers off): all
-- conversations live, none archived; then inbox_recount().
CREATE FUNCTION conversations_rebuild() RETURNS void
LANGUAGE sql AS $$
	DELETE FROM conversation_members;
	INSERT INTO conversation_members (user_id, root_id, other_id, subject, other_name,
		messages, received, unread, last_at, last_id, last_mine, preview, sent_at, sent_id)
	SELECT a.user_id, a.root, CASE WHEN ri.user_id = a.user_id THEN ro.user_id ELSE ri.user_id END,
	       rt.subject, CASE WHEN ri.user_id = a.user_id THEN coalesce(rt.sender_name, 'carebox')
				ELSE rt.recipient_name END,
	       a.n, a.received, a.unread, l.created_at, l.id, a.last_mine, message_preview(l.body),
	       s.created_at, s.id
	FROM (SELECT user_id, root, count(*) AS n, count(*) FILTER (WHERE NOT mine) AS received,
		     count(*) FILTER (WHERE NOT mine AND NOT read) AS unread,
		     (array_agg(id ORDER BY created_at DESC, id DESC))[1] AS last_id,
		     (array_agg(mine ORDER BY created_at DESC, id DESC))[1] AS last_mine,
		     (array_agg(id ORDER BY created_at DESC, id DESC) FILTER (WHERE mine))[1] AS sent_id
	      FROM (SELECT i.user_id, coalesce(m.parent_id, m.id) AS root, m.id, m.created_at,
			   false AS mine, m.read
		    FROM messages m JOIN inboxes i ON i.id = m.inbox_id
		    UNION ALL
		    SELECT o.user_id, coalesce(m.parent_id, m.id), m.id, m.created_at, true, true
		    FROM messages m JOIN outboxes o ON o.id = m.outbox_id) pm
	      GROUP BY user_id, root) a
	JOIN messages rt ON rt.id = a.root JOIN inboxes ri ON ri.id = rt.inbox_id
	LEFT JOIN outboxes ro ON ro.id = rt.outbox_id
	JOIN messages l ON l.id = a.last_id LEFT JOIN messages s ON s.id = a.sent_id;
$$;

-- Sets every inbox's unread_count from the conversation rows.
CREATE FUNCTION inbox_recount() RETURNS void
LANGUAGE sql AS $$
	UPDATE inboxes i SET unread_count = c.n
	FROM (SELECT ib.id, coalesce(sum(cm.unread) FILTER (WHERE NOT cm.archived), 0) AS n
	      FROM inboxes ib LEFT JOIN conversation_members cm ON cm.user_id = ib.user_id
	      GROUP BY ib.id) c
	WHERE c.id = i.id AND i.unread_count <> c.n;
$$;
REVOKE ALL ON FUNCTION conversations_rebuild(), inbox_recount() FROM PUBLIC;

-- The conversations of the messages stored so far: archived where the
-- person had archived every message they received in it.
SELECT conversations_rebuild();
UPDATE conversation_members c SET archived = true
FROM (SELECT i.user_id, coalesce(m.parent_id, m.id) AS root FROM messages m
      JOIN inboxes i ON i.id = m.inbox_id
      GROUP BY 1, 2 HAVING bool_and(m.archived)) x
WHERE c.user_id = x.user_id AND c.root_id = x.root;
SELECT inbox_recount();

-- Archiving is the conversation's now; messages keep their read state.
-- A person's received messages, newest first (search walks them).
DROP INDEX messages_inbox;
CREATE INDEX IF NOT EXISTS messages_received ON messages (inbox_id, created_at DESC, id DESC);
ALTER TABLE messages DROP COLUMN archived;
