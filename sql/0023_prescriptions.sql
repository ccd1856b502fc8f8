-- 0023_prescriptions.sql - prescriptions (issue 16, the foundation): the
-- medications a clinic keeps on file for a care recipient, a patient's
-- requests, their payments and payment attempts, the timeline, and the
-- state machine, which lives here: a trigger refuses every status change
-- that is not in prescription_transitions (SQLSTATE CB001), whoever writes.
-- The C side is src/rx.c (requests, approval, the charge and refund jobs)
-- and src/pay.h (the payment providers).

-- Clinics have had a prescription fee and a currency since 0010.

-- A recipient's medications on file at a clinic: what a repeat request
-- names. Stopped, never deleted (prescriptions refer to them).
CREATE TABLE medications (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	clinic_id uuid NOT NULL REFERENCES clinics,
	recipient_id uuid NOT NULL REFERENCES care_recipients,
	name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
	strength text NOT NULL DEFAULT '' CHECK (length(strength) <= 100),	-- "100 mg"
	form text NOT NULL DEFAULT '' CHECK (length(form) <= 100),		-- "tablets"
	dosage text NOT NULL CHECK (length(btrim(dosage)) BETWEEN 1 AND 1000),	-- instructions
	quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 100000),	-- per issue
	repeats_allowed integer NOT NULL DEFAULT 0 CHECK (repeats_allowed BETWEEN 0 AND 100),
	repeats_left integer NOT NULL CHECK (repeats_left >= 0 AND repeats_left <= repeats_allowed),
	active boolean NOT NULL DEFAULT true,
	created_by uuid NOT NULL REFERENCES users,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_by uuid REFERENCES users,
	updated_at timestamptz NOT NULL DEFAULT now(),
	stopped_by uuid REFERENCES users,
	stopped_at timestamptz,
	CONSTRAINT medications_stopped CHECK (active = (stopped_at IS NULL))
);
CREATE INDEX medications_recipient ON medications (recipient_id, clinic_id, active);
CREATE TRIGGER medications_updated_at BEFORE UPDATE ON medications
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The states of a prescription (issue 16's diagram).
CREATE TYPE prescription_status AS ENUM ('requested', 'payment processing', 'payment failed',
	'awaiting approval', 'ready', 'declined', 'cancelled');

CREATE TABLE prescriptions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	clinic_id uuid NOT NULL REFERENCES clinics,
	recipient_id uuid NOT NULL REFERENCES care_recipients,
	requested_by uuid NOT NULL REFERENCES users,
	status prescription_status NOT NULL DEFAULT 'requested',
	-- Something new, in the patient's own words (the doctor fills in the
	-- medication before approving); NULL for a repeat request.
	request_text text CHECK (length(btrim(request_text)) BETWEEN 1 AND 2000),
	-- The clinic's fee when requested: 0 skips payment.
	fee numeric(10,2) NOT NULL CHECK (fee >= 0),
	currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
	-- Who made the latest status change (NULL: carebox itself) and why, in
	-- a few words: every status change sets both; the timeline row of the
	-- change takes them (prescriptions_event).
	status_by uuid REFERENCES users,
	status_note text CHECK (length(status_note) <= 1000),
	decided_by uuid REFERENCES users,	-- the doctor who approved or declined
	decided_at timestamptz,
	decline_reason text CHECK (length(btrim(decline_reason)) BETWEEN 1 AND 1000),
	issued_at timestamptz,
	-- The issued PDF, generated once at approval by a later part (stored so
	-- that a download never regenerates it); NULL until then.
	pdf bytea,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT prescriptions_declined CHECK ((status = 'declined') = (decline_reason IS NOT NULL)),
	CONSTRAINT prescriptions_decided CHECK (status NOT IN ('ready', 'declined')
		OR (decided_by IS NOT NULL AND decided_at IS NOT NULL))
);
-- A patient's list (newest first) and a clinic's queue (oldest first).
CREATE INDEX prescriptions_requested_by ON prescriptions (requested_by, created_at, id);
CREATE INDEX prescriptions_recipient ON prescriptions (recipient_id, created_at);
CREATE INDEX prescriptions_clinic ON prescriptions (clinic_id, status, created_at, id);
CREATE TRIGGER prescriptions_updated_at BEFORE UPDATE ON prescriptions
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- What a prescription is for: a medication on file (copied at the request,
-- so the prescription keeps what was issued), or, for a request in the
-- patient's own words, the medication the doctor fills in (NULL fields
-- until then). The doctor may adjust any of it before approving.
CREATE TABLE prescription_items (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	prescription_id uuid NOT NULL REFERENCES prescriptions,
	medication_id uuid REFERENCES medications,
	name text CHECK (length(btrim(name)) BETWEEN 1 AND 200),
	strength text NOT NULL DEFAULT '' CHECK (length(strength) <= 100),
	form text NOT NULL DEFAULT '' CHECK (length(form) <= 100),
	dosage text CHECK (length(btrim(dosage)) BETWEEN 1 AND 1000),
	quantity integer CHECK (quantity BETWEEN 1 AND 100000),
	UNIQUE (prescription_id, medication_id)
);

-- The legal status changes, and nothing else (issue 16's diagram):
-- the fee's rules (a zero fee skips payment) are the trigger's below.
CREATE TABLE prescription_transitions (
	from_status prescription_status NOT NULL,
	to_status prescription_status NOT NULL,
	what text NOT NULL,
	PRIMARY KEY (from_status, to_status)
);
INSERT INTO prescription_transitions VALUES
	('requested', 'payment processing', 'the charge job starts (a fee to pay)'),
	('requested', 'awaiting approval', 'a zero fee skips payment'),
	('payment processing', 'awaiting approval', 'the provider approved the payment'),
	('payment processing', 'payment failed', 'declined or an error, after the last attempt'),
	('payment failed', 'payment processing', 'the patient retries the payment'),
	('awaiting approval', 'ready', 'a doctor approves and issues'),
	('awaiting approval', 'declined', 'a doctor declines, with a reason (payment refunded)'),
	('requested', 'cancelled', 'the patient cancels'),
	('payment failed', 'cancelled', 'the patient cancels');

-- The timeline: each status change (from, to, who, a note), and what
-- happens besides (a refund; a later part adds each download).
CREATE TABLE prescription_events (
	id bigserial PRIMARY KEY,
	prescription_id uuid NOT NULL REFERENCES prescriptions,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor_id uuid REFERENCES users,		-- NULL: carebox itself
	kind text NOT NULL CHECK (kind IN ('status', 'refund', 'download')),
	from_status prescription_status,
	to_status prescription_status,
	note text CHECK (length(note) <= 1000),
	CHECK ((kind = 'status') = (to_status IS NOT NULL))
);
CREATE INDEX prescription_events_prescription ON prescription_events (prescription_id, at, id);

-- Refuses a status a prescription may not take (SQLSTATE CB001, "illegal
-- prescription transition: A -> B"): a new one starts 'requested'; a change
-- must be a row of prescription_transitions; a zero fee goes from
-- 'requested' straight to 'awaiting approval', any other fee through
-- payment; 'awaiting approval' after payment needs an approved payment;
-- 'ready' needs at least one item, each filled in.
CREATE FUNCTION prescriptions_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	old_status prescription_status := CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END;
BEGIN
	IF TG_OP = 'INSERT' THEN
		IF NEW.status <> 'requested' THEN
			RAISE EXCEPTION 'illegal prescription transition: a new prescription is requested, not %', NEW.status
				USING ERRCODE = 'CB001';
		END IF;
		RETURN NEW;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM prescription_transitions t
		       WHERE t.from_status = old_status AND t.to_status = NEW.status) THEN
		RAISE EXCEPTION 'illegal prescription transition: % -> %', old_status, NEW.status
			USING ERRCODE = 'CB001';
	END IF;
	IF old_status = 'requested' AND NEW.status = 'awaiting approval' AND NEW.fee <> 0 THEN
		RAISE EXCEPTION 'illegal prescription transition: requested -> awaiting approval with a fee to pay'
			USING ERRCODE = 'CB001';
	END IF;
	IF old_status = 'requested' AND NEW.status = 'payment processing' AND NEW.fee = 0 THEN
		RAISE EXCEPTION 'illegal prescription transition: requested -> payment processing without a fee'
			USING ERRCODE = 'CB001';
	END IF;
	IF old_status = 'payment processing' AND NEW.status = 'awaiting approval'
	   AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.prescription_id = NEW.id AND p.status = 'approved') THEN
		RAISE EXCEPTION 'illegal prescription transition: payment processing -> awaiting approval without an approved payment'
			USING ERRCODE = 'CB001';
	END IF;
	IF NEW.status = 'ready' AND (NOT EXISTS (SELECT 1 FROM prescription_items i WHERE i.prescription_id = NEW.id)
	   OR EXISTS (SELECT 1 FROM prescription_items i WHERE i.prescription_id = NEW.id
		      AND (i.name IS NULL OR i.dosage IS NULL OR i.quantity IS NULL))) THEN
		RAISE EXCEPTION 'illegal prescription transition: awaiting approval -> ready with a medication not filled in'
			USING ERRCODE = 'CB001';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER prescriptions_transition_insert BEFORE INSERT ON prescriptions
	FOR EACH ROW EXECUTE FUNCTION prescriptions_transition();
CREATE TRIGGER prescriptions_transition_update BEFORE UPDATE OF status ON prescriptions
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
	EXECUTE FUNCTION prescriptions_transition();

-- Each status taken (the first, 'requested', included) is a timeline row:
-- who (status_by, or the requester for a new one), when, from, to, note.
CREATE FUNCTION prescriptions_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO prescription_events (prescription_id, actor_id, kind, from_status, to_status, note)
	VALUES (NEW.id, CASE WHEN TG_OP = 'INSERT' THEN NEW.requested_by ELSE NEW.status_by END, 'status',
		CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status, NEW.status_note);
	RETURN NULL;
END;
$$;
CREATE TRIGGER prescriptions_event_insert AFTER INSERT ON prescriptions
	FOR EACH ROW EXECUTE FUNCTION prescriptions_event();
CREATE TRIGGER prescriptions_event_update AFTER UPDATE OF status ON prescriptions
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
	EXECUTE FUNCTION prescriptions_event();

-- Payments: one per attempt series (the request's, then one per manual
-- retry), each with its own idempotency key, which every automatic
-- attempt of the series sends to the provider.
CREATE TYPE payment_status AS ENUM ('pending', 'processing', 'approved', 'failed', 'refunded',
	'cancelled');
CREATE TABLE payments (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	prescription_id uuid NOT NULL REFERENCES prescriptions,
	user_id uuid NOT NULL REFERENCES users,		-- who pays: the requester
	amount numeric(10,2) NOT NULL CHECK (amount > 0),
	currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
	status payment_status NOT NULL DEFAULT 'pending',
	provider text NOT NULL CHECK (length(provider) BETWEEN 1 AND 50),	-- src/pay.h
	error_message text CHECK (length(error_message) <= 1000),	-- the last failure
	retry_count integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0),	-- attempts after the first
	last_retry_at timestamptz,
	idempotency_key text NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 200),
	provider_reference text CHECK (length(provider_reference) <= 200),	-- approved: the charge's
	refund_reference text CHECK (length(refund_reference) <= 200),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	approved_at timestamptz,
	refunded_at timestamptz,
	CHECK ((status IN ('approved', 'refunded')) = (provider_reference IS NOT NULL AND approved_at IS NOT NULL)),
	CHECK ((status = 'refunded') = (refunded_at IS NOT NULL))
);
-- The worker's view, and the patient's list of their payments.
CREATE INDEX payments_worker ON payments (status, retry_count, created_at);
CREATE INDEX payments_user ON payments (user_id, status, created_at);
CREATE INDEX payments_prescription ON payments (prescription_id, created_at);
-- At most one series under way (or approved) per prescription.
CREATE UNIQUE INDEX payments_one_live ON payments (prescription_id)
	WHERE status IN ('pending', 'processing', 'approved');
CREATE TRIGGER payments_updated_at BEFORE UPDATE ON payments
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Each charge attempt of a payment, with its answer (the timeline): an
-- attempt whose worker died before the answer has none, and the next claim
-- asks again under the same number and key.
CREATE TABLE payment_attempts (
	payment_id uuid NOT NULL REFERENCES payments,
	attempt integer NOT NULL CHECK (attempt >= 1),
	idempotency_key text NOT NULL,
	started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	finished_at timestamptz,
	result text CHECK (result IN ('approved', 'declined', 'error')),
	error text CHECK (length(error) <= 1000),
	reference text CHECK (length(reference) <= 200),
	replayed boolean NOT NULL DEFAULT false,	-- the provider's earlier answer to the key
	PRIMARY KEY (payment_id, attempt),
	CHECK ((result IS NULL) = (finished_at IS NULL))
);

-- The prescriptions `viewer` may see, acting for `clinic` (may be NULL):
-- those they requested or whose recipient is theirs, and, when they are an
-- active doctor or admin of `clinic`, that clinic's. (Which actions each
-- may take is the route table's and src/rx.c's.)
CREATE FUNCTION viewer_prescriptions(viewer uuid, clinic uuid) RETURNS SETOF prescriptions
LANGUAGE sql STABLE AS $$
	SELECT p.* FROM prescriptions p
	WHERE p.requested_by = viewer
	   OR p.recipient_id IN (SELECT r.id FROM care_recipients r WHERE r.owner_id = viewer)
	   OR p.clinic_id IN (SELECT m.clinic_id FROM memberships m
			      WHERE m.user_id = viewer AND m.clinic_id = clinic AND m.active
				AND m.role IN ('doctor', 'admin'))
$$;

-- What the app does to each (src/rx.c): medications and prescriptions are
-- stopped or closed, never deleted; the timeline and the transitions are
-- written by triggers and the migration.
GRANT SELECT, INSERT, UPDATE ON medications, prescriptions, prescription_items, payments,
	payment_attempts TO carebox_app;
GRANT SELECT, INSERT ON prescription_events TO carebox_app;
GRANT SELECT ON prescription_transitions TO carebox_app;
