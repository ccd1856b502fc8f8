// activity.test.js - the audit log is scoped: a clinic's admins read only
// their clinic's work, never a shared patient's sign-ins or anything from
// before they joined; a person reads their own sign-ins at /account/activity.
// And times are shown in the clinic's time zone, across DST, saying which.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail, clearThrottle, ADDRESS } = require('../lib/harness');

const PW = 'a long enough password';
let counter = 0;
const uniqueClinic = (tag) => `Activity ${tag} Clinic ${process.pid}-${Date.now()}-${++counter}`;
const one = async (q, p) => (await sql(q, p))[0][0];

async function loggedIn(email, password = PW) {
  const c = new Client();
  assert.equal((await c.login(email, password)).status, 303, `${email} logs in`);
  await c.get('/inbox');
  return c;
}

test('a person sees their own sign-ins, wrong passwords and account changes, with the address', async () => {
  await clearThrottle();
  const email = uniqueEmail('me');
  await createUser({ email, clinic: uniqueClinic('own') });
  assert.equal((await new Client().login(email, 'not my password')).status, 401);
  const c = await loggedIn(email);
  const r = await c.get('/account/activity');
  assert.equal(r.status, 200);
  const rows = [...r.text.matchAll(/<tr><td data-label="When">([^<]+)<\/td><td data-label="What">([^<]+)<\/td><td data-label="From">([^<]*)<\/td><\/tr>/g)]
    .map((m) => [m[2], m[3]]);
  assert.deepEqual(rows.slice(0, 2), [['login', ADDRESS], ['login failed', ADDRESS]], 'newest first, with the address');
  assert.match(r.text, /times in UTC|times in [A-Z][a-z]+\/[A-Za-z_]+/);
  assert.equal((await new Client().get('/account/activity')).status, 303, 'a visitor goes to log in');
  await clearThrottle();
});

test('another clinic\'s admin sees none of a shared patient\'s activity, nor anything before the join', async () => {
  await clearThrottle();
  const a = uniqueClinic('A'), b = uniqueClinic('B');
  const adminB = uniqueEmail('admin-b');
  await createUser({ email: adminB, role: 'admin', clinic: b });
  const email = uniqueEmail('shared');
  const patient = await createUser({ email, clinic: a, first: 'Sia', last: 'Shared' });
  // Activity at clinic A before joining B: sign-ins, a wrong password, A's work.
  await new Client().login(email, 'wrong password here');
  await loggedIn(email);
  await sql(`INSERT INTO audit_log (action, clinic_id, subject_id, detail)
    SELECT 'attachment downloaded', NULL::uuid, $1::uuid, 'x' UNION ALL
    SELECT 'clinic A work', id, $1::uuid, 'x' FROM clinics WHERE name = $2`, [patient, a]);
  // Then the patient joins B with a join link.
  const doc = uniqueEmail('doc-b');
  await createUser({ email: doc, role: 'doctor', clinic: b });
  const d = await loggedIn(doc);
  await d.get('/patients/new');
  const h = await d.post('/patients/new', { first_name: 'Sia', last_name: 'Shared', email: '' });
  const token = /\/join\?key=([0-9a-f]{64})/.exec(h.text)[1];
  const p = await loggedIn(email);
  await p.get(`/join?key=${token}`);
  assert.equal((await p.post('/join', { key: token })).status, 303);
  await loggedIn(email);

  const admin = await loggedIn(adminB);
  const log = (await admin.get('/admin/audit')).text;
  const about = [...log.matchAll(/<td data-label="Action">([^<]*)<\/td><td data-label="By">[^<]*<\/td><td data-label="About">Sia Shared<\/td>/g)].map((m) => m[1]);
  assert.deepEqual(about, ['joined the clinic'], 'only the join, the clinic\'s own event');
  assert.doesNotMatch(log, /login failed|clinic A work|attachment downloaded/);
  assert.doesNotMatch(log, /<td data-label="Action">login<\/td>/, 'no sign-ins, nor the addresses they came from');
  // The patient still sees all of their own account's activity.
  const own = (await p.get('/account/activity')).text;
  assert.match(own, /login failed/);
  assert.match(own, /attachment downloaded/);
  assert.doesNotMatch(own, /clinic A work/, 'clinic work is the clinic\'s record');
  await clearThrottle();
});

test('times are shown in the clinic\'s zone, across daylight saving, and the page says which', async () => {
  const ny = uniqueClinic('NY'), ldn = uniqueClinic('LDN');
  const nyDoc = uniqueEmail('ny-doc'), ldnDoc = uniqueEmail('ldn-doc'), patient = uniqueEmail('pat');
  const nyDocId = await createUser({ email: nyDoc, role: 'doctor', clinic: ny });
  const ldnDocId = await createUser({ email: ldnDoc, role: 'doctor', clinic: ldn });
  const pid = await createUser({ email: patient, clinic: ny, first: 'Tim', last: 'Zone' });
  await sql(`INSERT INTO memberships (clinic_id, user_id, role) SELECT id, $1, 'patient' FROM clinics WHERE name = $2`,
    [pid, ldn]);
  await sql(`UPDATE clinics SET time_zone = 'America/New_York' WHERE name = $1`, [ny]);
  await sql(`UPDATE clinics SET time_zone = 'Europe/London' WHERE name = $1`, [ldn]);
  // Two messages from the patient to each doctor: one in summer, one in winter (UTC noon).
  for (const [doc, subject, at] of [[nyDocId, 'Summer NY', '2026-07-01 12:00Z'], [nyDocId, 'Winter NY', '2026-12-01 12:00Z'],
    [ldnDocId, 'Summer LDN', '2026-07-01 12:00Z'], [ldnDocId, 'Winter LDN', '2026-12-01 12:00Z']]) {
    await sql(`INSERT INTO messages (inbox_id, outbox_id, subject, body, created_at)
      SELECT i.id, (SELECT id FROM outboxes WHERE user_id = $2), $3, 'when?', $4::timestamptz
      FROM inboxes i WHERE i.user_id = $1`,
    [doc, pid, subject, at]);
  }
  const times = (html) => Object.fromEntries([...html.matchAll(/>(Summer|Winter) (NY|LDN)<[\s\S]*?(\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d)/g)]
    .map((m) => [`${m[1]} ${m[2]}`, m[3]]));
  const nyInbox = (await (await loggedIn(nyDoc)).get('/inbox')).text;
  assert.deepEqual(times(nyInbox), { 'Summer NY': '01 Jul 2026 08:00', 'Winter NY': '01 Dec 2026 07:00' }, 'EDT, then EST');
  assert.match(nyInbox, /time zone America\/New_York/);
  const ldnClient = await loggedIn(ldnDoc);
  const ldnInbox = (await ldnClient.get('/inbox')).text;
  assert.deepEqual(times(ldnInbox), { 'Summer LDN': '01 Jul 2026 13:00', 'Winter LDN': '01 Dec 2026 12:00' }, 'BST, then GMT');
  assert.match(ldnInbox, /time zone Europe\/London/);
  // The thread page, which runs after the session is loaded, too.
  const id = await one(`SELECT id FROM messages WHERE subject = 'Summer LDN' AND inbox_id =
    (SELECT id FROM inboxes WHERE user_id = $1)`, [ldnDocId]);
  assert.match((await ldnClient.get(`/messages/${id}`)).text, /01 Jul 2026 13:00/);
});
