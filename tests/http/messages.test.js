// messages.test.js - writing, reading, replying, read receipts, unread
// counts and archiving; who may see and write what. (Lists and search are in
// messages-lists.test.js, attachments and the random mix in messages-mix.test.js.)
'use strict';
const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { sql } = require('../lib/harness');
const { UUID, READ_AT, uniqueClinic, person, world, formToken, unreadCount, realUnread, sentCount,
  navUnread, options, compose, send, reply } = require('../lib/messaging');

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
  assert.match((await x.pat.c.get('/inbox')).text,
    /Appointment<\/a> <span class="muted">\(2 messages\)<\/span> <span class="badge">1 new<\/span><br><span class="preview">Yes, at 10\.</);
  assert.equal((await reply(x.pat.c, root, 'Thank you!')).status, 303);
  assert.match((await x.doc.c.get('/inbox')).text, /Appointment<\/a> <span class="muted">\(3 messages\)[^\n]*Thank you!/);
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
  const root = (await sql(`INSERT INTO messages (inbox_id, subject, body, routing)
    SELECT id, 'Prescription ready', 'Pick it up at the desk.', 'auto' FROM inboxes
    WHERE user_id = $1 RETURNING id`, [x.pat.id]))[0][0];
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
  assert.ok(page.text.includes('<div class="body"><p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>\n'
    + 'second line</p>\n<p>https://evil.example/ &lt;b&gt;bold&lt;/b&gt;</p>\n</div>'),
  'the body is escaped text, its blank line a new paragraph and its line break a <br>');
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

test('a thread read in w3m keeps its paragraphs and line breaks', async () => {
  const { execFileSync } = require('node:child_process');
  const x = await world('W3');
  const root = await send(x.pat, x.doc, 'Lines', 'Dear Dana,\nline two\nline three\n\nBest,\nPaula');
  const page = await x.doc.c.get(`/messages/${root}`);
  const dump = execFileSync('w3m', ['-dump', '-T', 'text/html', '-cols', '120', '-O', 'UTF-8'], { input: page.text }).toString();
  const lines = dump.split('\n').map((l) => l.trim());
  const at = lines.indexOf('Dear Dana,');
  assert.ok(at >= 0, `the first line stands alone:\n${dump}`);
  assert.deepEqual(lines.slice(at, at + 6), ['Dear Dana,', 'line two', 'line three', '', 'Best,', 'Paula'],
    'each line on its own, the paragraphs apart');
});
