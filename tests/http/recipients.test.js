// recipients.test.js - people and pets (care recipients): the self made
// with every account, family members at a medical practice, pets at a
// veterinary one, checked input, editing, archiving, someone else's ids;
// and the staff's patient pages, which show a clinic's own patients only.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail } = require('../lib/harness');

const PW = 'a long enough password';
let counter = 0;
const uniqueClinic = (tag) => `Care ${tag} Clinic ${process.pid}-${Date.now()}-${++counter}`;
const one = async (q, p) => (await sql(q, p))[0][0];
const count = (owner) => one('SELECT count(*) FROM care_recipients WHERE owner_id = $1', [owner]);
const error = (html, field) => {
  const m = new RegExp(`id="${field}-error">([^<]*)<`).exec(html);
  return m && m[1];
};

async function loggedIn(email) {
  const c = new Client();
  assert.equal((await c.login(email, PW)).status, 303, `${email} logs in`);
  await c.get('/account/recipients');
  return c;
}

// A clinic of `kind` ('medical' or 'veterinary') with a patient logged in
// on their people and pets page.
async function patientAt(kind, tag, names = {}) {
  const clinic = uniqueClinic(tag);
  const email = uniqueEmail(`rcp-${tag}`);
  const id = await createUser({ email, clinic, first: names.first || 'Pia', last: names.last || 'Patient' });
  await sql('UPDATE clinics SET kind = $2 WHERE name = $1', [clinic, kind]);
  return { clinic, clinicId: await one('SELECT id FROM clinics WHERE name = $1', [clinic]), id, email,
    c: await loggedIn(email) };
}

// Staff of `clinic`, logged in.
async function staffOf(clinic, role = 'doctor', first = 'Doc') {
  const email = uniqueEmail(`rcp-${role}`);
  const id = await createUser({ email, role, clinic, first, last: 'Staff' });
  return { id, email, c: await loggedIn(email) };
}

const PERSON = { first_name: 'Sam', last_name: 'Jones', relationship: 'son', date_of_birth: '2016-04-09',
  notes: 'Allergic to penicillin.\r\nMild asthma.' };
const PET = { first_name: 'Biscuit', species: 'dog', breed: 'beagle', sex: 'male', neutered: 'yes',
  weight_kg: '12.4', microchip: '985112004512398', date_of_birth: '2019-06-02', notes: 'Chicken-free food.' };

async function add(c, kind, fields) {
  await c.get(`/account/recipients/new?kind=${kind}`);
  return c.post(`/account/recipients/new?kind=${kind}`, fields);
}
const idOf = (owner, name) => one('SELECT id FROM care_recipients WHERE owner_id = $1 AND first_name = $2', [owner, name]);

test('every account has its self, which follows the account\'s names', async () => {
  const p = await patientAt('medical', 'self', { first: 'Selma', last: 'Self' });
  assert.deepEqual(await sql(`SELECT kind, first_name, last_name, archived FROM care_recipients WHERE owner_id = $1`, [p.id]),
    [['self', 'Selma', 'Self', 'f']]);
  const staff = await createUser({ email: uniqueEmail('rcp-staffself'), role: 'admin', clinic: p.clinic });
  assert.equal(await one(`SELECT count(*) FROM care_recipients WHERE owner_id = $1 AND kind = 'self'`, [staff]), '1',
    'staff accounts too');
  const list = await p.c.get('/account/recipients');
  assert.equal(list.status, 200);
  assert.match(list.text, /<strong>Selma Self<\/strong> · you/);
  assert.match(list.text, /Edit your details/);
  assert.doesNotMatch(list.text, /Archive Selma/, 'the self has no archive button');
  assert.match((await p.c.get('/account')).text, /href="\/account\/recipients">People and pets</);

  const r = await p.c.post('/account', { first_name: 'Selina', last_name: 'Selfridge', email: p.email });
  assert.equal(r.status, 303);
  assert.deepEqual(await sql(`SELECT first_name, last_name FROM care_recipients WHERE owner_id = $1`, [p.id]),
    [['Selina', 'Selfridge']], 'the self follows the name change');
  await sql(`UPDATE users SET email = $2 WHERE id = $1`, [p.id, uniqueEmail('rcp-moved')]);
  assert.equal(await one(`SELECT first_name FROM care_recipients WHERE owner_id = $1`, [p.id]), 'Selina');
});

test('the self is edited (date of birth, notes) but keeps the account\'s names and is never archived', async () => {
  const p = await patientAt('medical', 'selfedit', { first: 'Ida', last: 'Own' });
  const self = await one(`SELECT id FROM care_recipients WHERE owner_id = $1`, [p.id]);
  const form = await p.c.get(`/account/recipients/${self}`);
  assert.equal(form.status, 200);
  assert.match(form.text, /<h1>Your details<\/h1>/);
  assert.doesNotMatch(form.text, /name="first_name"/, 'no names on the self\'s form');
  const r = await p.c.post(`/account/recipients/${self}`, { date_of_birth: '1985-02-03', notes: 'Pollen allergy.',
    first_name: 'Mallory', relationship: 'self' });
  assert.equal(r.status, 303);
  assert.match((await p.c.get('/account/recipients')).text, /Your details were saved/);
  assert.deepEqual(await sql(`SELECT first_name, date_of_birth::text, notes, relationship IS NULL
    FROM care_recipients WHERE id = $1`, [self]), [['Ida', '1985-02-03', 'Pollen allergy.', 't']]);
  const back = await p.c.get(`/account/recipients/${self}`);
  assert.match(back.text, /value="1985-02-03"/);
  assert.match(back.text, />Pollen allergy\.<\/textarea>/);

  const a = await p.c.post(`/account/recipients/${self}/archive`);
  assert.equal(a.status, 422);
  assert.match(a.text, /You cannot archive yourself/);
  assert.equal(await one('SELECT archived FROM care_recipients WHERE id = $1', [self]), 'f');
  await assert.rejects(sql(`UPDATE care_recipients SET archived = true WHERE id = $1`, [self]), /care_recipients_self_stays/);
  await assert.rejects(sql(`INSERT INTO care_recipients (owner_id, kind, first_name) VALUES ($1, 'self', 'X')`, [p.id]),
    /care_recipients_self/, 'one self per account');
});

test('a patient of a medical practice adds a family member, and may not add a pet', async () => {
  const p = await patientAt('medical', 'med');
  const list = await p.c.get('/account/recipients');
  assert.match(list.text, /href="\/account\/recipients\/new\?kind=person">Add a family member</);
  assert.doesNotMatch(list.text, /kind=pet/);
  assert.match(list.text, /You can add pets while you are a patient of a veterinary practice/);
  assert.equal((await p.c.get('/account/recipients/new?kind=person')).status, 200);

  const r = await add(p.c, 'person', PERSON);
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/account/recipients');
  assert.deepEqual(await sql(`SELECT kind, first_name, last_name, relationship, date_of_birth::text, notes, species IS NULL
    FROM care_recipients WHERE owner_id = $1 AND kind = 'person'`, [p.id]),
  [['person', 'Sam', 'Jones', 'son', '2016-04-09', 'Allergic to penicillin.\nMild asthma.', 't']]);
  const after = await p.c.get('/account/recipients');
  assert.match(after.text, /Sam was added/);
  assert.match(after.text, /<strong>Sam Jones<\/strong> · son · born 09 Apr 2016/);

  const g = await p.c.get('/account/recipients/new?kind=pet');
  assert.equal(g.status, 403);
  assert.match(g.text, /You can add a pet while you are a patient of a veterinary practice/);
  assert.doesNotMatch(g.text, /name="species"/, 'no form for a kind one may not add');
  const before = await count(p.id);
  const refused = await p.c.post('/account/recipients/new?kind=pet', PET);
  assert.equal(refused.status, 422);
  assert.match(refused.text, /You can add a pet while you are a patient of a veterinary practice/);
  assert.equal(await count(p.id), before, 'nothing stored');
  assert.equal((await p.c.get('/account/recipients/new?kind=self')).status, 404);
  const bare = await p.c.get('/account/recipients/new');
  assert.equal(bare.status, 303, 'no kind (as after a login): the list, which offers the kinds');
  assert.equal(bare.headers.get('location'), '/account/recipients');
  assert.equal((await p.c.post('/account/recipients/new?kind=self', PERSON)).status, 404);
  assert.equal(await count(p.id), before, 'nothing stored');
});

test('a patient of a veterinary practice adds a pet, and may not add a family member', async () => {
  const p = await patientAt('veterinary', 'vet');
  const list = await p.c.get('/account/recipients');
  assert.match(list.text, /href="\/account\/recipients\/new\?kind=pet">Add a pet</);
  assert.doesNotMatch(list.text, /kind=person/);
  const form = await p.c.get('/account/recipients/new?kind=pet');
  assert.equal(form.status, 200);
  assert.match(form.text, /<option value="unknown">Not known<\/option>/);

  const r = await add(p.c, 'pet', PET);
  assert.equal(r.status, 303);
  assert.deepEqual(await sql(`SELECT first_name, last_name, species, breed, sex, neutered, weight_kg::text, microchip,
      date_of_birth::text, notes, relationship IS NULL FROM care_recipients WHERE owner_id = $1 AND kind = 'pet'`, [p.id]),
  [['Biscuit', '', 'dog', 'beagle', 'male', 't', '12.40', '985112004512398', '2019-06-02', 'Chicken-free food.', 't']]);
  assert.match((await p.c.get('/account/recipients')).text, /<strong>Biscuit<\/strong> · dog, beagle · born 02 Jun 2019/);

  const minimal = await add(p.c, 'pet', { first_name: 'Tom', species: 'cat', sex: 'unknown' });
  assert.equal(minimal.status, 303);
  assert.deepEqual(await sql(`SELECT neutered, breed IS NULL, weight_kg IS NULL, date_of_birth IS NULL, notes
    FROM care_recipients WHERE owner_id = $1 AND first_name = 'Tom'`, [p.id]), [['f', 't', 't', 't', '']]);

  const before = await count(p.id);
  const refused = await p.c.post('/account/recipients/new?kind=person', PERSON);
  assert.equal(refused.status, 422);
  assert.match(refused.text, /You can add a family member while you are a patient of a medical practice/);
  assert.equal(await count(p.id), before);
});

test('each wrong field comes back with its message next to it, the typing kept, nothing stored', async () => {
  const p = await patientAt('medical', 'bad');
  await sql(`INSERT INTO memberships (clinic_id, user_id, role) SELECT id, $1, 'patient' FROM clinics WHERE name = $2`,
    [p.id, (await patientAt('veterinary', 'bad-vet')).clinic]);
  const before = await count(p.id);
  const long = 'x'.repeat(2001);
  const cases = [
    ['person', { ...PERSON, first_name: '  ' }, 'first_name', 'Enter their first name.'],
    ['person', { ...PERSON, last_name: '' }, 'last_name', 'Enter their last name.'],
    ['person', { ...PERSON, date_of_birth: '2999-01-01' }, 'date_of_birth', 'Their date of birth cannot be in the future.'],
    ['person', { ...PERSON, date_of_birth: '9 April 2016' }, 'date_of_birth',
      'Their date of birth is a date like 2026-03-31 (year, month, day).'],
    ['person', { ...PERSON, notes: long }, 'notes', 'The notes may have at most 2,000 characters.'],
    ['person', { ...PERSON, relationship: 'r'.repeat(101) }, 'relationship',
      'How they are related to you may have at most 100 characters.'],
    ['pet', { ...PET, first_name: '' }, 'first_name', 'Enter the pet&#39;s name.'],
    ['pet', { ...PET, species: '' }, 'species', 'Enter the species.'],
    ['pet', { ...PET, sex: 'other' }, 'sex', 'Choose the sex from the list.'],
    ['pet', { ...PET, weight_kg: '-3' }, 'weight_kg', 'The weight in kg is between 0.01 and 9999.99.'],
    ['pet', { ...PET, weight_kg: '0' }, 'weight_kg', 'The weight in kg is between 0.01 and 9999.99.'],
    ['pet', { ...PET, weight_kg: '12.345' }, 'weight_kg', 'The weight in kg is a number with at most 2 decimals, like 2.5.'],
    ['pet', { ...PET, weight_kg: 'heavy' }, 'weight_kg', 'The weight in kg is a number with at most 2 decimals, like 2.5.'],
    ['pet', { ...PET, weight_kg: '10000' }, 'weight_kg', 'The weight in kg is between 0.01 and 9999.99.'],
    ['pet', { ...PET, date_of_birth: '2999-12-31' }, 'date_of_birth', 'The pet&#39;s date of birth cannot be in the future.'],
    ['pet', { ...PET, notes: long }, 'notes', 'The notes may have at most 2,000 characters.'],
  ];
  for (const [kind, fields, field, message] of cases) {
    const r = await add(p.c, kind, fields);
    const what = `${kind} ${field}=${String(fields[field]).slice(0, 20)}`;
    assert.equal(r.status, 422, what);
    assert.equal(error(r.text, field), message, what);
    for (const [name, value] of Object.entries(fields)) {
      if (name === field || name === 'neutered' || name === 'sex' || name === 'notes') continue;
      assert.ok(r.text.includes(`value="${value}"`), `${what}: ${name} kept`);
    }
    if (kind === 'pet' && field !== 'sex') assert.match(r.text, /<option value="male" selected>/, `${what}: sex kept`);
    if (kind === 'pet') assert.match(r.text, /id="neutered"[^>]* checked/, `${what}: the box stays ticked`);
    if (field !== 'notes') assert.ok(r.text.includes(`>${fields.notes.replace('\r\n', '\n')}</textarea>`), `${what}: notes kept`);
  }
  assert.equal(await count(p.id), before, 'nothing stored');
});

test('a family member and a pet are edited, archived and brought back', async () => {
  const p = await patientAt('veterinary', 'edit');
  await sql(`UPDATE clinics SET kind = 'medical' WHERE id = $1`, [p.clinicId]);
  await sql(`INSERT INTO memberships (clinic_id, user_id, role) SELECT id, $1, 'patient' FROM clinics WHERE name = $2`,
    [p.id, (await patientAt('veterinary', 'edit-vet')).clinic]);
  assert.equal((await add(p.c, 'person', PERSON)).status, 303);
  assert.equal((await add(p.c, 'pet', PET)).status, 303);
  const sam = await idOf(p.id, 'Sam'), biscuit = await idOf(p.id, 'Biscuit');

  const form = await p.c.get(`/account/recipients/${sam}`);
  assert.equal(form.status, 200);
  assert.match(form.text, /<h1>Sam Jones<\/h1>/);
  assert.ok(form.text.includes('value="son"') && form.text.includes('value="2016-04-09"'), 'the stored values');
  const r = await p.c.post(`/account/recipients/${sam}`, { ...PERSON, first_name: 'Samuel', date_of_birth: '', notes: '' });
  assert.equal(r.status, 303);
  assert.deepEqual(await sql(`SELECT first_name, date_of_birth IS NULL, notes FROM care_recipients WHERE id = $1`, [sam]),
    [['Samuel', 't', '']]);
  const bad = await p.c.post(`/account/recipients/${sam}`, { ...PERSON, last_name: '' });
  assert.equal(bad.status, 422);
  assert.equal(error(bad.text, 'last_name'), 'Enter their last name.');
  assert.equal(await one('SELECT last_name FROM care_recipients WHERE id = $1', [sam]), 'Jones');

  const pet = await p.c.get(`/account/recipients/${biscuit}`);
  assert.match(pet.text, /<option value="male" selected>/);
  assert.match(pet.text, /id="neutered"[^>]* checked/);
  assert.match(pet.text, /value="12.40"/);
  const { neutered, ...unticked } = PET;
  assert.equal((await p.c.post(`/account/recipients/${biscuit}`, { ...unticked, weight_kg: '13', breed: '' })).status, 303);
  assert.deepEqual(await sql(`SELECT neutered, weight_kg::text, breed IS NULL FROM care_recipients WHERE id = $1`, [biscuit]),
    [['f', '13.00', 't']]);

  const a = await p.c.post(`/account/recipients/${sam}/archive`);
  assert.equal(a.status, 303);
  assert.equal(await one('SELECT archived FROM care_recipients WHERE id = $1', [sam]), 't');
  const list = await p.c.get('/account/recipients');
  assert.match(list.text, /Samuel Jones is archived/);
  const [active, archived] = list.text.split('<main>')[1].split('<h2>Archived</h2>');
  assert.doesNotMatch(active, /Samuel/);
  assert.match(archived, /Bring Samuel Jones back/);
  assert.equal((await p.c.post(`/account/recipients/${sam}/unarchive`)).status, 303);
  assert.equal(await one('SELECT archived FROM care_recipients WHERE id = $1', [sam]), 'f');
  assert.doesNotMatch((await p.c.get('/account/recipients')).text, /<h2>Archived<\/h2>/);
});

test('another person\'s recipient is a 404 on every page, and stays as it was', async () => {
  const owner = await patientAt('medical', 'owner');
  assert.equal((await add(owner.c, 'person', PERSON)).status, 303);
  const sam = await idOf(owner.id, 'Sam');
  const self = await one(`SELECT id FROM care_recipients WHERE owner_id = $1 AND kind = 'self'`, [owner.id]);
  const other = await patientAt('medical', 'other');
  const staff = await staffOf(owner.clinic);
  for (const who of [other.c, staff.c]) {
    for (const id of [sam, self, '00000000-0000-4000-8000-000000000000']) {
      assert.equal((await who.get(`/account/recipients/${id}`)).status, 404);
      assert.equal((await who.post(`/account/recipients/${id}`, { ...PERSON, first_name: 'Eve' })).status, 404);
      assert.equal((await who.post(`/account/recipients/${id}/archive`)).status, 404);
      assert.equal((await who.post(`/account/recipients/${id}/unarchive`)).status, 404);
    }
  }
  assert.deepEqual(await sql(`SELECT first_name, archived FROM care_recipients WHERE owner_id = $1 ORDER BY kind`, [owner.id]),
    [['Sam', 'f'], ['Pia', 'f']]);
  assert.doesNotMatch((await other.c.get('/account/recipients')).text, /Sam Jones/);
});

test('staff see their own clinic\'s patients and the recipients the clinic cares for; anyone else gets 404', async () => {
  const p = await patientAt('medical', 'staffview', { first: 'Paula', last: 'Present' });
  const vets = await patientAt('veterinary', 'staffview-vets');
  await sql(`INSERT INTO memberships (clinic_id, user_id, role) VALUES ($1, $2, 'patient')`, [vets.clinicId, p.id]);
  assert.equal((await add(p.c, 'person', PERSON)).status, 303);
  assert.equal((await add(p.c, 'person', { ...PERSON, first_name: 'Gone', notes: 'old' })).status, 303);
  assert.equal((await p.c.post(`/account/recipients/${await idOf(p.id, 'Gone')}/archive`)).status, 303);
  assert.equal((await add(p.c, 'pet', PET)).status, 303);
  const self = await one(`SELECT id FROM care_recipients WHERE owner_id = $1 AND kind = 'self'`, [p.id]);
  await p.c.post(`/account/recipients/${self}`, { date_of_birth: '1980-01-02', notes: 'Type 1 diabetes.' });

  const doc = await staffOf(p.clinic, 'doctor', 'Gina');
  const list = await doc.c.get('/patients');
  assert.equal(list.status, 200);
  assert.match(list.text, new RegExp(`<a href="/patients/${p.id}">Paula Present</a></td><td data-label="Patient since">\\d\\d [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d [A-Z]{3,4}</td>`));
  assert.match((await doc.c.get('/patients?q=PAULA')).text, /Paula Present/);
  assert.doesNotMatch((await doc.c.get('/patients?q=nobody-like-this')).text, /Paula Present/);
  assert.match(await doc.c.get('/inbox').then((r) => r.text), /<a href="\/patients">Patients<\/a>/, 'in the menu');

  const page = await doc.c.get(`/patients/${p.id}`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<h1>Paula Present<\/h1>/);
  assert.ok(page.text.includes(p.email), 'the e-mail address');
  assert.match(page.text, /since \d\d [A-Z][a-z]{2} \d{4}/);
  assert.match(page.text, /Paula Present \(the patient\)/);
  assert.match(page.text, /born 02 Jan 1980/);
  assert.match(page.text, /Type 1 diabetes\./);
  assert.match(page.text, /<h3>Sam Jones<\/h3>/);
  assert.match(page.text, /Family member · son · born 09 Apr 2016/);
  assert.ok(page.text.includes('Allergic to penicillin.\nMild asthma.'), 'notes with their line break');
  assert.doesNotMatch(page.text, /Gone|Biscuit|Chicken-free/, 'no archived ones, no pets at a medical practice');
  assert.equal(await one(`SELECT count(*) FROM audit_log WHERE action = 'patient page viewed' AND clinic_id = $1
    AND subject_id = $2 AND actor_id = $3 AND detail = ''`, [p.clinicId, p.id, doc.id]), '1');

  const vet = await staffOf(vets.clinic, 'doctor', 'Vera');
  const vpage = await vet.c.get(`/patients/${p.id}`);
  assert.equal(vpage.status, 200);
  assert.match(vpage.text, /<h3>Biscuit<\/h3>/);
  assert.match(vpage.text, /dog · beagle · male · neutered · 12.40 kg · microchip 985112004512398 · born 02 Jun 2019/);
  assert.match(vpage.text, /Chicken-free food\./);
  assert.doesNotMatch(vpage.text, /Sam Jones|penicillin|diabetes/, 'a vet sees no person');

  const unknown = await doc.c.get('/patients/00000000-0000-4000-8000-000000000000');
  assert.equal(unknown.status, 404);
  const strip = (t) => t.replace(/<code>[^<]*<\/code>/, '').replace(/<p>Times are shown[^<]*<\/p>/, '')
    .replace(/<span class="clinic"[^>]*>[^<]*<\/span>/, '').replace(/name="csrf_token" value="[0-9a-f]+"/g, '');
  const stranger = await staffOf(uniqueClinic('stranger'));
  const foreign = await stranger.c.get(`/patients/${p.id}`);
  assert.equal(foreign.status, 404, 'staff of another clinic');
  assert.equal(strip(foreign.text).replace(/Doc Staff/, ''), strip(unknown.text).replace(/Gina Staff/, ''),
    'the same page as for an unknown id');
  assert.doesNotMatch((await stranger.c.get('/patients')).text, /Paula/);
  assert.equal((await doc.c.get(`/patients/${doc.id}`)).status, 404, 'a colleague is no patient');
  assert.equal((await doc.c.get(`/patients/${vets.id}`)).status, 404, 'a patient of another clinic only');
  assert.equal((await p.c.get(`/patients/${p.id}`)).status, 403, 'patients have no patient pages');
  assert.equal((await p.c.get('/patients')).status, 403);

  await sql(`UPDATE memberships SET active = false, ended_at = now() WHERE clinic_id = $1 AND user_id = $2`,
    [p.clinicId, p.id]);
  assert.equal((await doc.c.get(`/patients/${p.id}`)).status, 404, 'a patient who left');
  assert.doesNotMatch((await doc.c.get('/patients')).text, /Paula/);
  assert.equal((await vet.c.get(`/patients/${p.id}`)).status, 200, 'still a patient of the vets');
});
