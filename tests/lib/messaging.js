// messaging.js - what the message test files share: people logged in
// to clinics of their own, and sending, replying and counting through the
// forms as a browser would.
'use strict';
const assert = require('node:assert/strict');
const { Client, createUser, sql, uniqueEmail } = require('./harness');

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
// A person's unread messages counted from the messages themselves: those
// they received, not read, in a conversation they have not archived.
const REAL_UNREAD = `(SELECT count(*) FROM messages m JOIN inboxes i ON i.id = m.inbox_id
  LEFT JOIN conversation_members c ON c.user_id = i.user_id AND c.root_id = coalesce(m.parent_id, m.id)
  WHERE i.user_id = u.id AND NOT m.read AND NOT coalesce(c.archived, false))`;
const realUnread = async (userId) =>
  Number((await sql(`SELECT ${REAL_UNREAD} FROM users u WHERE u.id = $1`, [userId]))[0][0]);
// The conversation rows of these people that differ from a recount of the
// messages (count, received, unread, latest message, latest sent), and
// the conversations they are in that have no row: [] when all is exact.
const conversationDrift = (userIds) => sql(`
  WITH pm AS (SELECT i.user_id, coalesce(m.parent_id, m.id) AS root, m.id, m.created_at, false AS mine, m.read
              FROM messages m JOIN inboxes i ON i.id = m.inbox_id
              UNION ALL SELECT o.user_id, coalesce(m.parent_id, m.id), m.id, m.created_at, true, true
              FROM messages m JOIN outboxes o ON o.id = m.outbox_id),
  real AS (SELECT user_id, root, count(*) AS messages, count(*) FILTER (WHERE NOT mine) AS received,
                  count(*) FILTER (WHERE NOT mine AND NOT read) AS unread,
                  (array_agg(id ORDER BY created_at DESC, id DESC))[1] AS last_id,
                  (array_agg(id ORDER BY created_at DESC, id DESC) FILTER (WHERE mine))[1] AS sent_id
           FROM pm WHERE user_id = ANY($1::uuid[]) GROUP BY 1, 2)
  SELECT r.user_id, r.root, r.messages, c.messages, r.received, c.received, r.unread, c.unread
  FROM real r LEFT JOIN conversation_members c ON c.user_id = r.user_id AND c.root_id = r.root
  WHERE c.user_id IS NULL OR (r.messages, r.received, r.unread, r.last_id, r.sent_id)
        IS DISTINCT FROM (c.messages::bigint, c.received::bigint, c.unread::bigint, c.last_id, c.sent_id)
  UNION ALL SELECT c.user_id, c.root_id, NULL, c.messages, NULL, c.received, NULL, c.unread
  FROM conversation_members c WHERE c.user_id = ANY($1::uuid[])
  AND NOT EXISTS (SELECT 1 FROM real r WHERE r.user_id = c.user_id AND r.root = c.root_id)`,
[`{${userIds.join(',')}}`]);
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
// POSTs `fields` and `files` ([name, type, text]) as multipart/form-data.
function postFiles(c, path, fields, files) {
  const form = new FormData();
  for (const [k, v] of Object.entries({ csrf_token: c.csrf, ...fields })) form.append(k, v);
  for (const [name, type, text] of files) form.append('attachment', new Blob([text], { type }), name);
  return c.request(path, { method: 'POST', body: form });
}

module.exports = {
  UUID, READ_AT, uniqueClinic, person, world, formToken, unreadCount, realUnread, REAL_UNREAD, conversationDrift, sentCount,
  navUnread, options, decode, compose, send, reply, postFiles,
};
