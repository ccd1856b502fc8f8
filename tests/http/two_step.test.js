// two_step.test.js - two-step sign-in: enrolment, the code after the
// password (wrong, replayed, one step of drift), recovery codes once, the
// pending sign-in's 5 minutes, staff held at enrolment, turning it off.
// Codes come from oathtool (Debian's oath-toolkit), as from a phone.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail, clearThrottle, enrolTwoStep, totpCode } = require('../lib/harness');

const PW = 'a long enough password';

// Logs in with the password; resolves to the client and the answer.
async function password(email) {
  const c = new Client();
  const r = await c.login(email, PW);
  return { c, r };
}

// A code of `key` for the step before or after now (`steps` of 30 s).
const codeAt = (key, steps) => totpCode(key, new Date(Date.now() + steps * 30000));

test('a patient turns it on: the key as text and QR code, recovery codes once, the secret sealed at rest', async () => {
  const email = uniqueEmail('ts-on');
  const id = await createUser({ email, clinic: `Two Step Clinic ${process.pid}` });
  const { c } = await password(email);
  assert.match((await c.get('/account')).text, /<a href="\/account\/two-step">Two-step sign-in<\/a>/, 'found from the account page');
  const form = await c.get('/account/two-step');
  assert.equal(form.status, 200);
  assert.match(form.text, /<img src="\/account\/two-step\/qr"/);
  const qr = await c.get('/account/two-step/qr');
  assert.equal(qr.status, 200);
  assert.match(qr.headers.get('content-type'), /^image\/svg\+xml/);
  assert.match(qr.text, /^<svg [^>]*><rect [^>]*\/><path fill="#000" d="(M\d+ \d+h\d+v1h-\d+z)+"\/><\/svg>\n$/);
  assert.equal((await c.get('/account/two-step')).text, form.text.replace(/name="csrf_token" value="[0-9a-f]+"/, (m) => m),
    'reloading shows the same key');

  const wrong = await c.post('/account/two-step', { code: '000000' === totpCode(keyOf(form)) ? '111111' : '000000' });
  assert.equal(wrong.status, 422);
  assert.match(wrong.text, /This code does not match/);
  const { key, codes, page } = await enrolTwoStep(c);
  assert.equal(page.status, 200);
  assert.equal(codes.length, 10, 'ten recovery codes');
  assert.equal(new Set(codes).size, 10);
  const [[sealed, confirmed]] = await sql('SELECT secret_sealed, confirmed_at IS NOT NULL FROM two_step WHERE user_id = $1', [id]);
  assert.equal(confirmed, 't');
  assert.ok(!sealed.includes(key) && !sealed.toLowerCase().includes(Buffer.from(base32(key)).toString('hex')),
    'the row holds the secret sealed, not the secret');
  assert.equal((await sql('SELECT count(*) FROM recovery_codes WHERE user_id = $1', [id]))[0][0], '10');
  assert.ok(!(await sql('SELECT encode(code_hash, \'hex\') FROM recovery_codes WHERE user_id = $1', [id]))
    .some(([h]) => codes.some((code) => h.includes(Buffer.from(code).toString('hex')))), 'stored hashed');
  assert.equal((await c.get('/account/two-step/qr')).status, 404, 'a confirmed key is never shown again');
  assert.match((await c.get('/account/two-step')).text, /is <strong>on<\/strong>.*10 unused recovery codes/s);
  assert.equal((await sql(`SELECT count(*) FROM audit_log WHERE subject_id = $1 AND clinic_id IS NULL
    AND action = 'two-step sign-in turned on'`, [id]))[0][0], '1');
});

// The base32 key of the enrolment page.
function keyOf(page) {
  return /Key: <code class="code"><strong>([A-Z2-7 ]+)<\/strong>/.exec(page.text)[1].replace(/ /g, '');
}

// Decodes base32 (RFC 4648) into bytes.
function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of s) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  return Buffer.from(out);
}

test('signing in asks for the code after the password; a wrong, replayed or old code is refused, one step of drift is fine', async () => {
  await clearThrottle();
  const email = uniqueEmail('ts-in');
  const id = await createUser({ email, clinic: `Two Step In ${process.pid}` });
  const first = await password(email);
  const { key } = await enrolTwoStep(first.c);

  const { c, r } = await password(email);
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/login/code');
  assert.equal(c.jar.get('carebox_session'), undefined, 'no session before the code');
  assert.equal((await c.get('/inbox')).status, 303, 'nothing opens yet');
  const form = await c.get('/login/code');
  assert.equal(form.status, 200);
  assert.match(form.text, /six-digit code/);

  let w = await c.post('/login/code', { code: '12345' });
  assert.equal(w.status, 401);
  assert.match(w.text, /This code is not right/);
  w = await c.post('/login/code', { code: codeAt(key, -3) });
  assert.equal(w.status, 401, 'a code of a minute and a half ago is refused');
  // The enrolment took the current step; a phone a step slow shows the one
  // before, which counts as long as no later one was taken.
  await sql('UPDATE two_step SET last_step = 0 WHERE user_id = $1', [id]);
  // Not in the last seconds of a step: the server must check this code in
  // the step it was made for, or the one slow code would be two behind.
  while (Date.now() % 30000 > 22000) await new Promise((res) => setTimeout(res, 500));
  const slow = codeAt(key, -1);
  const ok = await c.post('/login/code', { code: slow });
  assert.equal(ok.status, 303, 'one step of drift is fine');
  assert.ok(c.jar.get('carebox_session'), 'now the session exists');
  assert.equal((await c.get('/account')).status, 200);
  assert.equal((await sql(`SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = 'two-step code failed'`,
    [id]))[0][0], '2', 'each wrong code is on the person\'s record');

  // The same code again, in another sign-in, is refused: each step once.
  const again = await password(email);
  const replay = await again.c.post('/login/code', { code: slow });
  assert.equal(replay.status, 401);
  assert.match(replay.text, /This code was used already/);
  await clearThrottle();
});

test('a recovery code signs in once; the pending sign-in lasts 5 minutes and ends once', async () => {
  await clearThrottle();
  const email = uniqueEmail('ts-rec');
  const id = await createUser({ email, clinic: `Two Step Rec ${process.pid}` });
  const { codes } = await enrolTwoStep((await password(email)).c);

  const a = await password(email);
  const r = await a.c.post('/login/code', { recovery: codes[3].toUpperCase().replace('-', ' ') });
  assert.equal(r.status, 303, 'typed in capitals with a space');
  assert.equal((await sql(`SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = 'recovery code used'`,
    [id]))[0][0], '1');
  const b = await password(email);
  const used = await b.c.post('/login/code', { recovery: codes[3] });
  assert.equal(used.status, 401, 'a recovery code works once');
  assert.match((await a.c.get('/account/two-step')).text, /9 unused recovery codes/);

  await sql(`UPDATE login_steps SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [id]);
  const late = await b.c.post('/login/code', { recovery: codes[4] });
  assert.equal(late.status, 303);
  assert.equal(late.headers.get('location'), '/login?again=1', 'after 5 minutes: the password again');
  assert.match((await b.c.get('/login?again=1')).text, /waited more than 5 minutes/);
  assert.equal((await sql('SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL', [id]))[0][0], '9',
    'the late code was not used up');

  // The phone is lost: a recovery code also turns it off, for a new key.
  await a.c.get('/account/two-step');
  assert.equal((await a.c.post('/account/two-step/off', { password: PW, code: codes[3] })).status, 422, 'not a used one');
  const off = await a.c.post('/account/two-step/off', { password: PW, code: codes[5] });
  assert.equal(off.status, 303);
  assert.deepEqual(await sql('SELECT count(*) FROM two_step WHERE user_id = $1', [id]), [['0']]);
  await clearThrottle();
});

test('staff of a clinic that asks for two steps are held at enrolment until they have it', async () => {
  await clearThrottle();
  const clinic = `Two Step Staff ${process.pid}`;
  const email = uniqueEmail('ts-doc');
  const id = await createUser({ email, role: 'doctor', clinic });
  await sql('UPDATE clinics SET staff_two_step = true WHERE name = $1', [clinic]);
  const { c, r } = await password(email);
  assert.equal(r.headers.get('location'), '/account/two-step');
  for (const p of ['/inbox', '/patients', '/account', '/messages/new']) {
    const x = await c.get(p);
    assert.equal(x.status, 303, p);
    assert.equal(x.headers.get('location'), '/account/two-step', `${p} waits for enrolment`);
  }
  const page = await c.get('/account/two-step');
  assert.match(page.text, /Your clinic asks its doctors and admins/);
  assert.doesNotMatch(page.text, /href="\/inbox"/, 'the navigation offers only the enrolment');
  assert.match(page.text, /<a href="\/account\/two-step">Set up two-step sign-in<\/a>/);
  await enrolTwoStep(c);
  assert.equal((await c.get('/patients')).status, 200, 'enrolled: the session opens everything');
  const off = await c.post('/account/two-step/off', { password: PW, code: '000000' });
  assert.equal(off.status, 403, 'and it stays on');
  assert.equal((await sql('SELECT count(*) FROM two_step WHERE user_id = $1', [id]))[0][0], '1');
});

test('turning it off takes the password and a current code', async () => {
  await clearThrottle();
  const email = uniqueEmail('ts-off');
  const id = await createUser({ email, clinic: `Two Step Off ${process.pid}` });
  const first = await password(email);
  const { key } = await enrolTwoStep(first.c);
  const c = first.c;
  let r = await c.post('/account/two-step/off', { password: 'not the password', code: codeAt(key, 1) });
  assert.equal(r.status, 422);
  assert.match(r.text, /This is not your password/);
  r = await c.post('/account/two-step/off', { password: PW, code: '000000' === codeAt(key, 1) ? '111111' : '000000' });
  assert.equal(r.status, 422);
  assert.match(r.text, /This code is not right/);
  r = await c.post('/account/two-step/off', { password: PW, code: codeAt(key, 1) });
  assert.equal(r.status, 303);
  assert.deepEqual(await sql('SELECT count(*) FROM two_step WHERE user_id = $1', [id]), [['0']]);
  assert.deepEqual(await sql('SELECT count(*) FROM recovery_codes WHERE user_id = $1', [id]), [['0']]);
  assert.equal((await password(email)).r.headers.get('location'), '/', 'the password alone again');
});

test('wrong codes are throttled like passwords, per account', async () => {
  await clearThrottle();
  const email = uniqueEmail('ts-throttle');
  await createUser({ email, clinic: `Two Step Throttle ${process.pid}` });
  const { key } = await enrolTwoStep((await password(email)).c);
  const { c } = await password(email);
  for (let i = 0; i < 5; i++) assert.equal((await c.post('/login/code', { code: `00000${i}` })).status, 401);
  const r = await c.post('/login/code', { code: codeAt(key, 1) });
  assert.equal(r.status, 429, 'the right code waits too');
  assert.match(r.text, /Too many wrong codes: please wait 1 minute/);
  await clearThrottle();
  assert.equal((await c.post('/login/code', { code: codeAt(key, 1) })).status, 303, 'after the pause it works');
});

test('an admin resets a member\'s two-step sign-in: audited, logged out, enrolled again at the next sign-in', async () => {
  await clearThrottle();
  const clinic = `Two Step Reset ${process.pid}`;
  const admin = uniqueEmail('ts-admin'), email = uniqueEmail('ts-lost');
  await createUser({ email: admin, role: 'admin', clinic });
  const id = await createUser({ email, role: 'doctor', clinic });
  const outsider = uniqueEmail('ts-outsider');
  await createUser({ email: outsider, role: 'admin', clinic: `Two Step Elsewhere ${process.pid}` });
  const doc = (await password(email)).c;
  await enrolTwoStep(doc);
  assert.equal((await doc.get('/account')).status, 200);

  const o = (await password(outsider)).c;
  await o.get('/inbox');
  assert.equal((await o.post(`/admin/users/${id}/two-step-reset`)).status, 404, 'not another clinic\'s admin');
  const a = (await password(admin)).c;
  const page = await a.get(`/admin/users/${id}`);
  assert.match(page.text, /<dt>Two-step sign-in<\/dt><dd>on<\/dd>/);
  const r = await a.post(`/admin/users/${id}/two-step-reset`);
  assert.equal(r.status, 303);
  assert.match((await a.get(r.headers.get('location'))).text, /Two-step sign-in is reset/);
  assert.deepEqual(await sql('SELECT count(*) FROM two_step WHERE user_id = $1', [id]), [['0']]);
  assert.equal((await doc.get('/account')).status, 303, 'their sessions ended');
  assert.deepEqual(await sql(`SELECT count(*) FILTER (WHERE clinic_id IS NOT NULL), count(*) FILTER (WHERE clinic_id IS NULL)
    FROM audit_log WHERE subject_id = $1 AND action LIKE 'two-step sign-in reset%'`, [id]), [['1', '1']],
  'in the clinic\'s log and on the person\'s record');
  const activity = await (await password(email)).c.get('/account/activity');
  assert.match(activity.text, /two-step sign-in reset by the clinic/);

  // The clinic now asks for two steps: at the next sign-in they enrol again.
  await a.get('/admin/clinic');
  const form = await a.get('/admin/clinic');
  const fields = Object.fromEntries([...form.text.matchAll(/<input id="([a-z_0-9]+)" name="\1"[^>]*value="([^"]*)"/g)]
    .map((m) => [m[1], m[2]]));
  const kind = /<option value="([a-z]+)" selected/.exec(form.text)[1];
  const zone = /id="time_zone"[^>]*value="([^"]*)"/.exec(form.text)[1];
  const save = await a.post('/admin/clinic', { ...fields, kind, time_zone: zone, description: '', staff_two_step: 'yes' });
  assert.equal(save.status, 303, save.text.slice(0, 400));
  assert.deepEqual(await sql('SELECT staff_two_step FROM clinics WHERE name = $1', [clinic]), [['t']]);
  assert.match((await a.get('/admin/clinic')).text, /id="staff_two_step"[^>]* checked/);
  const again = await password(email);
  assert.equal(again.r.headers.get('location'), '/account/two-step', 'held at enrolment');
});

test('a new doctor who joins with a link of a clinic that asks for two steps sets it up first', async () => {
  await clearThrottle();
  const clinic = `Two Step Join ${process.pid}`;
  const admin = uniqueEmail('ts-join-admin');
  await createUser({ email: admin, role: 'admin', clinic });
  const a = (await password(admin)).c;
  await a.get('/admin/invite');
  const h = await a.post('/admin/invite', { first_name: 'Nina', last_name: 'New', email: '', role: 'doctor' });
  assert.equal(h.status, 200);
  const key = /\/join\?key=([0-9a-f]{64})/.exec(h.text)[1];
  await sql('UPDATE clinics SET staff_two_step = true WHERE name = $1', [clinic]);

  const v = new Client();
  await v.get(`/join?key=${key}`);
  const email = uniqueEmail('ts-join-doc');
  const r = await v.post('/join', { key, email, first_name: 'Nina', last_name: 'New', password: PW, password2: PW });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/account/two-step', 'straight to enrolment');
  assert.equal((await v.get('/patients')).headers.get('location'), '/account/two-step', 'nothing else opens');
  await enrolTwoStep(v);
  assert.equal((await v.get('/patients')).status, 200);
});

test('a waiting key sealed with another server key is replaced, not an error', async () => {
  const email = uniqueEmail('ts-rekey');
  const id = await createUser({ email, clinic: `Two Step Rekey ${process.pid}` });
  const { c } = await password(email);
  const first = await c.get('/account/two-step');
  await sql(`UPDATE two_step SET secret_sealed = repeat('ab', 60) WHERE user_id = $1`, [id]);
  const again = await c.get('/account/two-step');
  assert.equal(again.status, 200);
  assert.notEqual(keyOf(again), keyOf(first), 'a new key');
  assert.equal((await c.get('/account/two-step/qr')).status, 200);
});

test('one code sent by two sign-ins at once signs in one of them', async () => {
  await clearThrottle();
  const email = uniqueEmail('ts-race');
  const id = await createUser({ email, clinic: `Two Step Race ${process.pid}` });
  const { key, codes } = await enrolTwoStep((await password(email)).c);
  for (let round = 0; round < 3; round++) {
    await sql('UPDATE two_step SET last_step = 0 WHERE user_id = $1', [id]);
    // Two sign-ins of one account run side by side (two devices): one at a
    // time may wait for its code, so each gets its own step here.
    const a = await password(email);
    const stepA = a.c.jar.get('carebox_step');
    const b = await password(email);
    await sql(`INSERT INTO login_steps (token_hash, user_id) VALUES (sha256(decode($1, 'hex')), $2)`, [stepA, id]);
    const code = codeAt(key, 0);
    const rs = await Promise.all([a.c.post('/login/code', { code }), b.c.post('/login/code', { code })]);
    assert.equal(rs.filter((r) => r.status === 303).length, 1, `one sign-in takes the code (${rs.map((r) => r.status)})`);
    assert.ok(rs.every((r) => [303, 401, 429].includes(r.status)), 'the other is refused');
    await clearThrottle();
  }
  const rec = [await password(email), await password(email)];
  await sql(`INSERT INTO login_steps (token_hash, user_id) VALUES (sha256(decode($1, 'hex')), $2)
    ON CONFLICT DO NOTHING`, [rec[0].c.jar.get('carebox_step'), id]);
  const rs = await Promise.all(rec.map(({ c }) => c.post('/login/code', { recovery: codes[0] })));
  assert.equal(rs.filter((r) => r.status === 303).length, 1, `a recovery code signs in once (${rs.map((r) => r.status)})`);
  await clearThrottle();
});

test('the QR code is made for a long clinic name and a long address too', async () => {
  const email = uniqueEmail(`ts-long-${'x'.repeat(150)}`);
  await createUser({ email, clinic: `The Very Long Named Family Practice & Veterinary Clinic of ${'Somewhere '.repeat(8)}${process.pid}` });
  const { c } = await password(email);
  assert.equal((await c.get('/account/two-step')).status, 200);
  const qr = await c.get('/account/two-step/qr');
  assert.equal(qr.status, 200, 'not a 500');
  assert.match(qr.headers.get('content-type'), /^image\/svg\+xml/);
});
