// width.test.js - no page scrolls sideways on a 320 px wide screen
// (JavaScript off): every GET page of the route table (as `carebox -r`
// prints it), for a visitor, a patient, a doctor and an admin of a clinic
// with a long name, whose people, messages and profile hold long words, long
// e-mail addresses and long links.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { withPage, logInPage, closeBrowser, createUser, sql, Client } = require('../lib/harness');
const { send, reply, postFiles, formToken } = require('../lib/messaging');

after(closeBrowser);

const WIDTH = 320;
const tag = `${process.pid}${Date.now()}`;
// Words without a place to break: a browser must break them anywhere.
const LONG_WORD = `Pneumonoultramicroscopicsilicovolcanoconiosis${'x'.repeat(120)}${tag}`;
const LONG_EMAIL = (who) => `${who}.averyveryverylongaddressforwrappingtests.${tag}@averylongsubdomainname.clinicdomainexample.test`;
const CLINIC = `Wolfeschlegelsteinhausenbergerdorffsaintbartholomewcommunitypractice Clinic ${tag}`;
const OTHER = `Width Other Clinic ${tag}`;

// What the {id} of each route is (one object of the clinic below), and
// the query a route's page needs. A route with an {id} missing here fails
// the test: a new page is measured the day it is added.
const ID_OF = {
  '/clinics/{id}': 'clinic',
  '/account/clinics/{id}/leave': 'clinic',
  '/account/recipients/{id}': 'recipient',
  '/patients/{id}': 'patient',
  '/admin/users/{id}': 'patient',
  '/admin/users/{id}/deactivate': 'doctor', // the patient, in two clinics, is no clinic's to deactivate
  '/admin/users/{id}/remove': 'patient',
  '/messages/{id}': 'thread',
  '/demo/mail/{id}': 'clinic', // the stack is no demo: its 404 page
};
const QUERY = { '/search': `?q=${LONG_WORD}`, '/account/recipients/new': '?kind=person' };
// Routes whose answer is no page: a file, an image, the health check.
const NOT_PAGES = ['/attachments/{id}', '/account/two-step/qr', '/healthz'];

const ROLES = ['visitor', 'patient', 'doctor', 'admin'];
const people = {}; // role -> { email, id }
const ids = {};
let routes = [];

before(async () => {
  const out = execFileSync(path.join(process.env.BUILDDIR || '.', 'carebox'), ['-r'], { encoding: 'utf8' });
  routes = out.trim().split('\n').map((line) => {
    const [pattern, methods, access] = line.split('\t');
    return { pattern, methods: methods.split(', '), access: access.split(',') };
  });
  for (const role of ROLES.slice(1)) {
    const email = LONG_EMAIL(role);
    people[role] = { email, id: await createUser({ email, role, clinic: CLINIC, first: 'Maximiliana',
      last: `Wolfeschlegelsteinhausenbergerdorff${role}` }) };
  }
  // A second clinic: the patient then has the switcher and a clinic to leave.
  await createUser({ email: LONG_EMAIL('other'), clinic: OTHER });
  await sql(`INSERT INTO memberships (clinic_id, user_id, role) SELECT id, $1, 'patient' FROM clinics
    WHERE name = $2`, [people.patient.id, OTHER]);
  ids.clinic = (await sql('SELECT id FROM clinics WHERE name = $1', [CLINIC]))[0][0];
  ids.patient = people.patient.id;
  ids.doctor = people.doctor.id;
  await sql(`UPDATE clinics SET description = $2, address_line1 = $3, city = $4, public_email = $5,
    phone = '+44 20 7946 0000 extension 1234567' WHERE id = $1`,
  [ids.clinic, `We care for everyone. ${LONG_WORD}\nSecond line.`, LONG_WORD.slice(0, 200), LONG_WORD.slice(0, 100),
    LONG_EMAIL('reception').slice(0, 254)]);
  await sql(`INSERT INTO clinic_hours (clinic_id, weekday, opens, closes) VALUES ($1, 1, '08:00', '18:00')`, [ids.clinic]);
  ids.recipient = (await sql(`INSERT INTO care_recipients (owner_id, kind, first_name, last_name, relationship, notes)
    VALUES ($1, 'person', 'Konstantinopolitanischer', $2, $3, $4) RETURNING id`,
  [people.patient.id, LONG_WORD.slice(0, 100), LONG_WORD.slice(0, 100), `Allergic to ${LONG_WORD}`]))[0][0];
  // Someone who asked to join, with a long address, for the requests page.
  const asker = await createUser({ email: LONG_EMAIL('asker'), clinic: OTHER, first: 'Asker', last: LONG_WORD.slice(0, 100) });
  await sql(`INSERT INTO join_requests (clinic_id, user_id, date_of_birth) VALUES ($1, $2, '1980-01-01')`, [ids.clinic, asker]);

  // A thread with a long subject, a long word, an address and a link in
  // the text, and a file with a long name; and a reply.
  const c = {};
  for (const role of ['patient', 'doctor']) {
    c[role] = new Client();
    assert.equal((await c[role].login(people[role].email)).status, 303, `${role} logs in`);
    await c[role].get('/account');
  }
  const form = await c.patient.get('/messages/new');
  const sent = await postFiles(c.patient, '/messages', { form_token: formToken(form.text), to: people.doctor.id,
    subject: `About ${LONG_WORD}`.slice(0, 200),
    body: `Hello,\nthe word is ${LONG_WORD} and my address is ${LONG_EMAIL('me')};\n` +
      `see https://example.org/${LONG_WORD}/${LONG_WORD}?q=${LONG_WORD}` },
  [[`${LONG_WORD}.txt`.slice(0, 200), 'text/plain', 'scan']]);
  assert.equal(sent.status, 303, `the patient writes: ${sent.text.slice(0, 300)}`);
  ids.thread = sent.headers.get('location').split('/').pop();
  assert.equal((await reply(c.doctor, ids.thread, `Dear patient, ${LONG_WORD} is fine.`)).status, 303);
  await send({ c: c.doctor }, { id: people.patient.id }, LONG_WORD.slice(0, 150), `Write to ${LONG_EMAIL('doc')}.`);
  // Background jobs of the clinic (of a kind no worker runs), one waiting
  // and one failed with a long error, for /admin/jobs.
  await sql(`INSERT INTO jobs (kind, clinic_id, state, run_at, max_attempts, attempts, last_error, finished_at)
    VALUES ($2, $1, 'queued', now() - interval '3 minutes', 1, 0, NULL, NULL),
      ($2, $1, 'failed', now(), 1, 1, $3, now())`,
  [ids.clinic, `width.${'k'.repeat(60)}`, `The provider answered ${LONG_WORD}`.slice(0, 1000)]);
});

// Logs `role` in through the form in the browser page (a visitor stays out).
async function logIn(page, role) {
  if (role === 'visitor') return;
  await logInPage(page, people[role].email);
  assert.equal(new URL(page.url()).pathname, '/inbox', `${role} is logged in`);
}

// The width of the page's content and of the window, in CSS pixels.
// page.evaluate runs through the browser's DevTools protocol, not as a
// script of the page, so it measures with the page's JavaScript off.
const widths = (page) => page.evaluate(() => [document.documentElement.scrollWidth,
  document.documentElement.clientWidth]);

// The addresses of the GET pages of the route table that `role` may open.
function pagesOf(role) {
  return routes.filter((r) => r.methods.includes('GET') && !NOT_PAGES.includes(r.pattern) &&
    (r.access.includes('public') || r.access.includes(role)))
    .map((r) => {
      if (r.pattern.includes('{id}')) {
        assert.ok(ID_OF[r.pattern], `${r.pattern}: tests/e2e/width.test.js has no object for its {id} (ID_OF)`);
        return r.pattern.replace('{id}', ids[ID_OF[r.pattern]]) + (QUERY[r.pattern] || '');
      }
      return r.pattern + (QUERY[r.pattern] || '');
    });
}

test('without the stylesheet the clinic\'s long words overflow: the data and the measure can fail', async () => {
  await withPage('width: the measure', async (page) => {
    await page.setViewportSize({ width: WIDTH, height: 640 });
    await page.goto(`/clinics/${ids.clinic}`);
    assert.deepEqual(await widths(page), [WIDTH, WIDTH], 'with it, the clinic\'s page fits a 320 px screen');
    await page.route('**/static/style.css', (route) => route.abort());
    await page.goto(`/clinics/${ids.clinic}`);
    const [scroll] = await widths(page);
    assert.ok(scroll > WIDTH, `without it, the page is ${scroll} px wide`);
    assert.equal(await page.locator('script').count(), 0, 'no JavaScript in the page');
  });
});

test('no page of the route table is wider than 320 px, for a visitor, a patient, a doctor and an admin', async () => {
  const wide = [], seen = new Set();
  let measured = 0;
  for (const role of ROLES) {
    await withPage(`width as ${role}`, async (page) => {
      await page.setViewportSize({ width: WIDTH, height: 640 });
      await logIn(page, role);
      for (const p of pagesOf(role)) {
        const res = await page.goto(p);
        assert.match(res.headers()['content-type'] || '', /^text\/html/, `GET ${p} as ${role} is a page`);
        assert.ok(res.status() < 500, `GET ${p} as ${role}: ${res.status()}`);
        const [scroll, client] = await widths(page);
        assert.equal(client, WIDTH, `GET ${p} as ${role}: the window is ${WIDTH} px wide`);
        const where = `${new URL(page.url()).pathname} as ${role}`;
        if (seen.has(where)) continue;
        seen.add(where);
        measured++;
        if (scroll > WIDTH) wide.push(`${where} (${scroll} px)`);
      }
      // Pages that only a form leads to: a patient's handout, with its long link.
      if (role === 'doctor') {
        await page.goto('/patients/new');
        await page.getByLabel('First name').fill('Bartholomew');
        await page.getByLabel('Last name').fill(LONG_WORD.slice(0, 100));
        await page.getByLabel('E-mail address (optional)').fill(LONG_EMAIL('new'));
        await page.getByRole('button', { name: 'Make the handout' }).click();
        assert.match(await page.locator('h1').textContent(), /^Join /);
        const [scroll] = await widths(page);
        measured++;
        if (scroll > WIDTH) wide.push(`the handout as ${role} (${scroll} px)`);
      }
    });
  }
  assert.ok(measured > 50, `measured ${measured} pages`);
  assert.deepEqual(wide, [], 'pages wider than the screen');
});
