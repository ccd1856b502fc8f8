// payments.test.js - the payment.charge and payment.refund jobs (src/rx.c)
// run by the real carebox-worker against the payment simulator
// (src/pay_sim.c, its settings per clinic in pay_sim_settings): three
// failures then "payment failed" and a manual retry that succeeds; a
// decline refunded exactly once; two workers (and the stack's) over 1,000
// due payments, each charged exactly once by the simulator's ledger; a
// worker killed with -9 in the middle of a charge. The test suite's
// workers retry a charge after 1 s (CAREBOX_PAY_RETRY_MS, Makefile.am).
// It runs alone (tests/run: SERIAL_FILES), as jobs.test.js's workers would
// take its jobs and its workers theirs.
// The requests are written as rx_request() writes them (the pages that
// call it come in a later part; tests/db/test_rx.c tests the C functions
// themselves, two approvals at once included).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { createUser, sql, uniqueEmail } = require('../lib/harness');
const { startWorker, until } = require('../lib/worker');

const TAG = `rx-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
let n = 0;
// Its workers run carebox's kinds only, as deployed (not jobs.test.js's).
const NO_TEST_KINDS = { CAREBOX_TEST_JOBS: '0' };

// Sets the simulator's behaviour for clinic `clinic`.
async function sim(clinic, mode, { rate = 0, latency = 0, seed = 1 } = {}) {
  await sql(`INSERT INTO pay_sim_settings (merchant, mode, fail_rate, latency_ms, seed) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (merchant) DO UPDATE SET mode = $2, fail_rate = $3, latency_ms = $4, seed = $5`,
  [clinic, mode, rate, latency, seed]);
}

// A clinic of its own with a fee of 9.50 GBP and a patient there; the
// simulator set as `mode` etc. for it.
async function setup(mode, opts) {
  const name = `Rx ${TAG} ${++n}`;
  const patient = await createUser({ email: uniqueEmail('rx'), clinic: name });
  const [[clinic]] = await sql(`UPDATE clinics SET prescription_fee = 9.50, currency = 'GBP'
    WHERE lower(name) = lower($1) RETURNING id`, [name]);
  const [[self]] = await sql(`SELECT id FROM care_recipients WHERE owner_id = $1 AND kind = 'self'`, [patient]);
  await sim(clinic, mode, opts);
  return { clinic, patient, self };
}

// `count` requests in the patient's own words, each with its payment and
// charge job, in one transaction, as rx_request() writes them; resolves to
// [[prescription, payment], ...].
function request(s, count = 1) {
  return sql(`WITH p AS (INSERT INTO prescriptions (clinic_id, recipient_id, requested_by, request_text, fee, currency)
      SELECT $1, $2, $3, 'Something for my cough', 9.50, 'GBP' FROM generate_series(1, $4) RETURNING id, requested_by),
    pay AS (INSERT INTO payments (prescription_id, user_id, amount, currency, provider, idempotency_key)
      SELECT id, requested_by, 9.50, 'GBP', 'sim', 'carebox:' || gen_random_uuid() FROM p RETURNING id, prescription_id),
    j AS (INSERT INTO jobs (kind, payload, clinic_id, unique_key, max_attempts)
      SELECT 'payment.charge', jsonb_build_object('payment_id', id), $1, 'payment.charge:' || id, 6 FROM pay)
    SELECT prescription_id, id FROM pay`, [s.clinic, s.self, s.patient, count]);
}

// What rx_retry_payment() writes: the prescription back to "payment
// processing", a new payment (a new key) and its job; resolves to the
// payment's id.
async function retry(s, rx) {
  const [[pay]] = await sql(`WITH u AS (UPDATE prescriptions SET status = 'payment processing', status_by = requested_by,
      status_note = 'payment retried' WHERE id = $1 AND status = 'payment failed' RETURNING id, requested_by),
    pay AS (INSERT INTO payments (prescription_id, user_id, amount, currency, provider, idempotency_key)
      SELECT id, requested_by, 9.50, 'GBP', 'sim', 'carebox:' || gen_random_uuid() FROM u RETURNING id),
    j AS (INSERT INTO jobs (kind, payload, clinic_id, unique_key, max_attempts)
      SELECT 'payment.charge', jsonb_build_object('payment_id', id), $2, 'payment.charge:' || id, 6 FROM pay)
    SELECT id FROM pay`, [rx, s.clinic]);
  return pay;
}

const status = async (rx) => (await sql('SELECT status FROM prescriptions WHERE id = $1', [rx]))[0][0];
const keyOf = async (pay) => (await sql('SELECT idempotency_key FROM payments WHERE id = $1', [pay]))[0][0];
// The simulator's ledger for key `key`: "approved charges / replays / errors".
async function ledger(key) {
  const [[row]] = await sql(`SELECT count(*) FILTER (WHERE result = 'approved' AND NOT replay) || ' / '
    || count(*) FILTER (WHERE replay) || ' / ' || count(*) FILTER (WHERE result = 'error')
    FROM pay_sim_ledger WHERE kind = 'charge' AND key = $1`, [key]);
  return row;
}
// The bodies of the auto messages to `user` about prescription `rx`, oldest first.
async function messages(user, rx) {
  const rows = await sql(`SELECT m.body FROM messages m JOIN inboxes i ON i.id = m.inbox_id
    WHERE i.user_id = $1 AND m.prescription_id = $2 AND m.routing = 'auto' ORDER BY m.created_at, m.id`, [user, rx]);
  return rows.map((r) => r[0]);
}

test('three failed attempts, 1 s apart under one key, then "payment failed"; a manual retry with a new key succeeds', async () => {
  const s = await setup('flaky', { rate: 1, seed: 11 });
  const [[rx, pay]] = await request(s);
  assert.equal(await until('SELECT status FROM prescriptions WHERE id = $1', [rx], 'payment failed', 20000), 'payment failed');
  const key = await keyOf(pay);
  const attempts = await sql(`SELECT attempt, result, error, idempotency_key, extract(epoch FROM started_at)
    FROM payment_attempts WHERE payment_id = $1 ORDER BY attempt`, [pay]);
  assert.deepEqual(attempts.map((a) => a.slice(0, 4).join(' ')), [1, 2, 3].map((i) =>
    `${i} error the payment service did not answer ${key}`), 'three attempts, each with its result and error, one key');
  for (const i of [1, 2]) {
    const gap = Number(attempts[i][4]) - Number(attempts[i - 1][4]);
    assert.ok(gap >= 0.95 && gap < 5, `attempt ${i + 1} came ${gap.toFixed(2)} s after the one before`);
  }
  assert.equal(await ledger(key), '0 / 0 / 3', 'the provider was asked three times and charged nothing');
  const [[payState, retries, err]] = await sql('SELECT status, retry_count, error_message FROM payments WHERE id = $1', [pay]);
  assert.deepEqual([payState, retries, err], ['failed', '2', 'the payment service did not answer']);
  const [[jobState, jobError]] = await sql(`SELECT state, last_error FROM jobs WHERE payload ->> 'payment_id' = $1`, [pay]);
  assert.deepEqual([jobState, jobError], ['failed', 'payment attempt 3: the payment service did not answer'],
    'the job failed for good, with the reason the admins read');
  assert.deepEqual(await messages(s.patient, rx),
    ['Payment failed: the payment service did not answer. You can retry from the prescription page.'],
    'the patient is told once, in plain words');

  await sim(s.clinic, 'flaky', { rate: 0 });
  const pay2 = await retry(s, rx);
  assert.equal(await until('SELECT status FROM prescriptions WHERE id = $1', [rx], 'awaiting approval', 10000), 'awaiting approval');
  const key2 = await keyOf(pay2);
  assert.notEqual(key2, key, 'the retry charged under a new key');
  assert.equal(await ledger(key2), '1 / 0 / 0', 'charged once');
  assert.deepEqual(await sql('SELECT status, retry_count FROM payments WHERE id = $1', [pay2]), [['approved', '0']]);
  assert.deepEqual((await messages(s.patient, rx)).slice(1), ["Awaiting the doctor's approval."]);
  const timeline = await sql(`SELECT coalesce(from_status::text, '-') || ' > ' || to_status FROM prescription_events
    WHERE prescription_id = $1 ORDER BY id`, [rx]);
  assert.deepEqual(timeline.map((r) => r[0]), ['- > requested', 'requested > payment processing',
    'payment processing > payment failed', 'payment failed > payment processing', 'payment processing > awaiting approval']);
});

test('a decline refunds the payment exactly once, however often the refund runs', async () => {
  const s = await setup('approve');
  const [[rx, pay]] = await request(s);
  assert.equal(await until('SELECT status FROM prescriptions WHERE id = $1', [rx], 'awaiting approval', 10000), 'awaiting approval');
  const [[reference]] = await sql('SELECT provider_reference FROM payments WHERE id = $1', [pay]);
  // What rx_decline() writes.
  await sql(`WITH d AS (UPDATE prescriptions SET status = 'declined', status_by = $3, status_note = 'Not suitable',
      decided_by = $3, decided_at = now(), decline_reason = 'Not suitable' WHERE id = $1 RETURNING id)
    INSERT INTO jobs (kind, payload, clinic_id, unique_key, max_attempts)
    SELECT 'payment.refund', jsonb_build_object('payment_id', $2::text), $4, 'payment.refund:' || $2, 10 FROM d`,
  [rx, pay, s.patient, s.clinic]);
  assert.equal(await until('SELECT status FROM payments WHERE id = $1', [pay], 'refunded', 10000), 'refunded');
  // A second refund job for the payment (as an admin's "Retry now" of a
  // finished one would queue): it finds the payment refunded.
  const [[again]] = await sql(`INSERT INTO jobs (kind, payload, clinic_id, unique_key, max_attempts)
    VALUES ('payment.refund', jsonb_build_object('payment_id', $1::text), $2, 'payment.refund:' || $1, 10) RETURNING id`,
  [pay, s.clinic]);
  assert.equal(await until('SELECT state FROM jobs WHERE id = $1', [again], 'done', 10000), 'done');
  const [[refunds]] = await sql(`SELECT count(*) FROM pay_sim_ledger WHERE kind = 'refund' AND key = $1
    AND result = 'approved' AND NOT replay`, [reference]);
  assert.equal(refunds, '1', 'refunded exactly once, by the ledger');
  const [[events]] = await sql(`SELECT string_agg(note, ', ') FROM prescription_events WHERE prescription_id = $1
    AND kind = 'refund'`, [rx]);
  assert.equal(events, 'payment refunded: 9.50 GBP', 'on the timeline once');
});

test('two workers (and the stack\'s) over 1,000 due payments: each charged exactly once by the ledger', async () => {
  const s = await setup('approve');
  const a = await startWorker('rx-race-a', { env: NO_TEST_KINDS });
  const b = await startWorker('rx-race-b', { env: NO_TEST_KINDS });
  try {
    const rows = await request(s, 1000);
    const pays = rows.map((r) => r[1]);
    assert.equal(await until(`SELECT count(*) FROM payments WHERE id = ANY($1) AND status = 'approved'`, [pays], '1000', 180000),
      '1000', 'every payment approved');
    const [[charged, keys, replays, awaiting]] = await sql(`SELECT count(*) FILTER (WHERE NOT l.replay AND l.result = 'approved'),
        count(DISTINCT l.key), count(*) FILTER (WHERE l.replay),
        (SELECT count(*) FROM prescriptions WHERE id IN (SELECT prescription_id FROM payments WHERE id = ANY($1))
          AND status = 'awaiting approval')
      FROM pay_sim_ledger l JOIN payments p ON p.idempotency_key = l.key WHERE p.id = ANY($1)`, [pays]);
    assert.deepEqual([charged, keys, replays, awaiting], ['1000', '1000', '0', '1000'],
      'one charge per payment, none asked twice, every prescription awaiting approval');
    const [[attempts]] = await sql('SELECT count(*) FROM payment_attempts WHERE payment_id = ANY($1)', [pays]);
    assert.equal(attempts, '1000', 'one attempt each');
    await a.stop();
    await b.stop();
    const ran = (w) => (w.log().match(/job payment\.charge \S+ attempt 1 done/g) || []).length;
    assert.ok(ran(a) > 0 && ran(b) > 0, `both workers charged (${ran(a)} and ${ran(b)})`);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('kill -9 of the worker in the middle of a charge: the next claim finishes it without a second charge', async () => {
  // The simulator records the charge, then takes 3 s to answer: the window.
  const s = await setup('approve', { latency: 3000 });
  const w = await startWorker('rx-kill', { env: NO_TEST_KINDS });
  try {
    const [[rx, pay]] = await request(s);
    const key = await keyOf(pay);
    assert.equal(await until(`SELECT count(*) FROM pay_sim_ledger WHERE key = $1`, [key], '1', 10000), '1',
      'the provider charged');
    const [[holder]] = await sql(`SELECT locked_by FROM jobs WHERE payload ->> 'payment_id' = $1 AND state = 'running'`, [pay]);
    const victim = Number(holder.split(':').pop());
    process.kill(victim, 'SIGKILL');
    assert.deepEqual(await sql(`SELECT p.status, a.result IS NULL FROM payments p JOIN payment_attempts a ON a.payment_id = p.id
      WHERE p.id = $1`, [pay]), [['processing', 't']], 'the payment is left processing, its attempt unanswered');
    assert.equal(await until('SELECT status FROM prescriptions WHERE id = $1', [rx], 'awaiting approval', 30000),
      'awaiting approval', 'once the lease ran out, another claim finished it');
    assert.equal(await ledger(key), '1 / 1 / 0', 'charged once: the second call got the first answer');
    assert.deepEqual(await sql(`SELECT attempt, result, replayed FROM payment_attempts WHERE payment_id = $1`, [pay]),
      [['1', 'approved', 't']], 'the same attempt asked again under the same key');
    const [[jobAttempts]] = await sql(`SELECT attempts FROM jobs WHERE payload ->> 'payment_id' = $1`, [pay]);
    assert.equal(jobAttempts, '2', 'on the job\'s second run');
    assert.deepEqual(await messages(s.patient, rx), ["Awaiting the doctor's approval."], 'the patient told once');
  } finally {
    await w.stop();
  }
});
