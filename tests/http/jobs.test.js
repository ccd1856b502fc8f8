// jobs.test.js - carebox-worker runs each job once in effect, whatever
// happens: two workers racing over 1,000 jobs, a worker killed with -9 in
// the middle of a job, a handler that crashes or runs past its time limit,
// SIGTERM with a job in flight, a connection the server ends, retries and
// failures, one periodic job per period with two workers, the wake-up at
// commit, and memory that stays flat. Its workers run the test kinds of job
// (src/job_test.c), which only they run: each test starts its own and stops
// them. (The database restarts are in jobs-restart.test.js, which runs
// alone.)
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { sql, sleep } = require('../lib/harness');
const { startWorker, addJobs, until, rss } = require('../lib/worker');

const TAG = `jobs-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
let n = 0;
// A fresh idempotency key prefix for one test.
const keys = () => `${TAG}-${++n}`;

// The state, attempts and effect runs of job `id`: "done 1 1".
async function outcome(id) {
  const [[s]] = await sql(`SELECT j.state || ' ' || j.attempts || ' ' || coalesce(e.runs::text, '-')
    FROM jobs j LEFT JOIN job_test_effects e ON e.key = j.payload ->> 'key' WHERE j.id = $1`, [id]);
  return s;
}

// The ids of the jobs a log's lines say were done.
const doneIn = (log) => [...log.matchAll(/job test\.record (\S+) attempt 1 done \d+ms/g)].map((m) => m[1]);

test('two workers race over 1,000 due jobs: every job done, each effect exactly once', async () => {
  const a = await startWorker('race-a');
  const b = await startWorker('race-b');
  try {
    const k = keys();
    const ids = await addJobs('test.record', 1000, (i) => ({ key: `${k}-${i}` }));
    const done = await until(`SELECT count(*) FROM jobs WHERE id = ANY($1) AND state = 'done'`, [ids], '1000', 60000);
    assert.equal(done, '1000', 'every job is done');
    const [[once, effects, attempts]] = await sql(`SELECT count(*) FILTER (WHERE runs = 1), count(*),
      (SELECT max(attempts) FROM jobs WHERE id = ANY($2)) FROM job_test_effects WHERE starts_with(key, $1)`,
    [`${k}-`, ids]);
    assert.equal(effects, '1000', 'one effect per job');
    assert.equal(once, '1000', 'each handler ran exactly once');
    assert.equal(attempts, '1', 'no job needed a second attempt');
    await a.stop();
    await b.stop();
    const ranA = doneIn(a.log()), ranB = doneIn(b.log());
    assert.ok(ranA.length > 0 && ranB.length > 0, `both workers ran jobs (${ranA.length} and ${ranB.length})`);
    assert.equal(new Set([...ranA, ...ranB]).size, 1000, 'between them, each job once');
    assert.equal(ranA.length + ranB.length, 1000, 'and no job twice');
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('kill -9 of a worker in the middle of a job: after the lease it is claimed again and finished, its effect once', async () => {
  const w = await startWorker('kill9');
  try {
    const key = keys();
    const [id] = await addJobs('test.record', 1, () => ({ key, sleep_ms: 1500 }));
    // The effect is written first, then the handler sleeps: the kill
    // comes after the effect, before the outcome.
    assert.equal(await until('SELECT count(*) FROM job_test_effects WHERE key = $1', [key], '1', 10000), '1');
    const [victim] = w.children();
    process.kill(victim, 'SIGKILL');
    assert.equal(await outcome(id), 'running 1 1', 'the job is left running, its lease not yet out');
    let kids = [];
    for (let i = 0; i < 40 && !(kids.length === 1 && kids[0] !== victim); i++) { await sleep(100); kids = w.children(); }
    assert.ok(kids.length === 1 && kids[0] !== victim, 'the master started another worker');
    assert.equal(await until('SELECT state FROM jobs WHERE id = $1', [id], 'done', 15000), 'done',
      'the job is done after its lease ran out');
    assert.equal(await outcome(id), 'done 2 2', 'on its second attempt, its handler run twice');
    const [[rows]] = await sql('SELECT count(*) FROM job_test_effects WHERE key = $1', [key]);
    assert.equal(rows, '1', 'and its effect is there once: the idempotency key');
    const [[lease]] = await sql(`SELECT started_at >= (SELECT at FROM job_test_effects WHERE key = $2) + interval '3 seconds'
      FROM jobs WHERE id = $1`, [id, key]);
    assert.equal(lease, 't', 'claimed again only once the lease (3 s + 1 s) had run out');
    assert.match(w.log(), new RegExp(`job test\\.record ${id} attempt 1 crashed \\(signal 9\\)`), 'the master logs the lost attempt');
    assert.match(w.log(), new RegExp(`job test\\.record ${id} attempt 2 done \\d+ms`));
  } finally {
    await w.stop();
  }
});

test('a handler that crashes, and one past its time limit: the process dies, the master replaces it, the job is retried', async () => {
  const w = await startWorker('crash', { workers: 2 });
  try {
    const crashKey = keys(), hangKey = keys();
    const [crash] = await addJobs('test.record', 1, () => ({ key: crashKey, crash: 1 }));
    const [hang] = await addJobs('test.record', 1, () => ({ key: hangKey, hang: 1 }));
    for (const id of [crash, hang]) {
      assert.equal(await until('SELECT state FROM jobs WHERE id = $1', [id], 'done', 20000), 'done', `job ${id} ends done`);
    }
    assert.equal(await outcome(crash), 'done 2 1', 'the crash came before its effect: the second attempt made it');
    assert.equal(await outcome(hang), 'done 2 2', 'the one that hung made its effect, then ran again');
    const log = w.log();
    assert.match(log, new RegExp(`job test\\.record ${crash} attempt 1 crashed \\(signal 6\\)`));
    assert.match(log, new RegExp(`job test\\.record ${hang} attempt 1 timed out`));
    assert.match(log, /worker \d+ exited with status 3/, 'the timed-out process ended');
    assert.equal(w.children().length, 2, 'two workers run again');
  } finally {
    await w.stop();
  }
});

test('SIGTERM lets the job in flight finish, takes no new one, then the workers exit', async () => {
  const w = await startWorker('sigterm');
  let exitCode = null;
  w.exited.then((c) => { exitCode = c; });
  try {
    const key = keys();
    const [id] = await addJobs('test.record', 1, () => ({ key, sleep_ms: 1500 }));
    assert.equal(await until('SELECT count(*) FROM job_test_effects WHERE key = $1', [key], '1', 10000), '1');
    w.master.kill('SIGTERM');
    const [later] = await addJobs('test.record', 1, () => ({ key: `${key}-later` }));
    await sleep(500);
    assert.equal(exitCode, null, 'the master waits for the job');
    assert.equal(await w.exited, 0, 'then exits cleanly');
    assert.equal(await outcome(id), 'done 1 1', 'the job in flight was finished and recorded');
    assert.equal(await outcome(later), 'queued 0 -', 'a job added after SIGTERM was left for another worker');
    assert.match(w.log(), new RegExp(`job test\\.record ${id} attempt 1 done \\d+ms`));
    await sql('DELETE FROM jobs WHERE id = $1', [later]);
  } finally {
    await w.stop();
  }
});

test('retries as the kind says, failures for good with their reason; no payload or error in the log', async () => {
  const w = await startWorker('retry');
  try {
    const secret = `private-${crypto.randomBytes(4).toString('hex')}`;
    const [retried] = await addJobs('test.fixed', 1, () => ({ key: keys(), retry: 1, note: secret }));
    const [failed] = await addJobs('test.record', 1, () => ({ key: keys(), fail: `no such card ${secret}` }));
    const [exhausted] = await addJobs('test.fixed', 1, () => ({ key: keys(), retry: 9 }));
    // test.fixed waits 1.5 s between attempts; the worker sleeps until then.
    assert.equal(await until('SELECT state FROM jobs WHERE id = $1', [retried], 'done', 10000), 'done');
    assert.equal(await outcome(retried), 'done 2 2', 'retried once, then done');
    const [[gap]] = await sql(`SELECT extract(epoch FROM j.started_at - e.at) FROM jobs j, job_test_effects e
      WHERE j.id = $1 AND e.key = j.payload ->> 'key'`, [retried]);
    assert.ok(Number(gap) >= 1.4, `the second attempt came after the fixed delay (${gap} s)`);
    assert.equal(await until('SELECT state FROM jobs WHERE id = $1', [failed], 'failed', 10000), 'failed');
    const [[why]] = await sql('SELECT last_error FROM jobs WHERE id = $1', [failed]);
    assert.equal(why, `no such card ${secret}`, 'failed for good, with the handler\'s reason');
    assert.equal(await outcome(failed), 'failed 1 1', 'without a retry');
    assert.equal(await until('SELECT state FROM jobs WHERE id = $1', [exhausted], 'failed', 15000), 'failed');
    const [[gaveUp, tries]] = await sql('SELECT last_error, attempts FROM jobs WHERE id = $1', [exhausted]);
    assert.equal(tries, '3', 'a job that keeps asking for retries has its 3 attempts');
    assert.equal(gaveUp, 'gave up after 3 attempts: the test asked for a retry');
    const log = w.log();
    assert.match(log, new RegExp(`job test\\.fixed ${retried} attempt 1 retry \\d+ms`));
    assert.match(log, new RegExp(`job test\\.record ${failed} attempt 1 failed \\d+ms`));
    assert.match(log, new RegExp(`job test\\.fixed ${exhausted} attempt 3 failed \\d+ms`));
    assert.doesNotMatch(log, new RegExp(secret), 'neither payloads nor error texts reach the log');
  } finally {
    await w.stop();
  }
});

test('a connection the server ends is replaced: the worker goes on', async () => {
  const w = await startWorker('terminated');
  try {
    // This worker's connection only: the stack's worker serves the
    // files that run beside this one.
    const names = w.children().map((pid) => `carebox-worker ${pid}`);
    const [[ended]] = await sql(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
      WHERE application_name = ANY($1)`, [names]);
    assert.ok(Number(ended) >= 1, `connections ended: ${ended}`);
    const [id] = await addJobs('test.record', 1, () => ({ key: keys() }));
    assert.equal(await until('SELECT state FROM jobs WHERE id = $1', [id], 'done', 15000), 'done',
      'a job added after is done');
    assert.equal((w.log().match(/ connected to the database/g) || []).length, 2, 'after a reconnection');
    assert.equal(w.children().length, 1, 'by the same kind of worker, which did not crash');
    assert.doesNotMatch(w.log(), /killed by signal|exited with status/);
  } finally {
    await w.stop();
  }
});

test('periodic jobs: one per period, even with two workers', async () => {
  // test.tick comes every second; every worker of this file runs it.
  const [[t0]] = await sql('SELECT now()');
  const a = await startWorker('tick-a'), b = await startWorker('tick-b');
  try {
    await sleep(3500);
  } finally {
    await a.stop();
    await b.stop();
  }
  const [[periods, jobs, twice, runs]] = await sql(`SELECT count(DISTINCT unique_key), count(*),
      (SELECT count(*) FROM (SELECT unique_key FROM jobs WHERE kind = 'test.tick' GROUP BY 1 HAVING count(*) > 1) d),
      (SELECT coalesce(max(e.runs), 0) FROM job_test_effects e WHERE starts_with(e.key, 'test.tick:'))
    FROM jobs WHERE kind = 'test.tick' AND state = 'done' AND run_at >= $1::timestamptz - interval '1 second'`, [t0]);
  assert.ok(Number(periods) >= 2, `the ticks of 3.5 s ran (${periods} periods)`);
  assert.equal(jobs, periods, 'one job per period');
  assert.equal(twice, '0', 'no period, ever, has two jobs');
  assert.equal(runs, '1', 'and each ran once');
});

test('a job added wakes an idle worker at its commit, long before the fallback poll', async () => {
  const w = await startWorker('wake');
  try {
    const waits = [];
    for (let i = 0; i < 5; i++) {
      await sleep(200); // the worker is idle, asleep until a notification
      const [id] = await addJobs('test.record', 1, () => ({ key: keys() }));
      await until('SELECT state FROM jobs WHERE id = $1', [id], 'done', 5000);
      const [[ms]] = await sql('SELECT extract(epoch FROM started_at - created_at) * 1000 FROM jobs WHERE id = $1', [id]);
      waits.push(Number(ms));
    }
    waits.sort((x, y) => x - y);
    assert.ok(waits[2] < 100, `median from the commit to the start: ${waits[2].toFixed(1)} ms (all: ${waits.map((x) => x.toFixed(1))})`);
    assert.ok(waits[4] < 2000, 'each well before the 10 s poll');
  } finally {
    await w.stop();
  }
});

test('a worker process stays under 4 MB, its memory flat over thousands of jobs',
  { skip: process.env.CAREBOX_SANITIZERS === '1' && 'built with sanitizers: their memory is not the worker\'s' }, async () => {
  const w = await startWorker('rss');
  try {
    const [pid] = w.children();
    let ids = await addJobs('test.noop', 1000);
    await until(`SELECT count(*) FROM jobs WHERE id = ANY($1) AND state = 'done'`, [ids], '1000', 60000);
    const first = rss(pid);
    ids = await addJobs('test.noop', 4000);
    assert.equal(await until(`SELECT count(*) FROM jobs WHERE id = ANY($1) AND state = 'done'`, [ids], '4000', 120000), '4000');
    const last = rss(pid);
    assert.ok(last < 4096, `VmRSS ${last} kB`);
    assert.ok(last - first <= 64, `flat: ${first} kB after 1,000 jobs, ${last} kB after 5,000`);
    assert.deepEqual(w.children(), [pid], 'the same process ran them all');
  } finally {
    await w.stop();
  }
});
