// memberships.test.js - roles belong to memberships: one person may be staff
// at one clinic and a patient at another; staff switch the clinic they act
// for; a patient leaves a clinic; an admin ends their clinic's membership of
// someone, whatever other clinics the person belongs to.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail } = require('../lib/harness');

let counter = 0;
const uniqueClinic = (tag) => `Member ${tag} Clinic ${process.pid}-${Date.now()}-${++counter}`;
const clinicId = async (name) => (await sql('SELECT id FROM clinics WHERE name = $1', [name]))[0][0];
const options = (html) => [...html.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]);

// Adds an existing user to clinic `name` with `role`.
async function join(userId, name, role) {
  const rows = await sql(`INSERT INTO memberships (clinic_id, user_id, role) SELECT id, $1, $3::user_role
    FROM clinics WHERE name = $2 RETURNING clinic_id`, [userId, name, role]);
  assert.equal(rows.length, 1, `${name} exists`);
}

async function loggedIn(email) {
  const c = new Client();
  assert.equal((await c.login(email)).status, 303, `${email} logs in`);
  await c.get('/inbox');
  return c;
}

// Clinics A and B, each with a patient; `both` is a doctor at A and at B.
async function twoClinics(tag) {
  const a = uniqueClinic(`${tag}A`), b = uniqueClinic(`${tag}B`);
  const patA = await createUser({ email: uniqueEmail('pat-a'), clinic: a, first: 'Anna', last: `Apatient${tag}` });
  const patB = await createUser({ email: uniqueEmail('pat-b'), clinic: b, first: 'Bert', last: `Bpatient${tag}` });
  const bothEmail = uniqueEmail('both');
  const both = await createUser({ email: bothEmail, role: 'doctor', clinic: a, first: 'Dora', last: 'Double' });
  await join(both, b, 'doctor');
  return { a, b, idA: await clinicId(a), idB: await clinicId(b), patA, patB, both, bothEmail };
}

test('staff of two clinics act for one at a time, and switch in the navigation', async () => {
  const w = await twoClinics('S');
  const c = await loggedIn(w.bothEmail);
  let page = await c.get('/messages/new');
  assert.match(page.text, />Switch clinic<\/a>/, 'the navigation offers the switcher');
  const first = options(page.text);
  const actsA = first.includes(w.patA);
  assert.ok(first.includes(w.patA) !== first.includes(w.patB), 'only one clinic\'s patients are offered');
  const [other, otherPat, thisPat] = actsA ? [w.idB, w.patB, w.patA] : [w.idA, w.patA, w.patB];

  const list = await c.get('/account/clinics');
  assert.equal(list.status, 200);
  assert.match(list.text, new RegExp(`${w.a}`));
  assert.match(list.text, new RegExp(`${w.b}`));
  assert.match(list.text, /you act for this clinic/);
  const r = await c.post(`/account/clinics/${other}/act`);
  assert.equal(r.status, 303);
  page = await c.get('/messages/new');
  assert.match(page.text, /You now act for/);
  assert.deepEqual([options(page.text).includes(otherPat), options(page.text).includes(thisPat)], [true, false],
    'after the switch, the other clinic\'s patients and only them');
  const users = await c.get('/patients/new');
  assert.match(users.text, new RegExp(actsA ? w.b : w.a), 'staff pages work on the chosen clinic');
  // The choice stays with the session, not with a new login elsewhere.
  const again = await c.get('/messages/new');
  assert.ok(options(again.text).includes(otherPat));
});

// The clinic the header names, or null.
const headerClinic = (html) => {
  const m = /<header class="site">[\s\S]*?<span class="clinic"[^>]*>([^<]*)<\/span>[\s\S]*?<\/header>/.exec(html);
  return m ? m[1] : null;
};

test('the header names the clinic one acts for, and another after a switch', async () => {
  const w = await twoClinics('H');
  const c = await loggedIn(w.bothEmail);
  const first = headerClinic((await c.get('/account')).text);
  assert.ok([w.a, w.b].includes(first), `the header names one of the two clinics: ${first}`);
  const other = first === w.a ? w.idB : w.idA;
  assert.equal((await c.post(`/account/clinics/${other}/act`)).status, 303);
  assert.equal(headerClinic((await c.get('/account')).text), first === w.a ? w.b : w.a, 'the other one after the switch');
  const patient = await loggedIn((await sql('SELECT email FROM users WHERE id = $1', [w.patA]))[0][0]);
  assert.equal(headerClinic((await patient.get('/inbox')).text), w.a, 'a patient of one clinic sees its name');
  const alone = uniqueEmail('alone');
  const id = await createUser({ email: alone, clinic: uniqueClinic('Gone') });
  await sql('UPDATE memberships SET active = false, ended_at = now() WHERE user_id = $1', [id]);
  assert.equal(headerClinic((await (await loggedIn(alone)).get('/account')).text), null, 'no clinic, no name');
  assert.equal(headerClinic((await new Client().get('/login')).text), null, 'nor for a visitor');
});

test('nobody acts for a clinic they do not belong to', async () => {
  const w = await twoClinics('N');
  const c = await loggedIn(w.bothEmail);
  const lone = uniqueClinic('Lone');
  await createUser({ email: uniqueEmail('lone'), clinic: lone });
  for (const id of [await clinicId(lone), '00000000-0000-4000-8000-000000000000']) {
    assert.equal((await c.post(`/account/clinics/${id}/act`)).status, 404, `act for ${id}`);
  }
  const patient = await loggedIn((await sql('SELECT email FROM users WHERE id = $1', [w.patA]))[0][0]);
  assert.doesNotMatch((await patient.get('/inbox')).text, /Switch clinic/, 'one clinic: no switcher');
  assert.equal((await patient.post(`/account/clinics/${w.idB}/act`)).status, 404);
});

test('a person may be a doctor at one clinic and a patient at another', async () => {
  const home = uniqueClinic('Home'), care = uniqueClinic('Care');
  const email = uniqueEmail('docpat');
  const me = await createUser({ email, role: 'doctor', clinic: home, first: 'Mia', last: 'Medic' });
  const myDoctor = await createUser({ email: uniqueEmail('gp'), role: 'doctor', clinic: care, first: 'Gus', last: 'Gp' });
  await join(me, care, 'patient');
  const carePatient = await createUser({ email: uniqueEmail('cp'), clinic: care, first: 'Cleo', last: 'Carepat' });
  const homePatient = await createUser({ email: uniqueEmail('hp'), clinic: home, first: 'Hal', last: 'Homepat' });
  const c = await loggedIn(email);
  const offered = options((await c.get('/messages/new')).text);
  assert.ok(offered.includes(homePatient), 'as a doctor at home: the home patients');
  assert.ok(offered.includes(myDoctor), 'as a patient at the other clinic: its doctors');
  assert.ok(!offered.includes(carePatient), 'but never the other clinic\'s patients');
  const clinics = (await c.get('/account/clinics')).text;
  assert.match(clinics, /doctor since/);
  assert.match(clinics, /patient since/);
  // Their doctor sees them as a patient of that clinic.
  const gp = await loggedIn((await sql('SELECT email FROM users WHERE id = $1', [myDoctor]))[0][0]);
  assert.ok(options((await gp.get('/messages/new')).text).includes(me));
});

test('a patient leaves a clinic: nobody there writes to them any more, and their other clinic stays', async () => {
  const w = await twoClinics('L');
  const email = uniqueEmail('leaver');
  const me = await createUser({ email, clinic: w.a, first: 'Lea', last: 'Leaver' });
  await join(me, w.b, 'patient');
  const c = await loggedIn(email);
  const before = options((await c.get('/messages/new')).text);
  assert.ok(before.includes(w.both));
  const r = await c.confirm(`/account/clinics/${w.idA}/leave`);
  assert.equal(r.status, 303);
  assert.match((await c.get('/account/clinics')).text, /You have left/);
  assert.deepEqual((await sql(`SELECT active, ended_at IS NOT NULL FROM memberships
    WHERE user_id = $1 AND clinic_id = $2`, [me, w.idA]))[0], ['f', 't']);
  assert.equal((await sql(`SELECT count(*) FROM audit_log WHERE action = 'left the clinic'
    AND clinic_id = $1 AND subject_id = $2`, [w.idA, me]))[0][0], '1');
  const doc = await loggedIn(w.bothEmail);
  await doc.post(`/account/clinics/${w.idA}/act`);
  assert.ok(!options((await doc.get('/messages/new')).text).includes(me), 'clinic A no longer offers them');
  await doc.post(`/account/clinics/${w.idB}/act`);
  assert.ok(options((await doc.get('/messages/new')).text).includes(me), 'clinic B still does');
  assert.equal((await c.post(`/account/clinics/${w.idA}/leave`)).status, 404, 'leaving twice: no such membership');
  assert.equal((await c.get(`/account/clinics/${w.idA}/leave`)).status, 404, 'nor asked to');
  // Staff do not leave on their own.
  assert.equal((await doc.get(`/account/clinics/${w.idA}/leave`)).status, 404);
  assert.equal((await doc.post(`/account/clinics/${w.idA}/leave`)).status, 404);
});

test('each clinic\'s admin ends their own clinic\'s membership of a shared patient, and only that', async () => {
  const a = uniqueClinic('RA'), b = uniqueClinic('RB');
  const adminA = uniqueEmail('adm-a'), adminB = uniqueEmail('adm-b');
  const adminAId = await createUser({ email: adminA, role: 'admin', clinic: a });
  await createUser({ email: adminB, role: 'admin', clinic: b });
  const shared = await createUser({ email: uniqueEmail('shared'), clinic: a, first: 'Sven', last: 'Shared' });
  await join(shared, b, 'patient');
  const onlyB = await createUser({ email: uniqueEmail('only-b'), clinic: b });
  const ca = await loggedIn(adminA), cb = await loggedIn(adminB);

  const page = await ca.get(`/admin/users/${shared}`);
  assert.match(page.text, /also belongs to another clinic/, 'no reset or lock for a shared person');
  assert.match(page.text, /Remove from this clinic/, 'but the clinic can end its own relationship');
  assert.equal((await ca.post(`/admin/users/${onlyB}/remove`)).status, 404, 'not a member: 404');
  assert.equal((await ca.confirm(`/admin/users/${shared}/remove`)).status, 303);
  assert.equal((await ca.get(`/admin/users/${shared}`)).status, 404, 'gone from clinic A');
  assert.equal((await cb.get(`/admin/users/${shared}`)).status, 200, 'still in clinic B');
  assert.deepEqual((await sql(`SELECT c.name, m.active FROM memberships m JOIN clinics c ON c.id = m.clinic_id
    WHERE m.user_id = $1 ORDER BY c.name`, [shared])), [[a, 'f'], [b, 't']]);
  assert.equal((await sql(`SELECT count(*) FROM audit_log WHERE action = 'removed from the clinic'
    AND subject_id = $1 AND clinic_id = (SELECT id FROM clinics WHERE name = $2)`, [shared, a]))[0][0], '1');
  // Now B is their sole clinic: B may reset or lock the account.
  assert.doesNotMatch((await cb.get(`/admin/users/${shared}`)).text, /also belongs to another clinic/);
  const self = await ca.post(`/admin/users/${adminAId}/remove`);
  assert.equal(self.status, 303);
  assert.match((await ca.get(self.headers.get('location'))).text, /cannot remove yourself/);
  assert.equal((await ca.post(`/admin/users/${shared}/remove`, { csrf_token: null })).status, 403, 'CSRF');
});
