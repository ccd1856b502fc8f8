// notices.test.js - after logging out, logging out everywhere and signing
// up, a notice says what happened; the login page's notices are a fixed
// set, named in its address, that no link can make say anything else.
// (Accepting an invitation: account.test.js; joining with a code: join.test.js.)
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail } = require('../lib/harness');

const clinic = `Notice Clinic ${process.pid}-${Date.now()}`;
const PW = 'a long enough password';

// The text of the page's notice (the layout's flash), or null.
const notice = (html) => {
  const m = /<p class="flash flash-(ok|error)" role="status">([^<]*)<\/p>/.exec(html);
  return m ? `${m[1]}: ${m[2]}` : null;
};

async function loggedIn(email) {
  const c = new Client();
  assert.equal((await c.login(email)).status, 303, `${email} logs in`);
  await c.get('/inbox');
  return c;
}

test('after logging out, the login page says so, once', async () => {
  const email = uniqueEmail('out');
  await createUser({ email, clinic });
  const c = await loggedIn(email);
  const r = await c.post('/logout');
  assert.equal(r.status, 303);
  const page = await c.get(r.headers.get('location'));
  assert.equal(page.status, 200);
  assert.equal(notice(page.text), 'ok: You have logged out.');
  assert.equal(notice((await c.get('/login')).text), null, 'the plain login page has no notice');
});

test('after logging out everywhere, the login page says so', async () => {
  const email = uniqueEmail('everywhere');
  await createUser({ email, clinic });
  const c = await loggedIn(email);
  await c.get('/account/sessions');
  const r = await c.post('/account/sessions');
  assert.equal(r.status, 303);
  assert.match(notice((await c.get(r.headers.get('location'))).text),
    /^ok: You have logged out everywhere: every session of your account has ended/);
});

test('the login page says only its own notices, whatever the address asks', async () => {
  const v = new Client();
  for (const q of ['?logged_out=%3Cb%3EEvil%3C%2Fb%3E', '?logged_out=1&text=Evil', '?reset=Evil', '?notice=Evil&kind=error']) {
    const page = await v.get(`/login${q}`);
    assert.equal(page.status, 200, q);
    assert.doesNotMatch(page.text, /Evil/, `${q}: nothing of the address is shown`);
  }
  assert.equal(notice((await v.get('/login?notice=logged_out')).text), null, 'an unknown parameter is no notice');
  assert.equal(notice((await v.get('/login?again=1')).text),
    'error: Your sign-in waited more than 5 minutes for its code, or was finished already: log in again.');
  assert.equal(notice((await v.get('/login?logged_out=1&reset=1')).text), 'ok: You have logged out.', 'one notice at most');
  // A logged-in visitor goes home, notice or not.
  const email = uniqueEmail('in');
  await createUser({ email, clinic });
  const c = await loggedIn(email);
  assert.equal((await c.get('/login?logged_out=1')).status, 303);
});

test('after signing up, the page says the account is made and the request waits', async () => {
  const v = new Client();
  await v.get('/signup');
  await createUser({ email: uniqueEmail('staff'), role: 'doctor', clinic });
  const clinicId = (await sql('SELECT id FROM clinics WHERE name = $1', [clinic]))[0][0];
  const r = await v.post('/signup', { email: uniqueEmail('new'), first_name: 'Nina', last_name: 'New',
    clinic: clinicId, date_of_birth: '1990-01-02', password: PW, password2: PW });
  assert.equal(r.status, 303);
  const page = await v.get(r.headers.get('location'));
  assert.equal(notice(page.text), `ok: Welcome to carebox. Your request to join ${clinic} now waits for its staff, ` +
    'who compare your name and date of birth with their records. Until they accept it you can write to no one.');
  assert.equal(notice((await v.get(r.headers.get('location'))).text), null, 'shown once');
});
