// jobs-page.test.js - /admin/jobs: a clinic's admin sees its jobs by kind and
// state, the system's as counts only, how long the oldest due job has
// waited, the clinic's latest failures with their error text, and retries a
// failed job ("Retry now": audited); never another clinic's jobs. The jobs
// are of kinds no worker runs ("page.*"): they stay as set up.
'use strict';
const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail } = require('../lib/harness');

const tag = `${process.pid}-${Date.now()}`;
const one = async (q, p) => (await sql(q, p))[0][0];
const clinics = {}; // 'a' / 'b' -> { id, admin (client) }
const jobs = {}; // name -> id

// Adds a job of clinic `clinic` (null: the system's): `kind`, `state`,
// run_at `ago` (an interval) before now, `error`, `key`. Resolves to its id.
async function job(clinic, kind, state, { ago = '0 seconds', error = null, key = null } = {}) {
  return one(`INSERT INTO jobs (kind, clinic_id, state, run_at, max_attempts, attempts, last_error, unique_key,
      finished_at, locked_by, lease_until)
    VALUES ($1, $2, $3::job_state, now() - $4::interval, 3, CASE WHEN $3 IN ('queued') THEN 0 ELSE 3 END, $5, $6,
      CASE WHEN $3 IN ('done', 'failed', 'cancelled') THEN now() - $4::interval END,
      CASE WHEN $3 = 'running' THEN 'test' END, CASE WHEN $3 = 'running' THEN now() + interval '1 hour' END)
    RETURNING id`, [kind, clinic, state, ago, error, key]);
}

// The rows of a counts table in `html` after heading `h2`: { kind: "queued running done failed cancelled waited" }.
function counts(html, h2) {
  const part = html.split(`<h2>${h2}</h2>`)[1].split('<h2>')[0];
  const cell = (label) => `<td data-label="${label}">([^<]*)</td>`;
  const re = new RegExp(`<tr>${['Kind', 'Waiting', 'Running', 'Done', 'Failed', 'Cancelled', 'Oldest due waited']
    .map(cell).join('')}</tr>`, 'g');
  return Object.fromEntries([...part.matchAll(re)].map((m) => [m[1], m.slice(2).join(' ')]));
}

before(async () => {
  for (const c of ['a', 'b']) {
    const name = `Jobs Clinic ${c} ${tag}`, email = uniqueEmail(`jobs-admin-${c}`);
    await createUser({ role: 'admin', email, clinic: name });
    const admin = new Client();
    assert.equal((await admin.login(email)).status, 303);
    clinics[c] = { id: await one('SELECT id FROM clinics WHERE name = $1', [name]), admin };
  }
  const a = clinics.a.id, b = clinics.b.id;
  jobs.waiting = await job(a, 'page.record', 'queued', { ago: '5 minutes' });
  jobs.later = await job(a, 'page.record', 'queued', { ago: '-1 hour' });
  jobs.done = await job(a, 'page.record', 'done');
  jobs.failed = await job(a, 'page.fixed', 'failed', { ago: '2 minutes', error: 'the card was declined' });
  jobs.older = await job(a, 'page.fixed', 'failed', { ago: '1 hour', error: 'the provider timed out' });
  jobs.keyed = await job(a, 'page.fixed', 'failed', { ago: '3 hours', error: 'keyed failure', key: `pay:${tag}` });
  jobs.holder = await job(a, 'page.fixed', 'queued', { ago: '-1 day', key: `pay:${tag}` });
  jobs.theirs = await job(b, 'page.noop', 'failed', { error: `clinic b's secret ${tag}` });
  jobs.system = await job(null, 'page.tick', 'failed', { error: `system error ${tag}` });
});

test('the admin sees the clinic\'s jobs by kind and state, the system\'s as counts, the oldest due job\'s wait', async () => {
  const r = await clinics.a.admin.get('/admin/jobs');
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>Background jobs<\/h1>/);
  assert.deepEqual(counts(r.text, `Jobs of Jobs Clinic a ${tag}`), {
    'page.fixed': '1 0 0 3 0 none due',
    'page.record': '2 0 1 0 0 5 minutes',
  });
  assert.ok(counts(r.text, 'System jobs')['page.tick'], 'the system\'s jobs, counted');
  assert.match(r.text, /The oldest job that is due has waited (\d+ minutes|\d+ hours|\d+ days)/,
    'how long the oldest due job has waited');
  assert.match(r.text, /class="flash flash-error">The oldest job that is due has waited [^<]*: the worker is not keeping up/,
    'and that the worker is behind');
  assert.doesNotMatch(r.text, /page\.noop/, 'nothing of another clinic, not even its kinds');
  assert.doesNotMatch(r.text, new RegExp(`clinic b's secret|system error ${tag}`), 'nor other errors');
  assert.match(r.text, /<a href="\/admin\/jobs">Background jobs<\/a>/, 'the admin\'s menu leads here');
});

test('the latest failures, newest first, with their error and a Retry now button', async () => {
  const r = await clinics.a.admin.get('/admin/jobs');
  const part = r.text.split('<h2>Latest failures</h2>')[1];
  const errors = [...part.matchAll(/<td data-label="Error">([^<]*)<\/td>/g)].map((m) => m[1]);
  assert.deepEqual(errors, ['the card was declined', 'the provider timed out', 'keyed failure']);
  for (const id of [jobs.failed, jobs.older, jobs.keyed]) {
    assert.ok(part.includes(`<form method="post" action="/admin/jobs/${id}/retry">`), `a Retry now form for ${id}`);
  }
  assert.match(part, /<button type="submit">Retry now<\/button>/);
});

test('Retry now queues the failed job again, due now, with its attempts anew; audited', async () => {
  const c = clinics.a.admin;
  await c.get('/admin/jobs');
  const r = await c.post(`/admin/jobs/${jobs.failed}/retry`);
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/admin/jobs');
  const page = await c.get('/admin/jobs');
  assert.match(page.text, /flash-ok[^>]*>The page\.fixed job is queued again/);
  const [state, attempts, due, error] = (await sql(`SELECT state, attempts, abs(extract(epoch FROM run_at - now())) < 5,
    last_error FROM jobs WHERE id = $1`, [jobs.failed]))[0];
  assert.deepEqual([state, attempts, due], ['queued', '0', 't'], 'queued, due now, attempts anew');
  assert.equal(error, 'the card was declined', 'its last error kept until its next outcome');
  const [[action, detail, actor]] = await sql(`SELECT a.action, a.detail, u.email FROM audit_log a
    JOIN users u ON u.id = a.actor_id WHERE a.clinic_id = $1 ORDER BY a.id DESC LIMIT 1`, [clinics.a.id]);
  assert.deepEqual([action, detail], ['job retried', 'page.fixed'], 'audited with its kind');
  assert.match(actor, /^jobs-admin-a/);

  const again = await c.post(`/admin/jobs/${jobs.failed}/retry`);
  assert.equal(again.status, 303, 'a job no longer failed');
  assert.match((await c.get('/admin/jobs')).text, /flash-error[^>]*>This job is waiting to run, not failed/);
  const [[n]] = await sql(`SELECT count(*) FROM audit_log WHERE clinic_id = $1 AND action = 'job retried'`, [clinics.a.id]);
  assert.equal(n, '1', 'is not retried, nor audited, again');
});

test('a failed job whose unique key another unfinished job holds stays failed', async () => {
  const c = clinics.a.admin;
  await c.get('/admin/jobs');
  const r = await c.post(`/admin/jobs/${jobs.keyed}/retry`);
  assert.equal(r.status, 303);
  assert.match((await c.get('/admin/jobs')).text, /flash-error[^>]*>Another job for the same thing is waiting or running/);
  assert.equal(await one('SELECT state FROM jobs WHERE id = $1', [jobs.keyed]), 'failed');
});

test('two retries at once, of one job or of two jobs with one key, queue one job and audit one retry', async () => {
  const c = clinics.a.admin;
  await c.get('/admin/jobs');
  const audited = async (kind) => one(`SELECT count(*) FROM audit_log WHERE clinic_id = $1 AND action = 'job retried'
    AND detail = $2`, [clinics.a.id, kind]);
  const same = await job(clinics.a.id, 'page.race', 'failed', { error: 'race' });
  const both = await Promise.all([c.post(`/admin/jobs/${same}/retry`), c.post(`/admin/jobs/${same}/retry`)]);
  assert.deepEqual(both.map((r) => r.status), [303, 303], 'each answered, neither an error');
  assert.equal(await one('SELECT state FROM jobs WHERE id = $1', [same]), 'queued');
  assert.equal(await audited('page.race'), '1', 'one retry recorded');

  const key = `race:${tag}`;
  const first = await job(clinics.a.id, 'page.keyrace', 'failed', { key, error: 'race' });
  const second = await job(clinics.a.id, 'page.keyrace', 'failed', { key, error: 'race' });
  const pair = await Promise.all([c.post(`/admin/jobs/${first}/retry`), c.post(`/admin/jobs/${second}/retry`)]);
  assert.deepEqual(pair.map((r) => r.status), [303, 303], 'each answered, neither an error');
  assert.deepEqual((await sql('SELECT state FROM jobs WHERE id IN ($1, $2) ORDER BY state::text', [first, second])).map((r) => r[0]),
    ['failed', 'queued'], 'one queued, the other kept failed');
  assert.equal(await audited('page.keyrace'), '1');
});

test('another clinic\'s job, and a system job, are not found', async () => {
  const c = clinics.a.admin;
  await c.get('/admin/jobs');
  for (const id of [jobs.theirs, jobs.system, '00000000-0000-4000-8000-000000000000']) {
    const r = await c.post(`/admin/jobs/${id}/retry`);
    assert.equal(r.status, 404, id);
  }
  assert.equal(await one('SELECT state FROM jobs WHERE id = $1', [jobs.theirs]), 'failed', 'unchanged');
  assert.equal(await one('SELECT state FROM jobs WHERE id = $1', [jobs.system]), 'failed', 'unchanged');
  // Clinic b's admin sees theirs, and none of clinic a's.
  const b = await clinics.b.admin.get('/admin/jobs');
  assert.match(b.text, new RegExp(`clinic b&#39;s secret ${tag}`));
  assert.doesNotMatch(b.text, /the card was declined|page\.fixed/);
  assert.ok(counts(b.text, 'System jobs')['page.tick'], 'the system\'s counts are everyone\'s');
});

test('a clinic without jobs and without a backlog says so', async () => {
  const name = `Jobs Quiet Clinic ${tag}`, email = uniqueEmail('jobs-quiet');
  await createUser({ role: 'admin', email, clinic: name });
  const c = new Client();
  await c.login(email);
  const r = await c.get('/admin/jobs');
  assert.equal(r.status, 200);
  assert.match(r.text.split('<h2>System jobs</h2>')[0], /<p>None yet\.<\/p>/);
  assert.match(r.text, /No job of Jobs Quiet Clinic [^<]* has failed\./);
});
