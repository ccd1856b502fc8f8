// harness.js - what the HTTP and browser tests share: the server's address,
// requests that keep redirects visible, the HTML checker, the browser, and
// one database connection for the test file.
'use strict';
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { Pool } = require('pg');

const BASE = process.env.CAREBOX_URL || 'http://127.0.0.1:18080';
const LOGDIR = path.join(process.env.BUILDDIR || '.', 'tests', 'log');

// Each test file talks to the server from a loopback address of its own, so
// that the login throttling (which counts failures per client address) of
// files that run at the same time cannot meet: 127.0.0.2 for the first file
// of tests/http, and so on (tests/e2e after it). The browser's requests come
// from 127.0.0.1. request() (below) goes out through this agent, which
// keeps its connections open.
function sourceAddress() {
  const files = ['http', 'e2e'].flatMap((dir) => {
    const d = path.join(__dirname, '..', dir);
    try {
      return fs.readdirSync(d).filter((f) => f.endsWith('.test.js')).sort().map((f) => path.join(d, f));
    } catch { return []; }
  });
  const i = files.indexOf(path.resolve(process.argv[1] || '.'));
  return i >= 0 && i < 200 ? `127.0.0.${i + 2}` : `127.0.1.${2 + (process.pid % 250)}`;
}
const ADDRESS = sourceAddress();
const agent = new http.Agent({ keepAlive: true, localAddress: ADDRESS });

// Runs tidy on `html` as `tidy -errors -q --show-warnings yes` with the
// document on its standard input; resolves to what tidy wrote to standard
// error. One small shell, started at the first check and living as long as
// the test file, starts tidy for each document (written to a file of its
// own): started from node, a large process, each tidy cost several times
// the CPU time.
let tidy = null;
function runTidy(html) {
  if (!tidy) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carebox-tidy-'));
    const mark = `--tidy-done-${crypto.randomBytes(12).toString('hex')}--`;
    const sh = spawn('sh', ['-c', 'while IFS= read -r f; do tidy -errors -q --show-warnings yes <"$f" 2>&1 >/dev/null;'
      + ` echo; echo '${mark}'; done`], { stdio: ['pipe', 'pipe', 'inherit'] });
    const t = { dir, sh, waiting: [], out: '', n: 0 };
    sh.stdout.setEncoding('utf8');
    sh.stdout.on('data', (d) => {
      t.out += d;
      for (let i; (i = t.out.indexOf(`\n${mark}\n`)) >= 0;) {
        const w = t.waiting.shift();
        fs.rmSync(w.file, { force: true });
        w.resolve(t.out.slice(0, i));
        t.out = t.out.slice(i + mark.length + 2);
      }
      if (t.waiting.length === 0) sh.stdout.unref(); // idle: no reason to keep node running
    });
    sh.on('exit', (code, signal) => {
      for (const w of t.waiting.splice(0)) w.reject(new Error(`the shell running tidy ended (${code ?? signal})`));
      if (tidy === t) tidy = null;
    });
    sh.unref();
    sh.stdin.unref();
    sh.stdout.unref();
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    tidy = t;
  }
  const t = tidy, file = path.join(t.dir, `${++t.n}.html`);
  fs.writeFileSync(file, html);
  return new Promise((resolve, reject) => {
    t.waiting.push({ file, resolve, reject });
    t.sh.stdout.ref();
    t.sh.stdin.write(`${file}\n`);
  });
}

// Checks that `html` is well-formed HTML with tidy; fails the test with
// tidy's messages (warnings included) otherwise.
async function checkHtml(html, where) {
  const out = (await runTidy(html)).trim();
  assert.equal(out, '', `tidy on ${where}:\n${out}`);
}

// Sends one request through `agent`: `method`, `headers` (an object) and
// `body` (a string, a Buffer or nothing) to the path `p`. Resolves to
// node's response with its body read into `buf`. A connection the server
// closed as the request went out on it (one kept open for reuse) is
// retried once on a new one; an error after the answer came (a body the
// server stopped reading, as with a 413) is the answer's, not the request's.
function send(p, method, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(BASE + p, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => { res.buf = Buffer.concat(chunks); resolve(res); });
      res.on('error', reject);
    });
    req.on('error', (e) => {
      if (req.res) return;
      if (req.reusedSocket && e.code === 'ECONNRESET') send(p, method, headers, body).then(resolve, reject);
      else reject(e);
    });
    req.end(body);
  });
}

// Fetches `p` without following redirects. Returns { status, headers, text }.
// Every HTML page (not a redirect) is run through checkHtml.
// (node's http, not fetch or undici: fetch costs about four times the CPU
// per request and undici's request more than twice, and loading undici a
// tenth of a second in each test file; the files make thousands.) `opts`
// are fetch's: method, headers, body (a string or a FormData, sent as a
// browser sends it).
async function request(p, opts = {}) {
  const method = opts.method || 'GET', reqHeaders = { ...(opts.headers || {}) };
  let body = opts.body;
  if (body instanceof FormData) {
    const encoded = new Response(body);
    reqHeaders['content-type'] = encoded.headers.get('content-type');
    body = Buffer.from(await encoded.arrayBuffer());
  }
  if (body !== undefined) reqHeaders['content-length'] = Buffer.byteLength(body);
  const res = await send(p, method, reqHeaders, body);
  const text = res.buf.toString('utf8');
  const headers = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
  const type = headers.get('content-type') || '';
  // (A redirect's body, which no browser shows, is not a page: nginx's own
  // hand-off of a one-time link carries its stock one.)
  const redirect = res.statusCode >= 300 && res.statusCode < 400;
  if (type.startsWith('text/html') && text.length > 0 && !redirect) await checkHtml(text, `${method} ${p}`);
  return { status: res.statusCode, headers, text };
}

// POSTs an urlencoded form built from the object `fields`.
function postForm(p, fields, opts = {}) {
  return request(p, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(opts.headers || {}) },
    body: typeof fields === 'string' ? fields : new URLSearchParams(fields).toString(),
  });
}

// Stops or starts the throwaway PostgreSQL cluster of pg_virtualenv.
function pgCluster(action) {
  execFileSync('pg_ctlcluster', [process.env.PGVERSION || '15', 'regress', action, '-m', 'fast'],
    { stdio: 'ignore' });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The browser: Debian's chromium through playwright-core, as its headless
// shell (package chromium-headless-shell) where that is installed: the same
// engine without the desktop browser around it, which takes about half the
// CPU time for the same pages and none while a page sits open. tests/run
// starts one for all browser test files (node harness.js --browser-server
// FILE writes its address to FILE, named in CAREBOX_BROWSER); a file run on
// its own launches its own.
const HEADLESS_SHELL = '/usr/bin/chromium-headless-shell';
const BROWSER_OPTIONS = {
  executablePath: fs.existsSync(HEADLESS_SHELL) ? HEADLESS_SHELL : '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
};
let browserPromise = null;
async function browser() {
  if (!browserPromise) {
    const { chromium } = require('playwright-core');
    const file = process.env.CAREBOX_BROWSER;
    browserPromise = file ? (async () => {
      for (let i = 0; i < 300 && !fs.existsSync(file); i++) await sleep(100);
      if (!fs.existsSync(file)) throw new Error(`the shared browser did not start (no ${file})`);
      return chromium.connect(fs.readFileSync(file, 'utf8'));
    })() : chromium.launch(BROWSER_OPTIONS);
  }
  return browserPromise;
}

// Runs `fn(page)` in a fresh browser context with JavaScript disabled. On a
// failure, a screenshot of the page is kept in tests/log/ for the developer.
async function withPage(name, fn) {
  const b = await browser();
  const ctx = await b.newContext({ javaScriptEnabled: false, baseURL: BASE });
  const page = await ctx.newPage();
  const checks = []; // the HTML checks started, each done once tidy has answered
  page.on('response', async (res) => {
    const type = res.headers()['content-type'] || '';
    if (type.startsWith('text/html') && (res.status() < 300 || res.status() >= 400)) {
      let body;
      try { body = await res.text(); } catch { return; } // gone: the page moved on
      checks.push(checkHtml(body, `${res.request().method()} ${res.url()}`)
        .catch((e) => { page.htmlError = page.htmlError || e; }));
    }
  });
  try {
    await fn(page);
    await Promise.all(checks);
    if (page.htmlError) throw page.htmlError;
  } catch (e) {
    fs.mkdirSync(LOGDIR, { recursive: true });
    const shot = path.join(LOGDIR, name.replace(/[^a-z0-9]+/gi, '-') + '.png');
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    e.message += `\n(screenshot: ${shot})`;
    throw e;
  } finally {
    await ctx.close();
  }
}

// Logs `email` in through the login form of the browser page `page`, as a
// person would; the page then shows where the login led (the inbox).
async function logInPage(page, email, password = 'a long enough password') {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function closeBrowser() {
  if (browserPromise) await (await browserPromise).close();
  browserPromise = null;
}

// The test file's one connection to the test database, made from the PG*
// variables of pg_virtualenv. Values come back as PostgreSQL's text (as
// psql prints them: 't'/'f', timestamps to the microsecond), NULL as ''.
// The connection does not keep node alive once the file's tests are done,
// and one the server closed (a database restart) is replaced at the next
// query.
let pool = null;
function db() {
  if (!pool) {
    pool = new Pool({ database: 'carebox_test', application_name: 'carebox-tests', max: 1, allowExitOnIdle: true });
    pool.on('error', () => {}); // an idle connection ended by the server: the next query opens another
  }
  return pool;
}
const asText = { getTypeParser: () => (v) => v };

// Runs one SQL statement on the test database, with `params` as $1, $2, ...;
// resolves to the rows as arrays of strings.
async function sql(query, params = []) {
  const r = await db().query({ text: query, values: params, rowMode: 'array', types: asText });
  return [].concat(r).flatMap((x) => x.rows).map((row) => row.map((v) => (v === null ? '' : String(v))));
}

// Runs a program with `input` on its standard input; rejects with its
// standard error if it fails.
function run(bin, args, input, env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve()
      : reject(new Error(`${path.basename(bin)} ${args.join(' ')} exited with ${code}: ${err}`))));
    p.stdin.end(input);
  });
}

// carebox-admin's checks of a new user's e-mail address and password
// (auth_email_problem and auth_password_problem in src/auth.c).
function userProblem(email, pw, first, last) {
  const eq = (a, b) => a.toLowerCase() === b.toLowerCase();
  const at = email.indexOf('@'), dot = at < 0 ? -1 : email.indexOf('.', at + 1);
  if (email === '' || email.length > 254 || /[\x00- \x7f]/.test(email) || at <= 0 ||
    email.indexOf('@', at + 1) >= 0 || dot < 0 || dot === at + 1 || dot === email.length - 1) return 'bad e-mail address';
  const n = [...pw].length;
  if (n < 12 || n > 128) return 'password of the wrong length';
  if (eq(pw, email) || (first && eq(pw, first)) || (last && eq(pw, last)) ||
    (first && last && (eq(pw, first + last) || eq(pw, `${first} ${last}`)))) return 'password is the e-mail address or name';
  return null;
}

// Password (and cost) -> promise of its hash, as carebox-admin stored it.
const hashes = new Map();

// Creates a user as `carebox-admin create-user` does; resolves to the
// user's id. The first user with a given password is created by
// carebox-admin itself (the password goes in on stdin); its stored hash is
// kept, and later users with that password get it through the same
// statement carebox-admin runs, without computing it again. The hash is
// made at the lowest cost, as the test stack's carebox makes them
// (CAREBOX_PWHASH_TESTING in src/auth.h), unless `fullCost` asks for the
// production setting.
async function createUser({ role = 'patient', email, password = 'a long enough password', clinic = 'Test Clinic',
  first = 'Test', last = 'Person', fullCost = false }) {
  emails.add(email.toLowerCase());
  const key = `${fullCost}:${password}`;
  const known = hashes.get(key);
  if (!known) {
    const made = run(path.join(process.env.BUILDDIR || '.', 'carebox-admin'), ['-d', process.env.SRCDIR || '.',
      'create-user', '--role', role, '--email', email, '--clinic', clinic, '--first', first, '--last', last],
    password + '\n', fullCost ? {} : { CAREBOX_PWHASH_TESTING: '1' })
      // (The clinic, if carebox-admin made it, lets its staff in with the
      // password alone, as below.)
      .then(() => sql('UPDATE clinics SET staff_two_step = false WHERE lower(name) = lower($1)', [clinic]))
      .then(() => sql('SELECT id, password_hash FROM users WHERE lower(email) = lower($1)', [email]));
    const hash = made.then((rows) => rows[0][1]);
    hashes.set(key, hash);
    hash.catch(() => hashes.delete(key));
    return (await made)[0][0];
  }
  const problem = userProblem(email, password, first, last);
  if (problem) throw new Error(`createUser ${email}: ${problem}`);
  // Test clinics let their staff in with the password alone, unlike a new
  // clinic's default; the two-step tests turn it on where they need it.
  const rows = await sql(`WITH c AS (INSERT INTO clinics (name, staff_two_step) VALUES ($6, false)
      ON CONFLICT ((lower(name))) DO UPDATE SET name = clinics.name RETURNING id),
    u AS (INSERT INTO users (email, first_name, last_name, password_hash)
      VALUES ($1, $2, $3, $5) RETURNING id)
    INSERT INTO memberships (clinic_id, user_id, role) SELECT c.id, u.id, $4::user_role FROM c, u
    RETURNING user_id`,
  [email, first, last, role, await known, clinic]);
  return rows[0][0];
}

// A unique e-mail address for one test.
let emailCounter = 0;
const emails = new Set(); // every address this file made up or created a user with, in lower case
function uniqueEmail(tag = 'user') {
  const email = `${tag}-${process.pid}-${Date.now()}-${++emailCounter}@test.example`;
  emails.add(email.toLowerCase());
  return email;
}

// A browser-like HTTP client: keeps cookies, remembers the CSRF token of the
// last page it saw, never follows redirects by itself.
class Client {
  constructor() { this.jar = new Map(); this.csrf = null; }

  async request(p, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await request(p, { ...opts, headers });
    for (const c of r.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim(), value = pair.slice(i + 1).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const m = /name="csrf_token" value="([0-9a-f]{64})"/.exec(r.text);
    if (m) this.csrf = m[1];
    return r;
  }

  // GETs `p`. A one-time link (/reset?token=, /invite?token=, /join?key=)
  // is followed through its hand-off as a browser follows it: the key moves
  // into the link cookie and the answer sends the browser back to the bare
  // path (nginx.conf, page_link_key).
  async get(p) {
    const r = await this.request(p);
    const bare = p.split('?')[0];
    if (r.status === 303 && /^\/(reset|invite|join)\?/.test(p) && r.headers.get('location') === bare) {
      return this.request(bare);
    }
    return r;
  }

  // POSTs `fields` as a form, adding the CSRF token unless given (null: none).
  post(p, fields = {}) {
    const f = { ...fields };
    if (f.csrf_token === undefined && this.csrf) f.csrf_token = this.csrf;
    if (f.csrf_token === null) delete f.csrf_token;
    return this.request(p, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(f).toString(),
    });
  }

  // Does an action that asks first (deactivate, remove, leave, log out
  // everywhere) as a person does: GETs its confirmation page at `p`, which
  // must offer a form that POSTs back to `p` with a "Yes, ..." danger
  // button, and POSTs it with `fields`. Returns the POST's response.
  async confirm(p, fields = {}) {
    const page = await this.get(p);
    assert.equal(page.status, 200, `GET ${p}: the confirmation page`);
    assert.ok(page.text.includes(`<form method="post" action="${p}">`), `the confirmation page of ${p} posts to it`);
    assert.match(page.text, /<button class="danger" type="submit">Yes, [^<]+<\/button> <a class="cancel" href="[^"]+">Cancel<\/a>/);
    return this.post(p, fields);
  }

  // Logs in through the form; returns the POST's response (303 on success).
  async login(email, password = 'a long enough password') {
    await this.get('/login');
    return this.post('/login', { email, password });
  }
}

// Forgets this file's failed logins, so throttling from one test cannot leak
// into the next: those from its client address, and those for the e-mail
// addresses it used (the browser's come from 127.0.0.1). Other files, which
// may be running at the same time, keep theirs.
async function clearThrottle() {
  await sql('DELETE FROM login_failures WHERE address = $1 OR lower(email) = ANY($2::text[])', [ADDRESS, [...emails]]);
}

// Turns two-step sign-in on for the logged-in `client` as a person would:
// the key from the enrolment page, typed into oathtool (Debian's
// oath-toolkit) for the code. Returns { key, codes, page } (the recovery
// codes and the page that showed them).
async function enrolTwoStep(client) {
  const form = await client.get('/account/two-step');
  const key = /Key: <code class="code"><strong>([A-Z2-7 ]+)<\/strong>/.exec(form.text)[1].replace(/ /g, '');
  const page = await client.post('/account/two-step', { code: totpCode(key) });
  const codes = [...page.text.matchAll(/<li><code>([a-z0-9]{5}-[a-z0-9]{5})<\/code><\/li>/g)].map((m) => m[1]);
  return { key, codes, page };
}

// The code of base32 `key` now (or at `at`, a Date), from oathtool.
function totpCode(key, at = null) {
  const args = ['--totp', '-b', key];
  if (at) args.push('-N', at.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
  return execFileSync('oathtool', args, { encoding: 'utf8' }).trim();
}

module.exports = {
  BASE, ADDRESS, request, postForm, checkHtml, pgCluster, sleep, withPage, logInPage, closeBrowser,
  sql, createUser, uniqueEmail, Client, clearThrottle, enrolTwoStep, totpCode,
};

// node harness.js --browser-server FILE: starts the browser for the test
// files to share, writes its address to FILE, and runs until SIGTERM.
if (require.main === module && process.argv[2] === '--browser-server') {
  (async () => {
    const server = await require('playwright-core').chromium.launchServer(BROWSER_OPTIONS);
    const file = process.argv[3];
    fs.writeFileSync(`${file}.new`, server.wsEndpoint());
    fs.renameSync(`${file}.new`, file);
    process.on('SIGTERM', () => server.close().finally(() => process.exit(0)));
  })();
}
