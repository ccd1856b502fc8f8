-- 0022_email.sql - e-mail (src/mail.c): the proven address each person is
-- mailed at, which notices they want, verification links, and the mark
-- that keeps a conversation to one mail until it is read.

-- mail_to is the person's proven address: the one carebox mails, set only
-- by following a verification link sent to it (NULL: none proven yet).
-- The login address (email) may differ while a new one awaits its proof:
-- the old proven address stays in force until then. The addresses of the
-- accounts made before carebox sent mail count as proven: people have
-- logged in with them, and clinics entered them for their patients.
-- notice_messages: a mail when a new message waits (on by default).
ALTER TABLE users
	ADD COLUMN mail_to text CHECK (length(mail_to) BETWEEN 3 AND 254),
	ADD COLUMN notice_messages boolean NOT NULL DEFAULT true;
UPDATE users SET mail_to = email;
CREATE INDEX users_mail_to ON users (lower(mail_to));

-- A verification link ('verify') proves for_email, the address it was
-- mailed to, for user_id: one hour, one use, hashed like the others.
ALTER TABLE one_time_links DROP CONSTRAINT one_time_links_kind_check;
ALTER TABLE one_time_links
	ADD CONSTRAINT one_time_links_kind_check CHECK (kind IN ('invite', 'reset', 'join', 'verify')),
	ADD CONSTRAINT one_time_links_verify CHECK (kind <> 'verify' OR for_email IS NOT NULL);

-- A join link mailed to the person registered (src/mail.c) is a third key
-- of the handout's own row, beside its link and code: whichever is used
-- first consumes the row, so a registration joins once. The mail job finds
-- the row by id (its payload holds no address) and sets mail_token_hash
-- when it sends (a second attempt replaces it: only the last link mailed
-- works).
ALTER TABLE one_time_links
	ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
	ADD COLUMN mail_token_hash bytea UNIQUE;

-- mailed: a mail about this conversation went (or is on its way) to this
-- person since they last opened it; no other is sent until they do.
ALTER TABLE conversation_members ADD COLUMN mailed boolean NOT NULL DEFAULT false;

-- No new table: the app's grants on users, one_time_links and
-- conversation_members (sql/0015_app_role.sql, 0017) cover the new
-- columns.
