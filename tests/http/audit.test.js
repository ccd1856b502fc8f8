// audit.test.js - a clinic admin's audit log (/admin/audit): newest first by
// time, keyset-paged, filtered by person, action and days (which the paging
// keeps), bad filters given back (422), never another clinic's entries, and
// attachment downloads named by their file.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail } = require('../lib/harness');

let clinicCounter = 0;
const uniqueClinic = () => `Audit Clinic ${process.pid}-${Date.now()}-${++clinicCounter}`;
const one = async (q, p) => (await sql(q, p))[0][0];
const unescape = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, '\'').replace(/&lt;/g, '<')
  .replace(/&gt;/g, '>').replace(/&amp;/g, '&');

// A client of `email` that has logged in (and seen a page, for its CSRF token).
async function signedIn(email) {
  const c = new Client();
  assert.equal((await c.login(email)).status, 303, `login of ${email}`);
  return c;
}

// A fresh clinic (in `zone`) with a logged-in admin Ada Admin:
// { clinic, clinicId, adminId, admin (client) }.
async function clinicWithAdmin(zone = 'UTC') {
  const clinic = uniqueClinic(), email = uniqueEmail('audit-admin');
  const adminId = await createUser({ role: 'admin', email, clinic, first: 'Ada', last: 'Admin' });
  const clinicId = await one('UPDATE clinics SET time_zone = $2 WHERE name = $1 RETURNING id', [clinic, zone]);
  return { clinic, clinicId, adminId, admin: await signedIn(email) };
}

// Adds entries to clinic `clinicId`'s log: each [at, action, actor id, detail].
async function entries(clinicId, rows) {
  for (const [at, action, actor, detail] of rows) {
    await sql(`INSERT INTO audit_log (at, action, actor_id, clinic_id, detail)
      VALUES ($1, $2, $3, $4, $5)`, [at, action, actor, clinicId, detail]);
  }
}

// The entries of a log page, in the order shown: { at, action, by, about, detail }.
function shown(html) {
  const cell = (label) => `<td data-label="${label}">([^<]*)</td>`;
  const re = new RegExp(`<tr>${['Time', 'Action', 'By', 'About', 'Detail', 'Address'].map(cell).join('')}</tr>`, 'g');
  return [...html.matchAll(re)].map((m) => ({
    at: m[1], action: unescape(m[2]), by: unescape(m[3]), about: unescape(m[4]), detail: unescape(m[5]),
  }));
}
const details = (html) => shown(html).map((e) => e.detail);

// The address of the page's link `what` ("Newer", "Older", "Newest"), or null.
function link(html, what) {
  const m = new RegExp(`href="(/admin/audit[^"]*)">${what} entries<`).exec(html);
  return m && unescape(m[1]);
}

test('the log is newest first by time, not by the order entries were written, across pages', async () => {
  const { clinicId, adminId, admin } = await clinicWithAdmin();
  // Written newest first (n150 first, so with the lowest id), as loaded
  // history can be; two entries of one moment go by id.
  await sql(`INSERT INTO audit_log (at, action, actor_id, clinic_id, detail)
    SELECT now() - interval '1 day' + g * interval '1 minute', 'bulk entry', $1, $2, 'n' || g
    FROM generate_series(150, 1, -1) g ORDER BY g DESC`, [adminId, clinicId]);
  await sql(`INSERT INTO audit_log (at, action, actor_id, clinic_id, detail)
    SELECT now() - interval '2 days', 'bulk entry', $1, $2, d FROM unnest(ARRAY['tie a', 'tie b']) d
    ORDER BY d`, [adminId, clinicId]);
  await admin.get('/admin/invite');
  await admin.post('/admin/invite', { first_name: 'Ivy', last_name: 'Invited', role: 'doctor' });
  const n = (from, to) => Array.from({ length: from - to + 1 }, (_, i) => `n${from - i}`);

  const first = await admin.get('/admin/audit');
  assert.equal(first.status, 200);
  const rows = shown(first.text);
  assert.equal(rows[0].action, 'join link created', 'what was done just now comes first');
  assert.equal(rows[0].by, 'Ada Admin', 'the actor is named');
  assert.deepEqual(details(first.text).slice(1), n(150, 52), 'then the older ones by time, 100 a page');
  assert.equal(link(first.text, 'Newer'), null, 'nothing is newer than the first page');
  assert.equal(link(first.text, 'Newest'), null);

  const second = await admin.get(link(first.text, 'Older'));
  assert.equal(second.status, 200);
  assert.deepEqual(details(second.text), [...n(51, 1), 'tie b', 'tie a'], 'the next page goes on where the first stopped');
  assert.equal(link(second.text, 'Older'), null, 'and is the last');
  assert.equal(link(second.text, 'Newest'), '/admin/audit');
  const back = await admin.get(link(second.text, 'Newer'));
  assert.deepEqual(details(back.text), details(first.text), 'Newer gives the first page back');
  assert.equal(link(back.text, 'Newer'), null, 'nothing newer than that');
  assert.ok(link(back.text, 'Older'), 'and older entries behind it');
});

test('the log shows none of the members\' sign-ins nor other clinics\' entries, and refuses a foreign cursor', async () => {
  const { clinicId, adminId, admin } = await clinicWithAdmin();
  const outsider = uniqueEmail('outsider'), other = uniqueClinic();
  await createUser({ email: outsider, clinic: other, first: 'Otto', last: 'Outsider' });
  await signedIn(outsider);
  const foreign = await one(`INSERT INTO audit_log (action, actor_id, clinic_id, detail)
    SELECT 'bulk entry', $1, id, 'foreign' FROM clinics WHERE name = $2 RETURNING id`, [adminId, other]);
  await entries(clinicId, [['2026-01-05 10:00+00', 'bulk entry', adminId, 'ours']]);
  const r = await admin.get('/admin/audit');
  assert.deepEqual(details(r.text), ['ours']);
  assert.ok(!shown(r.text).some((e) => e.action === 'login'), 'sign-ins are each person\'s own, not the clinic\'s');
  assert.doesNotMatch(r.text, /Otto Outsider/, 'nothing about other clinics\' users');
  for (const bad of ['?before=abc', '?after=-1', `?before=${foreign}`, `?after=${foreign}`,
    `?before=${foreign}&after=${foreign}`, `?action=bulk+entry&before=${foreign}`]) {
    assert.equal((await admin.get(`/admin/audit${bad}`)).status, 400, bad);
  }
});

test('each filter narrows the log, to the clinic\'s own entries, and the paging keeps them', async () => {
  const { clinic, clinicId, adminId, admin } = await clinicWithAdmin('America/New_York');
  const docEmail = uniqueEmail('audit-doc');
  const doctorId = await createUser({ role: 'doctor', email: docEmail, clinic, first: 'Dora', last: 'Doctor' });
  const patientId = await createUser({ role: 'patient', email: uniqueEmail('audit-pat'), clinic, first: 'Paul', last: 'Patient' });
  // A clinic the doctor also works for: its entries by them stay its own.
  const other = uniqueClinic();
  await createUser({ role: 'admin', email: uniqueEmail('other-admin'), clinic: other });
  const otherId = await one('SELECT id FROM clinics WHERE name = $1', [other]);
  await sql(`INSERT INTO memberships (clinic_id, user_id, role) VALUES ($1, $2, 'doctor')`, [otherId, doctorId]);
  // New York's clocks go forward on 8 March 2026 (a day of 23 hours); its
  // days after that start at 04:00 UTC.
  await entries(clinicId, [
    ['2026-03-08 12:00+00', 'patient page viewed', doctorId, 'd1'], // 8 March, 08:00
    ['2026-03-09 04:30+00', 'patient page viewed', doctorId, 'd2'], // 9 March, 00:30
    ['2026-03-10 03:30+00', 'reset link created', adminId, 'a1'], // 9 March, 23:30
    ['2026-03-10 04:30+00', 'join requested', patientId, 'p1'], // 10 March, 00:30
    ['2026-03-12 03:00+00', 'patient page viewed', doctorId, 'd3'], // 11 March, 23:00
  ]);
  await entries(otherId, [['2026-03-10 05:30+00', 'patient page viewed', doctorId, 'elsewhere']]);
  const get = async (query) => {
    const r = await admin.get(`/admin/audit?${new URLSearchParams(query)}`);
    assert.equal(r.status, 200, JSON.stringify(query));
    return details(r.text);
  };

  const page = (await admin.get('/admin/audit')).text;
  const offered = [...page.matchAll(/<option value="([0-9a-f-]{36})"[^>]*>([^<]*)</g)].map((m) => m[2]);
  assert.deepEqual(offered, ['Ada Admin (admin)', 'Dora Doctor (doctor)', 'Paul Patient (patient)'],
    'the clinic\'s people, staff first');
  const actions = [...page.matchAll(/<option value="([^"]*)">([^<]*)</g)].map((m) => m[1]).filter((a) => !/^[0-9a-f-]{36}$/.test(a) && a);
  assert.deepEqual(actions, ['join requested', 'patient page viewed', 'reset link created'],
    'the actions in this clinic\'s log');

  assert.deepEqual(await get({ person: doctorId }), ['d3', 'd2', 'd1'], 'by a person of the list');
  assert.deepEqual(await get({ who: 'dora' }), ['d3', 'd2', 'd1'], 'by a name typed');
  assert.deepEqual(await get({ who: docEmail.toUpperCase() }), ['d3', 'd2', 'd1'], 'by an e-mail address typed');
  assert.deepEqual(await get({ who: 'Paul Pat' }), ['p1'], 'by a first and last name');
  assert.deepEqual(await get({ who: '%' }), [], 'a wildcard is a plain character');
  assert.deepEqual(await get({ action: 'patient page viewed' }), ['d3', 'd2', 'd1'], 'by action');
  assert.deepEqual(await get({ from: '2026-03-08', to: '2026-03-08' }), ['d1'], 'one whole day in the clinic\'s zone');
  assert.deepEqual(await get({ from: '2026-03-09', to: '2026-03-09' }), ['a1', 'd2']);
  assert.deepEqual(shown((await admin.get('/admin/audit?from=2026-03-09&to=2026-03-09')).text).map((e) => e.at),
    ['09 Mar 2026 23:30 EDT', '09 Mar 2026 00:30 EDT'], 'times shown in the clinic\'s zone');
  assert.deepEqual(await get({ from: '2026-03-10', to: '2026-03-10' }), ['p1']);
  assert.deepEqual(await get({ from: '2026-03-11' }), ['d3'], 'from a day on');
  assert.deepEqual(await get({ to: '2026-03-09' }), ['a1', 'd2', 'd1'], 'up to a day, included');
  assert.deepEqual(await get({ person: doctorId, action: 'patient page viewed', from: '2026-03-09', to: '2026-03-11' }),
    ['d3', 'd2'], 'all at once');
  assert.deepEqual(await get({ person: '', who: '', action: '', from: '', to: '' }), ['d3', 'p1', 'a1', 'd2', 'd1'],
    'an empty form filters nothing');

  // Paging keeps the filters: 120 more views by the doctor, and noise.
  await sql(`INSERT INTO audit_log (at, action, actor_id, clinic_id, detail)
    SELECT timestamptz '2026-03-10 12:00+00' + g * interval '1 second', CASE WHEN g % 2 = 0
    THEN 'patient page viewed' ELSE 'reset link created' END, $1, $2, 'v' || g
    FROM generate_series(1, 240) g`, [doctorId, clinicId]);
  const query = { person: doctorId, action: 'patient page viewed', from: '2026-03-10' };
  let r = await admin.get(`/admin/audit?${new URLSearchParams(query)}`);
  const firstPage = details(r.text);
  assert.equal(firstPage.length, 100);
  assert.deepEqual(firstPage.slice(0, 2), ['d3', 'v240']);
  // The filters of a link, without its cursor.
  const filters = (href) => {
    const u = new URL(href, 'http://x');
    assert.equal(u.pathname, '/admin/audit');
    return Object.fromEntries([...u.searchParams].filter(([k]) => k !== 'before' && k !== 'after'));
  };
  const older = link(r.text, 'Older');
  assert.deepEqual(filters(older), query, 'the Older link keeps the filters');
  r = await admin.get(older);
  assert.deepEqual(details(r.text), Array.from({ length: 21 }, (_, i) => `v${2 * (21 - i)}`),
    'the older page holds only what the filters let through');
  assert.deepEqual(filters(link(r.text, 'Newest')), query, 'Newest keeps the filters');
  assert.deepEqual(filters(link(r.text, 'Newer')), query, 'so does Newer');
  assert.match(r.text, /<option value="patient page viewed" selected>/, 'the form shows the filters');
  r = await admin.get(link(r.text, 'Newer'));
  assert.deepEqual(details(r.text), firstPage, 'and back');
});

test('a bad filter comes back with its mistake next to the field and what was typed (422)', async () => {
  const { clinicId, adminId, admin } = await clinicWithAdmin();
  await entries(clinicId, [['2026-03-10 12:00+00', 'bulk entry', adminId, 'x']]);
  const stranger = await createUser({ email: uniqueEmail('stranger'), clinic: uniqueClinic() });
  const cases = [
    [{ from: '2026-13-40', who: 'kept text' }, 'from', /The first day is a date like/],
    [{ from: '2026-03-12', to: '2026-03-11' }, 'to', /The last day cannot be before the first day/],
    [{ to: 'yesterday' }, 'to', /The last day is a date like/],
    [{ action: 'no such action' }, 'action', /Choose an action from the list/],
    [{ person: stranger }, 'person', /Choose a person from the list/],
    [{ person: 'not-an-id' }, 'person', /Choose a person from the list/],
    [{ who: 'x'.repeat(201) }, 'who', /at most 200 characters/],
  ];
  for (const [query, field, message] of cases) {
    const r = await admin.get(`/admin/audit?${new URLSearchParams(query)}`);
    assert.equal(r.status, 422, JSON.stringify(query));
    const error = new RegExp(`<p class="field-error" id="${field}-error">([^<]*)</p>`).exec(r.text);
    assert.ok(error, `an error next to ${field}`);
    assert.match(error[1], message);
    assert.deepEqual(shown(r.text), [], 'no entries under a filter that is wrong');
    for (const [k, v] of Object.entries(query)) {
      if (k !== 'person' && k !== 'action') assert.match(r.text, new RegExp(`name="${k}"[^>]* value="${v}"`), `${k} kept`);
    }
  }
});

test('a download names its file in the clinic\'s log; an entry from before names the id', async () => {
  const { clinic, clinicId, admin } = await clinicWithAdmin();
  const docId = await createUser({ role: 'doctor', email: uniqueEmail('dl-doc'), clinic, first: 'Dana', last: 'Doc' });
  const patEmail = uniqueEmail('dl-pat');
  const patId = await createUser({ email: patEmail, clinic, first: 'Pia', last: 'Patient' });
  const [[mid]] = await sql(`INSERT INTO messages (inbox_id, outbox_id, subject, body, read, read_at)
    SELECT i.id, o.id, 'Results', 'Attached.', true, now() FROM inboxes i, outboxes o
    WHERE i.user_id = $1 AND o.user_id = $2 RETURNING id`, [patId, docId]);
  const [[fid]] = await sql(`INSERT INTO attachments (message_id, filename, content_type, size, data)
    VALUES ($1, 'Blood <test> "März".txt', 'text/plain; charset=utf-8', 2, 'hi') RETURNING id`, [mid]);
  const pat = await signedIn(patEmail);
  assert.equal((await pat.get(`/attachments/${fid}`)).status, 200);
  await sql(`INSERT INTO audit_log (at, action, actor_id, clinic_id, detail)
    VALUES (now() - interval '1 hour', 'attachment downloaded', $1, $2, $3)`, [patId, clinicId, fid]);

  const r = await admin.get('/admin/audit?action=attachment+downloaded');
  assert.deepEqual(shown(r.text).map((e) => [e.by, e.detail]), [
    ['Pia Patient', `Blood <test> "März".txt (file ${fid})`],
    ['Pia Patient', `file ${fid} (its name was not recorded)`],
  ]);

  // Downloaded while acting for a clinic the doctor does not belong to, the
  // file is no work of that clinic's: its log does not learn the name.
  const elsewhere = await clinicWithAdmin();
  await sql(`INSERT INTO memberships (clinic_id, user_id, role) VALUES ($1, $2, 'patient')`, [elsewhere.clinicId, patId]);
  const pat2 = await signedIn(patEmail);
  await pat2.get('/account/clinics');
  assert.equal((await pat2.post(`/account/clinics/${elsewhere.clinicId}/act`)).status, 303);
  assert.equal((await pat2.get(`/attachments/${fid}`)).status, 200);
  assert.doesNotMatch((await elsewhere.admin.get('/admin/audit')).text, /Blood/);
  assert.equal(await one(`SELECT count(*) FROM audit_log WHERE action = 'attachment downloaded' AND actor_id = $1
    AND clinic_id IS NULL`, [patId]), '1', 'the download is on record all the same');
});

test('the person list offers the first 100 of a large clinic, staff first, and keeps one chosen beyond them', async () => {
  const { clinic, clinicId, admin } = await clinicWithAdmin();
  await createUser({ role: 'doctor', email: uniqueEmail('list-doc'), clinic, first: 'Zoe', last: 'Zulu' });
  const ids = (await sql(`WITH u AS (INSERT INTO users (email, first_name, last_name)
      SELECT 'many-' || g || '-' || $2 || '@test.example', 'Pat', 'P' || lpad(g::text, 3, '0')
      FROM generate_series(1, 120) g RETURNING id, last_name)
    INSERT INTO memberships (clinic_id, user_id, role) SELECT $1, id, 'patient' FROM u
    RETURNING user_id`, [clinicId, `${process.pid}-${Date.now()}`])).map((row) => row[0]);
  const last = await one('SELECT id FROM users WHERE id = ANY($1) ORDER BY last_name DESC LIMIT 1', [ids]);
  await entries(clinicId, [['2026-03-10 12:00+00', 'join requested', last, 'the last one']]);
  const options = (html) => [...html.matchAll(/<option value="[0-9a-f-]{36}"( selected)?>([^<]*)</g)]
    .map((m) => `${m[2]}${m[1] ? ' *' : ''}`);

  let r = await admin.get('/admin/audit');
  let offered = options(r.text);
  assert.equal(offered.length, 100);
  assert.deepEqual(offered.slice(0, 3), ['Ada Admin (admin)', 'Zoe Zulu (doctor)', 'Pat P001 (patient)'], 'staff first');
  assert.match(r.text, /The list holds the first 100 people of the clinic/);
  r = await admin.get(`/admin/audit?person=${last}`);
  assert.equal(r.status, 200);
  offered = options(r.text);
  assert.equal(offered.at(-1), 'Pat P120 (patient) *', 'the one chosen is offered, and selected');
  assert.deepEqual(details(r.text), ['the last one']);
});
