// once.test.js - what may happen only once still happens once when the
// same thing is sent twice at the same moment (two real requests through
// nginx, served by two workers): a reset link, an invitation link, a join
// code that creates an account, a message's and a reply's form, a signup
// with one e-mail address. (A join code used by accounts that exist, and a
// request decided or asked for twice, are in join.test.js.)
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { Client, createUser, sql, uniqueEmail, clearThrottle, ADDRESS } = require('../lib/harness');
const { uniqueClinic, person, formToken, sentCount } = require('../lib/messaging');

const PW = 'a long enough password';
const ROUNDS = 3;
const one = async (q, p) => (await sql(q, p))[0][0];

// A code tried just after it was used counts against the address.
after(() => sql('DELETE FROM address_counts WHERE address = $1', [ADDRESS]));

// Two clients that have each opened `page` (for their CSRF token).
async function twoVisitors(page) {
  const c = [new Client(), new Client()];
  for (const x of c) await x.get(page);
  return c;
}

// A one-time link of `kind` for `userId` of `clinicId`, as an admin's
// page stores it (only the token's hash); returns the token.
async function link(kind, userId, clinicId) {
  const token = crypto.randomBytes(32).toString('hex');
  await sql(`INSERT INTO one_time_links (token_hash, kind, user_id, clinic_id)
    VALUES (sha256(decode($1, 'hex')), $2, $3, $4)`, [token, kind, userId, clinicId]);
  return token;
}

// The statuses of `answers`, sorted, as one string ("303 404").
const statuses = (answers) => answers.map((r) => r.status).sort().join(' ');

test('one reset link sent twice at once sets one password', async () => {
  const clinic = uniqueClinic('once-reset');
  for (let round = 0; round < ROUNDS; round++) {
    const email = uniqueEmail('once-reset');
    const id = await createUser({ email, clinic });
    const token = await link('reset', id, await one('SELECT id FROM clinics WHERE name = $1', [clinic]));
    const c = await twoVisitors(`/reset?token=${token}`);
    const pw = ['first new passphrase', 'second new passphrase'];
    const answers = await Promise.all(c.map((x, i) => x.post('/reset', { token, password: pw[i], password2: pw[i] })));
    assert.equal(statuses(answers), '303 404', 'one resets, the other finds the link used');
    assert.equal(await one(`SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = 'password reset'`, [id]), '1');
    const winner = pw[answers.findIndex((r) => r.status === 303)];
    await clearThrottle();
    assert.equal((await new Client().login(email, winner)).status, 303, 'the winner\'s password is the one');
  }
  await clearThrottle();
});

test('one invitation link sent twice at once sets the account up once', async () => {
  const clinic = uniqueClinic('once-invite');
  await createUser({ email: uniqueEmail('once-admin'), role: 'admin', clinic });
  const clinicId = await one('SELECT id FROM clinics WHERE name = $1', [clinic]);
  for (let round = 0; round < ROUNDS; round++) {
    const id = await one(`WITH u AS (INSERT INTO users (email, first_name, last_name) VALUES ($1, '', '')
      RETURNING id) INSERT INTO memberships (clinic_id, user_id, role) SELECT $2, u.id, 'doctor' FROM u
      RETURNING user_id`, [uniqueEmail('once-invited'), clinicId]);
    const token = await link('invite', id, clinicId);
    const c = await twoVisitors(`/invite?token=${token}`);
    const names = ['Ada', 'Bea'];
    const answers = await Promise.all(c.map((x, i) => x.post('/invite', { token, first_name: names[i],
      last_name: 'Once', password: PW, password2: PW })));
    assert.equal(statuses(answers), '303 404', 'one sets the account up, the other finds the link used');
    const won = answers.findIndex((r) => r.status === 303);
    assert.equal(await one('SELECT first_name FROM users WHERE id = $1', [id]), names[won], 'with the winner\'s name');
    assert.equal(await one(`SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = 'invitation accepted'`,
      [id]), '1');
    assert.equal(await one('SELECT count(*) FROM sessions WHERE user_id = $1', [id]), '1', 'one browser is logged in');
    assert.equal((await c[1 - won].get('/account')).status, 303, 'the other is not');
  }
});

test('one join code used at once by two people creating accounts makes one account', async () => {
  const clinic = uniqueClinic('once-join');
  const doc = await person('doctor', clinic, 'Dora', 'Once');
  for (let round = 0; round < ROUNDS; round++) {
    await doc.c.get('/patients/new');
    const handout = await doc.c.post('/patients/new', { first_name: 'Nia', last_name: 'Once', email: '' });
    const code = /class="code"><strong>([A-Z0-9]{5}-[A-Z0-9]{5})<\/strong>/.exec(handout.text)[1];
    const c = await twoVisitors(`/join?key=${code}`);
    const emails = [uniqueEmail('once-join-a'), uniqueEmail('once-join-b')];
    const answers = await Promise.all(c.map((x, i) => x.post('/join', { key: code, email: emails[i],
      first_name: 'Nia', last_name: 'Once', password: PW, password2: PW })));
    // The other is told, whether it came in while the first was joining
    // (409) or just after (404, the code's form again).
    assert.match(statuses(answers), /^303 (404|409)$/, 'one joins');
    assert.match(answers.find((r) => r.status !== 303).text, /used a moment ago|does not work/, 'the other is told');
    assert.equal(await one('SELECT count(*) FROM users WHERE lower(email) = ANY($1)',
      [emails.map((e) => e.toLowerCase())]), '1', 'the loser\'s account was not kept');
    assert.equal(await one(`SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE lower(u.email) = ANY($1)`, [emails.map((e) => e.toLowerCase())]), '1', 'one membership');
  }
});

test('one message form sent twice at once stores one message', async () => {
  const clinic = uniqueClinic('once-msg');
  const pat = await person('patient', clinic, 'Pia', 'Once');
  const doc = await person('doctor', clinic, 'Dan', 'Once');
  for (let round = 0; round < ROUNDS; round++) {
    const form = await pat.c.get('/messages/new');
    const fields = { form_token: formToken(form.text), to: doc.id, subject: `Once ${round}`, body: 'just once' };
    const sent = await sentCount(pat.id);
    const answers = await Promise.all([pat.c.post('/messages', fields), pat.c.post('/messages', fields)]);
    assert.equal(statuses(answers), '303 303', 'both are answered as a browser expects');
    assert.deepEqual(answers.map((r) => r.headers.get('location') === '/sent').sort(), [false, true],
      'one goes to the message, the other to Sent (already sent)');
    assert.equal(await sentCount(pat.id), sent + 1, 'one message');
  }
});

test('one reply form sent twice at once stores one reply', async () => {
  const clinic = uniqueClinic('once-reply');
  const pat = await person('patient', clinic, 'Pia', 'Reply');
  const doc = await person('doctor', clinic, 'Dan', 'Reply');
  const form = await pat.c.get('/messages/new');
  const first = await pat.c.post('/messages', { form_token: formToken(form.text), to: doc.id, subject: 'Reply once',
    body: 'a question' });
  const root = first.headers.get('location').split('/').pop();
  for (let round = 0; round < ROUNDS; round++) {
    const page = await doc.c.get(`/messages/${root}`);
    const fields = { form_token: formToken(page.text), body: `answer ${round}` };
    const answers = await Promise.all([doc.c.post(`/messages/${root}/reply`, fields),
      doc.c.post(`/messages/${root}/reply`, fields)]);
    assert.equal(statuses(answers), '303 303');
    assert.equal(await sentCount(doc.id), round + 1, 'one reply');
  }
});

test('one e-mail address signed up twice at once makes one account', async () => {
  const staff = await createUser({ email: uniqueEmail('once-staff'), role: 'doctor', clinic: uniqueClinic('once-signup') });
  const clinicId = await one('SELECT clinic_id FROM memberships WHERE user_id = $1', [staff]);
  for (let round = 0; round < ROUNDS; round++) {
    const email = uniqueEmail('once-signup');
    const c = await twoVisitors('/signup');
    const fields = { email, first_name: 'Sam', last_name: 'Once', clinic: clinicId, date_of_birth: '1980-01-01',
      password: PW, password2: PW };
    const answers = await Promise.all([c[0].post('/signup', fields), c[1].post('/signup', { ...fields,
      email: email.toUpperCase() })]);
    assert.equal(statuses(answers), '303 422', 'one signs up, the other is told the address has an account');
    assert.equal(await one('SELECT count(*) FROM users WHERE lower(email) = lower($1)', [email]), '1');
    assert.equal(await one(`SELECT count(*) FROM join_requests q JOIN users u ON u.id = q.user_id
      WHERE lower(u.email) = lower($1)`, [email]), '1', 'one request to join');
  }
});

test('a membership ends once: two admins removing one patient at once, or a patient leaving in two tabs', async () => {
  const clinic = uniqueClinic('once-end');
  const admins = [await person('admin', clinic, 'Ann', 'Once'), await person('admin', clinic, 'Abe', 'Once')];
  const clinicId = await one('SELECT clinic_id FROM memberships WHERE user_id = $1', [admins[0].id]);
  const ended = (id, action) => one('SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = $2', [id, action]);
  for (let round = 0; round < ROUNDS; round++) {
    const pat = await person('patient', clinic, 'Pat', `Removed${round}`);
    const removed = await Promise.all(admins.map((a) => a.c.post(`/admin/users/${pat.id}/remove`)));
    assert.equal(statuses(removed), '303 404', 'one removes, the other finds no membership');
    assert.equal(await ended(pat.id, 'removed from the clinic'), '1');

    const leaver = await person('patient', clinic, 'Lee', `Leaving${round}`);
    await leaver.c.get('/account/clinics');
    const left = await Promise.all([1, 2].map(() => leaver.c.post(`/account/clinics/${clinicId}/leave`)));
    assert.equal(statuses(left), '303 404', 'one leaves, the other finds no membership');
    assert.equal(await ended(leaver.id, 'left the clinic'), '1');
  }
});
