// attachments.test.js - downloading message attachments (only the sender and
// the recipient, exact bytes, safe headers) and how uploads reach the app:
// multipart only where a route takes files, limits, malformed bodies.
'use strict';
const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { BASE, Client, createUser, sql, uniqueEmail } = require('../lib/harness');

const clinic = `Attachment Clinic ${process.pid}`;
// A PNG signature and bytes a text path would mangle: NUL, 0xFF, CR LF.
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452ff00fe0d0a00', 'hex');
const people = {};

// A logged-in client that has loaded /account (for its CSRF token).
async function loggedIn(email) {
  const c = new Client();
  assert.equal((await c.login(email)).status, 303, `login of ${email}`);
  assert.equal((await c.get('/account')).status, 200);
  return c;
}

// Stores a message from `from` (user id, or null for carebox) to `to`, read
// already so the unread counter stays exact, and one attachment; returns
// the attachment's id.
async function attach(from, to, filename, type, hex) {
  const [[mid]] = await sql(`INSERT INTO messages (inbox_id, outbox_id, subject, body, routing, read, read_at)
    SELECT i.id, (SELECT id FROM outboxes WHERE user_id = nullif($2, '')::uuid), 'Results',
      'See the attached file.', CASE WHEN $2 = '' THEN 'auto' ELSE 'direct' END::message_routing, true, now()
    FROM inboxes i WHERE i.user_id = $1 RETURNING id`, [to, from || '']);
  const [[aid]] = await sql(`INSERT INTO attachments (message_id, filename, content_type, size, data)
    VALUES ($1, $2, $3, length(decode($4, 'hex')), decode($4, 'hex')) RETURNING id`,
  [mid, filename, type, hex]);
  return aid;
}

// GETs `path` as client `c` (or a visitor), keeping the body as bytes.
async function fetchBytes(c, path, method = 'GET') {
  const headers = {};
  if (c && c.jar.size) headers.cookie = [...c.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(BASE + path, { method, headers, redirect: 'manual' });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

// POSTs `form` (a FormData) as client `c`; returns { status, text }.
async function postMultipart(c, path, form) {
  return c.request(path, { method: 'POST', body: form });
}

// The compose form of `c`'s patient to the doctor as a browser sends it:
// [name, data, type] files under "attachment".
async function composeForm(c, subject, body, files) {
  const page = await c.get('/messages/new');
  const f = new FormData();
  f.append('csrf_token', c.csrf);
  f.append('form_token', /name="form_token" value="([0-9a-f]{64})"/.exec(page.text)[1]);
  f.append('to', people.doctor.id);
  f.append('subject', subject);
  f.append('body', body);
  for (const [name, data, type] of files) f.append('attachment', new Blob([data], { type }), name);
  return f;
}

before(async () => {
  for (const [who, role] of [['doctor', 'doctor'], ['patient', 'patient'], ['other', 'patient']]) {
    const email = uniqueEmail(`att-${who}`);
    people[who] = { id: await createUser({ email, role, clinic }), email };
    people[who].client = await loggedIn(email);
  }
});

test('the recipient and the sender download the exact bytes with safe headers', async () => {
  const id = await attach(people.doctor.id, people.patient.id, 'Befund März "final".png', 'image/png', PNG.toString('hex'));
  for (const who of ['patient', 'doctor']) {
    const r = await fetchBytes(people[who].client, `/attachments/${id}`);
    assert.equal(r.status, 200, who);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.equal(r.headers.get('content-disposition'),
      'attachment; filename="Befund M_rz _final_.png"; filename*=UTF-8\'\'Befund%20M%C3%A4rz%20%22final%22.png');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(r.body.equals(PNG), `${who} gets the bytes unchanged`);
    assert.equal(r.headers.get('content-length'), String(PNG.length));
  }
  const head = await fetchBytes(people.patient.client, `/attachments/${id}`, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0, 'HEAD has no body');
  // Each download is on record: who, which file (its name and id); a HEAD
  // sends no file and is not.
  const log = await sql(`SELECT u.email FROM audit_log a JOIN users u ON u.id = a.actor_id
    WHERE a.action = 'attachment downloaded' AND a.detail = $2 || ' (file ' || $1 || ')'
    ORDER BY a.at, a.id`, [id, 'Befund März "final".png']);
  assert.deepEqual(log.map((row) => row[0]), [people.patient.email, people.doctor.email]);
});

test('anyone else gets 404, as for an unknown id; a visitor goes to log in', async () => {
  const id = await attach(people.doctor.id, people.patient.id, 'x.txt', 'text/plain; charset=utf-8', '68690a');
  assert.equal((await fetchBytes(people.other.client, `/attachments/${id}`)).status, 404, 'a third user');
  assert.equal((await fetchBytes(people.patient.client, '/attachments/00000000-0000-4000-8000-000000000000')).status, 404);
  assert.equal((await fetchBytes(people.patient.client, '/attachments/not-a-uuid')).status, 404);
  const v = await fetchBytes(null, `/attachments/${id}`);
  assert.equal(v.status, 303);
  assert.equal(v.headers.get('location'), `/login?next=${encodeURIComponent(`/attachments/${id}`)}`);
});

test('a file of a message carebox wrote goes to its recipient only', async () => {
  const id = await attach(null, people.patient.id, 'Rezept.pdf', 'application/pdf', Buffer.from('%PDF-1.4\n').toString('hex'));
  const r = await fetchBytes(people.patient.client, `/attachments/${id}`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/pdf');
  assert.equal(r.body.toString(), '%PDF-1.4\n');
  assert.equal((await fetchBytes(people.doctor.client, `/attachments/${id}`)).status, 404);
});

test('multipart bodies go only to routes that take files', async () => {
  const c = people.patient.client;
  const form = new FormData();
  form.append('csrf_token', c.csrf);
  form.append('first_name', 'Pat');
  const r = await postMultipart(c, '/account', form);
  assert.equal(r.status, 415);
  assert.match(r.text, /This page does not accept files\./);
});

test('a multipart body carries its fields: the CSRF token is checked from it', async () => {
  const c = people.patient.client;
  const bad = new FormData();
  bad.append('csrf_token', '0'.repeat(64));
  bad.append('files', new Blob([PNG]), 'scan.png');
  assert.equal((await postMultipart(c, '/messages', bad)).status, 403, 'a wrong token is refused');
  const good = await composeForm(c, 'Scan', 'The scan you asked for.', [['scan.png', PNG, '']]);
  const r = await postMultipart(c, '/messages', good);
  assert.equal(r.status, 303, 'the form got past parsing and CSRF, and was sent');
  const mid = /^\/messages\/([0-9a-f-]{36})$/.exec(r.headers.get('location'))[1];
  assert.deepEqual(await sql(`SELECT filename, encode(data, 'hex') FROM attachments WHERE message_id = $1`, [mid]),
    [['scan.png', PNG.toString('hex')]], 'with its file, from the same body');
});

test('too many or too large files give the form back, the text kept and the error by the file field', async () => {
  const c = people.patient.client;
  const form = async (files) => postMultipart(c, '/messages',
    await composeForm(c, 'My scans', 'Here are my scans,\nall of them.', files.map(([n, d]) => [n, d, 'text/plain'])));
  const sent = async () => Number((await sql(`SELECT count(*) FROM messages m JOIN outboxes o ON o.id = m.outbox_id
    WHERE o.user_id = $1`, [people.patient.id]))[0][0]);
  const before = await sent();
  let r = await form(Array.from({ length: 6 }, (_, i) => [`f${i}.txt`, 'hello']));
  assert.equal(r.status, 422);
  assert.match(r.text, /<p class="field-error" id="attachment-error">Attach at most 5 files\.<\/p>/);
  assert.match(r.text, /value="My scans"/, 'the subject is kept');
  assert.ok(r.text.includes('>Here are my scans,\nall of them.</textarea>'), 'the text is kept');
  assert.match(r.text, new RegExp(`<option value="${people.doctor.id}" selected>`), 'the person chosen stays chosen');

  r = await form([['big.txt', Buffer.alloc(11 * 1024 * 1024, 0x61)], ['small.txt', 'ok']]);
  assert.equal(r.status, 422);
  assert.match(r.text, /id="attachment-error">big\.txt is larger than 10 MB: each file may be at most 10 MB\./);
  assert.ok(r.text.includes('>Here are my scans,\nall of them.</textarea>'), 'the text is kept');
  assert.equal(await sent(), before, 'nothing was sent');

  // Past nginx's limit (the outer guard), nginx itself refuses, with a page
  // that says so.
  const huge = new FormData();
  huge.append('csrf_token', c.csrf);
  huge.append('attachment', new Blob([Buffer.alloc(57 * 1024 * 1024, 0x61)]), 'huge.txt');
  r = await postMultipart(c, '/messages', huge);
  assert.equal(r.status, 413);
  assert.match(r.text, /<h1>What you sent is too large<\/h1>/);
});

test('files are read only for someone the page lets in', async () => {
  // A broken body proves the order: were it parsed first, it would be a 400.
  const broken = '--XyZ\r\nno colon\r\n\r\nx\r\n--XyZ--';
  const post = (cookie) => fetch(`${BASE}/messages`, {
    method: 'POST', redirect: 'manual', body: broken,
    headers: { 'content-type': 'multipart/form-data; boundary=XyZ', ...(cookie ? { cookie } : {}) },
  });
  let res = await post(null);
  assert.equal(res.status, 303, 'a visitor is sent to log in');
  assert.equal(res.headers.get('location'), '/login');
  res = await post('carebox_session=' + 'ab'.repeat(32));
  assert.equal(res.status, 303, 'so is someone with a made-up session');
  const c = people.patient.client;
  res = await post([...c.jar].map(([k, v]) => `${k}=${v}`).join('; '));
  assert.equal(res.status, 400, 'a logged-in user gets the body checked');
});

test('malformed multipart bodies and oversized plain forms are refused', async () => {
  const c = people.patient.client;
  const cookie = [...c.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const send = (type, body) => fetch(`${BASE}/messages`, {
    method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': type }, body,
  }).then((res) => res.status);
  const part = `--XyZ\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n${c.csrf}\r\n`;
  assert.equal(await send('multipart/form-data', `${part}--XyZ--\r\n`), 400, 'no boundary');
  assert.equal(await send('multipart/form-data; boundary=XyZ', part), 400, 'no final delimiter');
  assert.equal(await send('multipart/form-data; boundary=XyZ',
    `--XyZ\r\nno colon\r\n\r\nx\r\n${part}--XyZ--`), 400, 'a header without a colon');
  assert.equal(await send('multipart/form-data; boundary=XyZ',
    `--XyZ\r\nContent-Disposition: form-data; name="body"\r\n\r\na\0b\r\n${part}--XyZ--`), 400, 'a NUL in a field');
  assert.equal(await send('application/x-www-form-urlencoded', `body=${'x'.repeat(1024 * 1024)}`), 413,
    'an ordinary form keeps the 1 MB limit on an upload route');
});
