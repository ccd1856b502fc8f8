// account.test.js - a user's own account (name, e-mail, password, log out
// everywhere) and the one-time links: invitations and password resets.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail, clearThrottle, request } = require('../lib/harness');

const PW = 'a long enough password';
const NEW_PW = 'another quite long passphrase';

// A clinic name no other test uses.
let clinicCounter = 0;
const uniqueClinic = () => `Account Clinic ${process.pid}-${Date.now()}-${++clinicCounter}`;

// A client logged in as `email` that has loaded `page`, so it holds the
// session's CSRF token.
async function loggedIn(email, password = PW, page = '/account') {
  const c = new Client();
  const r = await c.login(email, password);
  assert.equal(r.status, 303, `login of ${email}`);
  const p = await c.get(page);
  assert.equal(p.status, 200, `GET ${page}`);
  return c;
}

// The one-time link (path and token) shown in the flash of `html`.
function flashLink(html, kind) {
  const m = new RegExp(`(https?://[^\\s<]+)?/${kind}\\?token=([0-9a-f]{64})`).exec(html);
  assert.ok(m, `a ${kind} link in the page`);
  return { url: m[0], path: `/${kind}?token=${m[2]}`, token: m[2] };
}

const userRow = async (id) => (await sql('SELECT email, first_name, last_name, password_hash FROM users WHERE id = $1', [id]))[0];
const sessionCount = async (id) => Number((await sql('SELECT count(*) FROM sessions WHERE user_id = $1', [id]))[0][0]);
const auditCount = async (id, action) => Number((await sql(
  'SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = $2', [id, action]))[0][0]);

test('the account page needs a login and shows the forms with the stored values', async () => {
  const r = await request('/account');
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/login?next=%2Faccount');
  const email = uniqueEmail('acct');
  await createUser({ email, first: 'Ada', last: 'Lovelace', clinic: uniqueClinic() });
  const c = await loggedIn(email);
  const p = await c.get('/account');
  assert.match(p.text, /name="first_name" value="Ada"/);
  assert.match(p.text, /name="last_name" value="Lovelace"/);
  assert.ok(p.text.includes(`value="${email}"`));
  assert.match(p.text, /action="\/account\/password"/);
  assert.match(p.text, /action="\/account\/sessions"/);
});

test('a name change needs no password and is audited', async () => {
  const email = uniqueEmail('acct');
  const id = await createUser({ email, clinic: uniqueClinic() });
  const c = await loggedIn(email);
  const r = await c.post('/account', { first_name: ' Grace ', last_name: 'Hopper', email });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/account');
  const p = await c.get('/account');
  assert.match(p.text, /Your details were saved/);
  assert.deepEqual((await userRow(id)).slice(0, 3), [email, 'Grace', 'Hopper']);
  assert.equal(await auditCount(id, 'account updated'), 1);
  const bad = await c.post('/account', { first_name: '', last_name: 'x'.repeat(101), email });
  assert.equal(bad.status, 422);
  assert.match(bad.text, /Enter your first name/);
  assert.match(bad.text, /at most 100 characters/);
  assert.deepEqual((await userRow(id)).slice(1, 3), ['Grace', 'Hopper']);
});

test('an e-mail change needs the right current password, a valid and free address', async () => {
  await clearThrottle();
  const email = uniqueEmail('acct'), other = uniqueEmail('taken');
  const clinic = uniqueClinic();
  const id = await createUser({ email, clinic });
  await createUser({ email: other, clinic });
  const c = await loggedIn(email);
  const fresh = uniqueEmail('fresh');
  const base = { first_name: 'Test', last_name: 'Person' };

  let r = await c.post('/account', { ...base, email: fresh });
  assert.equal(r.status, 422, 'no current password');
  assert.match(r.text, /Enter your current password/);
  r = await c.post('/account', { ...base, email: fresh, current_password: 'wrong password here' });
  assert.equal(r.status, 422, 'wrong current password');
  assert.match(r.text, /id="current_password"[^>]*>\s*<p class="field-error">This is not your current password/);
  assert.ok(r.text.includes(`value="${fresh}"`), 'the form comes back as sent');
  r = await c.post('/account', { ...base, email: 'not-an-address', current_password: PW });
  assert.equal(r.status, 422, 'invalid address');
  assert.match(r.text, /class="field-error"/);
  r = await c.post('/account', { ...base, email: other.toUpperCase(), current_password: PW });
  assert.equal(r.status, 422, 'address of another account, in other case');
  assert.match(r.text, /already an account with this e-mail address/);
  assert.equal((await userRow(id))[0], email, 'nothing changed so far');

  r = await c.post('/account', { ...base, email: fresh, current_password: PW });
  assert.equal(r.status, 303);
  assert.equal((await userRow(id))[0], fresh);
  assert.equal((await sql('SELECT detail FROM audit_log WHERE subject_id = $1 AND action = \'account updated\'', [id]))[0][0],
    'e-mail address changed');
  await clearThrottle();
  assert.equal((await new Client().login(fresh)).status, 303, 'the new address logs in');
});

test('a password change checks the current password and the new one', async () => {
  await clearThrottle();
  const email = uniqueEmail('pw');
  const id = await createUser({ email, clinic: uniqueClinic() });
  const c = await loggedIn(email);
  const hash = (await userRow(id))[3];

  let r = await c.post('/account/password', { current_password: 'not my password', password: NEW_PW, password2: NEW_PW });
  assert.equal(r.status, 422, 'wrong current password');
  assert.match(r.text, /id="password_current"[^>]*>\s*<p class="field-error">This is not your current password/);
  r = await c.post('/account/password', { current_password: PW, password: 'short', password2: 'short' });
  assert.equal(r.status, 422, 'too short');
  assert.match(r.text, /class="field-error"/);
  for (const [weak, why] of [['111111111111', /reads the same backwards/], ['password1234', /a run like 1234/],
    ['administrator', /too common or too simple/]]) {
    r = await c.post('/account/password', { current_password: PW, password: weak, password2: weak });
    assert.equal(r.status, 422, `${weak} is refused`);
    assert.match(r.text, new RegExp(`<p class="field-error">[^<]*${why.source}`), 'with why, next to the field');
  }
  r = await c.post('/account/password', { current_password: PW, password: NEW_PW, password2: NEW_PW + 'x' });
  assert.equal(r.status, 422, 'repetition differs');
  assert.match(r.text, /The two passwords differ/);
  assert.equal((await userRow(id))[3], hash, 'nothing changed');
  await clearThrottle();
});

test('a password change ends the other sessions but not the current one', async () => {
  await clearThrottle();
  const email = uniqueEmail('pw');
  const id = await createUser({ email, clinic: uniqueClinic() });
  const c = await loggedIn(email);
  const other = await loggedIn(email);
  assert.equal(await sessionCount(id), 2);

  const r = await c.post('/account/password', { current_password: PW, password: NEW_PW, password2: NEW_PW });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/account');
  const p = await c.get('/account');
  assert.equal(p.status, 200, 'this session goes on');
  assert.match(p.text, /Your password was changed/);
  assert.equal((await other.get('/account')).status, 303, 'the other session is over');
  assert.equal(await sessionCount(id), 1);
  assert.equal(await auditCount(id, 'password changed'), 1);
  assert.equal((await new Client().login(email, PW)).status, 401, 'the old password is dead');
  await clearThrottle();
  assert.equal((await new Client().login(email, NEW_PW)).status, 303, 'the new one works');
});

test('too many wrong current passwords are throttled like logins', async () => {
  await clearThrottle();
  const email = uniqueEmail('pw');
  await createUser({ email, clinic: uniqueClinic() });
  const c = await loggedIn(email);
  for (let i = 0; i < 5; i++) {
    const r = await c.post('/account/password', { current_password: `wrong ${i} password`, password: NEW_PW, password2: NEW_PW });
    assert.equal(r.status, 422);
  }
  const r = await c.post('/account/password', { current_password: PW, password: NEW_PW, password2: NEW_PW });
  assert.equal(r.status, 429, 'even the right password waits now');
  assert.match(r.text, /Too many wrong passwords/);
  await clearThrottle();
});

test('log out everywhere ends every session of the user, this one included', async () => {
  const email = uniqueEmail('out');
  const id = await createUser({ email, clinic: uniqueClinic() });
  const c = await loggedIn(email);
  const other = await loggedIn(email);
  const r = await c.confirm('/account/sessions');
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/login?logged_out_everywhere=1');
  assert.equal(await sessionCount(id), 0);
  assert.equal((await c.get('/account')).status, 303);
  assert.equal((await other.get('/account')).status, 303);
  assert.equal(await auditCount(id, 'logged out everywhere'), 1);
});

test('account forms without the CSRF token are refused and change nothing', async () => {
  const email = uniqueEmail('csrf');
  const id = await createUser({ email, clinic: uniqueClinic() });
  const c = await loggedIn(email);
  const before = await userRow(id);
  let r = await c.post('/account', { csrf_token: null, first_name: 'Evil', last_name: 'Change', email });
  assert.equal(r.status, 403);
  r = await c.post('/account/password', { csrf_token: null, current_password: PW, password: NEW_PW, password2: NEW_PW });
  assert.equal(r.status, 403);
  r = await c.post('/account/sessions', { csrf_token: 'f'.repeat(64) });
  assert.equal(r.status, 403);
  assert.deepEqual(await userRow(id), before);
  assert.equal(await sessionCount(id), 1);
});

// A doctor registers a new patient; returns the patient's id and link.
// A colleague invited before join links (an account without a password, a
// doctor of the admin's clinic) and the invitation link the admin makes for
// them ("new invitation link" on their page); returns id, e-mail and link.
async function inviteColleague() {
  const clinic = uniqueClinic();
  const admin = uniqueEmail('adm');
  await createUser({ role: 'admin', email: admin, clinic });
  const a = await loggedIn(admin, PW, '/admin/users');
  const email = uniqueEmail('colleague');
  const id = (await sql(`WITH u AS (INSERT INTO users (email, first_name, last_name) VALUES ($1, '', '')
    RETURNING id) INSERT INTO memberships (clinic_id, user_id, role) SELECT c.id, u.id, 'doctor'
    FROM clinics c, u WHERE c.name = $2 RETURNING user_id`, [email, clinic]))[0][0];
  const r = await a.post(`/admin/users/${id}/reset`);
  assert.equal(r.status, 303);
  const p = await a.get(r.headers.get('location'));
  return { id, email, link: flashLink(p.text, 'invite') };
}

test('an invitation link sets up the account once and logs the user in', async () => {
  const { id, email, link } = await inviteColleague();
  const v = new Client();
  let r = await v.get(link.path);
  assert.equal(r.status, 200);
  assert.ok(r.text.includes(email));
  assert.match(r.text, /name="first_name" value=""/, 'the invited person gives their own names');
  assert.match(r.text, new RegExp(`name="token" value="${link.token}"`));

  r = await v.post('/invite', { token: link.token, first_name: 'Patricia', last_name: 'Ient', password: 'short', password2: 'short' });
  assert.equal(r.status, 422, 'a bad password sends the form back');
  assert.match(r.text, /name="first_name" value="Patricia"/);
  r = await v.post('/invite', { token: link.token, first_name: '', last_name: 'Ient', password: PW, password2: PW });
  assert.equal(r.status, 422, 'a missing name sends the form back');
  assert.equal((await userRow(id))[3], '', 'no password stored yet');
  assert.equal((await sql('SELECT used_at IS NULL FROM one_time_links WHERE user_id = $1', [id]))[0][0], 't', 'link not used up');

  r = await v.post('/invite', { token: link.token, first_name: 'Patricia', last_name: 'Ient', password: PW, password2: PW });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/inbox');
  assert.match((await v.get('/inbox')).text, /flash-ok[^>]*>Welcome to carebox, Patricia: your account is set up/,
    'a notice says what happened');
  const home = await v.get('/account');
  assert.equal(home.status, 200, 'logged in');
  assert.match(home.text, /value="Patricia"/);
  assert.equal(await auditCount(id, 'invitation accepted'), 1);

  const again = new Client();
  r = await again.get(link.path);
  assert.equal(r.status, 404, 'the link works once');
  assert.match(r.text, /invalid or has expired/);
  assert.match(r.text, /ask your clinic for a new link/);
  await again.get('/login');
  r = await again.post('/invite', { token: link.token, first_name: 'Mallory', last_name: 'X', password: PW + '!', password2: PW + '!' });
  assert.equal(r.status, 404, 'nor can it be posted twice');
  assert.equal((await userRow(id))[1], 'Patricia');
});

test('expired, malformed and wrong-kind links give the invalid-link page', async () => {
  const { id, link } = await inviteColleague();
  const v = new Client();
  assert.equal((await v.get(link.path.replace('invite', 'reset'))).status, 404, 'an invitation is no reset link');
  for (const bad of ['/invite', '/invite?token=', '/invite?token=xyz', `/invite?token=${link.token.toUpperCase()}`,
    `/invite?token=${'0'.repeat(64)}`]) {
    const r = await v.get(bad);
    assert.equal(r.status, 404, bad);
    assert.match(r.text, /invalid or has expired/, bad);
  }
  await sql('UPDATE one_time_links SET expires_at = now() - interval \'1 minute\' WHERE user_id = $1', [id]);
  const r = await v.get(link.path);
  assert.equal(r.status, 404, 'expired');
  await v.get('/login');
  const p = await v.post('/invite', { token: link.token, first_name: 'A', last_name: 'B', password: PW, password2: PW });
  assert.equal(p.status, 404, 'expired, posted');
  assert.equal((await userRow(id))[3], '');
});

test('a reset link sets a new password once and ends every session', async () => {
  await clearThrottle();
  const clinic = uniqueClinic();
  const admin = uniqueEmail('admin'), email = uniqueEmail('forgot');
  await createUser({ role: 'admin', email: admin, clinic });
  const id = await createUser({ email, clinic });
  const user = await loggedIn(email);
  const a = await loggedIn(admin, PW, `/admin/users/${id}`);
  let r = await a.post(`/admin/users/${id}/reset`);
  assert.equal(r.status, 303);
  const link = flashLink((await a.get(r.headers.get('location'))).text, 'reset');
  assert.equal((await user.get('/account')).status, 303, 'the reset link ends the open session at once');
  assert.equal(await sessionCount(id), 0);

  const v = new Client();
  r = await v.get(link.path);
  assert.equal(r.status, 200);
  assert.doesNotMatch(r.text, /name="first_name"/, 'a reset asks only for the password');
  r = await v.post('/reset', { token: link.token, password: NEW_PW, password2: 'something else entirely' });
  assert.equal(r.status, 422);
  assert.match(r.text, /The two passwords differ/);
  assert.equal((await sql('SELECT used_at IS NULL FROM one_time_links WHERE user_id = $1', [id]))[0][0], 't',
    'a bad form changes nothing');

  r = await v.post('/reset', { token: link.token, password: NEW_PW, password2: NEW_PW });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/login?reset=1');
  const login = await v.get('/login?reset=1');
  assert.match(login.text, /Your password was reset; log in with the new one\./);
  assert.doesNotMatch((await v.get('/login')).text, /Your password was reset/);
  assert.equal(await auditCount(id, 'password reset'), 1);
  assert.equal((await new Client().login(email, PW)).status, 401, 'old password dead');
  await clearThrottle();
  assert.equal((await new Client().login(email, NEW_PW)).status, 303, 'new password works');
  assert.equal((await v.get(link.path)).status, 404, 'the link works once');
});
