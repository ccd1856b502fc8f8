// router.test.js - what the route layer and the response builder guarantee
// whatever the page: a header of any length arrives whole, and a HEAD
// request leaves the one-time notice for the page that shows it.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, uniqueEmail } = require('../lib/harness');

test('a Location header of 1500 bytes arrives whole', async () => {
  const email = uniqueEmail('long');
  await createUser({ email });
  const c = new Client();
  await c.get('/login');
  const next = `/inbox?x=${'a'.repeat(1500)}`;
  const r = await c.post('/login', { email, password: 'a long enough password', next });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), next);
  assert.equal(r.headers.get('cache-control'), 'no-store', 'the headers after it are intact');
});

test('a HEAD request leaves the one-time notice (an invitation link) for the next page', async () => {
  const clinic = `Router Clinic ${process.pid}-${Date.now()}`;
  const admin = uniqueEmail('router-admin');
  await createUser({ email: admin, role: 'admin', clinic });
  const id = await createUser({ email: uniqueEmail('router-user'), clinic });
  const c = new Client();
  assert.equal((await c.login(admin)).status, 303);
  await c.get(`/admin/users/${id}`);
  const r = await c.post(`/admin/users/${id}/reset`);
  assert.equal(r.status, 303);
  const page = r.headers.get('location');
  const head = await c.request(page, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.text, '', 'a HEAD has no body');
  const shown = await c.get(page);
  assert.match(shown.text, /\/reset\?token=[0-9a-f]{64}/, 'the GET after it shows the link');
  assert.doesNotMatch((await c.get(page)).text, /\/reset\?token=/, 'and only that GET');
});
