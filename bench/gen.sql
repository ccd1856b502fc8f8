-- gen.sql - a realistic data set for the benchmarks, loaded into a freshly
-- migrated carebox database:
--   psql -X -q -At -F '<TAB>' -v ON_ERROR_STOP=1 -f bench/gen.sql > gen.out
-- Sizes (psql -v NAME=N): clinics (10), per_clinic users (1000), messages
-- (1000000). In each clinic 8% of the users are doctors, 2% admins, the rest
-- patients; the first two doctors of every clinic are "busy" and receive
-- 10,000-20,000 messages each at the default sizes. 70% of the messages
-- start a thread, 30% are replies between the same two people; bodies are
-- words of a small vocabulary, so full-text search finds something.
-- Progress and timings go to stderr; stdout gets only the lines the bench
-- reads, "key<TAB>who<TAB>value": token, user, received, before (the
-- message id at offset 9,990 of the user's inbox, for a deep page), root
-- (the longest thread in their inbox), and "word<TAB>search<TAB>w".
-- Every user's password is "bench-password".

\if :{?clinics} \else \set clinics 10 \endif
\if :{?per_clinic} \else \set per_clinic 1000 \endif
\if :{?messages} \else \set messages 1000000 \endif

SELECT :clinics * :per_clinic AS users,
       :per_clinic * 8 / 100 AS doctors,	-- j < doctors: doctor
       :per_clinic / 10 AS staff,		-- j < staff: doctor or admin
       round(:messages * 0.7)::int AS roots,
       :messages - round(:messages * 0.7)::int AS replies,
       2 * :clinics AS busy,
       clock_timestamp() AS t0 \gset
SELECT :roots * 245 / 700 AS busy_roots \gset

SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';
SET synchronous_commit = off;

DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM messages) THEN
		RAISE EXCEPTION 'gen.sql wants an empty, freshly migrated database';
	END IF;
END $$;

-- Staging tables: UNLOGGED, dropped at the end. A user is known here by
-- idx = clinic * per_clinic + j.
CREATE UNLOGGED TABLE gen_words (w text[] NOT NULL);
INSERT INTO gen_words VALUES (ARRAY[
	-- Common words first: picks favour the front of the list.
	'the', 'I', 'to', 'and', 'my', 'you', 'a', 'is', 'for', 'of', 'have',
	'it', 'with', 'thank', 'please', 'on', 'can', 'me', 'this', 'in',
	'doctor', 'today', 'appointment', 'feel', 'better', 'week', 'pain',
	'medication', 'prescription', 'again', 'morning', 'night', 'since',
	'results', 'test', 'blood', 'pressure', 'dose', 'tablets', 'take',
	'still', 'after', 'before', 'days', 'sleep', 'headache', 'cough',
	'fever', 'follow-up', 'referral', 'insurance', 'form', 'renewal',
	'pharmacy', 'allergy', 'rash', 'knee', 'back', 'shoulder', 'dizzy',
	'tired', 'nausea', 'stomach', 'diet', 'exercise', 'weight', 'sugar',
	'insulin', 'glucose', 'cholesterol', 'thyroid', 'vitamin', 'vaccine',
	'booster', 'flu', 'covid', 'swelling', 'inhaler', 'asthma', 'migraine',
	'antibiotics', 'ibuprofen', 'paracetamol', 'x-ray', 'ultrasound',
	'scan', 'physiotherapy', 'stitches', 'wound', 'dressing', 'bandage',
	'anxiety', 'mood', 'counselling', 'pregnancy', 'ferritin', 'anaemia',
	'eczema', 'tinnitus', 'vertigo', 'gout', 'sciatica', 'arrhythmia',
	'palpitations', 'biopsy', 'mammogram', 'colonoscopy', 'endoscopy',
	'dermatologist', 'cardiologist', 'neurologist', 'orthopaedic',
	'podiatrist', 'audiologist', 'optometrist', 'hypertension', 'statin',
	'metformin', 'levothyroxine', 'warfarin', 'amoxicillin', 'melatonin']);

CREATE UNLOGGED TABLE gen_bodies AS
SELECT i, CASE WHEN length(t) < 19 THEN t || ', thank you very much.' ELSE t || '.' END AS body
FROM (SELECT i, left(upper(left(t, 1)) || substr(t, 2), 598) AS t
      FROM (SELECT i, (SELECT string_agg(v.w[1 + floor(random() ^ 2 * cardinality(v.w))::int + 0 * g], ' ')
		       FROM generate_series(1, 3 + floor(82 * random() ^ 2)::int + 0 * i) g) AS t
	    FROM generate_series(1, 20000) i, gen_words v) x) y;

CREATE UNLOGGED TABLE gen_subjects AS
SELECT row_number() OVER () AS i, s AS subject FROM unnest(ARRAY[
	'Prescription refill', 'Test results', 'Appointment request',
	'Question about my medication', 'Follow-up after visit', 'Sick note',
	'Referral to a specialist', 'Blood test results', 'Change of address',
	'Repeat prescription', 'Vaccination', 'Side effects', 'Insurance form',
	'Travel vaccines', 'Pain in my knee', 'Headaches', 'Rash',
	'Back pain', 'Sleep problems', 'Blood pressure readings',
	'Diabetes check', 'Physiotherapy', 'X-ray results', 'Cancel appointment',
	'Reschedule appointment', 'Lab work', 'Allergy', 'Cough that will not go away',
	'Medical certificate', 'Annual check-up', 'Handover', 'Rota for next week',
	'Patient transfer', 'Lab order', 'On-call swap']) s;

CREATE UNLOGGED TABLE gen_users AS
SELECT idx, gen_random_uuid() AS id, idx / :per_clinic AS clinic,
       CASE WHEN idx % :per_clinic < :doctors THEN 'doctor'
	    WHEN idx % :per_clinic < :staff THEN 'admin' ELSE 'patient' END::user_role AS role,
       now() - interval '3 years' + interval '1 year' * random() AS created_at,
       NULL::uuid AS inbox_id, NULL::uuid AS outbox_id
FROM generate_series(0, :users - 1) idx;

INSERT INTO clinics (name, created_at)
SELECT (ARRAY['Northside', 'Riverside', 'Hillcrest', 'Lakeview', 'Oakwood', 'Meadowbank',
	      'Harbour', 'Elm Street', 'Westgate', 'St Anne''s'])[1 + c % 10]
       || ' ' || (ARRAY['Family Practice', 'Health Centre', 'Medical Group'])[1 + c % 3]
       || CASE WHEN c >= 10 THEN ' ' || (c / 10 + 1) ELSE '' END,
       now() - interval '3 years'
FROM generate_series(0, :clinics - 1) c;
CREATE UNLOGGED TABLE gen_clinics AS
SELECT row_number() OVER (ORDER BY created_at, name) - 1 AS c, id, name FROM clinics;
INSERT INTO clinic_hours (clinic_id, weekday, opens, closes)
SELECT id, d, '08:00', CASE WHEN d = 5 THEN '16:00'::time ELSE '18:00'::time END
FROM gen_clinics, generate_series(1, 5) d;

-- The trigger on users creates every inbox and outbox.
INSERT INTO users (id, email, first_name, last_name, password_hash, created_at, updated_at)
SELECT u.id, lower(f || '.' || l || '.' || u.idx || '@example.org'), f, l,
       '$argon2id$v=19$m=19456,t=2,p=1$B8b5Cr8eDc3UNJ4/GFwAgw$ezwAF1lUbNysfaqhbpCrPsrweoknS3IS0oBVpV1T7F4',
       u.created_at, u.created_at
FROM gen_users u,
     LATERAL (SELECT (ARRAY['Anna', 'Ben', 'Clara', 'David', 'Emma', 'Farid', 'Grace', 'Hugo',
			    'Ines', 'Jonas', 'Karin', 'Leo', 'Maria', 'Nils', 'Olga', 'Pavel',
			    'Rosa', 'Samir', 'Tara', 'Umar', 'Vera', 'Wim', 'Yara', 'Zoe'])[1 + u.idx % 24] AS f,
		     (ARRAY['Andersen', 'Brown', 'Costa', 'Dubois', 'Eriksson', 'Fischer', 'Garcia',
			    'Hansen', 'Ivanova', 'Jensen', 'Kowalski', 'Larsen', 'Meyer', 'Novak',
			    'Okafor', 'Petrov', 'Quinn', 'Rossi', 'Silva', 'Tanaka', 'Weber',
			    'Yilmaz', 'Zhang'])[1 + (u.idx / 24) % 23] AS l) n;
UPDATE gen_users g SET inbox_id = i.id, outbox_id = o.id
FROM inboxes i, outboxes o WHERE i.user_id = g.id AND o.user_id = g.id;
ALTER TABLE gen_users ADD PRIMARY KEY (idx);
INSERT INTO memberships (clinic_id, user_id, role, created_at)
SELECT c.id, u.id, u.role, u.created_at FROM gen_users u JOIN gen_clinics c ON c.c = u.clinic;

SELECT round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 1) AS el \gset
\warn gen: :users users in :clinics clinics (:el s)

-- Thread roots. kind 0: to a busy doctor (the busiest gets about twice
-- what the least busy gets), from a patient (90%) or colleague of their
-- clinic; 1: patient to staff (mostly their own doctor); 2: staff to
-- patient; 3: staff to staff. Then 3/4 roots of a random clinic.
CREATE UNLOGGED TABLE gen_roots AS
SELECT n, gen_random_uuid() AS id,
       CASE kind WHEN 0 THEN CASE WHEN d < 0.9 THEN bbase + pj ELSE bbase + 2 + floor((:staff - 2) * e)::int END
		 WHEN 1 THEN base + pj WHEN 2 THEN base + sj ELSE base + s1 END AS snd,
       CASE kind WHEN 0 THEN bbase + bk % 2
		 WHEN 1 THEN base + sj WHEN 2 THEN base + pj ELSE base + (s1 + 1 + floor((:staff - 1) * e)::int) % :staff END AS rcp,
       now() - interval '730 days' * random() AS at
FROM (SELECT n, kind, bk, (bk / 2) * :per_clinic AS bbase, c * :per_clinic AS base, d, e, pj,
	     CASE WHEN b < 0.7 THEN pj % :doctors ELSE floor(:staff * d)::int END AS sj,
	     floor(:staff * a)::int AS s1
      FROM (SELECT n, CASE WHEN n <= :busy_roots THEN 0 WHEN cat < 0.45 THEN 1 WHEN cat < 0.8 THEN 2 ELSE 3 END AS kind,
		   CASE WHEN a < 2.0 / 3 THEN floor(:busy * b) ELSE floor(:busy * sqrt(b)) END::int AS bk,
		   c, a, b, d, e, :staff + floor((:per_clinic - :staff) * e)::int AS pj
	    FROM (SELECT n, random() AS cat, floor(random() * :clinics)::int AS c,
			 random() AS a, random() AS b, random() AS d, random() AS e
		  FROM generate_series(1, :roots) n) r0) r1) r2;
ALTER TABLE gen_roots ADD PRIMARY KEY (n);

-- Replies: to a random root, or (20%) to one of 10,000 "hot" roots, which
-- makes some threads long; 65% answer the root's sender, 35% follow up.
-- A reply comes minutes to three days after its root, never after now.
CREATE UNLOGGED TABLE gen_replies AS
SELECT gen_random_uuid() AS id, r.id AS parent, r.n AS root,
       CASE WHEN x.flip THEN r.rcp ELSE r.snd END AS snd,
       CASE WHEN x.flip THEN r.snd ELSE r.rcp END AS rcp,
       r.at + least(interval '1 minute' * (1 + 4320 * x.t ^ 3), (now() - r.at) * x.t) AS at
FROM (SELECT n, CASE WHEN random() < 0.2 THEN 1 + floor(random() * least(:roots, 10000))
		     ELSE 1 + floor(random() * :roots) END::int AS rn,
	     random() < 0.65 AS flip, random() AS t
      FROM generate_series(1, :replies) n) x
JOIN gen_roots r ON r.n = x.rn;

-- All messages, oldest first (the order they would have been written in).
-- A recipient archives about 5% of their threads (archived ones are read);
-- the chance that a message is still unread falls with its age.
CREATE UNLOGGED TABLE gen_msg AS
SELECT id, parent, snd, rcp, at, archived,
       CASE WHEN archived OR random() >= 0.55 * exp(-extract(epoch FROM now() - at) / 86400 / 200)
	    THEN at + least((now() - at) * random(), interval '2 days' * random() ^ 2) END AS read_at,
       1 + floor(random() * 20000)::int AS bi, 1 + floor(random() * 35)::int AS si
FROM (SELECT id, parent, snd, rcp, at,
	     abs(hashint8(root::bigint * 100003 + rcp)) % 1000 < 50 AS archived
      FROM (SELECT id, NULL::uuid AS parent, n AS root, snd, rcp, at FROM gen_roots
	    UNION ALL SELECT id, parent, root, snd, rcp, at FROM gen_replies) a) b
ORDER BY at;

SELECT round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 1) AS el \gset
\warn gen: :messages messages staged (:el s)

-- Loading into a table without its secondary indexes and building them
-- afterwards is several times faster; whatever indexes the migrations
-- define are dropped and recreated from their own definitions. Foreign keys
-- stay checked.
CREATE UNLOGGED TABLE gen_indexes AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
FROM pg_index i WHERE i.indrelid = 'messages'::regclass
AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
SELECT string_agg(format('DROP INDEX %I', name), '; ') AS drops FROM gen_indexes \gset
:drops;

-- Foreign keys are not checked row by row (a third of the load time) when
-- we may switch the triggers off: the check after the load does it at once.
SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user \gset
\if :superuser
SET session_replication_role = replica;
\endif

-- With the triggers off, the load writes the people's names itself, as
-- the messages_names trigger would (sql/0005).
INSERT INTO messages (id, inbox_id, outbox_id, parent_id, subject, body, routing, status,
		      read, read_at, created_at, updated_at, sender_name, recipient_name)
SELECT g.id, ru.inbox_id, su.outbox_id, g.parent,
       CASE WHEN g.parent IS NULL THEN s.subject END, b.body,
       CASE WHEN g.parent IS NULL THEN 'direct' ELSE 'reply' END::message_routing,
       CASE WHEN g.read_at IS NULL THEN 'delivered' ELSE 'read' END::message_status,
       g.read_at IS NOT NULL, g.read_at, g.at, coalesce(g.read_at, g.at),
       display_name(sn.first_name, sn.last_name, sn.email), display_name(rn.first_name, rn.last_name, rn.email)
FROM gen_msg g
JOIN gen_users su ON su.idx = g.snd JOIN gen_users ru ON ru.idx = g.rcp
JOIN users sn ON sn.id = su.id JOIN users rn ON rn.id = ru.id
JOIN gen_bodies b ON b.i = g.bi JOIN gen_subjects s ON s.i = g.si;

RESET session_replication_role;
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM messages m LEFT JOIN inboxes i ON i.id = m.inbox_id
		   LEFT JOIN outboxes o ON o.id = m.outbox_id LEFT JOIN messages p ON p.id = m.parent_id
		   WHERE i.id IS NULL OR (m.outbox_id IS NOT NULL AND o.id IS NULL)
		   OR (m.parent_id IS NOT NULL AND p.id IS NULL)) THEN
		RAISE EXCEPTION 'gen.sql: a message refers to a missing inbox, outbox or parent';
	END IF;
END $$;

SELECT round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 1) AS el \gset
\warn gen: messages inserted (:el s)

SELECT string_agg(def, '; ') AS creates FROM gen_indexes \gset
:creates;

SELECT round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 1) AS el \gset
\warn gen: indexes rebuilt (:el s)

-- The conversation rows, built at once from the messages (sql/0017; the
-- load ran with their triggers off, or with them on when not a superuser:
-- the rebuild replaces what they made), the archived ones marked, and
-- every inbox's unread count from them.
SELECT conversations_rebuild();
UPDATE conversation_members c SET archived = true
FROM (SELECT DISTINCT coalesce(g.parent, g.id) AS root, u.id AS uid FROM gen_msg g
      JOIN gen_users u ON u.idx = g.rcp WHERE g.archived) a
WHERE c.user_id = a.uid AND c.root_id = a.root;
SELECT inbox_recount();

SELECT round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 1) AS el \gset
\warn gen: conversations built (:el s)

-- The bench users: the busiest inbox, a busy doctor in the middle of the
-- busy ones, and a patient with the median number of received messages.
CREATE UNLOGGED TABLE gen_bench AS
WITH counts AS (
	SELECT u.idx, u.id, u.role, u.inbox_id, u.idx % :per_clinic < 2 AND u.role = 'doctor' AS busy,
	       (SELECT count(*) FROM messages m WHERE m.inbox_id = u.inbox_id) AS received
	FROM gen_users u
)
(SELECT 'busiest' AS who, 1 AS n, * FROM counts ORDER BY received DESC, idx LIMIT 1)
UNION ALL
(SELECT 'busy', 2, * FROM counts WHERE busy ORDER BY received DESC, idx OFFSET :busy / 2 LIMIT 1)
UNION ALL
(SELECT 'typical', 3, * FROM counts WHERE role = 'patient'
 ORDER BY received, idx OFFSET (SELECT count(*) / 2 FROM counts WHERE role = 'patient') LIMIT 1);

INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)
SELECT sha256(decode(encode(sha256(convert_to('bench-' || n, 'UTF8')), 'hex'), 'hex')), id,
       encode(sha256(convert_to('bench-csrf-' || n, 'UTF8')), 'hex'), now() + interval '1 day'
FROM gen_bench;

-- Other users' sessions: one per user on average, from the last 30 days
-- (sess_insert only clears a user's old ones at their next login); a tenth
-- of them are live.
INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
SELECT sha256(convert_to('gen-session-' || n, 'UTF8')), u.id,
       encode(sha256(convert_to('gen-csrf-' || n, 'UTF8')), 'hex'), c,
       CASE WHEN live THEN now() - interval '20 minutes' * random()
	    ELSE c + interval '3 hours' * random() END, c + interval '12 hours'
FROM (SELECT n, floor(random() * :users)::int AS idx, n <= :users / 10 AS live,
	     CASE WHEN n <= :users / 10 THEN now() - interval '2 hours' * random()
		  ELSE now() - interval '12 hours' - interval '30 days' * random() END AS c
      FROM generate_series(1, :users) n) x
JOIN gen_users u ON u.idx = x.idx;

ANALYZE;

SELECT round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 1) AS el \gset
\warn gen: counts, sessions, ANALYZE done (:el s)

SELECT (SELECT count(*) FROM messages) AS m_all,
       (SELECT count(*) FROM messages WHERE parent_id IS NOT NULL) AS m_replies,
       (SELECT count(*) FROM messages WHERE read) AS m_read,
       (SELECT count(*) FROM conversation_members WHERE archived) AS m_archived,
       (SELECT count(*) FROM (SELECT inbox_id FROM messages GROUP BY inbox_id HAVING count(*) >= 10000) x) AS big_inboxes,
       (SELECT min(length(body)) || '-' || max(length(body)) || ' avg ' || round(avg(length(body))) FROM messages) AS body_len,
       (SELECT min(created_at)::date || ' .. ' || max(created_at)::date FROM messages) AS span,
       (SELECT max(n) FROM (SELECT count(*) AS n FROM messages WHERE parent_id IS NOT NULL GROUP BY parent_id) x) AS longest \gset
\warn gen: :m_all messages, :m_replies replies, :m_read read, :m_archived conversations archived; :big_inboxes inboxes with 10,000+; bodies :body_len chars; :span; longest thread :longest replies

-- What the bench reads (stdout).
SELECT key, who, value FROM (
	SELECT n, 1 AS k, 'token' AS key, who, encode(sha256(convert_to('bench-' || n, 'UTF8')), 'hex') AS value FROM gen_bench
	UNION ALL SELECT n, 2, 'user', who, id::text FROM gen_bench
	UNION ALL SELECT n, 3, 'received', who, received::text FROM gen_bench
	UNION ALL SELECT n, 4, 'before', who, (SELECT c.root_id::text FROM conversation_members c
		WHERE c.user_id = b.id AND NOT c.archived AND c.received > 0 ORDER BY c.last_at DESC, c.root_id DESC
		OFFSET least(9990, (SELECT count(*) FROM conversation_members x
				    WHERE x.user_id = b.id AND NOT x.archived AND x.received > 0) / 2)
		LIMIT 1) FROM gen_bench b
	UNION ALL SELECT n, 5, 'root', who, (SELECT c.root_id::text FROM conversation_members c
		WHERE c.user_id = b.id AND NOT c.archived AND c.received > 0
		ORDER BY c.messages DESC, 1 LIMIT 1) FROM gen_bench b
	UNION ALL SELECT 9, 9, 'word', 'search', 'prescription'
) x ORDER BY n, k;

DROP TABLE gen_words, gen_bodies, gen_subjects, gen_users, gen_clinics, gen_roots,
	gen_replies, gen_msg, gen_indexes, gen_bench;
