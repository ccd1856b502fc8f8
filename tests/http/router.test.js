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
