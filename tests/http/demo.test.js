// demo.test.js - carebox-admin: migrations run twice are a no-op; the demo
// data loads once and its printed logins work.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { Client, sql } = require('../lib/harness');
const { enrolTwoStep } = require('../lib/harness');

const admin = (...args) => execFileSync(path.join(process.env.BUILDDIR, 'carebox-admin'),
  ['-d', process.env.SRCDIR, ...args], { encoding: 'utf8' });

test('migrate a second time applies nothing', () => {
  assert.match(admin('migrate'), /migrations: 0 applied, \d+ already there/);
});

test('seed-demo loads the demo once, and its logins work', async () => {
  assert.match(admin('seed-demo'), /demo data loaded/);
  assert.match(admin('seed-demo'), /demo data already there/);
  for (const who of ['patient', 'doctor', 'admin', 'vet']) {
    const c = new Client();
    assert.equal((await c.login(`${who}@demo.test`, 'carebox-demo')).status, 303, `${who} logs in`);
  }
  const pat = new Client();
  await pat.login('patient@demo.test', 'carebox-demo');
  const inbox = await pat.get('/inbox');
  assert.match(inbox.text, /Dana Okafor/, 'the doctor replied to the patient');
  assert.match(inbox.text, /Welcome to carebox/, 'carebox wrote to the patient');
  const doc = new Client();
  await doc.login('doctor@demo.test', 'carebox-demo');
  assert.match((await doc.get('/inbox')).text, /1 unread/, 'the doctor has an unread question');
});

test('the demo has two clinics with full profiles, in the directory', async () => {
  const rows = await sql(`SELECT name, kind, city, time_zone, prescription_fee::text, currency
    FROM clinics WHERE name IN ('Demo Clinic', 'Demo Vets') ORDER BY name`);
  assert.deepEqual(rows, [
    ['Demo Clinic', 'medical', 'London', 'Europe/London', '9.50', 'GBP'],
    ['Demo Vets', 'veterinary', 'New York', 'America/New_York', '25.00', 'USD'],
  ]);
  const c = new Client();
  const list = await c.get('/clinics?q=demo');
  const vets = /<a href="(\/clinics\/[0-9a-f-]{36})">Demo Vets<\/a><\/td><td data-label="Kind">Veterinary practice<\/td><td data-label="Town or city">New York<\/td>/.exec(list.text);
  assert.ok(vets, 'Demo Vets is listed');
  const page = await c.get(vets[1]);
  assert.match(page.text, /Times in America\/New_York/);
  assert.match(page.text, /<th scope="row">Friday<\/th><td>08:00–18:00<\/td>/);
  assert.match(page.text, /<li>Hana Novak<\/li>/);
  assert.doesNotMatch(page.text, /vet@demo.test/);

  // A demo loaded before clinics had profiles gets the Demo Clinic's profile.
  await sql(`UPDATE clinics SET address_line1 = '' WHERE name = 'Demo Clinic'`);
  assert.match(admin('seed-demo'), /demo data loaded: the Demo Clinic's profile/);
  assert.equal((await sql(`SELECT address_line1 FROM clinics WHERE name = 'Demo Clinic'`))[0][0], '12 Harley Street');
  assert.match(admin('seed-demo'), /demo data already there/);
});

test('the demo patient has a son at the Demo Clinic and a dog at Demo Vets, whom the vet sees', async () => {
  assert.deepEqual(await sql(`SELECT r.kind, r.first_name, r.relationship, r.species, r.breed, r.sex, r.neutered,
      r.weight_kg::text FROM care_recipients r JOIN users u ON u.id = r.owner_id
      WHERE u.email = 'patient@demo.test' ORDER BY r.kind`), [
    ['person', 'Sam', 'son', '', '', '', '', ''],
    ['pet', 'Biscuit', '', 'dog', 'beagle', 'male', 't', '12.40'],
    ['self', 'Pat', '', '', '', '', '', ''],
  ]);
  // Demo Vets asks its staff for two steps: the vet is held at enrolment.
  const vet = new Client();
  const first = await vet.login('vet@demo.test', 'carebox-demo');
  assert.equal(first.headers.get('location'), '/account/two-step');
  assert.equal((await vet.get('/patients')).headers.get('location'), '/account/two-step', 'nothing else');
  await enrolTwoStep(vet);
  const list = await vet.get('/patients');
  const pat = /<a href="(\/patients\/[0-9a-f-]{36})">Pat Jones<\/a>/.exec(list.text);
  assert.ok(pat, 'Pat Jones is a patient of Demo Vets');
  const page = await vet.get(pat[1]);
  assert.match(page.text, /<h3>Biscuit<\/h3>/);
  assert.doesNotMatch(page.text, /Sam Jones/);

  // A demo loaded before people and pets gets them.
  await sql(`DELETE FROM care_recipients WHERE kind <> 'self'
    AND owner_id = (SELECT id FROM users WHERE email = 'patient@demo.test')`);
  assert.match(admin('seed-demo'), /demo data loaded: the demo patient's son and dog/);
  assert.equal((await sql(`SELECT count(*) FROM care_recipients r JOIN users u ON u.id = r.owner_id
    WHERE u.email = 'patient@demo.test'`))[0][0], '3');
  assert.match(admin('seed-demo'), /demo data already there/);
});
