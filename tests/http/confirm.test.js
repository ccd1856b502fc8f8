// confirm.test.js - what is hard to undo asks first: deactivating a user,
// removing someone from the clinic, leaving a clinic and logging out
// everywhere. The button (a danger button) opens a page that asks; that
// page changes nothing, its Cancel goes back, and only its own POST acts.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail } = require('../lib/harness');

let counter = 0;
const uniqueClinic = (tag) => `Confirm ${tag} Clinic ${process.pid}-${Date.now()}-${++counter}`;

async function loggedIn(email) {
  const c = new Client();
  assert.equal((await c.login(email)).status, 303, `${email} logs in`);
  await c.get('/inbox');
  return c;
}

// What the four actions change for `userId`: whether the account is
// active, its active memberships, its sessions and its audit entries.
const state = async (userId) => (await sql(`SELECT u.active,
  (SELECT string_agg(clinic_id::text, ',' ORDER BY clinic_id) FROM memberships WHERE user_id = u.id AND active),
  (SELECT count(*) FROM sessions WHERE user_id = u.id),
  (SELECT count(*) FROM audit_log WHERE subject_id = u.id)
  FROM users u WHERE u.id = $1`, [userId]))[0];

// Checks the page at `from` offers the action `p` as a danger button of a
// form that only GETs the confirmation page; then the page at `p` asks
// `question`, changes nothing for `userId`, and its Cancel leads back to
// `from`, which opens. Returns the confirmation page.
async function asks(c, from, p, question, userId) {
  const origin = await c.get(from);
  assert.equal(origin.status, 200, `GET ${from}`);
  assert.match(origin.text, new RegExp(`<form method="get" action="${p}">\\s*(<p>)?<button class="danger" type="submit">`),
    `${from} has a danger button that asks first`);
  assert.ok(!origin.text.includes(`<form method="post" action="${p}">`), `${from} does not act at once`);
  const before = await state(userId);
  const page = await c.get(p);
  assert.equal(page.status, 200, `GET ${p}`);
  assert.ok(page.text.includes(`<h1>${question}</h1>`), `${p} asks "${question}"`);
  assert.ok(page.text.includes(`<form method="post" action="${p}">`), 'its form posts to the action');
  assert.match(page.text, /<button class="danger" type="submit">Yes, [^<]+<\/button>/);
  assert.ok(page.text.includes(`<a class="cancel" href="${from}">Cancel</a>`), 'Cancel goes back');
  assert.equal((await c.request(p, { method: 'HEAD' })).status, 200);
  assert.deepEqual(await state(userId), before, `GET ${p} changes nothing`);
  assert.equal((await c.get(from)).status, 200, 'the page Cancel leads to opens');
  assert.deepEqual(await state(userId), before, 'Cancel changes nothing');
  return page;
}

test('an admin deactivates a user only after confirming', async () => {
  const clinic = uniqueClinic('D');
  const adminEmail = uniqueEmail('admin'), email = uniqueEmail('doc');
  await createUser({ role: 'admin', email: adminEmail, clinic });
  const id = await createUser({ role: 'doctor', email, clinic, first: 'Dora', last: 'Deact' });
  const victim = await loggedIn(email);
  const admin = await loggedIn(adminEmail);
  const p = `/admin/users/${id}/deactivate`;
  await asks(admin, `/admin/users/${id}`, p, 'Deactivate Dora Deact?', id);
  assert.equal((await victim.get('/account')).status, 200, 'still logged in after the question');
  const r = await admin.post(p);
  assert.equal(r.status, 303);
  assert.equal((await state(id))[0], 'f', 'the confirmation deactivates');
  assert.equal((await victim.get('/account')).status, 303, 'and logs them out');
  // Nothing left to confirm: back to the person's page.
  const again = await admin.get(p);
  assert.equal(again.status, 303);
  assert.equal(again.headers.get('location'), `/admin/users/${id}`);
});

test('an admin removes someone from the clinic only after confirming', async () => {
  const clinic = uniqueClinic('R');
  const adminEmail = uniqueEmail('admin');
  await createUser({ role: 'admin', email: adminEmail, clinic });
  const id = await createUser({ email: uniqueEmail('pat'), clinic, first: 'Rita', last: 'Removed' });
  const admin = await loggedIn(adminEmail);
  const p = `/admin/users/${id}/remove`;
  await asks(admin, `/admin/users/${id}`, p, `Remove Rita Removed from ${clinic}?`, id);
  const r = await admin.post(p);
  assert.equal(r.status, 303);
  assert.equal((await state(id))[1], '', 'the confirmation ends the membership');
  assert.equal((await admin.get(p)).status, 404, 'no longer the clinic\'s to remove');
});

test('a patient leaves a clinic only after confirming', async () => {
  const clinic = uniqueClinic('L');
  const email = uniqueEmail('leaver');
  const id = await createUser({ email, clinic });
  const c = await loggedIn(email);
  const clinicId = (await sql('SELECT id FROM clinics WHERE name = $1', [clinic]))[0][0];
  const p = `/account/clinics/${clinicId}/leave`;
  await asks(c, '/account/clinics', p, `Leave ${clinic}?`, id);
  const r = await c.post(p);
  assert.equal(r.status, 303);
  assert.equal((await state(id))[1], '', 'the confirmation ends the membership');
  assert.equal((await c.get(p)).status, 404, 'nothing left to leave');
});

test('logging out everywhere happens only after confirming', async () => {
  const email = uniqueEmail('out');
  const id = await createUser({ email, clinic: uniqueClinic('O') });
  const c = await loggedIn(email), other = await loggedIn(email);
  await asks(c, '/account', '/account/sessions', 'Log out everywhere?', id);
  assert.equal((await other.get('/account')).status, 200, 'the other device is still logged in');
  const r = await c.post('/account/sessions');
  assert.equal(r.status, 303);
  assert.equal((await state(id))[2], '0', 'the confirmation ends every session');
  assert.equal((await other.get('/account')).status, 303);
});

test('a confirmation page of someone else\'s is no page at all', async () => {
  const a = uniqueClinic('A'), b = uniqueClinic('B');
  const adminEmail = uniqueEmail('admin');
  await createUser({ role: 'admin', email: adminEmail, clinic: a });
  const stranger = await createUser({ email: uniqueEmail('stranger'), clinic: b });
  const admin = await loggedIn(adminEmail);
  for (const what of ['deactivate', 'remove']) {
    assert.equal((await admin.get(`/admin/users/${stranger}/${what}`)).status, 404, `${what} someone of another clinic`);
  }
  const bId = (await sql('SELECT id FROM clinics WHERE name = $1', [b]))[0][0];
  assert.equal((await admin.get(`/account/clinics/${bId}/leave`)).status, 404, 'leave a clinic one is not in');
});
