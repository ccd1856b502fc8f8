// admin.test.js - the clinic admin's pages (users, search, reset links,
// deactivation, staff invitations) and staff registering patients; the audit
// log is audit.test.js's.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { BASE, Client, createUser, sql, uniqueEmail, clearThrottle } = require('../lib/harness');

const PW = 'a long enough password';

let clinicCounter = 0;
const uniqueClinic = () => `Admin Clinic ${process.pid}-${Date.now()}-${++clinicCounter}`;

// A client logged in as `email` that has loaded `page` (for its CSRF token).
async function loggedIn(email, page = '/inbox') {
  const c = new Client();
  const r = await c.login(email);
  assert.equal(r.status, 303, `login of ${email}`);
  const p = await c.get(page);
  assert.equal(p.status, 200, `GET ${page}`);
  return c;
}

// A fresh clinic with a logged-in admin: { clinic, adminId, admin (client) }.
async function clinicWithAdmin() {
  const clinic = uniqueClinic(), email = uniqueEmail('admin');
  const adminId = await createUser({ role: 'admin', email, clinic, first: 'Ada', last: 'Admin' });
  return { clinic, email, adminId, admin: await loggedIn(email, '/admin/users') };
}

// The one-time link in the flash of `html`.
function flashLink(html, kind) {
  const m = new RegExp(`(https?://[^\\s<]+)?/${kind}\\?token=([0-9a-f]{64})`).exec(html);
  assert.ok(m, `a ${kind} link in the page`);
  return { url: m[0], path: `/${kind}?token=${m[2]}`, token: m[2] };
}

// Follows a 303 and returns the page.
async function follow(c, r) {
  assert.equal(r.status, 303);
  return c.get(r.headers.get('location'));
}

const one = async (q, p) => (await sql(q, p))[0][0];

// A colleague invited before join links (an account with no password yet,
// a member of `clinic` as `role`); resolves to the id. Their invitation link
// comes from the admin's "new invitation link" (POST .../reset).
async function pendingColleague(clinic, role = 'doctor') {
  const email = uniqueEmail('pending');
  return one(`WITH u AS (INSERT INTO users (email, first_name, last_name) VALUES ($1, '', '') RETURNING id)
    INSERT INTO memberships (clinic_id, user_id, role) SELECT c.id, u.id, $3::user_role FROM clinics c, u
    WHERE c.name = $2 RETURNING user_id`, [email, clinic, role]);
}

const userLinks = (html) => [...html.matchAll(/href="\/admin\/users\/([0-9a-f-]{36})"/g)].map((m) => m[1]);

test('the admin pages are for admins only', async () => {
  const clinic = uniqueClinic();
  const doctor = uniqueEmail('doc'), patient = uniqueEmail('pat');
  await createUser({ role: 'doctor', email: doctor, clinic });
  const pid = await createUser({ email: patient, clinic });
  const d = await loggedIn(doctor);
  for (const p of ['/admin/users', `/admin/users/${pid}`, '/admin/invite', '/admin/audit']) {
    assert.equal((await d.get(p)).status, 403, `doctor: ${p}`);
  }
  assert.equal((await d.post(`/admin/users/${pid}/deactivate`)).status, 403);
  assert.equal(await one('SELECT active FROM users WHERE id = $1', [pid]), 't');
  const p = await loggedIn(patient);
  assert.equal((await p.get('/patients/new')).status, 403, 'patients cannot register patients');
  const v = new Client();
  const r = await v.get('/admin/users');
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/login?next=%2Fadmin%2Fusers');
});

test('the user list shows the clinic\'s members only, ordered by last name', async () => {
  const { clinic, admin } = await clinicWithAdmin();
  const b = await createUser({ email: uniqueEmail('b'), clinic, first: 'Bea', last: 'Zimmer' });
  const a = await createUser({ role: 'doctor', email: uniqueEmail('a'), clinic, first: 'Al', last: 'Baker' });
  const stranger = await createUser({ email: uniqueEmail('x'), clinic: uniqueClinic(), first: 'Sam', last: 'Stranger' });
  const r = await admin.get('/admin/users');
  assert.equal(r.status, 200);
  const ids = userLinks(r.text);
  assert.ok(ids.indexOf(a) >= 0 && ids.indexOf(a) < ids.indexOf(b), 'Baker before Zimmer');
  assert.ok(!ids.includes(stranger), 'no user of another clinic');
  assert.match(r.text, /<td data-label="Role">doctor<\/td>/);
});

test('search finds by name and e-mail and takes % and _ literally', async () => {
  const { clinic, admin } = await clinicWithAdmin();
  const tag = `q${Date.now()}`;
  const pct = await createUser({ email: uniqueEmail(tag), clinic, first: 'Hun', last: 'Dred%Percent' });
  const und = await createUser({ email: uniqueEmail(tag), clinic, first: 'Low', last: 'Under_Score' });
  const plain = await createUser({ email: uniqueEmail(tag), clinic, first: 'Plain', last: 'UnderxScore' });
  const byMail = await createUser({ email: uniqueEmail(`mail${tag}`), clinic, first: 'Mai', last: 'Ler' });
  const search = async (q) => userLinks((await admin.get(`/admin/users?q=${encodeURIComponent(q)}`)).text);

  assert.deepEqual(await search('under_score'), [und], '_ is no wildcard');
  assert.deepEqual(await search('%'), [pct], '% is no wildcard');
  assert.deepEqual((await search('underxscore')), [plain]);
  assert.deepEqual(await search('Low Under'), [und], 'first and last name together');
  assert.deepEqual(await search(`mail${tag}`), [byMail], 'by e-mail address');
  assert.equal((await search(tag)).length, 4, 'by part of the e-mail address');
  const none = await admin.get('/admin/users?q=nobody-has-this-name');
  assert.match(none.text, /No user matches/);
  assert.match(none.text, /value="nobody-has-this-name"/);
});

test('a user of another clinic is a 404 for every admin page and action', async () => {
  const { admin } = await clinicWithAdmin();
  const other = await createUser({ email: uniqueEmail('other'), clinic: uniqueClinic() });
  assert.equal((await admin.get(`/admin/users/${other}`)).status, 404);
  for (const action of ['reset', 'deactivate', 'activate']) {
    assert.equal((await admin.post(`/admin/users/${other}/${action}`)).status, 404, action);
  }
  assert.equal(await one('SELECT active FROM users WHERE id = $1', [other]), 't');
  assert.equal(await one('SELECT count(*) FROM one_time_links WHERE user_id = $1', [other]), '0');
  assert.equal((await admin.get('/admin/users/00000000-0000-0000-0000-000000000000')).status, 404);
  assert.equal((await admin.get('/admin/users/not-a-uuid')).status, 404);
});

test('deactivation ends the user\'s open session at once; reactivation lets them in again', async () => {
  await clearThrottle();
  const { clinic, admin } = await clinicWithAdmin();
  const email = uniqueEmail('leaver');
  const id = await createUser({ role: 'doctor', email, clinic });
  const victim = await loggedIn(email, '/account');
  const page = await admin.get(`/admin/users/${id}`);
  assert.match(page.text, /action="\/admin\/users\/[0-9a-f-]+\/deactivate"/);

  const r = await admin.confirm(`/admin/users/${id}/deactivate`);
  assert.equal(r.headers.get('location'), `/admin/users/${id}`);
  const after = await follow(admin, r);
  assert.match(after.text, /deactivated and logged out everywhere/);
  assert.match(after.text, /action="\/admin\/users\/[0-9a-f-]+\/activate"/);
  assert.equal(await one('SELECT active FROM users WHERE id = $1', [id]), 'f');
  assert.equal(await one('SELECT count(*) FROM sessions WHERE user_id = $1', [id]), '0');
  const next = await victim.get('/account');
  assert.equal(next.status, 303);
  assert.match(next.headers.get('location'), /^\/login/);
  const refused = await new Client().login(email);
  assert.equal(refused.status, 403, 'no new login either');
  assert.match(refused.text, /This account has been deactivated/, 'told so, after the right password');
  assert.equal(await one(`SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = 'login refused: deactivated'
    AND clinic_id IS NULL`, [id]), '1', 'on the person\'s own record');
  const guess = await new Client().login(email, 'not the password at all');
  assert.equal(guess.status, 401, 'a wrong password learns nothing');
  assert.doesNotMatch(guess.text, /deactivated/);
  await clearThrottle();
  assert.equal(await one('SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = \'user deactivated\'', [id]), '1');

  const back = await admin.post(`/admin/users/${id}/activate`);
  assert.match((await follow(admin, back)).text, /active again/);
  assert.equal(await one('SELECT active FROM users WHERE id = $1', [id]), 't');
  assert.equal(await one('SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = \'user reactivated\'', [id]), '1');
  await clearThrottle();
  assert.equal((await new Client().login(email)).status, 303);
});

test('an admin cannot deactivate themself', async () => {
  const { adminId, admin } = await clinicWithAdmin();
  const page = await admin.get(`/admin/users/${adminId}`);
  assert.doesNotMatch(page.text, /\/deactivate"/, 'no button for oneself');
  const ask = await admin.get(`/admin/users/${adminId}/deactivate`);
  assert.equal(ask.status, 303, 'no confirmation page for oneself either');
  assert.equal(ask.headers.get('location'), `/admin/users/${adminId}`);
  const r = await admin.post(`/admin/users/${adminId}/deactivate`);
  const p = await follow(admin, r);
  assert.match(p.text, /flash-error[^>]*>You cannot deactivate your own account/);
  assert.equal(await one('SELECT active FROM users WHERE id = $1', [adminId]), 't');
});

test('a reset link is shown once to the admin, lasts an hour and is audited', async () => {
  const { clinic, admin } = await clinicWithAdmin();
  const id = await createUser({ email: uniqueEmail('forgot'), clinic });
  const p = await follow(admin, await admin.post(`/admin/users/${id}/reset`));
  const link = flashLink(p.text, 'reset');
  assert.equal(link.url, `${BASE}${link.path}`, 'an absolute link to this site');
  assert.match(p.text, /no e-mail/);
  assert.match(p.text, /works once, within one hour/);
  const row = (await sql(`SELECT kind, round(extract(epoch FROM expires_at - created_at)), used_at IS NULL,
    token_hash = sha256(decode($2, 'hex')) FROM one_time_links WHERE user_id = $1`, [id, link.token]))[0];
  assert.deepEqual(row, ['reset', '3600', 't', 't'], 'only the hash is stored');
  assert.equal(await one('SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = \'reset link created\'', [id]), '1');
  assert.doesNotMatch((await admin.get(`/admin/users/${id}`)).text, /token=/, 'the flash shows once');
});

// The stored flash of the session `c` is logged in with ('' for none).
const storedFlash = (c) => one(`SELECT coalesce(flash_text, '') FROM sessions
  WHERE token_hash = sha256(decode($1, 'hex'))`, [c.jar.get('carebox_session')]);

test('one-time links in notices are stored sealed: the database never sees the token', async () => {
  const { clinic, admin } = await clinicWithAdmin();
  const id = await createUser({ email: uniqueEmail('forgot'), clinic });
  const pending = await pendingColleague(clinic);
  for (const [post, fields, kind] of [[`/admin/users/${id}/reset`, {}, 'reset'],
    [`/admin/users/${pending}/reset`, {}, 'invite']]) {
    const r = await admin.post(post, fields);
    assert.equal(r.status, 303, `POST ${post}`);
    const stored = await storedFlash(admin);
    assert.match(stored, /^[A-Za-z0-9+/]+=*$/, 'only ciphertext in the row');
    assert.doesNotMatch(stored, /token|link|carebox/i);
    const link = flashLink((await follow(admin, r)).text, kind);
    assert.ok(!stored.includes(link.token), 'the token is not in the database');
    assert.ok(!Buffer.from(stored, 'base64').toString('hex').includes(link.token), 'not even encoded');
    assert.equal(await storedFlash(admin), '', 'consumed once shown');
  }
});

test('a notice that does not open is dropped without an error', async () => {
  const { clinic, admin } = await clinicWithAdmin();
  const id = await createUser({ email: uniqueEmail('forgot'), clinic });
  const other = await clinicWithAdmin();
  await other.admin.post(`/admin/users/${await createUser({ email: uniqueEmail('o'), clinic: other.clinic })}/reset`);
  const foreign = await storedFlash(other.admin);
  assert.notEqual(foreign, '');
  const token = admin.jar.get('carebox_session');
  const set = (text) => sql(`UPDATE sessions SET flash_kind = 'ok', flash_text = $2
    WHERE token_hash = sha256(decode($1, 'hex'))`, [token, text]);
  await admin.post(`/admin/users/${id}/reset`);
  const good = await storedFlash(admin);
  const mid = good.length >> 1;
  const flipped = good.slice(0, mid) + (good[mid] === 'A' ? 'B' : 'A') + good.slice(mid + 1);
  for (const [text, what] of [[flipped, 'tampered'], [foreign, 'another session\'s'],
    ['Invitation link: /invite?token=' + '0'.repeat(64), 'cleartext'], ['!!not base64', 'garbage'], ['AAAA', 'short']]) {
    await set(text);
    const p = await admin.get(`/admin/users/${id}`);
    assert.equal(p.status, 200, what);
    assert.doesNotMatch(p.text, /class="flash/, `${what}: no notice`);
    assert.equal(await storedFlash(admin), '', `${what}: dropped`);
  }
});

test('an admin invites colleagues with a handout; an account of another clinic joins as a doctor', async () => {
  await clearThrottle();
  const { clinic, admin } = await clinicWithAdmin();
  const clinicId = await one('SELECT id FROM clinics WHERE name = $1', [clinic]);
  const form = await admin.get('/admin/invite');
  assert.equal(form.status, 200);
  const names = { first_name: 'Dora', last_name: 'Doctor' };
  let r = await admin.post('/admin/invite', { ...names, email: 'bad address', role: 'doctor' });
  assert.equal(r.status, 422);
  assert.ok(r.text.includes('value="bad address"'), 'typing kept');
  r = await admin.post('/admin/invite', { ...names, email: '', role: 'patient' });
  assert.equal(r.status, 422, 'only doctor or admin');
  assert.match(r.text, /Choose doctor or admin/);
  r = await admin.post('/admin/invite', { first_name: '', last_name: 'Doctor', email: '', role: 'admin' });
  assert.equal(r.status, 422);
  assert.match(r.text, /<option value="admin" selected>/, 'the form comes back as sent');

  // The same handout whether the address has an account or not.
  const elsewhere = uniqueEmail('doc-elsewhere');
  const elsewhereId = await createUser({ email: elsewhere, role: 'doctor', clinic: uniqueClinic() });
  const pages = [];
  let key;
  for (const email of [elsewhere, uniqueEmail('nobody')]) {
    r = await admin.post('/admin/invite', { ...names, email, role: 'doctor' });
    assert.equal(r.status, 200);
    assert.match(r.text, /For <strong>Dora Doctor<\/strong>, as doctor\./);
    key = /\/join\?key=([0-9a-f]{64})/.exec(r.text)[1];
    const code = /class="code"><strong>([A-Z0-9-]{11})</.exec(r.text)[1];
    pages.push(r.text.split(key).join('K').replace(code, 'C').replace(/value="[0-9a-f]{64}"/g, ''));
  }
  assert.equal(pages[0], pages[1], 'no sign of which address has an account');
  assert.equal(await one('SELECT count(*) FROM memberships WHERE user_id = $1', [elsewhereId]), '1', 'nobody added');
  assert.equal(await one(`SELECT count(*) FROM audit_log WHERE clinic_id = $1 AND action = 'join link created'
    AND detail = 'doctor'`, [clinicId]), '2');

  // A doctor of another clinic joins with their own account, as a doctor.
  const d = await loggedIn(elsewhere);
  assert.equal((await d.post('/join', { key })).status, 303);
  assert.deepEqual(await sql('SELECT role::text FROM memberships WHERE user_id = $1 AND clinic_id = $2',
    [elsewhereId, clinicId]), [['doctor']]);
  assert.equal((await d.post(`/account/clinics/${clinicId}/act`)).status, 303);
  assert.match((await d.get('/patients/new')).text, new RegExp(clinic), 'a doctor of the clinic now');
});

test('admin forms without the CSRF token are refused and change nothing', async () => {
  const { clinic, admin } = await clinicWithAdmin();
  const id = await createUser({ email: uniqueEmail('safe'), clinic });
  for (const action of ['deactivate', 'reset']) {
    assert.equal((await admin.post(`/admin/users/${id}/${action}`, { csrf_token: null })).status, 403, action);
  }
  const email = uniqueEmail('csrfinv');
  assert.equal((await admin.post('/admin/invite', { csrf_token: null, email, role: 'doctor' })).status, 403);
  assert.equal((await admin.post('/patients/new', { csrf_token: null, email, first_name: 'A', last_name: 'B' })).status, 403);
  assert.equal(await one('SELECT active FROM users WHERE id = $1', [id]), 't');
  assert.equal(await one('SELECT count(*) FROM one_time_links WHERE user_id = $1', [id]), '0');
  assert.equal(await one('SELECT count(*) FROM users WHERE email = $1', [email]), '0');
});

test('an admin cannot reset, deactivate or reactivate someone who also belongs to another clinic', async () => {
  const clinicA = `Shared A ${process.pid}-${Date.now()}`, clinicB = `Shared B ${process.pid}-${Date.now()}`;
  const adminA = uniqueEmail('shared-admin');
  await createUser({ email: adminA, role: 'admin', clinic: clinicA });
  const patient = uniqueEmail('shared-patient');
  const pid = await createUser({ email: patient, role: 'patient', clinic: clinicB });
  await sql(`INSERT INTO memberships (clinic_id, user_id, role) SELECT id, $1, 'patient' FROM clinics WHERE name = $2`, [pid, clinicA]);
  const a = await loggedIn(adminA, `/admin/users/${pid}`);
  const page = await a.get(`/admin/users/${pid}`);
  assert.equal(page.status, 200, 'the admin sees the shared patient');
  assert.doesNotMatch(page.text, /password-reset link|Deactivate/, 'but is offered no reset or deactivation');
  for (const action of ['reset', 'deactivate', 'activate']) {
    const r = await a.post(`/admin/users/${pid}/${action}`);
    assert.equal(r.status, 303, action);
    assert.match((await a.get(`/admin/users/${pid}`)).text, /also belongs to another clinic/, action);
  }
  assert.equal((await sql(`SELECT count(*) FROM one_time_links WHERE user_id = $1`, [pid]))[0][0], '0', 'no link was made');
  assert.equal((await sql(`SELECT active FROM users WHERE id = $1`, [pid]))[0][0], 't', 'the account stays active');
});

test('an admin cannot deactivate themself by spelling their id in capitals', async () => {
  const email = uniqueEmail('caps-admin');
  const id = await createUser({ email, role: 'admin', clinic: `Caps ${process.pid}-${Date.now()}` });
  const a = await loggedIn(email, `/admin/users/${id}`);
  const r = await a.post(`/admin/users/${id.toUpperCase()}/deactivate`);
  assert.equal(r.status, 303);
  assert.equal((await sql(`SELECT active FROM users WHERE id = $1`, [id]))[0][0], 't');
});

test('once an invitation is accepted, the other invitation links of that person stop working', async () => {
  const clinic = uniqueClinic();
  const adminEmail = uniqueEmail('two-links-admin');
  await createUser({ email: adminEmail, role: 'admin', clinic });
  const admin = await loggedIn(adminEmail, '/admin/users');
  const id = await pendingColleague(clinic);
  await admin.post(`/admin/users/${id}/reset`);
  const first = flashLink((await admin.get(`/admin/users/${id}`)).text, 'invite');
  await admin.post(`/admin/users/${id}/reset`);
  const second = flashLink((await admin.get(`/admin/users/${id}`)).text, 'invite');
  assert.notEqual(first.token, second.token);
  const d = new Client();
  await d.get(second.path);
  const ok = await d.post('/invite', { token: second.token, first_name: 'Ola', last_name: 'Once', password: PW, password2: PW });
  assert.equal(ok.status, 303);
  const thief = new Client();
  assert.equal((await thief.get(first.path)).status, 404, 'the older link is dead too');
});
