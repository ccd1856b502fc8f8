// messages.test.js - writing, reading, replying, read receipts, unread
// counts, archiving and searching messages; who may see and write what;
// and the unread counter staying exact through a random mix of actions.
'use strict';
const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail } = require('../lib/harness');

let clinicCounter = 0;
const uniqueClinic = (tag) => `Msg ${tag} Clinic ${process.pid}-${Date.now()}-${++clinicCounter}`;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const READ_AT = /Read \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d/;

// A logged-in person: { id, email, name, c (client) }.
async function person(role, clinic, first, last) {
  const email = uniqueEmail(`msg-${role}`);
  const id = await createUser({ email, role, clinic, first, last });
  const c = new Client();
  assert.equal((await c.login(email)).status, 303, `${first} logs in`);
  await c.get('/inbox');
  return { id, email, name: `${first} ${last}`, c };
}

// A clinic with a patient, a second patient, a doctor and a colleague, and
// another clinic with its own patient and doctor (the outsiders).
async function world(tag) {
  const home = uniqueClinic(tag), away = uniqueClinic(`${tag} away`);
  return {
    pat: await person('patient', home, 'Paula', `Patient${tag}`),
    pat2: await person('patient', home, 'Peter', `Second${tag}`),
    doc: await person('doctor', home, 'Dana', `Doctor${tag}`),
    col: await person('doctor', home, 'Colin', `Colleague${tag}`),
    out: await person('patient', away, 'Otto', `Outsider${tag}`),
    far: await person('doctor', away, 'Frida', `Faraway${tag}`),
  };
}

const formToken = (html) => {
  const m = /name="form_token" value="([0-9a-f]{64})"/.exec(html);
  assert.ok(m, 'the form carries a one-time form_token');
  return m[1];
};
const unreadCount = async (userId) =>
  Number((await sql(`SELECT unread_count FROM inboxes WHERE user_id = $1`, [userId]))[0][0]);
const realUnread = async (userId) => Number((await sql(`SELECT count(*) FROM messages m JOIN inboxes i
  ON i.id = m.inbox_id WHERE i.user_id = $1 AND NOT m.read AND NOT m.archived`, [userId]))[0][0]);
const sentCount = async (userId) => Number((await sql(`SELECT count(*) FROM messages m JOIN outboxes o
  ON o.id = m.outbox_id WHERE o.user_id = $1`, [userId]))[0][0]);
const navUnread = async (c) => {
  const m = /(\d+) unread/.exec((await c.get('/inbox')).text);
  return m ? Number(m[1]) : 0;
};
const options = (html) => [...html.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]);
const decode = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&#39;/g, "'").replace(/&amp;/g, '&');

// Opens the compose form and sends it; returns the POST's response.
async function compose(c, fields) {
  const form = await c.get('/messages/new');
  assert.equal(form.status, 200);
  return c.post('/messages', { form_token: formToken(form.text), ...fields });
}

// Sends a message that must be accepted; returns the new message's id.
async function send(from, to, subject, body) {
  const r = await compose(from.c, { to: to.id, subject, body });
  assert.equal(r.status, 303, `sent: ${r.text.slice(0, 200)}`);
  const m = new RegExp(`^/messages/(${UUID})$`).exec(r.headers.get('location'));
  assert.ok(m, `goes to the new message: ${r.headers.get('location')}`);
  return m[1];
}

// Opens thread `root` and replies; returns the POST's response.
async function reply(c, root, body) {
  const page = await c.get(`/messages/${root}`);
  assert.equal(page.status, 200);
  return c.post(`/messages/${root}/reply`, { form_token: formToken(page.text), body });
}

let w;
before(async () => { w = await world('A'); });

test('the compose form offers only the people one may write to', async () => {
  const offered = async (p) => options((await p.c.get('/messages/new')).text);
  const pat = await offered(w.pat);
  assert.ok(pat.includes(w.doc.id) && pat.includes(w.col.id), 'a patient sees the staff of their clinic');
  for (const x of [w.pat2, w.out, w.far, w.pat]) assert.ok(!pat.includes(x.id), `a patient never sees ${x.name}`);
  const doc = await offered(w.doc);
  for (const x of [w.pat, w.pat2, w.col]) assert.ok(doc.includes(x.id), `staff see ${x.name}`);
  for (const x of [w.out, w.far, w.doc]) assert.ok(!doc.includes(x.id), `staff never see ${x.name}`);
  const out = await offered(w.out);
  assert.deepEqual(out, [w.far.id], 'the other clinic only sees its own');
  const pre = await w.pat.c.get(`/messages/new?to=${w.col.id}`);
  assert.match(pre.text, new RegExp(`<option value="${w.col.id}" selected>`), '?to= preselects');
});

test('someone who may write to nobody is told so instead of a form', async () => {
  const lonely = await person('patient', uniqueClinic('lonely'), 'Lone', 'Patient');
  const r = await lonely.c.get('/messages/new');
  assert.equal(r.status, 200);
  assert.match(r.text, /nobody you can write to/);
  assert.doesNotMatch(r.text, /name="body"/);
});

test('a patient writes to their doctor, who sees it unread in the nav', async () => {
  const before = await unreadCount(w.doc.id);
  const r = await compose(w.pat.c, { to: w.doc.id, subject: 'Knee pain', body: 'My knee hurts\nsince Monday.' });
  assert.equal(r.status, 303);
  const loc = r.headers.get('location');
  assert.match(loc, new RegExp(`^/messages/${UUID}$`));
  const page = await w.pat.c.get(loc);
  assert.equal(page.status, 200);
  assert.match(page.text, /Message sent\./);
  assert.match(page.text, /<h1>Knee pain<\/h1>/);
  assert.match(page.text, /Delivered/);
  assert.equal(await unreadCount(w.doc.id), before + 1);
  assert.equal(await navUnread(w.doc.c), before + 1, 'the doctor sees the count in the navigation');
  const inbox = await w.doc.c.get('/inbox');
  assert.match(inbox.text, /Knee pain/);
});

test('refused messages come back with the text kept and nothing stored', async () => {
  const cases = [
    [{ to: w.pat2.id, subject: 'Hi', body: 'patient to patient' }, 'to', /cannot write to this person/],
    [{ to: w.out.id, subject: 'Hi', body: 'to another clinic' }, 'to', /cannot write to this person/],
    [{ to: '00000000-0000-4000-8000-000000000000', subject: 'Hi', body: 'to nobody' }, 'to', /cannot write/],
    [{ to: 'not-an-id', subject: 'Hi', body: 'garbage id' }, 'to', /cannot write/],
    [{ to: '', subject: 'Hi', body: 'no recipient' }, 'to', /Choose who to write to/],
    [{ to: w.doc.id, subject: 'Empty', body: '' }, 'body', /Write a message/],
    [{ to: w.doc.id, subject: 'Blank', body: '  \r\n\t \n ' }, 'body', /Write a message/],
    [{ to: w.doc.id, subject: 'Long', body: 'x'.repeat(20001) }, 'body', /at most 20,000 characters/],
    [{ to: w.doc.id, subject: '', body: 'no subject' }, 'subject', /subject/],
  ];
  const sent = await sentCount(w.pat.id);
  for (const [fields, field, message] of cases) {
    const r = await compose(w.pat.c, fields);
    assert.equal(r.status, 422, `${JSON.stringify(fields).slice(0, 80)} is refused`);
    const err = new RegExp(`<p class="field-error" id="${field}-error">([^<]*)</p>`).exec(r.text);
    assert.ok(err, `the error is shown next to ${field}`);
    assert.match(err[1], message);
    if (fields.body.trim()) {
      assert.ok(r.text.includes(`>${fields.body}</textarea>`), 'the text is kept');
    }
    if (fields.subject) assert.ok(r.text.includes(`value="${fields.subject}"`), 'the subject is kept');
  }
  assert.equal(await sentCount(w.pat.id), sent, 'nothing was stored');
});

test('exactly 20,000 characters are accepted', async () => {
  const body = 'é'.repeat(10000) + 'y'.repeat(10000);
  const id = await send(w.pat, w.doc, 'Long one', body);
  assert.equal((await sql(`SELECT length(body) FROM messages WHERE id = $1`, [id]))[0][0], '20000');
});

test('sending the same form twice (a reload) stores one message', async () => {
  const form = await w.pat.c.get('/messages/new');
  const fields = { form_token: formToken(form.text), to: w.doc.id, subject: 'Twice', body: 'only once please' };
  const sent = await sentCount(w.pat.id);
  const first = await w.pat.c.post('/messages', fields);
  assert.equal(first.status, 303);
  const again = await w.pat.c.post('/messages', fields);
  assert.equal(again.status, 303);
  assert.equal(again.headers.get('location'), '/sent');
  assert.match((await w.pat.c.get('/sent')).text, /This message was already sent\./);
  assert.equal(await sentCount(w.pat.id), sent + 1);
  const none = await w.pat.c.post('/messages', { ...fields, form_token: 'nope' });
  assert.equal(none.status, 400, 'a form without a valid token is refused, not reported as sent');
  assert.equal(await sentCount(w.pat.id), sent + 1);
});

test('opening a thread marks only the viewer\'s messages read; the sender sees receipts', async () => {
  const x = await world('R');
  const root = await send(x.pat, x.doc, 'Blood test', 'When are the results due?');
  const before = await x.pat.c.get(`/messages/${root}`);
  assert.match(before.text, /Delivered/);
  assert.doesNotMatch(before.text, READ_AT);
  assert.equal(await unreadCount(x.doc.id), 1);
  // The patient opening their own thread changes nothing for the doctor.
  assert.equal((await sql(`SELECT read FROM messages WHERE id = $1`, [root]))[0][0], 'f');
  // Nor does a HEAD of it (a link checker, a prefetch): only a GET reads.
  assert.equal((await x.doc.c.request(`/messages/${root}`, { method: 'HEAD' })).status, 200);
  assert.equal(await unreadCount(x.doc.id), 1, 'a HEAD marks nothing read');

  const page = await x.doc.c.get(`/messages/${root}`);
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /(\d+) unread/, 'the count drops on the page that read it');
  assert.equal(await unreadCount(x.doc.id), 0);
  assert.doesNotMatch(page.text, READ_AT, 'no receipts on messages one received');
  const r = await reply(x.doc.c, root, 'Tomorrow.');
  assert.equal(r.status, 303);
  assert.match(r.headers.get('location'), new RegExp(`^/messages/${root}(#m-${UUID})?$`));
  assert.equal(await unreadCount(x.doc.id), 0, 'one\'s own reply is not unread');
  assert.equal(await unreadCount(x.pat.id), 1, 'the reply arrives unread for the patient');

  const seen = await x.pat.c.get(`/messages/${root}`);
  assert.match(seen.text, READ_AT, 'the patient sees when the doctor read it');
  assert.match(seen.text, /Tomorrow\./);
  assert.equal(await unreadCount(x.pat.id), 0);
  const docView = await x.doc.c.get(`/messages/${root}`);
  assert.match(docView.text, READ_AT, 'and the doctor sees the patient read the reply');
  assert.equal((await sql(`SELECT count(*) FROM messages WHERE (id = $1 OR parent_id = $1) AND read`,
    [root]))[0][0], '2');
});

test('strangers and unknown ids get 404 on every thread action', async () => {
  const root = await send(w.pat, w.doc, 'Private', 'just between us');
  const unknown = '00000000-0000-4000-8000-000000000000';
  const sent = await sentCount(w.pat2.id);
  for (const [who, id] of [[w.pat2, root], [w.col, root], [w.out, root], [w.pat, unknown]]) {
    const g = await who.c.get(`/messages/${id}`);
    assert.equal(g.status, 404, `${who.name} GET ${id}`);
    assert.doesNotMatch(g.text, /just between us/);
    const token = 'a'.repeat(63) + String(Math.floor(Math.random() * 10));
    assert.equal((await who.c.post(`/messages/${id}/reply`, { body: 'butting in', form_token: token })).status, 404);
    for (const action of ['unread', 'archive', 'unarchive']) {
      assert.equal((await who.c.post(`/messages/${id}/${action}`)).status, 404, `${who.name} ${action}`);
    }
  }
  assert.equal(await sentCount(w.pat2.id), sent, 'the stranger\'s reply was not stored');
  assert.equal((await w.pat.c.get('/messages/not-a-uuid')).status, 404);
});

test('mark as unread raises the count; archive and unarchive move the thread', async () => {
  const x = await world('U');
  const root = await send(x.doc, x.pat, 'Your prescription', 'It is ready.');
  await x.pat.c.get(`/messages/${root}`);
  assert.equal(await unreadCount(x.pat.id), 0);
  const u = await x.pat.c.post(`/messages/${root}/unread`);
  assert.equal(u.status, 303);
  assert.equal(u.headers.get('location'), '/inbox');
  assert.equal(await unreadCount(x.pat.id), 1);
  assert.equal(await navUnread(x.pat.c), 1);
  assert.equal((await x.doc.c.post(`/messages/${root}/unread`)).status, 404, 'the sender cannot mark it unread');

  const page = await x.pat.c.get(`/messages/${root}`);
  assert.match(page.text, /Archive<\/button>/);
  const a = await x.pat.c.post(`/messages/${root}/archive`);
  assert.equal(a.status, 303);
  assert.equal(a.headers.get('location'), '/inbox');
  assert.doesNotMatch((await x.pat.c.get('/inbox')).text, /Your prescription/);
  assert.match((await x.pat.c.get('/archive')).text, /Your prescription/);
  const archived = await x.pat.c.get(`/messages/${root}`);
  assert.match(archived.text, /Move back to inbox<\/button>/);
  assert.doesNotMatch(archived.text, />Archive<\/button>/);

  // Unread and archived: the count leaves the unread message out.
  await x.pat.c.post(`/messages/${root}/unread`);
  assert.equal(await unreadCount(x.pat.id), 0);
  const back = await x.pat.c.post(`/messages/${root}/unarchive`);
  assert.equal(back.status, 303);
  assert.equal(back.headers.get('location'), `/messages/${root}`);
  assert.equal(await unreadCount(x.pat.id), 1, 'back in the inbox, the unread message counts again');
  assert.match((await x.pat.c.get('/inbox')).text, /Your prescription/);
  assert.doesNotMatch((await x.pat.c.get('/archive')).text, /Your prescription/);
  assert.equal(await unreadCount(x.pat.id), await realUnread(x.pat.id));
});

test('a reply reaches the other party, whoever replies', async () => {
  const x = await world('P');
  const root = await send(x.pat, x.doc, 'Appointment', 'Can I come on Friday?');
  assert.equal((await reply(x.doc.c, root, 'Yes, at 10.')).status, 303);
  assert.match((await x.pat.c.get('/inbox')).text, /Re: Yes, at 10\./);
  assert.equal((await reply(x.pat.c, root, 'Thank you!')).status, 303);
  assert.match((await x.doc.c.get('/inbox')).text, /Re: Thank you!/);
  const rows = await sql(`SELECT count(*), count(*) FILTER (WHERE parent_id = $1 AND subject IS NULL)
    FROM messages WHERE id = $1 OR parent_id = $1`, [root]);
  assert.deepEqual(rows[0], ['3', '2'], 'replies hang off the root, without a subject');
  const page = await x.doc.c.get(`/messages/${root}`);
  const order = ['Can I come on Friday?', 'Yes, at 10.', 'Thank you!'].map((t) => page.text.indexOf(t));
  assert.ok(order[0] > 0 && order[0] < order[1] && order[1] < order[2], 'oldest first');
  assert.match(page.text, /<h1>Appointment<\/h1>/);

  const bad = await x.pat.c.get(`/messages/${root}`);
  const sent = await sentCount(x.pat.id);
  for (const body of ['', '   \n ', 'z'.repeat(20001)]) {
    const r = await x.pat.c.post(`/messages/${root}/reply`, { form_token: formToken(bad.text), body });
    assert.equal(r.status, 422);
    assert.match(r.text, /<p class="field-error" id="body-error">/);
    if (body.trim()) assert.ok(r.text.includes(`>${body}</textarea>`), 'the reply text is kept');
  }
  assert.equal(await sentCount(x.pat.id), sent);
});

test('the same reply form sent twice stores one reply', async () => {
  const x = await world('T');
  const root = await send(x.pat, x.doc, 'Twice reply', 'first');
  const page = await x.doc.c.get(`/messages/${root}`);
  const fields = { form_token: formToken(page.text), body: 'answer once' };
  assert.equal((await x.doc.c.post(`/messages/${root}/reply`, fields)).status, 303);
  const again = await x.doc.c.post(`/messages/${root}/reply`, fields);
  assert.equal(again.status, 303);
  assert.match((await x.doc.c.get(again.headers.get('location').split('#')[0])).text, /already sent/);
  assert.equal(await sentCount(x.doc.id), 1);
});

test('messages from carebox cannot be answered', async () => {
  const x = await world('C');
  // What msg_post_auto does, written out here (it has no HTTP route).
  const root = (await sql(`WITH ib AS (UPDATE inboxes SET unread_count = unread_count + 1
    WHERE user_id = $1 RETURNING id)
    INSERT INTO messages (inbox_id, subject, body, routing)
    SELECT id, 'Prescription ready', 'Pick it up at the desk.', 'auto' FROM ib RETURNING id`, [x.pat.id]))[0][0];
  const page = await x.pat.c.get(`/messages/${root}`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<strong>carebox<\/strong>/);
  assert.match(page.text, /cannot be answered/);
  assert.doesNotMatch(page.text, /Send reply/);
  const r = await x.pat.c.post(`/messages/${root}/reply`, { form_token: 'b'.repeat(64), body: 'thanks' });
  assert.equal(r.status, 422);
  assert.match(r.text, /cannot be answered/);
  assert.equal(await sentCount(x.pat.id), 0);
});

test('bodies are shown as text with their line breaks; links stay text', async () => {
  const body = '<script>alert("x")</script>\nsecond line\n\nhttps://evil.example/ <b>bold</b>';
  const root = await send(w.pat, w.doc, '<i>subject</i>', body);
  const page = await w.doc.c.get(`/messages/${root}`);
  assert.doesNotMatch(page.text, /<script>alert/);
  assert.doesNotMatch(page.text, /<b>bold/);
  assert.doesNotMatch(page.text, /<i>subject/);
  assert.doesNotMatch(page.text, /href="https:\/\/evil/);
  const m = /<p class="body">([^<]*&lt;script&gt;[^<]*)<\/p>/.exec(page.text);
  assert.ok(m, 'the body is escaped text in <p class="body">');
  assert.equal(decode(m[1]), body, 'line breaks kept as they were');
});

test('search finds one\'s own messages by a word of the body or subject, highlighted', async () => {
  const x = await world('S');
  const word = `zebra${process.pid}x${Date.now()}`;
  const subjectWord = `okapi${process.pid}x${Date.now()}`;
  const root = await send(x.pat, x.doc, `About ${subjectWord}`, `I saw a ${word} & 1 < 2 > 0 "quoted" yesterday.`);
  await send(x.out, x.far, 'Not yours', `Another ${word} elsewhere.`);

  const r = await x.pat.c.get(`/search?q=${word}`);
  assert.equal(r.status, 200);
  assert.ok(r.text.includes(`<mark>${word}</mark>`), 'the hit is marked');
  assert.ok(r.text.includes(' &amp; 1 &lt; 2 &gt; 0 &quot;quoted&quot; yesterday'), 'the rest is escaped');
  assert.ok(r.text.includes(`href="/messages/${root}#m-${root}"`));
  assert.match(r.text, new RegExp(`About ${subjectWord}`));
  assert.match(r.text, /Paula PatientS → Dana DoctorS/);
  assert.doesNotMatch(r.text, /elsewhere/, 'never someone else\'s message');

  const bySubject = await x.doc.c.get(`/search?q=${subjectWord}`);
  assert.ok(bySubject.text.includes(`href="/messages/${root}#m-${root}"`), 'the recipient finds it by the subject');
  const stranger = await x.out.c.get(`/search?q=${subjectWord}`);
  assert.match(stranger.text, /No messages match/);
  const far = await x.far.c.get(`/search?q=${word}`);
  assert.match(far.text, /elsewhere/);
  assert.doesNotMatch(far.text, /yesterday/);

  const empty = await x.pat.c.get('/search');
  assert.equal(empty.status, 200);
  assert.match(empty.text, /name="q"/);
  assert.doesNotMatch(empty.text, /No messages match/);
  const long = await x.pat.c.get(`/search?q=${'a'.repeat(201)}`);
  assert.equal(long.status, 400);
  assert.match(long.text, /at most 200 characters/);
  assert.equal((await x.pat.c.get(`/search?q=${word}&before=nope`)).status, 400);
  const odd = await x.pat.c.get(`/search?q=${encodeURIComponent('"unclosed -( or || !!')}`);
  assert.equal(odd.status, 200, 'any text is a valid search');
});

test('search pages with ?before=, ten at a time', async () => {
  const x = await world('K');
  const word = `walrus${process.pid}x${Date.now()}`;
  for (let i = 1; i <= 12; i++) await send(x.pat, x.doc, `Page ${i}`, `${word} number n${i}n`);
  const first = await x.doc.c.get(`/search?q=${word}`);
  assert.equal((first.text.match(/<mark>/g) || []).length, 10);
  assert.match(first.text, /n12n/);
  assert.doesNotMatch(first.text, /n2n/);
  const older = /href="(\/search\?q=[^"]+&amp;before=[^"]+)"/.exec(first.text);
  assert.ok(older, 'a link to older results');
  const second = await x.doc.c.get(decode(older[1]));
  assert.equal(second.status, 200);
  assert.equal((second.text.match(/<mark>/g) || []).length, 2);
  assert.match(second.text, /n2n/);
  assert.match(second.text, /n1n/);
  assert.doesNotMatch(second.text, /n3n/);
  assert.doesNotMatch(second.text, /Older results/);
});

test('inbox and sent list ten at a time, newest first, paged with ?before=', async () => {
  const x = await world('L');
  for (let i = 1; i <= 12; i++) await send(x.pat, x.doc, `Listed ${i}z`, `Body ${i}`);
  const subjects = (html) => [...html.matchAll(/>Listed (\d+)z</g)].map((m) => Number(m[1]));
  for (const [c, path] of [[x.doc.c, '/inbox'], [x.pat.c, '/sent']]) {
    const first = await c.get(path);
    assert.equal(first.status, 200, path);
    assert.deepEqual(subjects(first.text), [12, 11, 10, 9, 8, 7, 6, 5, 4, 3], `${path}: the newest ten`);
    const older = new RegExp(`href="(${path}\\?before=${UUID})">Older messages`).exec(first.text);
    assert.ok(older, `${path}: a link to older messages`);
    const second = await c.get(decode(older[1]));
    assert.equal(second.status, 200);
    assert.deepEqual(subjects(second.text), [2, 1], `${path}: then the rest`);
    assert.doesNotMatch(second.text, /Older messages/);
    assert.match(second.text, new RegExp(`href="${path}">Newest`));
  }
  const sent = await x.pat.c.get('/sent');
  assert.match(sent.text, /not yet/, 'sent shows read receipts: unread so far');
  await x.doc.c.get(`/messages/${(/href="\/messages\/([0-9a-f-]{36})">Listed 12z/.exec(sent.text))[1]}`);
  assert.match((await x.pat.c.get('/sent')).text, /read \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d/);
  assert.equal((await x.doc.c.get('/inbox?before=nope')).status, 400);
  // Someone else's message as the start is refused: nothing of theirs leaks.
  const theirs = await send(x.out, x.far, 'Elsewhere', 'Not yours');
  for (const dir of ['before', 'after']) {
    const foreign = await x.doc.c.get(`/inbox?${dir}=${theirs}`);
    assert.equal(foreign.status, 400, `a foreign cursor (${dir}) is a bad request`);
    assert.doesNotMatch(foreign.text, /Elsewhere|Listed/);
  }
  assert.equal((await x.doc.c.get(`/inbox?before=${theirs}&after=${theirs}`)).status, 400);
});

test('lists page back with a Newer link that leads to the rows in front', async () => {
  const x = await world('Q');
  for (let i = 1; i <= 25; i++) await send(x.pat, x.doc, `Paged ${i}q`, `Body ${i}`);
  const subjects = (html) => [...html.matchAll(/>Paged (\d+)q</g)].map((m) => Number(m[1]));
  const link = (html, label) => {
    const m = new RegExp(`href="([^"]+)">${label}`).exec(html);
    return m && decode(m[1]);
  };
  const first = await x.doc.c.get('/inbox');
  assert.equal(link(first.text, 'Newer messages'), null, 'the first page has nothing newer');
  const second = await x.doc.c.get(link(first.text, 'Older messages'));
  const third = await x.doc.c.get(link(second.text, 'Older messages'));
  assert.deepEqual(subjects(third.text), [5, 4, 3, 2, 1]);
  assert.equal(link(third.text, 'Older messages'), null, 'the last page has nothing older');
  const back = await x.doc.c.get(link(third.text, 'Newer messages'));
  assert.equal(back.status, 200);
  assert.deepEqual(subjects(back.text), [15, 14, 13, 12, 11, 10, 9, 8, 7, 6], 'newer: the page in front');
  assert.ok(link(back.text, 'Older messages') && link(back.text, 'Newer messages'), 'links both ways');
  const top = await x.doc.c.get(link(back.text, 'Newer messages'));
  assert.deepEqual(subjects(top.text), [25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
  assert.equal(link(top.text, 'Newer messages'), null, 'nothing newer than the newest');
  assert.match(top.text, /href="\/inbox">Newest/);
});

test('search merges received, archived and sent messages, newest first, across pages', async () => {
  const x = await world('N');
  const word = `narwhal${process.pid}x${Date.now()}`;
  const ids = [];
  // Every third message the doctor sends; the first two received ones get archived.
  for (let i = 1; i <= 13; i++) {
    ids.push(i % 3 === 0 ? await send(x.doc, x.pat, `Sent ${i}`, `${word} s${i}s`)
      : await send(x.pat, x.doc, `Got ${i}`, `${word} g${i}g`));
  }
  for (const id of [ids[0], ids[1]]) assert.equal((await x.doc.c.post(`/messages/${id}/archive`)).status, 303);
  const tags = (html) => [...html.matchAll(/<mark>[^<]+<\/mark> ([gs]\d+[gs])/g)].map((m) => m[1]);
  const first = await x.doc.c.get(`/search?q=${word}`);
  assert.deepEqual(tags(first.text), ['g13g', 's12s', 'g11g', 'g10g', 's9s', 'g8g', 'g7g', 's6s', 'g5g', 'g4g']);
  const older = /href="(\/search\?q=[^"]+&amp;before=[^"]+)"/.exec(first.text);
  assert.ok(older, 'a link to older results');
  const second = await x.doc.c.get(decode(older[1]));
  assert.deepEqual(tags(second.text), ['s3s', 'g2g', 'g1g'], 'the archived ones come last, in order');
  // A page after someone else's message: a bad request, as for any cursor not one's own.
  const theirs = await send(x.out, x.far, 'Away', `${word} away`);
  assert.equal((await x.doc.c.get(`/search?q=${word}&before=${theirs}`)).status, 400);
  assert.equal((await x.doc.c.get(`/search?q=${word}&after=${theirs}`)).status, 400);
  // Newer from the second page leads back to the first page's rows.
  const newer = /href="(\/search\?q=[^"]+&amp;after=[^"]+)">Newer results/.exec(second.text);
  assert.ok(newer, 'a link to newer results');
  assert.deepEqual(tags((await x.doc.c.get(decode(newer[1]))).text), tags(first.text));
});

// POSTs `fields` and `files` ([name, type, text]) as multipart/form-data.
function postFiles(c, path, fields, files) {
  const form = new FormData();
  for (const [k, v] of Object.entries({ csrf_token: c.csrf, ...fields })) form.append(k, v);
  for (const [name, type, text] of files) form.append('attachment', new Blob([text], { type }), name);
  return c.request(path, { method: 'POST', body: form });
}

test('files attached to a message and a reply are listed in the thread', async () => {
  const x = await world('F');
  const form = await x.pat.c.get('/messages/new');
  assert.match(form.text, /<form method="post" action="\/messages" enctype="multipart\/form-data">/);
  assert.match(form.text, /<input id="attachment" name="attachment" type="file" multiple/);
  const sent = await sentCount(x.pat.id);
  const bad = await postFiles(x.pat.c, '/messages', { form_token: formToken(form.text), to: x.doc.id,
    subject: 'Files', body: 'see attached' }, [['tool.exe', 'application/octet-stream', 'MZ\x00\x01binary']]);
  assert.equal(bad.status, 422);
  assert.match(bad.text, /id="attachment-error">[^<]*tool\.exe/);
  assert.ok(bad.text.includes('>see attached</textarea>'));
  assert.equal(await sentCount(x.pat.id), sent, 'nothing stored');

  const ok = await postFiles(x.pat.c, '/messages', { form_token: formToken(bad.text), to: x.doc.id,
    subject: 'Files', body: 'see attached' }, [['notes.txt', 'text/plain', 'pollen: yes\n']]);
  assert.equal(ok.status, 303);
  const root = ok.headers.get('location').split('/').pop();
  const page = await x.doc.c.get(`/messages/${root}`);
  const link = new RegExp(`<a href="(/attachments/${UUID})">notes\\.txt</a>`).exec(page.text);
  assert.ok(link, 'the thread lists the file with a download link');
  const file = await x.doc.c.get(link[1]);
  assert.equal(file.status, 200);
  assert.equal(file.text, 'pollen: yes\n');

  const r = await postFiles(x.doc.c, `/messages/${root}/reply`, { form_token: formToken(page.text), body: 'thanks' },
    [['scan.pdf', 'application/pdf', '%PDF-1.4\n%%EOF\n']]);
  assert.equal(r.status, 303);
  assert.match((await x.pat.c.get(`/messages/${root}`)).text, />scan\.pdf<\/a>/);
  assert.equal((await x.out.c.get(link[1])).status, 404, 'strangers cannot download it');
});

// A small seeded generator (mulberry32), so a failure can be replayed.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('the unread counter stays exact through a random mix of actions', async () => {
  const x = await world('Z');
  const people = [x.pat, x.pat2, x.doc, x.col];
  const seed = Number(process.env.MSG_SEED || 20261123);
  const rand = rng(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const patients = [x.pat, x.pat2];
  const allowed = (a, b) => a !== b && !(patients.includes(a) && patients.includes(b));
  // Threads each person is in, and messages each received.
  const threadsOf = async (p) => (await sql(`SELECT DISTINCT coalesce(m.parent_id, m.id) FROM messages m
    JOIN inboxes i ON i.id = m.inbox_id LEFT JOIN outboxes o ON o.id = m.outbox_id
    WHERE i.user_id = $1 OR o.user_id = $1 ORDER BY 1`, [p.id])).map((r) => r[0]);
  const receivedBy = async (p) => (await sql(`SELECT m.id FROM messages m JOIN inboxes i ON i.id = m.inbox_id
    WHERE i.user_id = $1 ORDER BY m.id`, [p.id])).map((r) => r[0]);
  const counts = { send: 0, reply: 0, open: 0, unread: 0, archive: 0, unarchive: 0 };

  const drift = () => sql(`SELECT i.user_id, i.unread_count, (SELECT count(*) FROM messages m
    WHERE m.inbox_id = i.id AND NOT m.read AND NOT m.archived) AS real FROM inboxes i
    WHERE i.user_id IN ($1, $2, $3, $4)
    AND i.unread_count <> (SELECT count(*) FROM messages m
    WHERE m.inbox_id = i.id AND NOT m.read AND NOT m.archived)`, people.map((p) => p.id));

  for (let n = 0; n < 200; n++) {
    const me = pick(people);
    const op = pick(['send', 'send', 'reply', 'reply', 'open', 'open', 'unread', 'archive', 'unarchive']);
    const threads = op === 'send' ? [] : await threadsOf(me), received = op === 'unread' ? await receivedBy(me) : [];
    const where = `step ${n} (seed ${seed}): ${me.name} ${op}`;
    if (op === 'send' || threads.length === 0) {
      const to = pick(people.filter((p) => allowed(me, p)));
      await send(me, to, `Mix ${n}`, `random message ${n}`);
      counts.send++;
    } else if (op === 'reply') {
      const r = await reply(me.c, pick(threads), `random reply ${n}`);
      assert.equal(r.status, 303, where);
      counts.reply++;
    } else if (op === 'open') {
      assert.equal((await me.c.get(`/messages/${pick(threads)}`)).status, 200, where);
      counts.open++;
    } else if (op === 'unread' && received.length) {
      assert.equal((await me.c.post(`/messages/${pick(received)}/unread`)).status, 303, where);
      counts.unread++;
    } else if (op === 'archive' || op === 'unarchive') {
      assert.equal((await me.c.post(`/messages/${pick(threads)}/${op}`)).status, 303, where);
      counts[op]++;
    }
    // Checked along the way too, so a drift is caught near its cause.
    if (n % 10 === 9) assert.deepEqual(await drift(), [], `${where}: every unread_count matches its messages`);
  }
  assert.deepEqual(await drift(), [], 'at the end, every unread_count matches its messages');
  for (const p of people) {
    const shown = await navUnread(p.c);
    assert.equal(shown, await realUnread(p.id), `${p.name}'s navigation shows the exact count`);
  }
  assert.ok(Object.values(counts).every((v) => v > 5), `every kind of action ran: ${JSON.stringify(counts)}`);
});

test('Find narrows the people offered in the compose form', async () => {
  const w = await world('Find');
  const all = options((await w.doc.c.get('/messages/new')).text);
  assert.ok(all.includes(w.pat.id) && all.includes(w.pat2.id) && all.includes(w.col.id));
  const found = await w.doc.c.get(`/messages/new?find=${encodeURIComponent('second' + 'Find'.toLowerCase())}`);
  assert.deepEqual(options(found.text), [w.pat2.id], 'only the matching person, any case');
  assert.match(found.text, /name="find" value="secondfind"/, 'the search stays in its field');
  const none = await w.doc.c.get('/messages/new?find=nobody-at-all');
  assert.deepEqual(options(none.text), []);
  assert.match(none.text, /Nobody you can write to matches/);
  const chosen = await w.doc.c.get(`/messages/new?to=${w.col.id}&find=second`);
  assert.ok(options(chosen.text).includes(w.col.id), 'the chosen person stays offered');
});
