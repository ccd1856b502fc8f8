// site.test.js - carebox behind TLS: links from CAREBOX_BASE_URL and never
// from the Host header, __Host- cookies that are Secure and HSTS on an
// https site, http only by the development setting, nginx's answer to
// other host names and forged client addresses, and one-time keys that
// reach no log.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync, spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { request } = require('undici');
const { BASE, ADDRESS, Client, createUser, sql, uniqueEmail, sleep } = require('../lib/harness');
const { fcgiRequest, startCarebox } = require('../lib/fcgi');

const PW = 'a long enough password';
const HTTPS_SITE = { CAREBOX_BASE_URL: 'https://portal.example.test', CAREBOX_INSECURE_HTTP: '' };

// The response's head (before the blank line) and its Set-Cookie lines.
function head(text) { return text.slice(0, text.indexOf('\r\n\r\n')); }
function setCookies(text) { return head(text).split('\r\n').filter((l) => /^Set-Cookie:/i.test(l)); }
function cookiePair(line) { return line.replace(/^Set-Cookie:\s*/i, '').split(';')[0]; }

// Logs in over FastCGI as a browser would; resolves to the Cookie header of
// the session and its CSRF token (from the next page).
async function fcgiLogin(sock, email) {
  const form = await fcgiRequest(sock, { uri: '/login', address: ADDRESS });
  const pre = cookiePair(setCookies(form)[0]);
  const token = /name="csrf_token" value="([0-9a-f]{64})"/.exec(form)[1];
  const r = await fcgiRequest(sock, { method: 'POST', uri: '/login', cookie: pre, address: ADDRESS,
    body: new URLSearchParams({ csrf_token: token, email, password: PW }).toString() });
  assert.match(r, /^Status: 303/, 'logged in');
  const session = setCookies(r).map(cookiePair).find((c) => /carebox_session=/.test(c));
  const page = await fcgiRequest(sock, { uri: '/patients/new', cookie: session, address: ADDRESS });
  return { cookie: session, csrf: /name="csrf_token" value="([0-9a-f]{64})"/.exec(page)[1], r };
}

test('carebox starts only with a base URL, and with http only by the development setting', () => {
  const sock = path.join(process.env.STACK_VAR, 'nostart.sock');
  const start = (env) => spawnSync(path.join(process.env.BUILDDIR, 'carebox'),
    ['-s', sock, '-w', '1', '-d', path.join(process.env.STACK_VAR, 'data')],
    { env: { ...process.env, CAREBOX_BASE_URL: '', CAREBOX_INSECURE_HTTP: '', ...env }, timeout: 10000, encoding: 'utf8' });
  for (const [env, why] of [
    [{}, /CAREBOX_BASE_URL is not set/],
    [{ CAREBOX_BASE_URL: 'http://portal.example.test' }, /only for development, with CAREBOX_INSECURE_HTTP=1/],
    [{ CAREBOX_BASE_URL: 'ftp://portal.example.test' }, /must begin with https:\/\//],
    [{ CAREBOX_BASE_URL: 'https://portal.example.test/app' }, /nothing after it/],
    [{ CAREBOX_BASE_URL: 'https://evil.example/"><b>' }, /nothing after it/],
  ]) {
    const r = start(env);
    assert.equal(r.status, 2, `refused: ${JSON.stringify(env)}`);
    assert.match(r.stderr, why);
    assert.ok(!fs.existsSync(sock), 'nothing listens');
  }
});

test('an https site: __Host- cookies that are Secure, HSTS on every answer, links from the base URL', async () => {
  const clinic = `Site Clinic ${process.pid}`;
  const doctor = uniqueEmail('site-doc');
  await createUser({ email: doctor, role: 'doctor', clinic });
  const { app, sock, exited } = await startCarebox('https-site', { env: HTTPS_SITE });
  try {
    const form = await fcgiRequest(sock, { uri: '/login', address: ADDRESS, host: 'evil.example' });
    assert.match(head(form), /^Strict-Transport-Security: max-age=31536000; includeSubDomains$/m);
    const [pre] = setCookies(form);
    assert.match(pre, /^Set-Cookie: __Host-carebox_pre=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=7200; Secure$/);

    const { cookie, csrf, r } = await fcgiLogin(sock, doctor);
    assert.match(cookie, /^__Host-carebox_session=[0-9a-f]{64}$/);
    assert.match(head(r), /^Strict-Transport-Security: /m, 'on a redirect too');
    assert.match(setCookies(r).join('\n'), /__Host-carebox_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Lax; Secure/);
    const missing = await fcgiRequest(sock, { uri: '/no-such-page', address: ADDRESS });
    assert.match(missing, /^Status: 404/);
    assert.match(head(missing), /^Strict-Transport-Security: /m, 'on an error page too');

    // The same session token under the cookie's plain name opens nothing:
    // only the __Host- cookie, which nothing else on the host can set, counts.
    const plain = cookie.replace('__Host-', '');
    assert.match(await fcgiRequest(sock, { uri: '/account', cookie: plain, address: ADDRESS }),
      /^Location: \/login\?next=%2Faccount$/m);
    assert.match(await fcgiRequest(sock, { uri: '/account', cookie, address: ADDRESS }), /^Status: 200/);

    // A handout made with a forged Host header still links to the site.
    const handout = await fcgiRequest(sock, { method: 'POST', uri: '/patients/new', cookie, address: ADDRESS,
      host: 'evil.example', body: new URLSearchParams({ csrf_token: csrf, first_name: 'Hal',
        last_name: 'Host', date_of_birth: '1990-01-02', email: '' }).toString() });
    assert.match(handout, /^Status: 200/, handout.slice(0, 300));
    assert.match(handout, /href="https:\/\/portal\.example\.test\/join\?key=[0-9a-f]{64}"/);
    assert.match(handout, /https:\/\/portal\.example\.test\/join</, 'the code is typed at the site');
    assert.doesNotMatch(handout, /evil\.example/);

    // A one-time link that reaches carebox itself is handed off as nginx does.
    const link = /\/join\?key=([0-9a-f]{64})/.exec(handout)[1];
    const off = await fcgiRequest(sock, { uri: `/join?key=${link}`, address: ADDRESS });
    assert.match(off, /^Status: 303 /);
    assert.match(head(off), /^Location: \/join$/m);
    assert.match(setCookies(off).join('\n'), new RegExp(`__Host-carebox_link=join\\.${link}; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600; Secure`));
  } finally {
    app.kill('SIGTERM');
    await exited;
  }
});

test('the development site: http, plain cookie names, no HSTS, links from the base URL', async () => {
  const r = await request(`${BASE}/login`, { headers: { 'x-forwarded-host': 'evil.example' } });
  await r.body.text();
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['strict-transport-security'], undefined);
  assert.match([].concat(r.headers['set-cookie']).join('\n'), /^carebox_pre=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=7200$/);
});

test('nginx drops requests for other host names, and ignores X-Forwarded-For from outside', async () => {
  for (const host of ['evil.example', '127.0.0.1.evil.example', 'localhost']) {
    await assert.rejects(request(`${BASE}/login`, { headers: { host } }).then((r) => r.body.text()),
      /closed|socket|reset/i, `no answer for Host: ${JSON.stringify(host)}`);
  }
  // A failed login from a forged address is counted for the real one.
  const email = uniqueEmail('xff');
  const c = new Client();
  await c.get('/login');
  const r = await c.request('/login', { method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.9', 'x-real-ip': '203.0.113.9' },
    body: new URLSearchParams({ csrf_token: c.csrf, email, password: 'wrong wrong wrong' }).toString() });
  assert.equal(r.status, 401);
  assert.deepEqual(await sql('SELECT address::text FROM login_failures WHERE lower(email) = $1', [email]), [[ADDRESS]]);
  await sql('DELETE FROM login_failures WHERE lower(email) = $1', [email]);
});

// A free TCP port on the loopback.
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

test('one-time keys reach no log, even when carebox cannot answer', async () => {
  // A second nginx from the shipped nginx.conf, whose carebox is not there:
  // every request it passes on fails with 502, and nginx's error log then
  // prints its request line.
  const port = await freePort();
  const dir = path.join(process.env.STACK_VAR, 'nginx-dead');
  fs.mkdirSync(dir, { recursive: true });
  const conf = execFileSync(path.join(process.env.SRCDIR, 'scripts', 'nginx-conf'),
    [dir, String(port), path.join(process.env.SRCDIR, 'static')],
    { input: fs.readFileSync(path.join(process.env.SRCDIR, 'nginx.conf')), encoding: 'utf8' });
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const nginx = spawn(process.env.CAREBOX_NGINX || 'nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    { stdio: 'ignore' });
  const stopped = new Promise((resolve) => nginx.on('exit', resolve));
  try {
    const base = `http://127.0.0.1:${port}`;
    let up = false;
    for (let i = 0; i < 50 && !up; i++) {
      up = await request(`${base}/static/style.css`).then((r) => r.body.text().then(() => true), () => false);
      if (!up) await sleep(100);
    }
    assert.ok(up, 'the second nginx answers');
    const token = 'ab'.repeat(32), code = 'ACDEF-GHJKM';
    for (const [link, cookie] of [[`/reset?token=${token}`, `reset.${token}`], [`/invite?token=${token}`, `invite.${token}`],
      [`/join?key=${token}`, `join.${token}`], [`/join?key=${code}`, `join.${code}`]]) {
      const r = await request(base + link);
      await r.body.text();
      assert.equal(r.statusCode, 303, link);
      assert.equal(r.headers.location, link.split('?')[0]);
      assert.match([].concat(r.headers['set-cookie']).join('\n'),
        new RegExp(`^carebox_link=${cookie.replace('.', '\\.')}; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax$`));
    }
    // What does go to carebox is logged with its request line: the check
    // below would see a key there.
    const other = await request(`${base}/search?q=marker${process.pid}`);
    await other.body.text();
    assert.equal(other.statusCode, 502);
    await sleep(200);
    const errors = fs.readFileSync(path.join(dir, 'nginx-error.log'), 'utf8');
    assert.match(errors, new RegExp(`marker${process.pid}`), 'the error log prints what went upstream');
    const logs = errors + fs.readFileSync(path.join(dir, 'nginx-access.log'), 'utf8');
    assert.ok(!logs.includes(token) && !logs.includes(code), 'no key in either log');
  } finally {
    nginx.kill('SIGTERM');
    await stopped;
  }
  // The real stack: a join link and code handed out, opened and used leave
  // no trace in any of its logs.
  const clinic = `Log Clinic ${process.pid}`;
  const doctor = uniqueEmail('log-doc'), patient = uniqueEmail('log-pat');
  await createUser({ email: doctor, role: 'doctor', clinic });
  await createUser({ email: patient, clinic: `Elsewhere ${process.pid}` });
  const doc = new Client();
  await doc.login(doctor, PW);
  await doc.get('/patients/new');
  const h = await doc.post('/patients/new', { first_name: 'Lou', last_name: 'Log', date_of_birth: '1980-03-04', email: '' });
  const key = /\/join\?key=([0-9a-f]{64})/.exec(h.text)[1];
  const code = /class="code"><strong>([A-Z0-9]{5}-[A-Z0-9]{5})<\/strong>/.exec(h.text)[1];
  const pat = new Client();
  await pat.login(patient, PW);
  assert.equal((await pat.get(`/join?key=${code}`)).status, 200, 'the code opens the join page');
  assert.equal((await pat.post('/join', { key })).status, 303, 'and joins');
  const logs = ['carebox.log', 'nginx-access.log', 'nginx-error.log']
    .map((f) => fs.readFileSync(path.join(process.env.STACK_VAR, f), 'utf8')).join('\n');
  assert.ok(logs.includes('/join'), 'the logs were read');
  assert.ok(!logs.includes(key) && !logs.includes(code) && !logs.includes(code.replace('-', '')), 'no key in the logs');
});
