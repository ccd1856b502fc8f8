// demo.test.js - carebox-admin: migrations run twice are a no-op; the demo
// data loads once and its printed logins work.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { Client } = require('../lib/harness');

const admin = (...args) => execFileSync(path.join(process.env.BUILDDIR, 'carebox-admin'),
  ['-d', process.env.SRCDIR, ...args], { encoding: 'utf8' });

test('migrate a second time applies nothing', () => {
  assert.match(admin('migrate'), /migrations: 0 applied, \d+ already there/);
});

test('seed-demo loads the demo once, and its logins work', async () => {
  assert.match(admin('seed-demo'), /demo data loaded/);
  assert.match(admin('seed-demo'), /demo data already there/);
  for (const who of ['patient', 'doctor', 'admin']) {
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
