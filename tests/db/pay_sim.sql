-- pay_sim.sql - the payment simulator's memory (src/pay_sim.c): its
-- settings per merchant (a clinic), its ledger of every call, the
-- idempotency keys it answered. Kept in the database, not in a process, so
-- that it survives a worker killed with -9 as a real gateway's memory
-- does. Only the test stack (tests/stack) and the demo (scripts/demo)
-- create it, as the owner, after the migrations: a production database
-- never holds a fake gateway's ledger, and there the simulator answers
-- "error" for every charge until a real provider is configured.

-- How the simulator behaves for a merchant (a clinic's id), or for every
-- other ('*'): 'flaky' answers an error (transient: "the payment service
-- did not answer") for a share fail_rate of the calls, drawn from seed,
-- the idempotency key and the number of earlier errors for that key, so
-- the same seed and keys give the same answers whatever the order or the
-- number of workers; 'approve' and 'decline' always do. Each answer takes
-- latency_ms (the worker sleeps it after the ledger has the call).
CREATE TABLE IF NOT EXISTS pay_sim_settings (
	merchant text PRIMARY KEY,
	mode text NOT NULL DEFAULT 'flaky' CHECK (mode IN ('flaky', 'approve', 'decline')),
	fail_rate numeric NOT NULL DEFAULT 0.2 CHECK (fail_rate BETWEEN 0 AND 1),
	latency_ms integer NOT NULL DEFAULT 200 CHECK (latency_ms BETWEEN 0 AND 10000),
	seed bigint NOT NULL DEFAULT 1
);
INSERT INTO pay_sim_settings (merchant) VALUES ('*') ON CONFLICT DO NOTHING;

-- Every call the simulator answered: a charge (key: the idempotency key)
-- or a refund (key: the charge's reference). A repeated key's call is a
-- replay row: the first answer again, no money moved. Money moved = the
-- rows with result 'approved' and not replay.
CREATE TABLE IF NOT EXISTS pay_sim_ledger (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	merchant text NOT NULL,
	kind text NOT NULL CHECK (kind IN ('charge', 'refund')),
	key text NOT NULL,
	amount numeric(10,2),
	currency text,
	result text NOT NULL CHECK (result IN ('approved', 'declined', 'error')),
	reference text,
	reason text,
	replay boolean NOT NULL DEFAULT false
);
-- One remembered answer per key (errors are not remembered: the gateway
-- did nothing).
CREATE UNIQUE INDEX IF NOT EXISTS pay_sim_ledger_answer ON pay_sim_ledger (kind, key)
	WHERE NOT replay AND result <> 'error';
CREATE INDEX IF NOT EXISTS pay_sim_ledger_reference ON pay_sim_ledger (reference)
	WHERE kind = 'charge' AND NOT replay;

-- A charge of `amount` `currency` for `merchant` under idempotency key
-- `key`: the first answer to the key again if there is one (a replay row),
-- else a new answer by the merchant's settings, recorded. Returns the
-- result, the reference (approved) or the reason, whether it was a
-- replay, and the latency to simulate.
CREATE OR REPLACE FUNCTION pay_sim_charge(merchant_ text, amount_ numeric, currency_ text, key_ text)
RETURNS TABLE (result text, detail text, replayed boolean, latency_ms integer)
LANGUAGE plpgsql AS $$
DECLARE
	s pay_sim_settings;
	prior pay_sim_ledger;
	n integer;
	u numeric;
	r text;
	d text;
	ref text;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended('pay_sim:' || key_, 0));
	SELECT * INTO s FROM pay_sim_settings ps WHERE ps.merchant IN (merchant_, '*')
		ORDER BY ps.merchant = '*' LIMIT 1;
	SELECT * INTO prior FROM pay_sim_ledger l
		WHERE l.kind = 'charge' AND l.key = key_ AND NOT l.replay AND l.result <> 'error';
	IF FOUND THEN
		INSERT INTO pay_sim_ledger (merchant, kind, key, amount, currency, result, reference, reason, replay)
		VALUES (merchant_, 'charge', key_, amount_, currency_, prior.result, prior.reference, prior.reason, true);
		RETURN QUERY SELECT prior.result, coalesce(prior.reference, prior.reason), true, s.latency_ms;
		RETURN;
	END IF;
	SELECT count(*) INTO n FROM pay_sim_ledger l WHERE l.kind = 'charge' AND l.key = key_ AND l.result = 'error';
	-- A draw in [0, 1) from the seed, the key and the earlier errors.
	u := ('x' || substr(md5(s.seed || ':' || key_ || ':' || n), 1, 15))::bit(60)::bigint / 1152921504606846976.0;
	IF s.mode = 'approve' OR (s.mode = 'flaky' AND u >= s.fail_rate) THEN
		r := 'approved';
		ref := 'sim_' || substr(md5(key_ || ':' || s.seed), 1, 20);
	ELSIF s.mode = 'decline' THEN
		r := 'declined';
		d := 'card declined';
	ELSE
		r := 'error';
		d := 'the payment service did not answer';
	END IF;
	INSERT INTO pay_sim_ledger (merchant, kind, key, amount, currency, result, reference, reason)
	VALUES (merchant_, 'charge', key_, amount_, currency_, r, ref, d);
	RETURN QUERY SELECT r, coalesce(ref, d), false, s.latency_ms;
END;
$$;

-- A refund of the charge with reference `reference_`: once per reference
-- (a repeat is a replay row); 'declined' for a reference the simulator
-- never approved (nothing recorded).
CREATE OR REPLACE FUNCTION pay_sim_refund(merchant_ text, reference_ text)
RETURNS TABLE (result text, detail text, replayed boolean, latency_ms integer)
LANGUAGE plpgsql AS $$
DECLARE
	s pay_sim_settings;
	prior pay_sim_ledger;
	charge pay_sim_ledger;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended('pay_sim_refund:' || reference_, 0));
	SELECT * INTO s FROM pay_sim_settings ps WHERE ps.merchant IN (merchant_, '*')
		ORDER BY ps.merchant = '*' LIMIT 1;
	SELECT * INTO prior FROM pay_sim_ledger l
		WHERE l.kind = 'refund' AND l.key = reference_ AND NOT l.replay AND l.result <> 'error';
	IF FOUND THEN
		INSERT INTO pay_sim_ledger (merchant, kind, key, amount, currency, result, reference, reason, replay)
		VALUES (merchant_, 'refund', reference_, prior.amount, prior.currency, prior.result,
			prior.reference, prior.reason, true);
		RETURN QUERY SELECT prior.result, coalesce(prior.reference, prior.reason), true, s.latency_ms;
		RETURN;
	END IF;
	SELECT * INTO charge FROM pay_sim_ledger l
		WHERE l.kind = 'charge' AND l.reference = reference_ AND NOT l.replay AND l.result = 'approved';
	IF NOT FOUND THEN
		RETURN QUERY SELECT 'declined'::text, 'no such charge'::text, false, s.latency_ms;
		RETURN;
	END IF;
	INSERT INTO pay_sim_ledger (merchant, kind, key, amount, currency, result, reference)
	VALUES (merchant_, 'refund', reference_, charge.amount, charge.currency, 'approved',
		'simr_' || substr(md5(reference_), 1, 20));
	RETURN QUERY SELECT 'approved'::text, 'simr_' || substr(md5(reference_), 1, 20), false, s.latency_ms;
END;
$$;

GRANT SELECT ON pay_sim_settings TO carebox_app;
GRANT SELECT, INSERT ON pay_sim_ledger TO carebox_app;
GRANT USAGE ON SEQUENCE pay_sim_ledger_id_seq TO carebox_app;
