// jobs-restart.test.js - carebox-worker survives a database restart, idle
// and with jobs running: no worker crashes, every job ends done, none has
// its effect twice. Runs alone (tests/run), as it restarts the cluster.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { request, sql, sleep, pgCluster } = require('../lib/harness');
const { startWorker, addJobs, until } = require('../lib/worker');

const TAG = `restart-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;

// Stops the cluster for `ms`, then starts it again.
async function restart(ms = 1000) {
  pgCluster('stop');
  try {
    await sleep(ms);
  } finally {
    pgCluster('start');
  }
}

// The files after this one find carebox's workers connected again: a
// worker's first page after the restart (a GET) reconnects it, a POST
// would get a 503 (skeleton.test.js).
after(async () => {
  for (let i = 0; i < 50 && (await request('/healthz')).status !== 200; i++) await sleep(200);
  await sleep(1100);
  for (let i = 0; i < 6; i++) await request('/healthz');
});

// The effects of the jobs whose keys start with `prefix`: "rows keys-run-more-than-once".
async function effects(prefix) {
  const [[rows, again]] = await sql(`SELECT count(*), count(*) FILTER (WHERE runs > 1) FROM job_test_effects
    WHERE starts_with(key, $1)`, [prefix]);
  return [Number(rows), Number(again)];
}

test('a restart while the workers are idle: they reconnect and run what comes after', async () => {
  const w = await startWorker('restart-idle', { workers: 2 });
  const kids = w.children();
  try {
    await restart();
    const prefix = `${TAG}-idle-`;
    const ids = await addJobs('test.record', 50, (i) => ({ key: `${prefix}${i}` }));
    assert.equal(await until(`SELECT count(*) FROM jobs WHERE id = ANY($1) AND state = 'done'`, [ids], '50', 30000), '50',
      'the 50 jobs added after the restart are done');
    assert.deepEqual(await effects(prefix), [50, 0], 'each effect once');
    assert.deepEqual(w.children().sort(), kids.sort(), 'by the same worker processes: none crashed');
    assert.equal((w.log().match(/ connected to the database/g) || []).length, 4, 'each connected again');
    assert.doesNotMatch(w.log(), /killed by signal|exited with status/);
  } finally {
    await w.stop();
  }
  // The stack's own worker (no test kinds) lived through it too.
  assert.ok(fs.existsSync(`/proc/${process.env.CAREBOX_WORKER_PID}`), 'the stack\'s carebox-worker still runs');
});

test('a restart while jobs run: all end done, none has its effect twice', async () => {
  const w = await startWorker('restart-busy', { workers: 2 });
  const kids = w.children();
  try {
    const prefix = `${TAG}-busy-`;
    const ids = await addJobs('test.record', 300, (i) => ({ key: `${prefix}${i}`, sleep_ms: 20 }));
    await until(`SELECT count(*) >= 50 FROM jobs WHERE id = ANY($1) AND state = 'done'`, [ids], 't', 30000);
    await restart(500);
    assert.equal(await until(`SELECT count(*) FROM jobs WHERE id = ANY($1) AND state = 'done'`, [ids], '300', 60000), '300',
      'every job ends done');
    const [rows] = await effects(prefix);
    assert.equal(rows, 300, 'each job\'s effect is there once (its idempotency key)');
    const [[retried]] = await sql(`SELECT count(*) FROM jobs WHERE id = ANY($1) AND attempts > 1`, [ids]);
    assert.ok(Number(retried) <= 2, `only the jobs in flight at the restart ran again (${retried})`);
    assert.deepEqual(w.children().sort(), kids.sort(), 'no worker process crashed');
  } finally {
    await w.stop();
  }
});

test('after the restarts the stack\'s worker still prunes, with carebox-admin prune\'s code', async () => {
  const [[n]] = await sql(`SELECT count(*) FROM jobs WHERE kind = 'prune' AND state IN ('queued', 'running')`);
  assert.equal(n, '1', 'its next hourly prune is queued');
  // A job finished 8 days ago is what prune removes; a prune due now
  // (as the hourly one is when its hour comes) runs at once.
  const [[old]] = await sql(`INSERT INTO jobs (kind, state, max_attempts, finished_at)
    VALUES ('restart.old', 'done', 1, now() - interval '8 days') RETURNING id`);
  const [[prune]] = await sql(`INSERT INTO jobs (kind, max_attempts) VALUES ('prune', 1) RETURNING id`);
  assert.equal(await until('SELECT state FROM jobs WHERE id = $1', [prune], 'done', 20000), 'done', 'the prune ran');
  const [[left]] = await sql('SELECT count(*) FROM jobs WHERE id = $1', [old]);
  assert.equal(left, '0', 'and removed the old job');
  const log = fs.readFileSync(`${process.env.STACK_VAR}/worker.log`, 'utf8');
  assert.match(log, new RegExp(`job prune ${prune} attempt 1 done \\d+ms`), 'one line in its log');
});
