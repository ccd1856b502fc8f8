// logs.test.js - nothing personal reaches a log. Personal data that makes
// statements fail, or nearly: one e-mail address raced for through the app
// (two signups, two changes on /account, a signup and a change), given to
// carebox-admin when it is taken, and bad values and rows that break
// constraints, sent as the app's role and as the owner; then none of it is
// in any log: carebox's, nginx's access and error logs, PostgreSQL's server
// log (at its default settings: carebox-admin create-roles sets the roles
// up), carebox-admin's standard error. Runs alone (tests/run), so that the
// two requests of a race find two idle workers.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { Client: PgClient } = require('pg');
const { Client, createUser, sql, uniqueEmail } = require('../lib/harness');

const PW = 'a long enough password';
// Part of every piece of personal data below: no log may hold it.
const MARK = `zq${crypto.randomBytes(5).toString('hex')}`;
const CLINIC = `Logs Clinic ${MARK.slice(2)}`;
const admin = []; // carebox-admin's standard error, for the last test

// PostgreSQL's server log of the test cluster (pg_virtualenv's, through
// pg_lsclusters, which lists each cluster's data directory and log file).
function serverLog() {
  const row = execFileSync('pg_lsclusters', ['-h'], { encoding: 'utf8' }).split('\n')
    .map((l) => l.trim().split(/\s+/)).find((f) => f[1] === 'regress');
  assert.ok(row && row[6], 'pg_lsclusters names the test cluster\'s log');
  return row[6];
}

// A connection as the role of a libpq conninfo ("host=… port=… user=…
// dbname=…"), which tests/stack hands carebox and carebox-admin.
async function connectAs(conninfo) {
  const o = Object.fromEntries(conninfo.trim().split(/\s+/).map((kv) => kv.split('=')));
  const c = new PgClient({ host: o.host, port: o.port, user: o.user, database: o.dbname,
    application_name: 'carebox-logs-test' });
  await c.connect();
  return c;
}

// Asserts that `query` with `params` fails on connection `c` with SQLSTATE `code`.
async function fails(c, code, query, params) {
  await assert.rejects(c.query(query, params), (e) => e.code === code, `${query} fails with ${code}`);
}

let clinicId;
test('set-up: a clinic to sign up with', async () => {
  await createUser({ email: uniqueEmail('logs-doctor'), role: 'doctor', clinic: CLINIC });
  clinicId = (await sql('SELECT id FROM clinics WHERE name = $1', [CLINIC]))[0][0];
});

// Sends the signup form for `email`; resolves to the response.
async function signup(email, first = 'Marta') {
  const c = new Client();
  await c.get('/signup');
  return c.post('/signup', { email, first_name: first, last_name: `Private ${MARK}`, clinic: clinicId,
    date_of_birth: '1961-03-14', password: PW, password2: PW });
}

// A logged-in client of a new user, on /account.
async function member() {
  const email = uniqueEmail('logs');
  await createUser({ email, clinic: CLINIC });
  const c = new Client();
  assert.equal((await c.login(email, PW)).status, 303);
  await c.get('/account');
  return c;
}

// Asks for address `email` on /account.
const change = (c, email) => c.post('/account', { first_name: 'Marta', last_name: `Private ${MARK}`,
  email, current_password: PW });

const statuses = (rs) => rs.map((r) => r.status).sort();

test('three signups with one address at once make one account; the others are told', async () => {
  const email = `${MARK}.signup@logs.example`;
  const rs = await Promise.all([signup(email), signup(email), signup(email)]);
  assert.deepEqual(statuses(rs), [303, 422, 422]);
  for (const r of rs.filter((x) => x.status === 422)) assert.match(r.text, /already an account with this e-mail/);
  assert.equal((await sql('SELECT count(*) FROM users WHERE email = $1', [email]))[0][0], '1');
});

test('two people taking one address at once: one gets it, the other is told', async () => {
  for (let round = 0; round < 6; round++) {
    const email = `${MARK}.change${round}@logs.example`;
    const a = await member();
    // Every other round the rival is a signup.
    const rival = round % 2 ? await member() : null;
    const rs = await Promise.all([change(a, email), rival ? change(rival, email) : signup(email)]);
    assert.deepEqual(statuses(rs), [303, 422], `round ${round}`);
    assert.equal((await sql('SELECT count(*) FROM users WHERE email = $1', [email]))[0][0], '1');
  }
});

test('carebox-admin refuses a taken address without writing it out', async () => {
  const email = `${MARK}.admin@logs.example`;
  const create = () => spawnSync(path.join(process.env.BUILDDIR, 'carebox-admin'),
    ['-d', process.env.SRCDIR, 'create-user', '--role', 'patient', '--email', email, '--clinic', CLINIC,
      '--first', 'Marta', '--last', `Private ${MARK}`],
    { input: `${PW}\n`, encoding: 'utf8', env: { ...process.env, CAREBOX_PWHASH_TESTING: '1' } });
  assert.equal(create().status, 0);
  const again = create();
  admin.push(again.stderr);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /23505/, 'it says why');
});

test('statements of the app\'s role and of the owner that fail on personal data', async () => {
  const taken = `${MARK}.taken@logs.example`;
  await createUser({ email: taken, clinic: CLINIC });
  const app = await connectAs(process.env.CAREBOX_DATABASE_URL);
  const owner = await connectAs(process.env.CAREBOX_ADMIN_DATABASE_URL || process.env.CAREBOX_DATABASE_URL);
  try {
    for (const c of [app, owner]) {
      await fails(c, '23505', 'INSERT INTO users (email, first_name, last_name) VALUES ($1, $2, $3)',
        [taken, 'Marta', `Private ${MARK}`]);
      await fails(c, '23514', 'INSERT INTO users (email, first_name, last_name) VALUES ($1, $2, $3)',
        [`${MARK}.long@logs.example`, 'x'.repeat(101), `Private ${MARK}`]);
      await fails(c, '22P02', 'SELECT $1::uuid', [`Marta Private ${MARK}`]);
      await fails(c, '22007', 'SELECT $1::date', [`born ${MARK}`]);
      await fails(c, '23514', 'UPDATE clinics SET time_zone = $1 WHERE name = $2', [`Zone/${MARK}`, CLINIC]);
    }
  } finally {
    await app.end();
    await owner.end();
  }
});

test('no log holds any of it', async () => {
  // A statement of the tests' own superuser, with the server's default
  // settings: its error, value and all, is in the server's log. So this is
  // the log, and the server writes errors to it.
  const control = `control-${crypto.randomBytes(5).toString('hex')}`;
  await assert.rejects(sql('SELECT $1::uuid', [control]));
  const pgLog = serverLog();
  let text = '';
  for (let i = 0; i < 50 && !text.includes(control); i++) {
    await new Promise((r) => setTimeout(r, 100));
    text = fs.readFileSync(pgLog, 'utf8');
  }
  assert.ok(text.includes(control), `${pgLog} holds the control statement's error`);

  const logs = {
    [pgLog]: text,
    'carebox-admin': admin.join('\n'),
  };
  for (const f of ['carebox.log', 'worker.log', 'nginx-access.log', 'nginx-error.log']) {
    const file = path.join(process.env.STACK_VAR, f);
    logs[file] = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }
  assert.match(logs[path.join(process.env.STACK_VAR, 'carebox.log')], /POST \/account 303/, 'carebox logged the requests');
  assert.match(logs[path.join(process.env.STACK_VAR, 'nginx-access.log')], /POST \/signup/, 'and so did nginx');
  for (const [file, content] of Object.entries(logs)) {
    const lines = content.split('\n').filter((l) => l.includes(MARK));
    assert.deepEqual(lines, [], `${file} holds personal data`);
  }
});
