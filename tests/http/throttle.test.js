// throttle.test.js - how often someone may try (src/throttle.c): wrong
// passwords pause one account, growing, and never a whole address until a
// hundred; checks at once cannot get past a limit; the clinic's admin sees
// a pause and lifts it; signups and join keys are counted per address.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { ADDRESS, Client, createUser, sql, uniqueEmail, clearThrottle } = require('../lib/harness');

const PW = 'a long enough password';

after(async () => {
  await clearThrottle();
  await sql('DELETE FROM address_counts WHERE address = $1', [ADDRESS]);
});

// Clients with the login form open (their CSRF token), ready to post.
async function atForm(n, page = '/login') {
  return Promise.all(Array.from({ length: n }, async () => {
    const c = new Client();
    await c.get(page);
    return c;
  }));
}

const statuses = (rs) => rs.map((r) => r.status).sort().join(' ');
const failures = async (email) => Number((await sql(
  'SELECT count(*) FROM login_failures WHERE lower(email) = lower($1)', [email]))[0][0]);
// Moves the account's failures `minutes` into the past.
const age = (email, minutes) => sql(
  `UPDATE login_failures SET at = at - make_interval(mins => $2) WHERE lower(email) = lower($1)`, [email, minutes]);

test('thirty wrong passwords at once for one account: at most five are checked, then it is paused', async () => {
  await clearThrottle();
  const email = uniqueEmail('race');
  await createUser({ email });
  const clients = await atForm(30);
  const rs = await Promise.all(clients.map((c, i) => c.post('/login', { email, password: `wrong guess ${i}` })));
  const checked = rs.filter((r) => r.status === 401).length;
  assert.ok(checked >= 1 && checked <= 5, `passwords checked: ${checked} (${statuses(rs)})`);
  assert.ok(rs.every((r) => r.status === 401 || r.status === 429), statuses(rs));
  for (const r of rs.filter((x) => x.status === 429)) {
    assert.match(r.text, /Another login to this account is being checked|logging in is paused/);
  }
  assert.equal(await failures(email), checked, 'each check recorded, nothing else');
  for (let n = checked; n < 5; n++) assert.equal((await new Client().login(email, `slow guess ${n}`)).status, 401);
  const r = await new Client().login(email, PW);
  assert.equal(r.status, 429, 'paused, even for the right password');
  assert.match(r.text, /logging in is paused for 1 more minute\. An admin of your clinic can lift the pause\./);
  assert.ok(r.text.includes(`value="${email}"`), 'the e-mail stays in the form');
  assert.equal(await failures(email), 5);
});

test('the pause grows with each further wrong password, to a quarter of an hour at most', async () => {
  await clearThrottle();
  const email = uniqueEmail('grow');
  await createUser({ email });
  for (let i = 0; i < 5; i++) assert.equal((await new Client().login(email, `guess ${i}`)).status, 401);
  const paused = async () => {
    const r = await new Client().login(email, PW);
    assert.equal(r.status, 429);
    return Number(/paused for (\d+) more minute/.exec(r.text)[1]);
  };
  assert.equal(await paused(), 1);
  await age(email, 1);
  assert.equal((await new Client().login(email, 'guess 5')).status, 401, 'a minute later, one more try');
  assert.equal(await paused(), 2, 'then two minutes');
  await age(email, 2);
  assert.equal((await new Client().login(email, 'guess 6')).status, 401);
  assert.equal(await paused(), 4, 'then four');
  await sql(`INSERT INTO login_failures (email, address) SELECT $1, $2 FROM generate_series(1, 5)`, [email, ADDRESS]);
  assert.equal(await paused(), 15, 'never more than fifteen');
  await age(email, 15);
  assert.equal((await new Client().login(email, PW)).status, 303, 'then the right password works');
  assert.equal(await failures(email), 0, 'and the count starts again');
});

test('one person\'s wrong passwords never shut out others behind the same address', async () => {
  await clearThrottle();
  const mine = uniqueEmail('desk-a'), theirs = uniqueEmail('desk-b');
  await createUser({ email: mine });
  await createUser({ email: theirs });
  for (let i = 0; i < 7; i++) await new Client().login(mine, `typo ${i}`);
  assert.equal((await new Client().login(mine, PW)).status, 429, 'their own account is paused');
  assert.equal((await new Client().login(theirs, PW)).status, 303, 'a colleague at the same desk logs in');
});

test('a hundred wrong passwords from one address pause it, and checks at once cannot pass that', async () => {
  await clearThrottle();
  const email = uniqueEmail('ceiling');
  await createUser({ email });
  await sql(`INSERT INTO login_failures (email, address)
    SELECT 'spray-' || i || '@example.test', $1 FROM generate_series(1, 99) i`, [ADDRESS]);
  const clients = await atForm(6);
  const rs = await Promise.all(clients.map((c, i) => c.post('/login',
    { email: uniqueEmail(`spray-${i}`), password: 'a guess that is wrong' })));
  assert.ok(rs.filter((r) => r.status === 401).length <= 1, `at most the hundredth is checked: ${statuses(rs)}`);
  const [[n]] = await sql('SELECT count(*) FROM login_failures WHERE address = $1', [ADDRESS]);
  assert.ok(Number(n) <= 100, `failures from the address: ${n}`);
  await sql(`INSERT INTO login_failures (email, address) VALUES ('one-more@example.test', $1)`, [ADDRESS]);
  const r = await new Client().login(email, PW);
  assert.equal(r.status, 429, 'the address waits');
  assert.match(r.text, /Too many failed logins from your network/);
  await clearThrottle();
  await sql('DELETE FROM login_failures WHERE address = $1', [ADDRESS]);
  assert.equal((await new Client().login(email, PW)).status, 303);
});

test('wrong current passwords on the account page count for the account, not the address', async () => {
  await clearThrottle();
  const email = uniqueEmail('acct'), other = uniqueEmail('acct-other');
  await createUser({ email });
  await createUser({ email: other });
  const c = new Client();
  await c.login(email, PW);
  await c.get('/account');
  for (let i = 0; i < 5; i++) {
    const r = await c.post('/account/password', { current_password: `not it ${i}`,
      password: 'a brand new passphrase', password2: 'a brand new passphrase' });
    assert.equal(r.status, 422);
  }
  const r = await c.post('/account/password', { current_password: PW,
    password: 'a brand new passphrase', password2: 'a brand new passphrase' });
  assert.equal(r.status, 429, 'the account is paused');
  assert.match(r.text, /Too many wrong passwords: please wait 1 minute/);
  assert.deepEqual(await sql('SELECT DISTINCT address FROM login_failures WHERE lower(email) = lower($1)', [email]),
    [['']], 'no address counted');
  assert.equal((await new Client().login(other, PW)).status, 303, 'others at the address log in');
});

test('the clinic\'s admin sees that an account is paused and lifts it; only the person sees when and from where', async () => {
  await clearThrottle();
  const clinic = `Pause Clinic ${process.pid}`;
  const admin = uniqueEmail('pause-admin'), doctor = uniqueEmail('pause-doc'), email = uniqueEmail('paused');
  await createUser({ email: admin, role: 'admin', clinic });
  await createUser({ email: doctor, role: 'doctor', clinic });
  const id = await createUser({ email, clinic });
  const outsider = uniqueEmail('pause-outsider');
  await createUser({ email: outsider, role: 'admin', clinic: `Other Pause Clinic ${process.pid}` });
  for (let i = 0; i < 5; i++) await new Client().login(email, `wrong ${i}`);

  const a = new Client();
  await a.login(admin, PW);
  const page = await a.get(`/admin/users/${id}`);
  assert.match(page.text, /logging in is paused after too many wrong passwords/);
  assert.ok(!page.text.includes(ADDRESS), 'no address for the admin');
  const d = new Client();
  await d.login(doctor, PW);
  await d.get('/inbox');
  assert.equal((await d.post(`/admin/users/${id}/unpause`)).status, 403, 'not for a doctor');
  const o = new Client();
  await o.login(outsider, PW);
  await o.get('/inbox');
  assert.equal((await o.post(`/admin/users/${id}/unpause`)).status, 404, 'not for another clinic');
  assert.equal(await failures(email), 5);

  const r = await a.post(`/admin/users/${id}/unpause`);
  assert.equal(r.status, 303);
  assert.match((await a.get(r.headers.get('location'))).text, /The pause is lifted/);
  assert.equal(await failures(email), 0);
  assert.deepEqual(await sql(`SELECT count(*) FROM audit_log a JOIN clinics c ON c.id = a.clinic_id
    WHERE a.action = 'login pause lifted' AND a.subject_id = $1 AND c.name = $2`, [id, clinic]), [['1']]);
  assert.doesNotMatch((await a.get(`/admin/users/${id}`)).text, /logging in is paused/);

  const p = new Client();
  assert.equal((await p.login(email, PW)).status, 303, 'the person logs in at once');
  const activity = await p.get('/account/activity');
  assert.equal((activity.text.match(/<td data-label="What">login failed<\/td><td data-label="From">127\.0\.\d+\.\d+<\/td>/g) || []).length, 5,
    'the person sees each failure and its address');
});

test('signups are counted per address, and signups at once cannot pass the limit', async () => {
  const clinicName = `Signup Throttle Clinic ${process.pid}`;
  await createUser({ email: uniqueEmail('st-staff'), role: 'doctor', clinic: clinicName });
  const [[clinic]] = await sql('SELECT id FROM clinics WHERE name = $1', [clinicName]);
  await sql(`INSERT INTO address_counts (kind, address, n) VALUES ('signup', $1, 8)
    ON CONFLICT (kind, address) DO UPDATE SET n = 8, since = now()`, [ADDRESS]);
  const clients = await atForm(3, '/signup');
  const emails = clients.map((_, i) => uniqueEmail(`st-${i}`));
  const rs = await Promise.all(clients.map((c, i) => c.post('/signup', { email: emails[i], first_name: 'Sid',
    last_name: 'Signup', clinic, date_of_birth: '1985-05-05', password: PW, password2: PW })));
  assert.equal(statuses(rs), '303 303 429', 'two more, then none');
  const refused = rs.find((r) => r.status === 429);
  assert.match(refused.text, /Too many accounts were created from your network in the last hour/);
  const typed = emails[rs.indexOf(refused)];
  assert.ok(refused.text.includes(`value="${typed}"`), 'the typed values stay');
  assert.deepEqual(await sql('SELECT count(*) FROM users WHERE email = ANY($1)', [emails]), [['2']]);
  await sql('DELETE FROM address_counts WHERE address = $1', [ADDRESS]);
});

test('join keys that open nothing are counted per address, and keys at once cannot pass the limit', async () => {
  await sql(`INSERT INTO address_counts (kind, address, n) VALUES ('join key', $1, 8)
    ON CONFLICT (kind, address) DO UPDATE SET n = 8, since = now()`, [ADDRESS]);
  const clients = await atForm(4, '/join');
  const rs = await Promise.all(clients.map((c, i) => c.get(`/join?key=AAAAA-AAAA${'CDEF'[i]}`)));
  assert.equal(statuses(rs), '404 404 429 429', 'two more tries, then none');
  assert.match(rs.find((r) => r.status === 429).text, /Too many codes that did not work/);
  await sql('DELETE FROM address_counts WHERE address = $1', [ADDRESS]);
});
