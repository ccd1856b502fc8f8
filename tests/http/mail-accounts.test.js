// mail-accounts.test.js - the mails of accounts, through the tests' SMTP
// server: proving a new or changed address (the old proven one in force
// until then; the link works once and expires), a new account mailed
// nothing but its proof, the notices one chooses on /account, a forgotten
// password (the same answer whatever the address, throttled, the sessions
// ended by the reset), join links mailed from the patient registration, and
// the demo's mail page.
'use strict';
const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { BASE, ADDRESS, Client, createUser, sql, uniqueEmail, sleep } = require('../lib/harness');
const { uniqueClinic, send } = require('../lib/messaging');
const { fcgiRequest, startCarebox } = require('../lib/fcgi');
const { mails, waitMail, mailJobs, mailJobsDone, prove, linkIn } = require('../lib/mail');

const PW = 'a long enough password';
let clinic, doc;

// A person of the clinic: { id, email, c (logged in, unless `login` is false) }.
async function person({ role = 'patient', proven = true, login = true, local = 'acct' } = {}) {
  const email = uniqueEmail(local);
  const id = await createUser({ email, role, clinic, first: 'Vera', last: 'Fication' });
  if (proven) await prove(id, email);
  const c = new Client();
  if (login) assert.equal((await c.login(email)).status, 303);
  return { id, email, c };
}

// GETs a one-time link's path as a browser does: the key moves into the
// link cookie (a 303 to the bare path), then the bare path.
async function follow(c, p) {
  const r = await c.request(p);
  const bare = p.split('?')[0];
  return r.status === 303 && r.headers.get('location') === bare ? c.request(bare) : r;
}

const mailTo = async (id) => (await sql('SELECT coalesce(mail_to, \'\') FROM users WHERE id = $1', [id]))[0][0];

before(async () => {
  clinic = uniqueClinic('Accounts');
  doc = await person({ role: 'doctor' });
});

test('a changed address: proven by its link, the old one in force until then; the link works once', async () => {
  const p = await person();
  const old = p.email, neu = uniqueEmail('changed');
  await p.c.get('/account');
  const r = await p.c.post('/account', { first_name: 'Vera', last_name: 'Fication', email: neu, current_password: PW });
  assert.equal(r.status, 303);
  assert.match((await p.c.get('/account')).text, /We have sent a link to your new e-mail address/);
  const [m] = await waitMail(neu);
  assert.equal(m.header('subject'), 'Confirm your e-mail address for carebox');
  assert.equal(m.headers['auto-submitted'], 'auto-generated');
  assert.ok(m.body.includes(`${BASE}/account\r\n`), 'how to choose one\'s notices');
  const link = linkIn(m, '/verify');
  assert.equal(await mailTo(p.id), old, 'until the link is followed, the old address is in force');
  const page = await p.c.get('/account');
  assert.ok(page.text.includes(`carebox mails you at ${old}.`), 'the account page says where mails go');
  assert.ok(page.text.includes(`We have sent a link to ${neu}`));
  // A message now is announced at the old address.
  assert.equal((await p.c.post('/logout')).status, 303);
  await send(doc, p, 'Hello', 'Hello');
  await waitMail(old);
  assert.equal(mails(neu).length, 1, 'the new address got the proof alone');

  const c = new Client(); // the link opened in another browser, logged out
  const ask = await follow(c, link);
  assert.equal(ask.status, 200);
  assert.ok(ask.text.includes(neu), 'the page names the address it confirms');
  assert.equal(await mailTo(p.id), old, 'opening the link proves nothing: the button does');
  const done = await c.post('/verify', { token: link.split('=')[1] });
  assert.equal(done.status, 303);
  assert.equal(done.headers.get('location'), '/login?verified=1');
  assert.equal(await mailTo(p.id), neu, 'the new address is in force');
  assert.equal((await follow(new Client(), link)).status, 404, 'the link works once');
  const again = new Client();
  await again.get('/login');
  assert.equal((await again.post('/verify', { token: link.split('=')[1] })).status, 404);
  const [[audited]] = await sql(`SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = 'e-mail address confirmed'`, [p.id]);
  assert.equal(audited, '1');
});

test('one verification link confirmed twice at the same moment: confirmed once', async () => {
  for (let round = 0; round < 3; round++) {
    const p = await person();
    const neu = uniqueEmail('verify-once');
    await p.c.get('/account');
    assert.equal((await p.c.post('/account', { first_name: 'Vera', last_name: 'Once', email: neu, current_password: PW })).status, 303);
    const link = linkIn((await waitMail(neu))[0], '/verify');
    const token = link.split('=')[1];
    const two = [new Client(), new Client()];
    for (const c of two) assert.equal((await follow(c, link)).status, 200);
    const answers = await Promise.all(two.map((c) => c.post('/verify', { token })));
    assert.deepEqual(answers.map((r) => r.status).sort(), [303, 404], 'one confirms, the other finds the link used');
    assert.equal(await mailTo(p.id), neu);
    const [[audited]] = await sql(`SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = 'e-mail address confirmed'`, [p.id]);
    assert.equal(audited, '1', 'audited once');
  }
});

test('a verification link expires after an hour, and opens nothing once the address changed again', async () => {
  const p = await person({ proven: false });
  assert.match((await p.c.get('/account')).text, /carebox mails you nothing until you confirm your e-mail address/);
  assert.equal((await p.c.post('/account/verify', {})).status, 303, 'send the link again');
  const link = linkIn((await waitMail(p.email))[0], '/verify');
  await mailJobsDone(p.id); // one verification mail waits per person at most
  await sql(`UPDATE one_time_links SET expires_at = now() - interval '1 second' WHERE kind = 'verify' AND user_id = $1`, [p.id]);
  assert.equal((await follow(new Client(), link)).status, 404, 'expired');
  await p.c.post('/account/verify', {});
  const link2 = linkIn((await waitMail(p.email, { n: 2 }))[1], '/verify');
  await mailJobsDone(p.id, 2);
  const other = uniqueEmail('other');
  await p.c.get('/account');
  assert.equal((await p.c.post('/account', { first_name: 'V', last_name: 'F', email: other, current_password: PW })).status, 303);
  assert.equal((await follow(new Client(), link2)).status, 404, 'the address is no longer the account\'s');
  assert.equal(await mailTo(p.id), '');
});

test('a new account is mailed its proof and nothing else until it is proven', async () => {
  const email = uniqueEmail('signup');
  const c = new Client();
  const form = await c.get('/signup');
  const clinicId = new RegExp(`<option value="([0-9a-f-]{36})"[^>]*>${clinic}</option>`).exec(form.text)[1];
  const r = await c.post('/signup', { email, first_name: 'Sia', last_name: 'Nup', clinic: clinicId,
    date_of_birth: '1990-01-02', password: 'tea with honey at noon', password2: 'tea with honey at noon' });
  assert.equal(r.status, 303);
  const [[id]] = await sql('SELECT id FROM users WHERE email = $1', [email]);
  const [m] = await waitMail(email);
  assert.equal(m.header('subject'), 'Confirm your e-mail address for carebox');
  assert.equal(await mailTo(id), '');
  // Not yet a proven address: a reset asked for it sends nothing.
  const f = new Client();
  await f.get('/forgot');
  assert.equal((await f.post('/forgot', { email })).status, 200);
  await sleep(500);
  assert.equal(mails(email).length, 1, 'only the proof');
  const link = linkIn(m, '/verify');
  assert.equal((await follow(c, link)).status, 200);
  const done = await c.post('/verify', { token: link.split('=')[1] });
  assert.equal(done.status, 303);
  assert.equal(done.headers.get('location'), '/account', 'logged in: back to the account page');
  assert.equal(await mailTo(id), email);
});

test('the new-message notice turned off on /account: no mail; on again: mailed', async () => {
  const p = await person();
  const page = await p.c.get('/account');
  assert.match(page.text, /<input id="notice_messages" name="notice_messages" type="checkbox" value="yes" checked>/, 'on by default');
  assert.equal((await p.c.post('/account/notices', {})).status, 303);
  assert.match((await p.c.get('/account')).text, /<input id="notice_messages" name="notice_messages" type="checkbox" value="yes">/);
  await p.c.post('/logout');
  await send(doc, p, 'Off', 'Off');
  await sleep(500);
  assert.deepEqual(await mailJobs(p.id), [], 'nothing queued');
  assert.equal((await p.c.login(p.email)).status, 303);
  await p.c.get('/account');
  assert.equal((await p.c.post('/account/notices', { csrf_token: null })).status, 403, 'CSRF');
  assert.equal((await p.c.post('/account/notices', { notice_messages: 'yes' })).status, 303);
  await p.c.post('/logout');
  await send(doc, p, 'On', 'On');
  await waitMail(p.email);
});

// The answer of /forgot for `email`, the typed address put out of the way.
async function forgot(email, c = new Client()) {
  await c.get('/forgot');
  const r = await c.post('/forgot', { email });
  return { status: r.status, body: r.text.split(email).join('ADDRESS').replace(/value="[0-9a-f]{64}"/g, 'value="TOKEN"') };
}

test('forgotten password: a link to the proven address; the reset ends every session; the answer is the same for any address', async () => {
  const p = await person();
  const login = await new Client().get('/login');
  assert.match(login.text, /<a href="\/forgot">Forgot your password\?<\/a>/);
  const known = await forgot(p.email.toUpperCase());
  const unknown = await forgot(uniqueEmail('nobody'));
  const unproven = await forgot((await person({ proven: false, login: false })).email);
  assert.equal(known.status, 200);
  assert.deepEqual(unknown, known, 'an unknown address: the same status and page');
  assert.deepEqual(unproven, known, 'an address not proven: the same');
  const [m] = await waitMail(p.email);
  assert.equal(m.header('subject'), 'Reset your carebox password');
  assert.equal(m.header('from'), `"${clinic}" <clinic@carebox.test>`, 'the person\'s clinic sends it');
  assert.match(m.headers['message-id'], /^<[0-9a-f-]{36}\.1@127\.0\.0\.1>$/, 'a link mail: the job and its attempt');
  const noCsrf = new Client();
  await noCsrf.get('/forgot');
  assert.equal((await noCsrf.post('/forgot', { email: p.email, csrf_token: null })).status, 403, 'CSRF');
  const link = linkIn(m, '/reset');
  const c = new Client();
  assert.equal((await follow(c, link)).status, 200);
  const pw = 'a brand new password here';
  const r = await c.post('/reset', { token: link.split('=')[1], password: pw, password2: pw });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/login?reset=1');
  assert.equal((await p.c.get('/inbox')).status, 303, 'the session of before has ended');
  assert.equal((await new Client().login(p.email, PW)).status, 401, 'the old password is gone');
  assert.equal((await new Client().login(p.email, pw)).status, 303, 'the new one logs in');
  assert.equal((await follow(new Client(), link)).status, 404, 'the link works once');
  const [[jobs]] = await sql(`SELECT count(*) FROM jobs WHERE kind = 'mail.send' AND payload->>'mail' = 'reset'
    AND payload->>'user' = $1`, [p.id]);
  assert.equal(jobs, '1');
});

test('forgotten password: throttled per address (any address alike); a deactivated account gets nothing', async () => {
  const p = await person({ login: false });
  const nobody = uniqueEmail('nobody');
  for (let i = 0; i < 3; i++) {
    assert.equal((await forgot(p.email)).status, 200);
    assert.equal((await forgot(nobody)).status, 200);
  }
  const a = await forgot(p.email), b = await forgot(nobody);
  assert.equal(a.status, 429);
  assert.deepEqual(b, a, 'an unknown address is throttled the same');
  assert.match(a.body, /Reset links were asked for this address too often in the last hour/);
  await mailJobsDone(p.id);
  await sleep(300);
  assert.ok(mails(p.email).length <= 3, `at most 3 mails: ${mails(p.email).length}`);
  assert.equal((await mailJobs(p.id)).length, mails(p.email).length);
  const gone = await person({ login: false });
  await sql('UPDATE users SET active = false WHERE id = $1', [gone.id]);
  assert.equal((await forgot(gone.email)).status, 200);
  await sleep(500);
  assert.deepEqual(await mailJobs(gone.id), []);
  assert.equal(mails(gone.email).length, 0);
});

test('forgotten password: every spelling of one address shares its count (case, also beyond ASCII)', async () => {
  const email = uniqueEmail('émile');
  const id = await createUser({ email, clinic, first: 'Émile', last: 'Zola' });
  await prove(id, email);
  const spellings = [email.toUpperCase(), email, `Émile${email.slice(5)}`.toUpperCase(), `ÉMILE${email.slice(5)}`];
  assert.notEqual(spellings[0], spellings[1]);
  const first = await forgot(spellings[0]);
  assert.equal(first.status, 200);
  const [m] = await waitMail(email);
  assert.equal(m.header('subject'), 'Reset your carebox password', 'the address in capitals, É too, finds the account');
  for (const s of spellings.slice(1, 3)) assert.equal((await forgot(s)).status, 200);
  const fourth = await forgot(spellings[3]);
  assert.equal(fourth.status, 429, 'the fourth request for this address in an hour, however spelt');
  const [[stored]] = await sql(`SELECT count(*) FROM address_counts WHERE kind LIKE 'reset asked%' AND address ILIKE '%@%'`);
  assert.equal(stored, '0', 'the throttle keeps no address, only its hash');
});

test('forgotten password: throttled per account too, across the addresses it proves in the hour', async () => {
  const p = await person({ login: false });
  for (let i = 0; i < 3; i++) assert.equal((await forgot(p.email)).status, 200);
  await mailJobsDone(p.id);
  const before = (await mailJobs(p.id)).length;
  assert.ok(before >= 1 && before <= 3);
  // The account proves another address: a count of its own for the
  // address, but the account has used up its hour.
  const neu = uniqueEmail('acct-new');
  await sql('UPDATE users SET email = $2, mail_to = $2 WHERE id = $1', [p.id, neu]);
  const known = await forgot(neu);
  const unknown = await forgot(uniqueEmail('nobody'));
  assert.equal(known.status, 200, 'silently: a 429 would tell the address is an account\'s');
  assert.deepEqual(known, unknown, 'the same answer as for an unknown address');
  await sleep(500);
  assert.equal((await mailJobs(p.id)).length, before, 'no reset link queued');
  assert.equal(mails(neu).length, 0);
});

test('forgotten password: no time gap worth the name between a known address and an unknown one', async () => {
  // Each address may ask 3 times an hour, so an attacker gets few samples
  // of one; here, 12 accounts and 12 unknown addresses, taken in turns.
  const known = [], unknown = [];
  for (let i = 0; i < 12; i++) known.push((await person({ login: false, local: 'timing' })).email);
  for (let i = 0; i < 12; i++) unknown.push(uniqueEmail('timing-nobody'));
  const c = new Client();
  await c.get('/forgot');
  const time = async (email) => {
    const t0 = process.hrtime.bigint();
    assert.equal((await c.post('/forgot', { email })).status, 200);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const tk = [], tu = [];
  for (let i = 0; i < 12; i++) { tk.push(await time(known[i])); tu.push(await time(unknown[i])); }
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const gap = Math.abs(median(tk) - median(tu));
  // A gap of a hashed password, or a mail sent while the page waits, is
  // tens of milliseconds and more; the one insert of a queued job is not.
  assert.ok(gap < Math.max(20, median(tu)), `medians ${median(tk).toFixed(1)} ms (known) and ${median(tu).toFixed(1)} ms (unknown)`);
});

// Registers a patient on `doc`'s handout form with "send by e-mail" ticked
// and waits for the mail: { email, link (the handout's /join?key= path),
// code, mailed (the mail's /join?key= path), mail }.
async function mailedHandout(doc, local = 'join-mail') {
  const email = uniqueEmail(local);
  await doc.get('/patients/new');
  const r = await doc.post('/patients/new', { first_name: 'Jo', last_name: 'In', email, send_mail: 'yes' });
  assert.equal(r.status, 200);
  const link = /href="(?:https?:\/\/[^/"]+)?(\/join\?key=[0-9a-f]{64})"/.exec(r.text)[1];
  const code = /class="code"><strong>([A-Z0-9]{5}-[A-Z0-9]{5})<\/strong>/.exec(r.text)[1];
  const [mail] = await waitMail(email);
  const mailed = /\/join\?key=[0-9a-f]{64}/.exec(mail.body)[0];
  return { email, link, code, mailed, mail, page: r.text };
}

// A patient with an account of their own (another clinic), logged in.
async function joiner() {
  const email = uniqueEmail('joiner');
  const id = await createUser({ email, clinic: uniqueClinic('Elsewhere') });
  const c = new Client();
  assert.equal((await c.login(email)).status, 303);
  await c.get('/inbox');
  return { id, c };
}

const keyOf = (p) => p.split('=')[1];
// Keys that opened nothing count against this file's client address
// (JOIN_MAX_FAILURES): these tests make several on purpose.
const clearJoinKeys = () => sql(`DELETE FROM address_counts WHERE kind = 'join key' AND address = $1`, [ADDRESS]);
const memberships = async (clinicName) => (await sql(`SELECT count(*) FROM memberships m
  JOIN clinics c ON c.id = m.clinic_id WHERE c.name = $1 AND m.role = 'patient'`, [clinicName]))[0][0];

test('a patient registered with "send by e-mail": the join link mailed; once it is used, the handout\'s link and code open nothing', async () => {
  const c = doc.c;
  await c.get('/patients/new');
  const bad = await c.post('/patients/new', { first_name: 'Jo', last_name: 'In', email: '', send_mail: 'yes' });
  assert.equal(bad.status, 422);
  assert.match(bad.text, /Enter the patient&#39;s e-mail address to send the link by e-mail\.|Enter the patient's e-mail address to send the link by e-mail\./);
  await clearJoinKeys();
  const before = Number(await memberships(clinic));
  const h = await mailedHandout(c);
  assert.ok(h.page.includes(`A join link is also on its way to ${h.email}`));
  assert.equal(h.mail.header('subject'), 'Join your clinic on carebox');
  assert.equal(h.mail.header('from'), `"${clinic}" <clinic@carebox.test>`);
  assert.ok(!h.mail.body.includes('Jo In'), 'no name in the mail');
  assert.notEqual(h.mailed, h.link, 'the mail has a link of its own');
  const [[payload]] = await sql(`SELECT payload::text FROM jobs WHERE kind = 'mail.send' AND payload->>'mail' = 'join'
    AND payload->>'link' = (SELECT id::text FROM one_time_links WHERE lower(for_email) = lower($1))`, [h.email]);
  assert.ok(!payload.includes('@') && !payload.includes('Jo'), `no address nor name in the job: ${payload}`);

  const a = await joiner();
  const join = await follow(a.c, h.mailed);
  assert.equal(join.status, 200);
  assert.ok(join.text.includes(clinic), 'the mailed link opens the clinic\'s join page');
  assert.equal((await a.c.post('/join', { key: keyOf(h.mailed) })).status, 303, 'joined by the mailed link');
  assert.equal(Number(await memberships(clinic)), before + 1);
  const b = await joiner();
  assert.equal((await follow(b.c, h.link)).status, 404, 'the handout\'s link is used up');
  assert.equal((await b.c.post('/join', { key: keyOf(h.link) })).status, 404);
  assert.equal((await b.c.post('/join', { key: h.code })).status, 404, 'and its code');
  assert.equal((await b.c.post('/join', { key: keyOf(h.mailed) })).status, 404, 'the mailed link works once');
  assert.equal(Number(await memberships(clinic)), before + 1, 'one registration, one membership');

  const none = uniqueEmail('join-nomail');
  assert.equal((await c.post('/patients/new', { first_name: 'No', last_name: 'Mail', email: none })).status, 200);
  await sleep(500);
  assert.equal(mails(none).length, 0, 'unticked: no mail');
});

test('a join link mailed: once the handout\'s code is used, the mailed link opens nothing', async () => {
  await clearJoinKeys();
  const h = await mailedHandout(doc.c);
  const before = Number(await memberships(clinic));
  const a = await joiner();
  assert.equal((await a.c.post('/join', { key: h.code })).status, 303, 'joined by the code');
  const b = await joiner();
  assert.equal((await follow(b.c, h.mailed)).status, 404, 'the mailed link is used up');
  assert.equal((await b.c.post('/join', { key: keyOf(h.mailed) })).status, 404);
  assert.equal(Number(await memberships(clinic)), before + 1);
});

test('the mailed join link and the handout\'s used at the same moment: one joins', async () => {
  for (let round = 0; round < 3; round++) {
    await clearJoinKeys();
    const h = await mailedHandout(doc.c);
    const before = Number(await memberships(clinic));
    const people = [await joiner(), await joiner()];
    const answers = await Promise.all([people[0].c.post('/join', { key: keyOf(h.mailed) }),
      people[1].c.post('/join', { key: keyOf(h.link) })]);
    assert.match(answers.map((r) => r.status).sort().join(' '), /^303 (404|409)$/, 'one joins, the other is told');
    assert.equal(Number(await memberships(clinic)), before + 1, 'one membership');
  }
});

test('a join mail the relay refuses: /admin/jobs says why, never the address', async () => {
  const a = uniqueEmail('join-admin');
  await createUser({ email: a, role: 'admin', clinic, first: 'Ada', last: 'Min' });
  const admin = new Client();
  assert.equal((await admin.login(a)).status, 303);
  const email = uniqueEmail('refuse-join');
  await doc.c.get('/patients/new');
  assert.equal((await doc.c.post('/patients/new', { first_name: 'Re', last_name: 'Fused', email, send_mail: 'yes' })).status, 200);
  let job;
  for (let i = 0; i < 300 && !(job && job[0] === 'failed'); i++, await sleep(50)) {
    [job] = await sql(`SELECT state::text, coalesce(last_error, '') FROM jobs WHERE kind = 'mail.send'
      AND payload->>'link' = (SELECT id::text FROM one_time_links WHERE lower(for_email) = lower($1))`, [email]);
  }
  assert.deepEqual(job, ['failed', 'the relay answered 550: refused for good']);
  const page = await admin.get('/admin/jobs');
  assert.ok(page.text.includes('the relay answered 550: refused for good'));
  assert.ok(!page.text.includes(email) && !page.text.includes('refuse-join'), 'never the address');
});

test('no mail job holds an address: each carries ids, and the address is read when it is sent', async () => {
  const [[n]] = await sql(`SELECT count(*) FROM jobs WHERE kind IN ('mail.send', 'test.mail') AND payload::text LIKE '%@%'`);
  assert.equal(n, '0');
  const [[all]] = await sql(`SELECT count(*) FROM jobs WHERE kind = 'mail.send'`);
  assert.ok(Number(all) > 0, 'there were mail jobs to look at');
});

test('the demo\'s mail page lists CAREBOX_MAIL_DIR and shows a mail with its links; off without CAREBOX_DEMO=1', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carebox-demo-mail-'));
  const id = '0b6f5a4e-1111-4222-8333-444455556666';
  const msg = ['From: "Demo Clinic" <c@x.test>', 'To: <pat@demo.test>', 'Subject: =?UTF-8?B?w4ZyZSBtYWls?=',
    'Date: Mon, 07 Dec 2026 20:45:00 +0000', '', 'Open', `${BASE}/reset?token=${'a'.repeat(64)}`, 'now.', ''].join('\r\n');
  execFileSync(path.join(process.env.BUILDDIR, 'carebox-mail'), [id], { input: `pat@demo.test\n${msg}`,
    env: { ...process.env, CAREBOX_SMTP_URL: '', CAREBOX_MAIL_DIR: dir } });
  assert.ok(fs.existsSync(path.join(dir, `${id}.eml`)), 'carebox-mail wrote the file');
  const app = await startCarebox('demo-mail', { env: { CAREBOX_DEMO: '1', CAREBOX_MAIL_DIR: dir } });
  try {
    const list = await fcgiRequest(app.sock, { uri: '/demo/mail' });
    assert.match(list, /Status: 200|^Content-Type/m);
    assert.ok(list.includes(`<a href="/demo/mail/${id}">Ære mail</a>`), 'listed with its subject, decoded');
    assert.ok(list.includes('pat@demo.test'));
    const one = await fcgiRequest(app.sock, { uri: `/demo/mail/${id}` });
    assert.ok(one.includes(`<a href="${BASE}/reset?token=${'a'.repeat(64)}">`), 'the link to follow');
    assert.match(await fcgiRequest(app.sock, { uri: '/demo/mail/0b6f5a4e-1111-4222-8333-444455550000' }), /Status: 404/);
  } finally {
    app.app.kill('SIGTERM');
    await app.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal((await new Client().get('/demo/mail')).status, 404, 'the stack is no demo');
});
