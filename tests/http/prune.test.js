// prune.test.js - carebox-admin prune: it deletes exactly the rows that can
// no longer matter (dead sessions, old form tokens, login failures,
// one-time links and finished jobs), prints how many, and never touches the
// audit log. (carebox-worker runs the same code hourly: its prune waits
// while these tests count.)
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const path = require('node:path');
const { Client, createUser, sql, uniqueEmail, sleep } = require('../lib/harness');

const ADMIN = path.join(process.env.BUILDDIR || '.', 'carebox-admin');

// Runs carebox-admin prune with `args` (and `env` added to the environment);
// returns { status, stdout, stderr }.
function prune(args = [], env = {}) {
  const r = spawnSync(ADMIN, ['-d', process.env.SRCDIR || '.', 'prune', ...args],
    { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The printed counts as { table: n }.
function counts(stdout) {
  const c = {};
  for (const m of stdout.matchAll(/^(\w+): (\d+) removed$/gm)) c[m[1]] = Number(m[2]);
  return c;
}

// Test rows of each kind: [label, SQL for when it was used or expires].
// Labels starting with "stale" must go, "live" ones must stay.
const SESSIONS = [
  ['live-fresh', "now(), now() + interval '12 hours'"],
  ['live-idle-29m', "now() - interval '29 minutes', now() + interval '1 hour'"],
  ['stale-expired', "now() - interval '1 minute', now() - interval '1 minute'"],
  ['stale-idle-31m', "now() - interval '31 minutes', now() + interval '1 hour'"],
];
const FORM_TOKENS = [
  ['live-now', 'now()'],
  ['live-6d', "now() - interval '6 days'"],
  ['stale-8d', "now() - interval '8 days'"],
];
const FAILURES = [
  ['live-now', 'now()'],
  ['live-23h', "now() - interval '23 hours'"],
  ['stale-25h', "now() - interval '25 hours'"],
  ['stale-2d', "now() - interval '2 days'"],
];
const ADDRESS_COUNTS = FAILURES;
// [label, created_at]: what someone was writing when their session ended.
const DRAFTS = [
  ['live-now', 'now()'],
  ['live-6d', "now() - interval '6 days'"],
  ['stale-8d', "now() - interval '8 days'"],
];
// [label, expires_at]
const STEPS = [
  ['live-4m', "now() + interval '4 minutes'"],
  ['stale-1s', "now() - interval '1 second'"],
  ['stale-1d', "now() - interval '1 day'"],
];
// [label, expires_at, used_at]
const LINKS = [
  ['live-open', "now() + interval '1 hour'", 'NULL'],
  ['live-used-now', "now() + interval '1 hour'", 'now()'],
  ['live-expired-6d', "now() - interval '6 days'", 'NULL'],
  ['live-used-6d', "now() - interval '6 days'", "now() - interval '6 days 30 minutes'"],
  ['stale-expired-8d', "now() - interval '8 days'", 'NULL'],
  ['stale-used-8d', "now() - interval '8 days'", "now() - interval '8 days 30 minutes'"],
];

// [label, state, finished_at]: jobs (of a kind no worker runs).
const JOBS = [
  ['live-queued', 'queued', 'NULL'],
  ['live-done-6d', 'done', "now() - interval '6 days'"],
  ['stale-done-8d', 'done', "now() - interval '8 days'"],
  ['stale-cancelled-8d', 'cancelled', "now() - interval '8 days'"],
  ['live-failed-29d', 'failed', "now() - interval '29 days'"],
  ['stale-failed-31d', 'failed', "now() - interval '31 days'"],
];

// The stack's worker prunes hourly: its next prune waits a day while
// these tests count what carebox-admin prune removes (and one running now
// is let finish first).
before(async () => {
  await sql(`UPDATE jobs SET run_at = run_at + interval '1 day' WHERE kind = 'prune' AND state = 'queued'`);
  for (let i = 0; i < 100; i++) {
    const [[n]] = await sql(`SELECT count(*) FROM jobs WHERE kind = 'prune' AND state = 'running'`);
    if (n === '0') break;
    await sleep(100);
  }
});
after(() => sql(`UPDATE jobs SET run_at = run_at - interval '1 day' WHERE kind = 'prune' AND state = 'queued'`));

// Inserts the rows above for the user `id`; `tag` makes them this test's.
// (Interval literals are constants of this file; the values are params.)
async function insertRows(id, tag) {
  for (const [label, seen] of SESSIONS) {
    const [last, expires] = seen.split(', ');
    await sql(`INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
         VALUES (sha256(convert_to($1 || $2, 'UTF8')), $3, $2,
                 ${expires} - interval '12 hours', ${last}, ${expires})`, [tag, label, id]);
  }
  for (const [label, at] of FORM_TOKENS)
    await sql(`INSERT INTO form_tokens (token, user_id, used_at) VALUES ($1 || $2, $3, ${at})`, [tag, label, id]);
  for (const [label, at] of FAILURES)
    await sql(`INSERT INTO login_failures (email, address, at) VALUES ($1, $2, ${at})`, [tag, label]);
  for (const [label, at] of ADDRESS_COUNTS)
    await sql(`INSERT INTO address_counts (kind, address, since, n) VALUES ('join key', $1 || $2, ${at}, 3)`, [tag, label]);
  for (const [label, at] of DRAFTS)
    await sql(`INSERT INTO drafts (user_id, body, created_at) VALUES ($1, $2, ${at})`, [id, label]);
  for (const [label, expires] of STEPS) {
    await sql(`INSERT INTO login_steps (token_hash, user_id, next, expires_at)
         VALUES (sha256(convert_to($1 || $2, 'UTF8')), $3, $2, ${expires})`, [tag, label, id]);
  }
  for (const [label, state, finished] of JOBS) {
    await sql(`INSERT INTO jobs (kind, payload, state, max_attempts, finished_at)
         VALUES ('prune.test', jsonb_build_object('tag', $1::text, 'label', $2::text), $3::job_state, 1, ${finished})`,
    [tag, label, state]);
  }
  for (const [label, expires, used] of LINKS) {
    await sql(`INSERT INTO one_time_links (token_hash, kind, user_id, created_at, expires_at, used_at)
         VALUES (sha256(convert_to($1 || $2, 'UTF8')), 'reset', $3,
                 ${expires} - interval '1 hour', ${expires}, ${used})`, [tag, label, id]);
  }
}

// The labels of this test's rows still there, per table.
async function remaining(id, tag) {
  const labels = async (q, p) => (await sql(q, p)).map((r) => r[0]).sort();
  const linkLabels = LINKS.map(([l]) => l).join(',');
  return {
    sessions: await labels(`SELECT csrf_token FROM sessions WHERE user_id = $1`, [id]),
    form_tokens: await labels(`SELECT substr(token, length($2) + 1) FROM form_tokens WHERE user_id = $1`, [id, tag]),
    login_failures: await labels(`SELECT address FROM login_failures WHERE email = $1`, [tag]),
    address_counts: await labels(`SELECT substr(address, length($1) + 1) FROM address_counts
      WHERE starts_with(address, $1)`, [tag]),
    drafts: await labels('SELECT body FROM drafts WHERE user_id = $1', [id]),
    login_steps: await labels('SELECT next FROM login_steps WHERE user_id = $1', [id]),
    one_time_links: await labels(`SELECT l FROM unnest(string_to_array($2, ',')) l
      JOIN one_time_links o ON o.token_hash = sha256(convert_to($1 || l, 'UTF8'))`, [tag, linkLabels]),
    jobs: await labels(`SELECT payload ->> 'label' FROM jobs WHERE payload ->> 'tag' = $1`, [tag]),
  };
}

const live = (rows) => rows.map(([l]) => l).filter((l) => l.startsWith('live')).sort();
const staleCount = (rows) => rows.filter(([l]) => l.startsWith('stale')).length;

test('prune deletes exactly the dead rows of each kind and prints the counts', async () => {
  const email = uniqueEmail('prune'), tag = `${email}/`;
  const id = await createUser({ email });
  // Whatever earlier tests left behind goes first, so the counts below are ours.
  const first = prune();
  assert.equal(first.status, 0, first.stderr);
  await insertRows(id, tag);
  const audit = (await sql('SELECT count(*), max(id) FROM audit_log'))[0];

  // A batch of one row makes prune loop: the counts are sums over batches.
  const r = prune(['--batch', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, `sessions: ${staleCount(SESSIONS)} removed\n`
    + `form_tokens: ${staleCount(FORM_TOKENS)} removed\n`
    + `login_failures: ${staleCount(FAILURES)} removed\n`
    + `address_counts: ${staleCount(ADDRESS_COUNTS)} removed\n`
    + `drafts: ${staleCount(DRAFTS)} removed\n`
    + `login_steps: ${staleCount(STEPS)} removed\n`
    + `one_time_links: ${staleCount(LINKS)} removed\n`
    + `jobs: ${staleCount(JOBS)} removed\n`);
  assert.deepEqual(await remaining(id, tag), {
    sessions: live(SESSIONS), form_tokens: live(FORM_TOKENS),
    login_failures: live(FAILURES), address_counts: live(ADDRESS_COUNTS), drafts: live(DRAFTS), login_steps: live(STEPS),
    one_time_links: live(LINKS), jobs: live(JOBS),
  });
  assert.deepEqual((await sql('SELECT count(*), max(id) FROM audit_log'))[0], audit, 'audit log untouched');

  // Nothing left to do: a second run removes nothing.
  const again = prune();
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(counts(again.stdout),
    { sessions: 0, form_tokens: 0, login_failures: 0, address_counts: 0, drafts: 0, login_steps: 0, one_time_links: 0,
      jobs: 0 });
});

test('a live session still works after prune', async () => {
  const email = uniqueEmail('prune-live');
  const id = await createUser({ email });
  const c = new Client();
  assert.equal((await c.login(email)).status, 303);
  assert.equal(prune().status, 0);
  assert.equal((await c.get('/inbox')).status, 200, 'still logged in');
  assert.equal((await sql(`SELECT count(*) FROM sessions WHERE user_id = $1`, [id]))[0][0], '1');
});

test('prune refuses a bad --batch with the usage', () => {
  for (const bad of ['0', '-5', 'ten', '']) {
    const r = prune(['--batch', bad]);
    assert.equal(r.status, 2, `--batch '${bad}'`);
    assert.match(r.stderr, /usage: carebox-admin/);
    assert.equal(r.stdout, '');
  }
});

test('prune exits non-zero with the database\'s message when it fails', () => {
  // A database without carebox's tables: the first DELETE fails.
  const db = `carebox_prune_${process.pid}`;
  execFileSync('createdb', [db]);
  try {
    const url = process.env.CAREBOX_DATABASE_URL.replace(/dbname=\S+/, `dbname=${db}`);
    const r = prune([], { CAREBOX_DATABASE_URL: url });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /relation "sessions" does not exist/);
    assert.match(r.stderr, /prune stopped at sessions/);
  } finally {
    execFileSync('dropdb', [db]);
  }
  const down = prune([], { CAREBOX_DATABASE_URL: 'host=/nonexistent dbname=nope' });
  assert.equal(down.status, 1);
  assert.match(down.stderr, /^carebox-admin: .+/);
});
