// transactions.test.js - one transaction per page (src/route.c): an audited
// change commits with its audit entry or not at all, and a failure that must
// be recorded (a wrong password) stands though the answer is an error.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail } = require('../lib/harness');

const PW = 'a long enough password';
const NEW_PW = 'another quite long passphrase';

// Makes the audit log refuse entries of `action` about user `id`, as a
// full disk or a broken constraint would; returns the function's name.
async function breakAudit(id, action) {
  const fn = `fail_audit_${id.replace(/-/g, '')}`;
  await sql(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
      IF NEW.subject_id = '${id}' AND NEW.action = '${action}' THEN
        RAISE EXCEPTION 'audit refused for the test';
      END IF;
      RETURN NEW;
    END $f$`);
  await sql(`CREATE TRIGGER ${fn} BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
  return fn;
}

const broken = [];
after(async () => {
  for (const fn of broken) {
    await sql(`DROP TRIGGER IF EXISTS ${fn} ON audit_log`);
    await sql(`DROP FUNCTION IF EXISTS ${fn}()`);
  }
});

async function loggedIn(email) {
  const c = new Client();
  assert.equal((await c.login(email, PW)).status, 303);
  await c.get('/account');
  return c;
}

test('a password change whose audit entry cannot be written changes nothing', async () => {
  const email = uniqueEmail('tx');
  const id = await createUser({ email, clinic: `Tx Clinic ${process.pid}` });
  const c = await loggedIn(email);
  const other = await loggedIn(email);
  const hash = async () => (await sql('SELECT password_hash FROM users WHERE id = $1', [id]))[0][0];
  const before = await hash();
  broken.push(await breakAudit(id, 'password changed'));
  const r = await c.post('/account/password', { current_password: PW, password: NEW_PW, password2: NEW_PW });
  assert.equal(r.status, 500, 'the change fails as a whole');
  assert.equal(await hash(), before, 'the password is unchanged');
  assert.equal((await other.get('/account')).status, 200, 'the other device is still logged in');
  const gone = await sql("SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = 'password changed'", [id]);
  assert.equal(gone[0][0], '0');
});

test('a login whose audit entry cannot be written leaves no session', async () => {
  const email = uniqueEmail('txlogin');
  const id = await createUser({ email, clinic: `Tx Clinic ${process.pid}` });
  broken.push(await breakAudit(id, 'login'));
  const c = new Client();
  const r = await c.login(email, PW);
  assert.equal(r.status, 500);
  assert.equal(r.headers.get('set-cookie')?.includes('carebox_session=') ?? false, false, 'no session cookie');
  const n = await sql('SELECT count(*) FROM sessions WHERE user_id = $1', [id]);
  assert.equal(n[0][0], '0', 'no session row');
});

test('a wrong password is recorded though the answer is an error', async () => {
  const email = uniqueEmail('txwrong');
  const id = await createUser({ email, clinic: `Tx Clinic ${process.pid}` });
  const c = new Client();
  await c.get('/login');
  const r = await c.post('/login', { email, password: 'not the password at all' });
  assert.equal(r.status, 401);
  const failures = await sql('SELECT count(*) FROM login_failures WHERE lower(email) = lower($1)', [email]);
  assert.equal(failures[0][0], '1', 'the failure counts towards throttling');
  const audited = await sql("SELECT request_id FROM audit_log WHERE subject_id = $1 AND action = 'login failed'", [id]);
  assert.equal(audited.length, 1, 'and is in the audit log');
  assert.match(audited[0][0], /^[0-9a-f]{16,32}$/, 'with the request id');
});
