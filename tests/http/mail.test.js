// mail.test.js - e-mail through a real SMTP server on 127.0.0.1
// (tests/lib/smtp.py): the notice of a new message, its headers and that it
// carries nothing of the message; one mail per unread conversation; none
// while the person is active, nor with the notice turned off; a relay that
// refuses (5xx) and one that is down, then comes back (a worker of the
// test's own, which runs the test kind test.mail: mail.send's handler,
// retried within seconds).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const os = require('node:os');
const fs = require('node:fs');
const path = require('node:path');
const { BASE, Client, createUser, sql, uniqueEmail, sleep } = require('../lib/harness');
const { uniqueClinic, send, reply, formToken } = require('../lib/messaging');
const { startWorker, rss } = require('../lib/worker');
const { mails, waitMail, mailJobs, mailJobsDone, prove, linkIn, startSmtp } = require('../lib/mail');

let clinic, doc, admin;

// A patient of the clinic, not logged in, with a proven address (`local`
// begins it: "refuse-" and "later-" steer the SMTP server): { id, email }.
async function patient(local = 'pat') {
  const email = uniqueEmail(local);
  const id = await createUser({ email, clinic, first: 'Pia', last: 'Patient' });
  await prove(id, email);
  return { id, email };
}

// A logged-in client of `email`.
async function loggedIn(email) {
  const c = new Client();
  assert.equal((await c.login(email)).status, 303);
  return c;
}

before(async () => {
  clinic = uniqueClinic('Mail Ærø');
  const email = uniqueEmail('mail-doc');
  const id = await createUser({ email, role: 'doctor', clinic, first: 'Dora', last: 'Secretname' });
  doc = { id, email, c: await loggedIn(email) };
  const a = uniqueEmail('mail-admin');
  await createUser({ email: a, role: 'admin', clinic, first: 'Adam', last: 'Admin' });
  admin = await loggedIn(a);
});

test('a new message: one mail, with the headers, the link and nothing of the message', async () => {
  const pat = await patient();
  await send(doc, pat, 'Biopsy results SUBJECTWORD', 'Your tumour marker BODYWORD is fine.');
  const [m] = await waitMail(pat.email);
  assert.deepEqual(m.to, [pat.email]);
  assert.equal(m.from, 'clinic@carebox.test', 'the envelope is CAREBOX_MAIL_FROM');
  // The clinic's name (not ASCII: RFC 2047) as the sender's display name.
  assert.match(m.headers.from, /^=\?UTF-8\?B\?[^?]+\?=( =\?UTF-8\?B\?[^?]+\?=)* <clinic@carebox\.test>$/);
  assert.equal(m.header('from'), `${clinic} <clinic@carebox.test>`);
  assert.equal(m.headers.to, `<${pat.email}>`);
  assert.equal(m.header('subject'), 'A new message is waiting for you on carebox');
  assert.match(m.headers.date, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/);
  assert.ok(Math.abs(Date.parse(m.headers.date) - Date.now()) < 120000, 'dated now');
  const [job] = await mailJobsDone(pat.id);
  assert.equal(m.headers['message-id'], `<${job[0]}@127.0.0.1>`, 'Message-ID: the job, at the base URL\'s host');
  assert.equal(m.headers['auto-submitted'], 'auto-generated');
  assert.equal(m.headers['mime-version'], '1.0');
  assert.equal(m.headers['content-type'], 'text/plain; charset=utf-8');
  assert.ok(m.body.includes(`${BASE}/inbox\r\n`), 'a link to carebox');
  assert.ok(m.body.includes(`${BASE}/account\r\n`), 'how to choose one\'s notices');
  assert.ok(!/\n(?!\r)|[^\r]\n/.test(m.data.replace(/\r\n/g, '')), 'CRLF lines only');
  for (const word of ['SUBJECTWORD', 'Biopsy', 'BODYWORD', 'tumour', 'Secretname', 'Dora', 'Pia']) {
    assert.ok(!m.data.includes(word), `the mail does not hold "${word}"`);
  }
  assert.deepEqual(job.slice(1), ['done', '1', '', 'message']);
  const [[jobClinic]] = await sql('SELECT c.name FROM jobs j JOIN clinics c ON c.id = j.clinic_id WHERE j.id = $1', [job[0]]);
  assert.equal(jobClinic, clinic, 'the job is the clinic\'s (its admins see it)');
});

test('one mail per unread conversation: more messages, no more mail; read, then a new one, a second mail', async () => {
  const pat = await patient();
  const root = await send(doc, pat, 'First', 'One');
  await waitMail(pat.email);
  await mailJobsDone(pat.id);
  assert.equal((await reply(doc.c, root, 'Two')).status, 303);
  assert.equal((await reply(doc.c, root, 'Three')).status, 303);
  const other = await send(doc, pat, 'Another conversation', 'Four');
  await waitMail(pat.email, { n: 2 });
  await mailJobsDone(pat.id, 2);
  assert.equal((await mailJobs(pat.id)).length, 2, 'the two replies queued no mail; the other conversation did');
  // The patient reads the first conversation, and leaves.
  const c = await loggedIn(pat.email);
  assert.equal((await c.get(`/messages/${root}`)).status, 200);
  assert.equal((await c.post('/logout')).status, 303);
  assert.equal((await reply(doc.c, root, 'Five')).status, 303);
  await waitMail(pat.email, { n: 3 });
  assert.equal((await reply(doc.c, other, 'Six')).status, 303);
  await mailJobsDone(pat.id, 3);
  await sleep(300);
  assert.equal(mails(pat.email).length, 3, 'the unread other conversation got no second mail');
});

test('two replies in one conversation at the same moment: one mail', async () => {
  for (let round = 0; round < 3; round++) {
    // The patient writes, and leaves: nothing of theirs is unread, and they
    // are not active.
    const pat = await patient();
    const c = await loggedIn(pat.email);
    const root = await send({ c }, doc, `Question ${round}`, 'A question');
    assert.equal((await c.post('/logout')).status, 303);
    // The doctor has the thread open in two tabs and sends both replies.
    const tabs = [await doc.c.get(`/messages/${root}`), await doc.c.get(`/messages/${root}`)];
    const answers = await Promise.all(tabs.map((t, i) => doc.c.post(`/messages/${root}/reply`,
      { form_token: formToken(t.text), body: `Answer ${i}` })));
    assert.deepEqual(answers.map((r) => r.status), [303, 303], 'both replies are stored');
    const [[replies]] = await sql('SELECT count(*) FROM messages WHERE parent_id = $1', [root]);
    assert.equal(replies, '2');
    await waitMail(pat.email);
    const jobs = await mailJobsDone(pat.id);
    assert.equal(jobs.length, 1, `one mail job: ${JSON.stringify(jobs)}`);
    await sleep(300);
    assert.equal(mails(pat.email).length, 1, 'one mail');
  }
});

test('no mail while the person is active; once they are away, the next message mails them', async () => {
  const pat = await patient();
  const c = await loggedIn(pat.email);
  assert.equal((await c.get('/inbox')).status, 200);
  const root = await send(doc, pat, 'While you are here', 'Hello');
  const [job] = await mailJobsDone(pat.id);
  assert.equal(job[1], 'done', 'the job ends: nothing to send');
  await sleep(300);
  assert.equal(mails(pat.email).length, 0, 'no mail to someone active');
  // Seen last 6 minutes ago (MAIL_ACTIVE_MINUTES is 5): away.
  await sql(`UPDATE sessions SET last_seen_at = now() - interval '6 minutes' WHERE user_id = $1`, [pat.id]);
  assert.equal((await reply(doc.c, root, 'Still there?')).status, 303);
  await waitMail(pat.email);
});

test('no mail without a proven address', async () => {
  const email = uniqueEmail('unproven');
  const id = await createUser({ email, clinic, first: 'Una', last: 'Proven' });
  await send(doc, { id }, 'Hello', 'Hello');
  await sleep(500);
  assert.deepEqual(await mailJobs(id), [], 'nothing queued');
  assert.equal(mails(email).length, 0);
});

test('a relay that refuses (550): failed for good, shown on /admin/jobs, without the address', async () => {
  const pat = await patient('refuse-pat');
  await send(doc, pat, 'Hello', 'Hello');
  const [job] = await mailJobsDone(pat.id);
  assert.equal(job[1], 'failed');
  assert.equal(job[2], '1', 'one attempt: a 5xx is for good');
  assert.equal(job[3], 'the relay answered 550: refused for good');
  const page = await admin.get('/admin/jobs');
  assert.ok(page.text.includes('the relay answered 550: refused for good'), 'the admin sees why');
  assert.ok(!page.text.includes(pat.email) && !page.text.includes('refuse-pat'), 'never the address');
  assert.equal(mails(pat.email).length, 0);
});

// A port of 127.0.0.1 where nothing listens (until the test starts a server there).
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

test('a relay that is down: retried, then sent when it comes back; a 451 is retried too', async (t) => {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carebox-smtp-'));
  const w = await startWorker('mail-down', { env: { CAREBOX_TEST_JOBS: 'mail', CAREBOX_SMTP_URL: `smtp://127.0.0.1:${port}` } });
  let server = null;
  try {
    const pat = await patient(), later = await patient('later-pat');
    for (const p of [pat, later]) {
      await sql(`INSERT INTO jobs (kind, payload, max_attempts) VALUES ('test.mail', $1, 10)`,
        [JSON.stringify({ mail: 'reset', user: p.id })]);
    }
    for (let i = 0; i < 200; i++) {
      const rows = await mailJobs(pat.id);
      if (Number(rows[0][2]) >= 2 && rows[0][1] === 'queued') break;
      await sleep(50);
    }
    const [down] = await mailJobs(pat.id);
    assert.equal(down[1], 'queued', 'waiting for the next attempt');
    assert.ok(Number(down[2]) >= 2, 'tried more than once');
    assert.equal(down[3], 'no answer from the relay: Couldn\'t connect to server');
    server = await startSmtp(port, dir);
    const [m] = await waitMail(pat.email, { dir });
    assert.match(linkIn(m, '/reset'), /^\/reset\?token=[0-9a-f]{64}$/);
    const [done] = await mailJobsDone(pat.id);
    assert.equal(done[1], 'done');
    await waitMail(later.email, { dir });
    const [l] = await mailJobsDone(later.id);
    assert.equal(l[1], 'done');
    assert.ok(Number(l[2]) >= 2, 'the 451 was retried');
    assert.equal(mails(later.email, dir).length, 1);
    // libcurl and its TLS libraries live in carebox-mail, one process per
    // mail: the worker that ran these stays as small as ever.
    if (process.env.CAREBOX_SANITIZERS !== '1') {
      const [pid] = w.children();
      t.diagnostic(`the worker's VmRSS after sending mails: ${rss(pid)} kB`);
      assert.ok(rss(pid) < 4096, `the worker's VmRSS after sending: ${rss(pid)} kB`);
    }
  } finally {
    await w.stop();
    if (server) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

after(() => {});
