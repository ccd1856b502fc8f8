-- 0005_message_names.sql - every message carries the display names of its
-- sender and its recipient, so the message lists, the pages people open
-- most, read one row per message instead of joining a mailbox and a user
-- for each. Triggers keep the copies exact: they are taken when a message
-- is stored, and rewritten when a person changes their name or address.

-- How carebox shows a person: their name, or their e-mail address when
-- they have not given one.
CREATE FUNCTION display_name(first_name text, last_name text, email text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(nullif(btrim(first_name || ' ' || last_name), ''), email);

ALTER TABLE messages ADD COLUMN sender_name text, ADD COLUMN recipient_name text;
UPDATE messages m SET
	sender_name = (SELECT display_name(u.first_name, u.last_name, u.email)
		       FROM outboxes o JOIN users u ON u.id = o.user_id WHERE o.id = m.outbox_id),
	recipient_name = (SELECT display_name(u.first_name, u.last_name, u.email)
			  FROM inboxes i JOIN users u ON u.id = i.user_id WHERE i.id = m.inbox_id);
-- Auto messages (no outbox) have no sender; the pages call it "carebox".
ALTER TABLE messages ALTER COLUMN recipient_name SET NOT NULL,
	ADD CONSTRAINT messages_sender_name CHECK ((outbox_id IS NULL) = (sender_name IS NULL));

CREATE FUNCTION message_names() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	SELECT display_name(u.first_name, u.last_name, u.email) INTO NEW.recipient_name
	FROM inboxes i JOIN users u ON u.id = i.user_id WHERE i.id = NEW.inbox_id;
	NEW.sender_name := NULL;
	IF NEW.outbox_id IS NOT NULL THEN
		SELECT display_name(u.first_name, u.last_name, u.email) INTO NEW.sender_name
		FROM outboxes o JOIN users u ON u.id = o.user_id WHERE o.id = NEW.outbox_id;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER messages_names BEFORE INSERT OR UPDATE OF inbox_id, outbox_id,
	sender_name, recipient_name ON messages
	FOR EACH ROW EXECUTE FUNCTION message_names();

-- A person's new name reaches every message they sent or received. (The
-- trigger above computes the same value, so the rewrite passes its check.)
CREATE FUNCTION user_names_to_messages() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE messages SET sender_name = NULL
	WHERE outbox_id = (SELECT id FROM outboxes WHERE user_id = NEW.id);
	UPDATE messages SET recipient_name = NULL
	WHERE inbox_id = (SELECT id FROM inboxes WHERE user_id = NEW.id);
	RETURN NULL;
END;
$$;
CREATE TRIGGER users_names AFTER UPDATE OF first_name, last_name, email ON users
	FOR EACH ROW WHEN (display_name(OLD.first_name, OLD.last_name, OLD.email)
			   IS DISTINCT FROM display_name(NEW.first_name, NEW.last_name, NEW.email))
	EXECUTE FUNCTION user_names_to_messages();
