// messages-mix.test.js - files attached to messages, and the unread counter
// staying exact through a random mix of actions.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { sql } = require('../lib/harness');
const { UUID, world, formToken, realUnread, REAL_UNREAD, conversationDrift, sentCount, navUnread, send, reply, postFiles } =
  require('../lib/messaging');

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

test('the unread counter and every conversation row stay exact through a random mix of actions', async () => {
  const x = await world('Z');
  const people = [x.pat, x.pat2, x.doc, x.col];
  const seed = Number(process.env.MSG_SEED || 20261123);
  const rand = rng(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const patients = [x.pat, x.pat2];
  const allowed = (a, b) => a !== b && !(patients.includes(a) && patients.includes(b));
  // Conversations each person is in, and those they received something in.
  const threadsOf = async (p) => (await sql(`SELECT DISTINCT coalesce(m.parent_id, m.id) FROM messages m
    JOIN inboxes i ON i.id = m.inbox_id LEFT JOIN outboxes o ON o.id = m.outbox_id
    WHERE i.user_id = $1 OR o.user_id = $1 ORDER BY 1`, [p.id])).map((r) => r[0]);
  const receivedBy = async (p) => (await sql(`SELECT DISTINCT coalesce(m.parent_id, m.id) FROM messages m
    JOIN inboxes i ON i.id = m.inbox_id WHERE i.user_id = $1 ORDER BY 1`, [p.id])).map((r) => r[0]);
  const counts = { send: 0, reply: 0, open: 0, unread: 0, archive: 0, unarchive: 0 };

  const drift = () => sql(`SELECT u.id, i.unread_count, ${REAL_UNREAD} AS real FROM users u
    JOIN inboxes i ON i.user_id = u.id WHERE u.id IN ($1, $2, $3, $4)
    AND i.unread_count <> ${REAL_UNREAD}`, people.map((p) => p.id));

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
    if (n % 10 === 9) {
      assert.deepEqual(await drift(), [], `${where}: every unread_count matches its messages`);
      assert.deepEqual(await conversationDrift(people.map((p) => p.id)), [],
        `${where}: every conversation row matches its messages`);
    }
  }
  assert.deepEqual(await drift(), [], 'at the end, every unread_count matches its messages');
  assert.deepEqual(await conversationDrift(people.map((p) => p.id)), [],
    'at the end, every conversation row matches its messages');
  for (const p of people) {
    const shown = await navUnread(p.c);
    assert.equal(shown, await realUnread(p.id), `${p.name}'s navigation shows the exact count`);
  }
  assert.ok(Object.values(counts).every((v) => v > 5), `every kind of action ran: ${JSON.stringify(counts)}`);
});
