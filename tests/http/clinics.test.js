// clinics.test.js - the clinic profile (/admin/clinic: who may edit it,
// every check sending the form back, the audit entry) and the public
// directory (/clinics, /clinics/{id}: search, paging, what a clinic's page
// shows and never shows).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail } = require('../lib/harness');

let clinicCounter = 0;
const uniqueClinic = (tag = 'Profile Clinic') => `${tag} ${process.pid}-${Date.now()}-${++clinicCounter}`;
const one = async (q, p) => (await sql(q, p))[0][0];
const clinicId = (name) => one('SELECT id FROM clinics WHERE name = $1', [name]);

// A client logged in as `email` that has loaded `page` (for its CSRF token).
async function loggedIn(email, page = '/admin/clinic') {
  const c = new Client();
  assert.equal((await c.login(email)).status, 303, `login of ${email}`);
  assert.equal((await c.get(page)).status, 200, `GET ${page}`);
  return c;
}

// A fresh clinic with a logged-in admin on its profile page.
async function clinicWithAdmin() {
  const clinic = uniqueClinic(), email = uniqueEmail('clinic-admin');
  const adminId = await createUser({ role: 'admin', email, clinic, first: 'Ada', last: 'Admin' });
  return { clinic, id: await clinicId(clinic), adminId, email, admin: await loggedIn(email) };
}

// A whole valid profile, as the form sends it.
const GOOD = {
  kind: 'veterinary',
  address_line1: '350 West 42nd Street',
  address_line2: 'Suite 5',
  postcode: 'NY 10036',
  city: 'New York',
  country: 'United States',
  phone: '+1 (212) 555-0142',
  public_email: 'hello@vets.example',
  time_zone: 'America/New_York',
  prescription_fee: '25',
  currency: 'USD',
  description: 'Cats, dogs & small pets.\nOpen on weekdays.',
};

// The stored profile of clinic `id`, as one row of text.
const PROFILE = `SELECT kind, address_line1, address_line2, postcode, city, country, phone,
  public_email, time_zone, prescription_fee::text, currency, description, updated_at::text
  FROM clinics WHERE id = $1`;
const stored = async (id) => (await sql(PROFILE, [id]))[0];

// The message shown next to field `name`, or null.
function fieldError(html, name) {
  const m = new RegExp(`<p class="field-error" id="${name}-error">([^<]*)</p>`).exec(html);
  return m ? m[1] : null;
}

test('the profile form shows the stored profile, with the defaults of a new clinic', async () => {
  const { admin } = await clinicWithAdmin();
  const r = await admin.get('/admin/clinic');
  assert.equal(r.status, 200);
  assert.match(r.text, /<option value="medical" selected>Medical practice<\/option>/);
  assert.match(r.text, /<option value="veterinary">Veterinary practice<\/option>/);
  assert.match(r.text, /id="time_zone" name="time_zone" value="Europe\/London"/);
  assert.match(r.text, /id="prescription_fee" name="prescription_fee" value="0.00"/);
  assert.match(r.text, /id="currency" name="currency" value="GBP"/);
  assert.match(r.text, /name="csrf_token"/);
  assert.match(r.text, /<a href="\/admin\/clinic">Clinic profile<\/a>/, 'the admin menu links it');
});

test('an admin saves the profile in one go; the audit entry names the changed fields', async () => {
  const { id, adminId, admin } = await clinicWithAdmin();
  const r = await admin.post('/admin/clinic', { ...GOOD, time_zone: 'america/new_york', currency: 'usd' });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/admin/clinic');
  const page = await admin.get('/admin/clinic');
  assert.match(page.text, /The clinic profile was saved/);
  assert.match(page.text, /<option value="veterinary" selected>/);
  assert.match(page.text, /value="25.00"/, 'the fee as stored');
  assert.match(page.text, /Cats, dogs &amp; small pets.\nOpen on weekdays.<\/textarea>/);
  const row = await stored(id);
  assert.deepEqual(row.slice(0, 12), ['veterinary', '350 West 42nd Street', 'Suite 5', 'NY 10036',
    'New York', 'United States', '+1 (212) 555-0142', 'hello@vets.example', 'America/New_York',
    '25.00', 'USD', 'Cats, dogs & small pets.\nOpen on weekdays.'],
  'stored, with the zone as pg_timezone_names spells it and the currency in capitals');

  const audit = await sql(`SELECT actor_id, subject_id, detail FROM audit_log
    WHERE clinic_id = $1 AND action = 'clinic profile changed'`, [id]);
  assert.deepEqual(audit, [[adminId, '', 'kind, address_line1, address_line2, postcode, city, '
    + 'country, phone, public_email, time_zone, prescription_fee, currency, description']]);
  assert.doesNotMatch(audit[0][2], /New York|hello@/, 'names, never values');

  // A second save lists only what it changed; one that changes nothing writes nothing.
  await admin.post('/admin/clinic', { ...GOOD, city: 'Brooklyn', prescription_fee: '25.5' });
  await admin.get('/admin/clinic');
  assert.equal(await one(`SELECT detail FROM audit_log WHERE clinic_id = $1
    AND action = 'clinic profile changed' ORDER BY id DESC LIMIT 1`, [id]), 'city, prescription_fee');
  const r2 = await admin.post('/admin/clinic', { ...GOOD, city: 'Brooklyn', prescription_fee: '25.50' });
  assert.equal(r2.status, 303);
  assert.match((await admin.get('/admin/clinic')).text, /Nothing was changed/);
  assert.equal(await one(`SELECT count(*) FROM audit_log WHERE clinic_id = $1
    AND action = 'clinic profile changed'`, [id]), '2');
});

test('each bad value sends the form back with 422, its message next to the field, the typed values, and nothing stored', async () => {
  const { id, admin } = await clinicWithAdmin();
  const before = await stored(id);
  const cases = [
    ['time_zone', 'Mars/Olympus', /This is not a time zone we know/],
    ['time_zone', '', /Enter the time zone\./],
    ['prescription_fee', '-1', /The prescription fee is between 0.00 and 99999999.99\./],
    ['prescription_fee', '9.999', /The prescription fee is an amount like 12.50\./],
    ['public_email', 'not-an-address', /Enter an e-mail address like name@example.org\./],
    ['description', 'x'.repeat(1001), /The description may have at most 1,000 characters\./],
    ['kind', 'hospital', /Choose the kind of practice from the list\./],
    ['currency', 'E1R', /The currency is a three-letter code such as GBP, EUR or USD\./],
    ['phone', 'call us', /The phone number may have only digits/],
  ];
  for (const [field, value, message] of cases) {
    const r = await admin.post('/admin/clinic', { ...GOOD, [field]: value });
    assert.equal(r.status, 422, `${field}=${value.slice(0, 20)}`);
    assert.match(fieldError(r.text, field) || '', message, `the message next to ${field}`);
    for (const other of ['address_line1', 'city', 'postcode']) {
      assert.match(r.text, new RegExp(`name="${other}" value="${GOOD[other]}"`), `${other} kept`);
    }
    if (field !== 'description') {
      assert.match(r.text, /Cats, dogs &amp; small pets.\nOpen on weekdays.<\/textarea>/, 'the description kept');
    }
    if (field !== 'kind') assert.match(r.text, /<option value="veterinary" selected>/, 'the kind kept');
    if (value && field !== 'description' && field !== 'kind') {
      assert.match(r.text, new RegExp(`name="${field}"[^>]* value="${value}"`), 'the wrong value kept');
    }
    assert.equal(fieldError(r.text, 'city'), null, 'no message next to a good field');
  }
  const both = await admin.post('/admin/clinic', { ...GOOD, time_zone: 'Nowhere/Land', prescription_fee: '-3' });
  assert.equal(both.status, 422);
  assert.ok(fieldError(both.text, 'time_zone') && fieldError(both.text, 'prescription_fee'),
    'every wrong field has its message at once');
  assert.deepEqual(await stored(id), before, 'nothing stored');
  assert.equal(await one(`SELECT count(*) FROM audit_log WHERE clinic_id = $1
    AND action = 'clinic profile changed'`, [id]), '0');
});

test('the database refuses a zone pg_timezone_names does not list, even past the app', async () => {
  const { id } = await clinicWithAdmin();
  await assert.rejects(sql(`UPDATE clinics SET time_zone = 'Mars/Olympus' WHERE id = $1`, [id]),
    /unknown time zone/);
  await assert.rejects(sql(`UPDATE clinics SET prescription_fee = -1 WHERE id = $1`, [id]), /check/);
  await assert.rejects(sql(`UPDATE clinics SET currency = 'usd' WHERE id = $1`, [id]), /check/);
  await assert.rejects(sql(`UPDATE clinics SET kind = 'hospital' WHERE id = $1`, [id]), /check/);
});

test('doctors and patients get 403 on the profile, a visitor is sent to log in', async () => {
  const { id, clinic } = await clinicWithAdmin();
  const doctor = uniqueEmail('clinic-doc'), patient = uniqueEmail('clinic-pat');
  await createUser({ role: 'doctor', email: doctor, clinic });
  await createUser({ email: patient, clinic });
  const before = await stored(id);
  for (const email of [doctor, patient]) {
    const c = await loggedIn(email, '/account');
    assert.equal((await c.get('/admin/clinic')).status, 403, `GET as ${email}`);
    assert.equal((await c.post('/admin/clinic', GOOD)).status, 403, `POST as ${email}`);
  }
  const v = new Client();
  const r = await v.get('/admin/clinic');
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/login?next=%2Fadmin%2Fclinic');
  assert.equal((await v.post('/admin/clinic', GOOD)).status, 303);
  assert.deepEqual(await stored(id), before, 'nothing changed');
});

test('an admin changes only their own clinic, never another', async () => {
  const mine = await clinicWithAdmin(), theirs = await clinicWithAdmin();
  const before = await stored(mine.id);
  const r = await theirs.admin.post('/admin/clinic', { ...GOOD, city: 'Elsewhere' });
  assert.equal(r.status, 303);
  assert.equal(await one('SELECT city FROM clinics WHERE id = $1', [theirs.id]), 'Elsewhere');
  assert.deepEqual(await stored(mine.id), before, 'the other clinic is untouched');
  assert.equal((await theirs.admin.post('/admin/clinic', { ...GOOD, csrf_token: null })).status, 403,
    'no CSRF token, no change');
});

test('the directory finds clinics by name and by town, in any case, % and _ as characters', async () => {
  const tag = `Dir${process.pid}x${Date.now()}`;
  const names = [`${tag} Alpha Surgery`, `${tag} Beta Vets`, `Gamma ${tag}_Care`];
  for (const n of names) await createUser({ email: uniqueEmail('dir'), clinic: n });
  await sql(`UPDATE clinics SET city = $2, kind = 'veterinary' WHERE name = $1`, [names[1], `${tag}ville`]);
  await sql(`UPDATE clinics SET city = 'Leeds' WHERE name = $1`, [names[0]]);
  const listed = async (q) => {
    const r = await new Client().get(`/clinics?q=${encodeURIComponent(q)}`);
    assert.equal(r.status, 200, `search ${q}`);
    return [...r.text.matchAll(/<a href="\/clinics\/([0-9a-f-]{36})">([^<]*)<\/a>/g)].map((m) => m[2]);
  };
  assert.deepEqual(await listed(tag.toLowerCase()), [names[0], names[1], names[2]], 'by name, in name order');
  assert.deepEqual(await listed(`${tag}VILLE`), [names[1]], 'by town');
  assert.deepEqual(await listed(`${tag}_c`), [names[2]], '_ is a character');
  assert.deepEqual(await listed(`${tag}%`), [], '% is a character');
  const r = await new Client().get(`/clinics?q=${tag}`);
  assert.match(r.text, new RegExp(`${names[1]}</a></td><td data-label="Kind">Veterinary practice</td><td data-label="Town or city">${tag}ville</td>`));
  assert.match(r.text, new RegExp(`${names[0]}</a></td><td data-label="Kind">Medical practice</td><td data-label="Town or city">Leeds</td>`));
  assert.match(r.text, new RegExp(`value="${tag}"`), 'the search stays in its box');
  assert.match((await new Client().get('/clinics?q=no-clinic-is-called-this')).text, /No clinic matches your search/);
  assert.equal((await new Client().get(`/clinics?q=${'x'.repeat(101)}`)).status, 400, 'a search too long');
});

test('the directory pages by name; a bad cursor is a 400', async () => {
  const tag = `Pg${process.pid}x${Date.now()}`;
  for (let i = 0; i < 23; i++) {
    await sql('INSERT INTO clinics (name) VALUES ($1)', [`${tag} ${String(i).padStart(2, '0')}`]);
  }
  const c = new Client();
  const names = (html) => [...html.matchAll(/<a href="\/clinics\/[0-9a-f-]{36}">([^<]*)<\/a>/g)].map((m) => m[1]);
  const first = await c.get(`/clinics?q=${tag}`);
  assert.equal(names(first.text).length, 20);
  assert.equal(names(first.text)[0], `${tag} 00`);
  const next = /<a href="([^"]+)">Next clinics<\/a>/.exec(first.text);
  assert.ok(next, 'a link to the next clinics');
  const second = await c.get(next[1].replace(/&amp;/g, '&'));
  assert.deepEqual(names(second.text), [`${tag} 20`, `${tag} 21`, `${tag} 22`]);
  assert.doesNotMatch(second.text, /Next clinics/);
  const prev = /<a href="([^"]+)">Previous clinics<\/a>/.exec(second.text);
  assert.ok(prev, 'a link back');
  const back = await c.get(prev[1].replace(/&amp;/g, '&'));
  assert.deepEqual(names(back.text), names(first.text), 'the previous page is the first again');
  assert.equal((await c.get('/clinics?before=not-an-id')).status, 400);
  assert.equal((await c.get('/clinics?before=00000000-0000-4000-8000-000000000000')).status, 400);
});

test('a clinic\'s public page: profile, hours in its zone, doctors by name, never a staff e-mail address', async () => {
  const { id, clinic, email: adminEmail, admin } = await clinicWithAdmin();
  assert.equal((await admin.post('/admin/clinic', { ...GOOD, description: 'We <b>love</b> pets.' })).status, 303);
  const docEmail = uniqueEmail('pubdoc'), goneEmail = uniqueEmail('gonedoc'), patEmail = uniqueEmail('pubpat');
  await createUser({ role: 'doctor', email: docEmail, clinic, first: 'Hana', last: 'Novak' });
  const gone = await createUser({ role: 'doctor', email: goneEmail, clinic, first: 'Gone', last: 'Away' });
  await sql('UPDATE users SET active = false WHERE id = $1', [gone]);
  await createUser({ email: patEmail, clinic, first: 'Pat', last: 'Patient' });
  await sql(`INSERT INTO clinic_hours (clinic_id, weekday, opens, closes)
    SELECT $1::uuid, d, time '08:00', time '18:00' FROM generate_series(1, 5) d
    UNION ALL SELECT $1::uuid, 6, time '09:00', time '12:00'
    UNION ALL SELECT $1::uuid, 6, time '13:00', time '15:30'`, [id]);

  const r = await new Client().get(`/clinics/${id}`);
  assert.equal(r.status, 200);
  assert.match(r.text, new RegExp(`<h1>${clinic}</h1>`));
  assert.match(r.text, /Veterinary practice/);
  assert.match(r.text, /We &lt;b&gt;love&lt;\/b&gt; pets./, 'the description as text');
  assert.match(r.text, /350 West 42nd Street<br>\s*Suite 5<br>\s*NY 10036 New York<br>United States/);
  assert.match(r.text, /\+1 \(212\) 555-0142/);
  assert.match(r.text, /hello@vets.example/, 'the clinic\'s public address');
  assert.match(r.text, /Times in America\/New_York/);
  assert.match(r.text, /<th scope="row">Monday<\/th><td>08:00–18:00<\/td>/);
  assert.match(r.text, /<th scope="row">Saturday<\/th><td>09:00–12:00, 13:00–15:30<\/td>/);
  assert.match(r.text, /<th scope="row">Sunday<\/th><td>Closed<\/td>/);
  assert.match(r.text, /<li>Hana Novak<\/li>/);
  assert.doesNotMatch(r.text, /Gone Away/, 'no deactivated doctor');
  assert.doesNotMatch(r.text, /Ada Admin|Pat Patient/, 'doctors only');
  for (const e of [adminEmail, docEmail, goneEmail, patEmail]) {
    assert.ok(!r.text.toLowerCase().includes(e.toLowerCase()), `no staff or patient address (${e})`);
  }
  assert.doesNotMatch(r.text, /25.00/, 'no fee');

  const bare = uniqueClinic('Bare Clinic');
  await createUser({ email: uniqueEmail('bare'), clinic: bare });
  const b = await new Client().get(`/clinics/${await clinicId(bare)}`);
  assert.match(b.text, /has not given its opening hours/);
  assert.match(b.text, /has not given its address/);
  assert.match(b.text, /No doctors are listed/);
});

test('an unknown clinic is the 404 page; the login and signup pages link the directory', async () => {
  const c = new Client();
  const r = await c.get('/clinics/00000000-0000-4000-8000-000000000000');
  assert.equal(r.status, 404);
  assert.match(r.text, /<a class="brand" href="\/">carebox<\/a>/, 'the styled error page');
  assert.equal((await c.get('/clinics/not-a-uuid')).status, 404);
  assert.match((await c.get('/login')).text, /<a href="\/clinics">Find a clinic<\/a>/);
  assert.match((await c.get('/signup')).text, /<a href="\/clinics">Find a clinic<\/a>/);
});
