// worker.js - a carebox-worker of a test's own, with the test kinds of job
// (src/job_test.c, CAREBOX_TEST_JOBS=1), which the stack's worker does not
// run; and the jobs those kinds take, added as a request would add them.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { sql, sleep } = require('./harness');

// Starts carebox-worker with `workers` processes, its log in the stack's
// directory as worker-`name`.log. Resolves, once its processes have
// connected to the database and listen, to { master, log(), children(), stop(signal), exited }:
// log() is the log so far, children() the worker processes' ids (from
// /proc), stop() sends `signal` (default SIGTERM) and resolves to the exit
// code, exited resolves to it too.
async function startWorker(name, { workers = 1, env = {} } = {}) {
  const file = path.join(process.env.STACK_VAR, `worker-${name}.log`);
  const err = fs.openSync(file, 'w');
  const master = spawn(path.join(process.env.BUILDDIR, 'carebox-worker'), ['-w', String(workers)],
    { stdio: ['ignore', 'ignore', err], env: { ...process.env, CAREBOX_TEST_JOBS: '1', ...env } });
  fs.closeSync(err);
  const exited = new Promise((resolve) => master.on('exit', (code, signal) => resolve(code ?? signal)));
  const w = {
    master,
    exited,
    log: () => fs.readFileSync(file, 'utf8'),
    children: () => childrenOf(master.pid),
    stop: (signal = 'SIGTERM') => { if (master.exitCode === null) master.kill(signal); return exited; },
  };
  // Each process logs its connection (and each reconnection).
  for (let i = 0; i < 200; i++) {
    if (w.children().length === workers && (w.log().match(/ connected to the database/g) || []).length >= workers) return w;
    if (master.exitCode !== null) break;
    await sleep(50);
  }
  throw new Error(`carebox-worker ${name} did not start: ${w.log()}`);
}

// The ids of the processes whose parent is `pid`.
function childrenOf(pid) {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(pid); } catch { return false; }
  }).map(Number);
}

// Adds `n` jobs of `kind` in one transaction (so one wake-up), payload i
// from `payload(i)`; resolves to their ids in order.
async function addJobs(kind, n, payload = () => ({}), { clinic = null, runAt = null } = {}) {
  const rows = await sql(`INSERT INTO jobs (kind, payload, clinic_id, run_at, max_attempts)
    SELECT $1, p.value, $3, coalesce($4::timestamptz, now()),
      CASE $1 WHEN 'test.record' THEN 5 WHEN 'test.fixed' THEN 3 ELSE 1 END
    FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY p ORDER BY p.ordinality RETURNING id`,
  [kind, JSON.stringify(Array.from({ length: n }, (_, i) => payload(i))), clinic, runAt]);
  return rows.map((r) => r[0]);
}

// Waits until `query` (SQL returning one value) gives `want`, at most
// `ms`; resolves to the last value.
async function until(query, params, want, ms = 20000) {
  let got;
  for (const t0 = Date.now(); Date.now() - t0 < ms;) {
    [[got]] = await sql(query, params);
    if (got === want) return got;
    await sleep(50);
  }
  return got;
}

// The VmRSS of process `pid`, in kB.
function rss(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

module.exports = { startWorker, childrenOf, addJobs, until, rss };
