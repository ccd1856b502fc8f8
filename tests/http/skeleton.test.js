// skeleton.test.js - the request layer through nginx: health, errors, limits,
// security headers, and a database restart while requests come in.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { request, postForm, pgCluster, sleep, sql } = require('../lib/harness');

test('GET /healthz answers ok while the database is up', async () => {
  const r = await request('/healthz');
  assert.equal(r.status, 200);
  assert.equal(r.text, 'ok\n');
});

test('every response carries the security headers and no version banner', async () => {
  for (const p of ['/login', '/no-such-page', '/static/style.css']) {
    const r = await request(p);
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /default-src 'none'/, p);
    assert.doesNotMatch(csp, /script-src/, `${p}: no script sources at all`);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', p);
    assert.ok(r.headers.get('referrer-policy'), p);
    assert.equal(r.headers.get('server'), 'nginx', `${p}: no version in Server`);
    assert.equal(r.headers.get('strict-transport-security'), null, `${p}: no HSTS over plain HTTP`);
  }
});

test('an unknown page is a 404 HTML page with the layout and a request id', async () => {
  const r = await request('/no/such/page');
  assert.equal(r.status, 404);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.match(r.text, /<h1>Not Found<\/h1>/);
  assert.match(r.text, /request id <code>[0-9a-f]{16,32}<\/code>/);
  assert.match(r.text, /href="\/static\/style.css"/);
});

test('a method the route does not declare is a 405 with Allow', async () => {
  const r = await request('/healthz', { method: 'DELETE' });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET, HEAD');
  const p = await postForm('/healthz', { a: '1' });
  assert.equal(p.status, 405);
});

test('HEAD works wherever GET does, without a body', async () => {
  const r = await request('/login', { method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(r.text, '');
  const g = await request('/login');
  assert.equal(g.status, 200);
  assert.match(g.text, /<h1>Log in<\/h1>/);
});

test('a body over the limit is refused with 413 and a clear page', async () => {
  const r = await postForm('/healthz', 'x=' + 'a'.repeat(2 * 1024 * 1024));
  assert.equal(r.status, 413);
  assert.match(r.text, /too large/);
});

test('malformed query strings are refused with 400', async () => {
  for (const q of ['?a=%', '?a=%zz', '?a=%00', '?a=%ff', '?a=%C3%28']) {
    const r = await request('/login' + q);
    assert.equal(r.status, 400, q);
    assert.match(r.text, /<h1>Bad Request<\/h1>/, q);
  }
});

test('a POST with a malformed body is refused with 400 before any handler runs', async () => {
  for (const body of ['email=%zz', 'a=%', 'x=%00', 'x=%C3%28', 'k=' + 'v&k='.repeat(300)]) {
    const r = await postForm('/login', body);
    assert.equal(r.status, 400, body.slice(0, 20));
    assert.match(r.text, /<h1>Bad Request<\/h1>/);
  }
  const r = await request('/login', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
  assert.equal(r.status, 415, 'only form submissions are accepted');
});

test('pages are not cached: Cache-Control no-store', async () => {
  const r = await request('/login');
  assert.equal(r.headers.get('cache-control'), 'no-store');
});

test('static files are served by nginx with long cache headers', async () => {
  const r = await request('/static/style.css');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/css/);
  assert.match(r.headers.get('cache-control'), /max-age=\d{6,}/);
});

test('connections the database closed are replaced without an error page', async () => {
  // Every worker touches the database, then the server ends their sessions
  // (as a restart or a pooler's idle timeout would). A page that changes
  // nothing runs its statement again on a new connection.
  await Promise.all(Array.from({ length: 8 }, () => request('/healthz')));
  const [[n]] = await sql(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE application_name = 'carebox'`);
  assert.ok(Number(n) >= 1, `sessions ended: ${n}`);
  await sleep(100);
  for (let i = 0; i < 4; i++) {
    const rs = await Promise.all(Array.from({ length: 4 }, () => request('/healthz')));
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200, 200], 'no 503 after the sessions ended');
  }
});

test('a database restart gives 503 pages, then the workers recover', async () => {
  pgCluster('stop');
  try {
    for (let i = 0; i < 4; i++) {
      const r = await request('/healthz');
      assert.equal(r.status, 503, 'healthz while the database is down');
      assert.match(r.text, /unavailable/);
    }
    const page = await request('/no-such-page');
    assert.equal(page.status, 404, 'a page that needs no database still works');
  } finally {
    pgCluster('start');
  }
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    await sleep(200);
    status = (await request('/healthz')).status;
  }
  assert.equal(status, 200, 'healthz recovers after the restart');
  // A worker retries the database at most once a second (README): past
  // that, every worker must be back.
  await sleep(1100);
  for (let i = 0; i < 6; i++) assert.equal((await request('/healthz')).status, 200, 'every worker recovered');
});

// The master's worker processes, from /proc (no extra tools needed).
function workers() {
  const fs = require('node:fs');
  const master = process.env.CAREBOX_PID;
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1] === master; } catch { return false; }
  }).map(Number);
}

test('a worker that dies is replaced and the site keeps answering', async () => {
  const before = workers();
  assert.equal(before.length, 2, 'two workers run');
  process.kill(before[0], 'SIGKILL');
  for (let i = 0; i < 10; i++) assert.equal((await request('/healthz')).status, 200);
  let after = [];
  for (let i = 0; i < 30 && after.length !== 2; i++) { await sleep(100); after = workers(); }
  assert.equal(after.length, 2, 'the master started a new worker');
  assert.ok(!after.includes(before[0]), 'the dead worker is gone');
});

test('SIGHUP re-reads the templates; a broken template keeps the old ones', async () => {
  const fs = require('node:fs');
  const file = `${process.env.STACK_VAR}/data/templates/login.mustache`;
  const original = fs.readFileSync(file, 'utf8');
  const waitFor = async (re) => {
    for (let i = 0; i < 50; i++) {
      const r = await request('/login');
      if (re.test(r.text)) return true;
      await sleep(100);
    }
    return false;
  };
  try {
    fs.writeFileSync(file, original.replace('<h1>Log in</h1>', '<h1>Log in here</h1>'));
    process.kill(Number(process.env.CAREBOX_PID), 'SIGHUP');
    assert.ok(await waitFor(/Log in here/), 'the edited template is served');
    fs.writeFileSync(file, original.replace('{{/content}}', ''));
    process.kill(Number(process.env.CAREBOX_PID), 'SIGHUP');
    await sleep(500);
    const r = await request('/login');
    assert.equal(r.status, 200, 'a broken template does not take the site down');
    assert.match(r.text, /Log in here/, 'the last good templates stay');
  } finally {
    fs.writeFileSync(file, original);
    process.kill(Number(process.env.CAREBOX_PID), 'SIGHUP');
    await waitFor(/<h1>Log in<\/h1>/);
  }
});
