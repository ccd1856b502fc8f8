// join.test.js - joining a clinic takes both sides: staff hand out a join
// link and short code (the same page whatever address they typed), and the
// account that uses it joins; a self-signed-up patient waits for the
// clinic's staff to accept their request.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail, ADDRESS } = require('../lib/harness');

const PW = 'a long enough password';
let counter = 0;
const uniqueClinic = (tag) => `Join ${tag} Clinic ${process.pid}-${Date.now()}-${++counter}`;
const one = async (q, p) => (await sql(q, p))[0][0];
const options = (html) => [...html.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]);

after(() => sql('DELETE FROM address_counts WHERE address = $1', [ADDRESS]));

async function loggedIn(email, password = PW) {
  const c = new Client();
  assert.equal((await c.login(email, password)).status, 303, `${email} logs in`);
  await c.get('/inbox');
  return c;
}

// A clinic with a doctor logged in on the registration form.
async function clinicWithDoctor(tag) {
  const clinic = uniqueClinic(tag);
  const email = uniqueEmail('doc');
  const id = await createUser({ email, role: 'doctor', clinic, first: 'Dana', last: `Doc${tag}` });
  const c = await loggedIn(email);
  await c.get('/patients/new');
  return { clinic, clinicId: await one('SELECT id FROM clinics WHERE name = $1', [clinic]), doc: c, docId: id };
}

// Registers a patient; returns the handout page and its link path and code.
async function handout(doc, fields) {
  const r = await doc.post('/patients/new', fields);
  assert.equal(r.status, 200, `the handout: ${r.text.slice(0, 300)}`);
  const link = /href="(?:https?:\/\/[^/"]+)?(\/join\?key=([0-9a-f]{64}))"/.exec(r.text);
  const code = /class="code"><strong>([A-Z0-9]{5}-[A-Z0-9]{5})<\/strong>/.exec(r.text);
  assert.ok(link && code, 'the handout has a link and a code');
  return { page: r.text, path: link[1], token: link[2], code: code[1] };
}

test('registering gives a printable handout that says nothing about any account', async () => {
  const w = await clinicWithDoctor('H');
  const staff = uniqueEmail('staff');
  await createUser({ email: staff, role: 'doctor', clinic: uniqueClinic('other') });
  const patient = uniqueEmail('patient');
  const patientId = await createUser({ email: patient, clinic: uniqueClinic('their') });
  const fresh = uniqueEmail('fresh');
  const pages = [];
  for (const email of [staff, patient, fresh, '']) {
    const h = await handout(w.doc, { first_name: 'Nina', last_name: 'New', email });
    assert.match(h.page, new RegExp(`Join ${w.clinic} on carebox`));
    assert.match(h.page, /For <strong>Nina New<\/strong>/);
    assert.match(h.page, /until \d\d [A-Z][a-z]{2} \d{4}/);
    pages.push(h.page.replace(h.token, 'T').replace(h.token, 'T').replace(h.code, 'C')
      .replace(/name="csrf_token" value="[0-9a-f]+"/g, ''));
  }
  assert.ok(pages.every((p) => p === pages[0]), 'the same page for staff, patients, new and no address');
  assert.equal(await one('SELECT count(*) FROM users WHERE lower(email) = lower($1)', [fresh]), '0', 'no account made');
  assert.equal(await one('SELECT count(*) FROM memberships WHERE user_id = $1', [patientId]), '1', 'nobody added');
  assert.equal(await one(`SELECT count(*) FROM audit_log WHERE action = 'join link created' AND clinic_id = $1`,
    [w.clinicId]), '4');
  const bad = await w.doc.post('/patients/new', { first_name: '', last_name: 'New', email: 'not an address' });
  assert.equal(bad.status, 422);
  assert.match(bad.text, /id="first_name-error"|class="field-error"/);
  assert.ok(bad.text.includes('value="New"') && bad.text.includes('value="not an address"'), 'typing kept');
  const patientSide = await loggedIn(patient);
  assert.equal((await patientSide.get('/patients/new')).status, 403, 'patients do not register anyone');
});

test('an existing account joins with the link, once', async () => {
  const w = await clinicWithDoctor('E');
  const email = uniqueEmail('existing');
  const me = await createUser({ email, clinic: uniqueClinic('first'), first: 'Eve', last: 'Existing' });
  const h = await handout(w.doc, { first_name: 'Eve', last_name: 'Existing', email });

  const visitor = new Client();
  const page = await visitor.get(h.path);
  assert.equal(page.status, 200);
  assert.match(page.text, new RegExp(`<h1>Join ${w.clinic}</h1>`));
  assert.match(page.text, /href="\/login\?next=%2Fjoin">Log in/, 'a way to log in and come back');
  assert.doesNotMatch(page.text, new RegExp(`href="[^"]*${h.token}`), 'the key is in no link of the page');

  // Logging in from there comes back to /join: the key waited in the link cookie.
  const c = visitor;
  await c.get('/login?next=%2Fjoin');
  const login = await c.post('/login', { email, password: PW, next: '/join' });
  assert.equal(login.headers.get('location'), '/join');
  const offer = await c.get('/join');
  assert.match(offer.text, new RegExp(`<button type="submit">Join ${w.clinic}</button>`));
  assert.equal(await one('SELECT count(*) FROM memberships WHERE user_id = $1', [me]), '1', 'nothing before pressing Join');
  const r = await c.post('/join', { key: h.token });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/inbox');
  assert.match((await c.get('/inbox')).text, new RegExp(`Welcome to ${w.clinic}`));
  assert.deepEqual(await sql(`SELECT m.role::text, m.active FROM memberships m WHERE m.user_id = $1 AND m.clinic_id = $2`,
    [me, w.clinicId]), [['patient', 't']]);
  assert.equal(await one(`SELECT count(*) FROM audit_log WHERE action = 'joined the clinic' AND clinic_id = $1
    AND subject_id = $2`, [w.clinicId, me]), '1');
  assert.ok(options((await w.doc.get('/messages/new')).text).includes(me), 'the clinic can write to them now');

  const lateEmail = uniqueEmail('late');
  await createUser({ email: lateEmail, clinic: uniqueClinic('x') });
  const other = await loggedIn(lateEmail);
  const late = await other.get(h.path);
  assert.equal(late.status, 404, 'the link works once');
  assert.match(late.text, /does not work/);
  assert.equal((await other.post('/join', { key: h.token })).status, 404);
});

test('someone new creates an account with the short code and joins at once', async () => {
  const w = await clinicWithDoctor('N');
  const h = await handout(w.doc, { first_name: 'Nils', last_name: 'Novice', email: '' });
  const v = new Client();
  const ask = await v.get('/join');
  assert.equal(ask.status, 200);
  assert.match(ask.text, /<form method="get" action="\/join">/);
  const typed = h.code.toLowerCase().replace('-', ' ');
  const page = await v.get(`/join?key=${encodeURIComponent(typed)}`);
  assert.equal(page.status, 200, 'the code in any case, with a space');
  assert.match(page.text, /Create account and join/);
  const email = uniqueEmail('novice');
  const fields = { key: h.code.replace('-', ''), email, first_name: 'Nils', last_name: 'Novice', password: PW, password2: PW };
  const weak = await v.post('/join', { ...fields, password: 'short', password2: 'short' });
  assert.equal(weak.status, 422);
  assert.ok(weak.text.includes(`value="${email}"`) && weak.text.includes('value="Nils"'), 'typing kept');
  assert.equal(await one('SELECT count(*) FROM users WHERE email = $1', [email]), '0', 'nothing stored');
  const r = await v.post('/join', fields);
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/inbox');
  const id = await one('SELECT id FROM users WHERE email = $1', [email]);
  assert.deepEqual(await sql('SELECT clinic_id, role::text FROM memberships WHERE user_id = $1', [id]),
    [[w.clinicId, 'patient']]);
  const offered = options((await v.get('/messages/new')).text);
  assert.ok(offered.includes(w.docId), 'logged in, and may write to the clinic at once');
  assert.equal(await one('SELECT user_id FROM one_time_links WHERE code_hash = sha256(convert_to($1, \'UTF8\'))',
    [h.code.replace('-', '')]), id, 'the link records who used it');
});

test('an impostor who signed up first with the patient\'s address gains nothing', async () => {
  const w = await clinicWithDoctor('I');
  const victim = uniqueEmail('victim');
  const imp = new Client();
  await imp.get('/signup');
  const signup = await imp.post('/signup', { email: victim, first_name: 'Vera', last_name: 'Victim',
    clinic: w.clinicId, date_of_birth: '1970-01-01', password: 'impostor password 1', password2: 'impostor password 1' });
  assert.equal(signup.status, 303);
  const impId = await one('SELECT id FROM users WHERE email = $1', [victim]);
  // The clinic registers the real Vera with that address: it finds no account.
  const h = await handout(w.doc, { first_name: 'Vera', last_name: 'Victim', email: victim });
  assert.equal(await one('SELECT count(*) FROM memberships WHERE user_id = $1', [impId]), '0');
  assert.deepEqual(options((await imp.get('/messages/new')).text), [], 'the impostor writes to no one');
  // The real Vera holds the handout and joins with an account of her own.
  const real = new Client();
  await real.get(h.path);
  const r = await real.post('/join', { key: h.token, email: uniqueEmail('vera-real'), first_name: 'Vera',
    last_name: 'Victim', password: PW, password2: PW });
  assert.equal(r.status, 303);
  assert.equal(await one('SELECT count(*) FROM memberships WHERE user_id = $1', [impId]), '0', 'still nothing');
  assert.ok(!options((await w.doc.get('/messages/new')).text).includes(impId), 'the clinic never writes to the impostor');
});

test('codes that open nothing are throttled per address', async () => {
  const w = await clinicWithDoctor('T');
  const h = await handout(w.doc, { first_name: 'Tom', last_name: 'Tries', email: '' });
  await sql('DELETE FROM address_counts WHERE address = $1', [ADDRESS]);
  const v = new Client();
  for (let i = 0; i < 10; i++) {
    const r = await v.get(`/join?key=AAAAA-AAAA${'ACDEFGHJKM'[i]}`);
    assert.equal(r.status, 404, `wrong code ${i}`);
    assert.match(r.text, /does not work/);
    assert.match(r.text, /value="AAAAA-AAAA/, 'the code typed stays in the field');
  }
  const blocked = await v.get(`/join?key=${h.code}`);
  assert.equal(blocked.status, 429, 'even a good code waits now');
  assert.match(blocked.text, /Wait a quarter of an hour/);
  await sql('DELETE FROM address_counts WHERE address = $1', [ADDRESS]);
  assert.equal((await v.get(`/join?key=${h.code}`)).status, 200);
  await sql(`UPDATE one_time_links SET expires_at = now() - interval '1 minute'
    WHERE code_hash = sha256(convert_to($1, 'UTF8'))`, [h.code.replace('-', '')]);
  assert.equal((await v.get(`/join?key=${h.code}`)).status, 404, 'an expired code opens nothing');
});

test('a request to join waits for the clinic\'s staff, who accept or decline it', async () => {
  const a = await clinicWithDoctor('RA');
  const b = await clinicWithDoctor('RB');
  const ask = async (first) => {
    const c = new Client();
    await c.get('/signup');
    const email = uniqueEmail(first.toLowerCase());
    const r = await c.post('/signup', { email, first_name: first, last_name: 'Asker', clinic: a.clinicId,
      date_of_birth: '1985-07-04', password: PW, password2: PW });
    assert.equal(r.status, 303);
    return { c, id: await one('SELECT id FROM users WHERE email = $1', [email]) };
  };
  const yes = await ask('Yara'), no = await ask('Noah');
  assert.deepEqual(options((await yes.c.get('/messages/new')).text), [], 'no one to write to while waiting');
  const list = await a.doc.get('/patients/requests');
  assert.match(list.text, /Yara Asker<\/strong> · born 04 Jul 1985/);
  const reqId = async (u) => one('SELECT id FROM join_requests WHERE user_id = $1', [u]);
  assert.doesNotMatch((await b.doc.get('/patients/requests')).text, /Asker/, 'another clinic sees none of them');
  assert.equal((await b.doc.post(`/patients/requests/${await reqId(yes.id)}/accept`)).status, 404);
  assert.equal((await yes.c.get('/patients/requests')).status, 403);
  assert.equal((await a.doc.post(`/patients/requests/${await reqId(yes.id)}/accept`)).status, 303);
  assert.equal((await a.doc.post(`/patients/requests/${await reqId(no.id)}/decline`)).status, 303);
  assert.equal((await a.doc.post(`/patients/requests/${await reqId(no.id)}/accept`)).status, 404, 'decided once');
  assert.deepEqual(await sql('SELECT clinic_id FROM memberships WHERE user_id = $1', [yes.id]), [[a.clinicId]]);
  assert.deepEqual(await sql('SELECT count(*) FROM memberships WHERE user_id = $1', [no.id]), [['0']]);
  assert.ok(options((await yes.c.get('/messages/new')).text).includes(a.docId), 'accepted: writes to the doctor');
  assert.equal(await one(`SELECT count(*) FROM audit_log WHERE clinic_id = $1 AND action IN
    ('join request accepted', 'join request declined') AND subject_id IN ($2, $3)`, [a.clinicId, yes.id, no.id]), '2');
});

test('a patient with an account asks another clinic to take them on', async () => {
  const home = await clinicWithDoctor('AskHome');
  const other = await clinicWithDoctor('AskOther');
  const email = uniqueEmail('asker');
  const me = await createUser({ email, clinic: home.clinic, first: 'Ali', last: 'Asker' });
  const c = await loggedIn(email);
  const page = await c.get('/account/clinics');
  assert.match(page.text, /Ask to join a clinic/);
  assert.ok(page.text.includes(`<option value="${other.clinicId}">`), 'a clinic they do not belong to is offered');
  assert.ok(!page.text.includes(`<option value="${home.clinicId}"`), 'their own clinic is not');
  const bad = await c.post('/account/clinics/request', { clinic: other.clinicId, date_of_birth: '2999-01-01' });
  assert.equal(bad.status, 422);
  assert.match(bad.text, /cannot be in the future/);
  assert.ok(bad.text.includes(`<option value="${other.clinicId}" selected>`), 'the choice is kept');
  const member = await c.post('/account/clinics/request', { clinic: home.clinicId, date_of_birth: '1990-03-03' });
  assert.equal(member.status, 422);
  assert.match(member.text, /do not belong to yet/);
  const ok = await c.post('/account/clinics/request', { clinic: other.clinicId, date_of_birth: '1990-03-03' });
  assert.equal(ok.status, 303);
  assert.match((await c.get('/account/clinics')).text, /You asked to join <strong>/);
  const twice = await c.post('/account/clinics/request', { clinic: other.clinicId, date_of_birth: '1990-03-03' });
  assert.equal(twice.status, 422);
  assert.match(twice.text, /asked this clinic already/);
  assert.equal(await one(`SELECT date_of_birth::text FROM care_recipients WHERE owner_id = $1 AND kind = 'self'`, [me]),
    '1990-03-03', 'their own date of birth, for the records');
  assert.equal(await one(`SELECT count(*) FROM audit_log WHERE action = 'join requested' AND clinic_id = $1
    AND subject_id = $2`, [other.clinicId, me]), '1');
  const list = await other.doc.get('/patients/requests');
  assert.match(list.text, /Ali Asker<\/strong> · born 03 Mar 1990/);
  const id = await one('SELECT id FROM join_requests WHERE user_id = $1', [me]);
  assert.equal((await other.doc.post(`/patients/requests/${id}/accept`)).status, 303);
  assert.ok(options((await c.get('/messages/new')).text).includes(other.docId), 'now writes to both clinics');
});

test('two people using one join code at once: exactly one joins', async () => {
  const w = await clinicWithDoctor('Race');
  for (let round = 0; round < 3; round++) {
    const h = await handout(w.doc, { first_name: 'Rae', last_name: 'Race', email: '' });
    const people = [];
    for (const tag of ['a', 'b', 'c']) {
      const email = uniqueEmail(`race-${tag}`);
      const id = await createUser({ email, clinic: uniqueClinic(`race${tag}`) });
      const c = await loggedIn(email);
      await c.get(h.path);
      people.push({ id, c });
    }
    const answers = await Promise.all(people.map((p) => p.c.post('/join', { key: h.token })));
    const statuses = answers.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 303).length, 1, `one wins: ${statuses}`);
    assert.ok(statuses.every((s) => [303, 404, 409].includes(s)), `the others are told: ${statuses}`);
    assert.equal(await one(`SELECT count(*) FROM memberships WHERE clinic_id = $1 AND user_id = ANY($2::uuid[])`,
      [w.clinicId, people.map((p) => p.id)]), '1', 'one membership');
  }
});

test('a request decided by two members of staff at once is decided once', async () => {
  const w = await clinicWithDoctor('Decide');
  const colleague = uniqueEmail('colleague');
  await createUser({ email: colleague, role: 'admin', clinic: w.clinic });
  const col = await loggedIn(colleague);
  await col.get('/patients/requests');
  for (let round = 0; round < 3; round++) {
    const c = new Client();
    await c.get('/signup');
    const email = uniqueEmail('decided');
    assert.equal((await c.post('/signup', { email, first_name: 'Dee', last_name: 'Cided', clinic: w.clinicId,
      date_of_birth: '1977-07-07', password: PW, password2: PW })).status, 303);
    const user = await one('SELECT id FROM users WHERE email = $1', [email]);
    const id = await one('SELECT id FROM join_requests WHERE user_id = $1', [user]);
    await w.doc.get('/patients/requests');
    const [a, d] = await Promise.all([w.doc.post(`/patients/requests/${id}/accept`),
      col.post(`/patients/requests/${id}/decline`)]);
    assert.deepEqual([a.status, d.status].sort(), [303, 404], 'one decides, the other finds it decided');
    const accepted = await one('SELECT accepted FROM join_requests WHERE id = $1', [id]);
    assert.equal(await one('SELECT count(*) FROM memberships WHERE user_id = $1', [user]),
      accepted === 't' ? '1' : '0', 'the membership follows the one decision');
    assert.equal(await one(`SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action LIKE 'join request %'`,
      [user]), '1');
  }
});

test('asking the same clinic twice at once leaves one request', async () => {
  const home = await clinicWithDoctor('TwiceHome');
  const other = await clinicWithDoctor('TwiceOther');
  const email = uniqueEmail('twice');
  const me = await createUser({ email, clinic: home.clinic });
  const c = await loggedIn(email);
  await c.get('/account/clinics');
  const fields = { clinic: other.clinicId, date_of_birth: '1988-08-08' };
  const rs = await Promise.all([c.post('/account/clinics/request', fields), c.post('/account/clinics/request', fields)]);
  assert.deepEqual(rs.map((r) => r.status).sort(), [303, 422]);
  assert.equal(await one('SELECT count(*) FROM join_requests WHERE user_id = $1', [me]), '1');
});
