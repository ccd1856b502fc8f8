// conversations.test.js - the lists show one row per conversation (its
// subject, the other person, the latest message, how many messages, how
// many unread), and archive, unarchive and mark unread act on the
// conversation; the rows stay exact when messages cross each other.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { sql } = require('../lib/harness');
const { world, send, reply, unreadCount, realUnread, conversationDrift, navUnread } = require('../lib/messaging');

// The rows of a list page: [subject, person, messages, unread or 0, preview].
const rows = (html) => [...html.matchAll(/<tr( class="unread")?>\n<td data-label="(?:From|To)">([^<]*)<\/td>\n<td data-label="Conversation"><a href="\/messages\/[0-9a-f-]{36}">([^<]*)<\/a> <span class="muted">\((\d+) messages?\)<\/span>(?: <span class="badge">(\d+) new<\/span>)?<br><span class="preview">([^<]*)<\/span>/g)]
  .map((m) => [m[3], m[2], Number(m[4]), Number(m[5] || 0), m[6]]);

test('one row per conversation: subject, other person, latest words, count and unread', async () => {
  const x = await world('Cv');
  const root = await send(x.pat, x.doc, 'Knee pain', 'My knee hurts when I climb stairs.');
  assert.equal((await reply(x.doc.c, root, 'Since when?\n\nPlease also tell me which knee.')).status, 303);
  assert.equal((await reply(x.doc.c, root, 'And does it swell?')).status, 303);
  await send(x.doc, x.pat, 'Flu jab', 'Your flu jab is due.');

  const inbox = await x.pat.c.get('/inbox');
  assert.deepEqual(rows(inbox.text), [
    ['Flu jab', 'Dana DoctorCv', 1, 1, 'Your flu jab is due.'],
    ['Knee pain', 'Dana DoctorCv', 3, 2, 'And does it swell?'],
  ], 'newest conversation first, each once, with its unread number');
  assert.doesNotMatch(inbox.text, /Re: /, 'no reply shows as a row of its own');
  assert.equal((inbox.text.match(/<tr class="unread">/g) || []).length, 2, 'unread rows are marked');
  assert.equal(await unreadCount(x.pat.id), 3);

  // The doctor's inbox holds the conversation the patient started; Sent
  // holds both, the latest words marked as theirs.
  assert.deepEqual(rows((await x.doc.c.get('/inbox')).text), [['Knee pain', 'Paula PatientCv', 3, 0, 'You: And does it swell?']]);
  const sent = await x.doc.c.get('/sent');
  assert.deepEqual(rows(sent.text).map((r) => r[0]), ['Flu jab', 'Knee pain']);
  assert.equal((sent.text.match(/not read yet/g) || []).length, 2, 'the last message of each is not read yet');

  // Reading the thread clears its unread number, and the sender sees it read.
  await x.pat.c.get(`/messages/${root}`);
  assert.deepEqual(rows((await x.pat.c.get('/inbox')).text).map((r) => r[3]), [1, 0]);
  assert.equal(await navUnread(x.pat.c), 1);
  const after = await x.doc.c.get('/sent');
  assert.match(after.text, /Knee pain[\s\S]*?read \d/, 'the read receipt of the last message sent');
  assert.equal((after.text.match(/not read yet/g) || []).length, 1);
  assert.deepEqual(await conversationDrift([x.pat.id, x.doc.id]), []);
});

test('a long message shows its first words cut with "…", on one line', async () => {
  const x = await world('Cp');
  const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join('\n  ');
  await send(x.pat, x.doc, 'Long', words);
  const [row] = rows((await x.doc.c.get('/inbox')).text);
  assert.ok(row[4].startsWith('word0 word1 word2 '), `white space runs become one space: ${row[4]}`);
  assert.ok(row[4].endsWith('…') && row[4].length <= 101, `cut with an ellipsis: ${row[4]}`);
});

test('archive, unarchive and mark unread act on the whole conversation', async () => {
  const x = await world('Ca');
  const root = await send(x.doc, x.pat, 'Results', 'Your results are in.');
  assert.equal((await reply(x.doc.c, root, 'All normal.')).status, 303);
  await x.pat.c.get(`/messages/${root}`);
  assert.equal(await unreadCount(x.pat.id), 0);

  // Mark unread: the latest message only, and by the conversation's id.
  assert.equal((await x.pat.c.post(`/messages/${root}/unread`)).status, 303);
  assert.deepEqual(rows((await x.pat.c.get('/inbox')).text).map((r) => r[3]), [1]);
  assert.equal(await unreadCount(x.pat.id), 1);
  const [[replyId]] = await sql('SELECT id FROM messages WHERE parent_id = $1', [root]);
  assert.equal((await x.pat.c.post(`/messages/${replyId}/unread`)).status, 404, 'a reply is not a conversation');
  assert.equal((await x.doc.c.post(`/messages/${root}/unread`)).status, 404, 'the doctor received nothing in it');

  // Archived, it leaves the inbox with its unread message, whole.
  assert.equal((await x.pat.c.post(`/messages/${root}/archive`)).status, 303);
  assert.deepEqual(rows((await x.pat.c.get('/inbox')).text), []);
  assert.deepEqual(rows((await x.pat.c.get('/archive')).text).map((r) => [r[0], r[2], r[3]]), [['Results', 2, 1]]);
  assert.equal(await unreadCount(x.pat.id), 0, 'an archived conversation does not count');

  // A new message in it brings it back to the inbox, counted.
  assert.equal((await reply(x.doc.c, root, 'One more thing.')).status, 303);
  assert.deepEqual(rows((await x.pat.c.get('/inbox')).text).map((r) => [r[0], r[2], r[3]]), [['Results', 3, 2]]);
  assert.deepEqual(rows((await x.pat.c.get('/archive')).text), []);
  assert.equal(await unreadCount(x.pat.id), 2);

  // The sender's own reply does not take it out of their archive.
  await x.pat.c.post(`/messages/${root}/archive`);
  assert.equal((await reply(x.pat.c, root, 'Thanks!')).status, 303);
  assert.deepEqual(rows((await x.pat.c.get('/archive')).text).map((r) => r[0]), ['Results']);
  assert.equal((await x.pat.c.post(`/messages/${root}/unarchive`)).status, 303);
  assert.deepEqual(rows((await x.pat.c.get('/inbox')).text).map((r) => r[0]), ['Results']);
  assert.equal(await unreadCount(x.pat.id), await realUnread(x.pat.id));
  assert.deepEqual(await conversationDrift([x.pat.id, x.doc.id]), []);
});

test('a conversation from carebox, and a new name, show in the list', async () => {
  const x = await world('Cn');
  await sql(`INSERT INTO messages (inbox_id, subject, body, routing)
    SELECT id, 'Welcome', 'Your clinic answers here.', 'auto' FROM inboxes WHERE user_id = $1`, [x.pat.id]);
  await send(x.doc, x.pat, 'Hello', 'Hi Paula.');
  await sql(`UPDATE users SET first_name = 'Danielle' WHERE id = $1`, [x.doc.id]);
  assert.deepEqual(rows((await x.pat.c.get('/inbox')).text).map((r) => [r[0], r[1]]),
    [['Hello', 'Danielle DoctorCn'], ['Welcome', 'carebox']]);
  assert.equal(await unreadCount(x.pat.id), 2);
});

test('messages crossing in one conversation from both sides at once keep every row exact', async () => {
  const x = await world('Cx');
  const root = await send(x.pat, x.doc, 'Busy', 'start');
  // Both open the thread first (its form token), then all replies go at once.
  const sends = [];
  for (let i = 0; i < 8; i++) {
    sends.push(reply(x.pat.c, root, `from the patient ${i}`));
    sends.push(reply(x.doc.c, root, `from the doctor ${i}`));
  }
  const answers = await Promise.all(sends);
  assert.deepEqual(answers.map((r) => r.status), answers.map(() => 303), 'every reply stored, none deadlocked');
  const [[n]] = await sql('SELECT count(*) FROM messages WHERE id = $1 OR parent_id = $1', [root]);
  assert.equal(Number(n), 17);
  assert.deepEqual(await conversationDrift([x.pat.id, x.doc.id]), []);
  assert.equal(await unreadCount(x.pat.id), await realUnread(x.pat.id));
  assert.equal(await unreadCount(x.doc.id), await realUnread(x.doc.id));
  assert.deepEqual(rows((await x.doc.c.get('/inbox')).text).map((r) => [r[0], r[2]]), [['Busy', 17]]);
});
