// drafts.test.js - nothing typed is lost: a message or reply sent after
// the session ended comes back after the next login, filled in; Find and
// a refused form keep the text; the limits are shown, not enforced by
// cutting the text.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { sql } = require('../lib/harness');
const { UUID, world, formToken, send, sentCount, options, decode } = require('../lib/messaging');

const expire = (userId) => sql(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [userId]);
const nextOf = (html) => decode((/<input type="hidden" name="next" value="([^"]*)">/.exec(html) || [])[1] || '');

// Posts the compose (or reply) form as the browser does: multipart, a file too.
function postForm(c, path, fields) {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  f.append('attachment', new Blob(['notes'], { type: 'text/plain' }), 'notes.txt');
  return c.request(path, { method: 'POST', body: f });
}

test('a new message sent after the session ended is kept and back after logging in', async () => {
  const x = await world('Dn');
  const form = await x.pat.c.get('/messages/new');
  const fields = { csrf_token: x.pat.c.csrf, form_token: formToken(form.text), to: x.doc.id,
    subject: 'Rash on my arm', body: 'It started on Monday.\n\nIt itches at night.' };
  await expire(x.pat.id);
  const before = await sentCount(x.pat.id);

  const ended = await postForm(x.pat.c, '/messages', fields);
  assert.equal(ended.status, 200);
  assert.match(ended.text, /<h1>Log in<\/h1>/);
  assert.match(ended.text, /Your session has ended: log in again to send your message\./);
  assert.match(ended.text, /Files you attached will have to be chosen again\./);
  const next = nextOf(ended.text);
  assert.match(next, new RegExp(`^/messages/new\\?draft=${UUID}$`));
  assert.equal(await sentCount(x.pat.id), before, 'nothing was sent');

  // Someone else logging in on that page does not get it.
  const other = await x.pat2.c.get(next);
  assert.equal(other.status, 200);
  assert.doesNotMatch(other.text, /Rash on my arm|It itches/);

  const login = await x.pat.c.post('/login', { email: x.pat.email, password: 'a long enough password', next });
  assert.equal(login.status, 303);
  assert.equal(login.headers.get('location'), next);
  const back = await x.pat.c.get(next);
  assert.equal(back.status, 200);
  assert.match(back.text, /id="draft-back">Welcome back: here is the message you were writing/);
  assert.match(back.text, /value="Rash on my arm"/);
  assert.ok(back.text.includes('>It started on Monday.\n\nIt itches at night.</textarea>'), 'the text is back');
  assert.match(back.text, new RegExp(`<option value="${x.doc.id}" selected>`), 'the person chosen is chosen');
  assert.match(back.text, /id="files-again">Files you attached were not kept/);

  const sent = await postForm(x.pat.c, '/messages', { csrf_token: x.pat.c.csrf, form_token: formToken(back.text),
    draft: /name="draft" value="([^"]+)"/.exec(back.text)[1], to: x.doc.id, subject: 'Rash on my arm',
    body: 'It started on Monday.\n\nIt itches at night.' });
  assert.equal(sent.status, 303);
  assert.equal(await sentCount(x.pat.id), before + 1);
  assert.deepEqual(await sql('SELECT count(*) FROM drafts WHERE user_id = $1', [x.pat.id]), [['0']],
    'a draft sent is gone');
});

test('a reply sent after the session ended is kept for its conversation', async () => {
  const x = await world('Dr');
  const root = await send(x.doc, x.pat, 'Your results', 'They are in.');
  const page = await x.pat.c.get(`/messages/${root}`);
  const fields = { csrf_token: x.pat.c.csrf, form_token: formToken(page.text), body: 'What do they say?' };
  await expire(x.pat.id);
  const ended = await postForm(x.pat.c, `/messages/${root}/reply`, fields);
  assert.equal(ended.status, 200);
  const next = nextOf(ended.text);
  assert.match(next, new RegExp(`^/messages/${root}\\?draft=${UUID}$`));
  assert.equal((await x.pat.c.post('/login', { email: x.pat.email, password: 'a long enough password', next })).status, 303);
  const back = await x.pat.c.get(next);
  assert.match(back.text, /<h1>Your results<\/h1>/, 'the thread, with its own subject');
  assert.ok(back.text.includes('>What do they say?</textarea>'));
  assert.match(back.text, /Welcome back/);
});

test('a form whose session was not its own, or was logged out, keeps nothing', async () => {
  const x = await world('Dx');
  const form = await x.pat.c.get('/messages/new');
  const token = formToken(form.text);
  await expire(x.pat.id);
  const drafts = async () => (await sql('SELECT count(*) FROM drafts WHERE user_id = $1', [x.pat.id]))[0][0];
  // Without the session's own CSRF token (a form from elsewhere).
  const forged = await postForm(x.pat.c, '/messages', { csrf_token: 'f'.repeat(64), form_token: token,
    to: x.doc.id, subject: 'x', body: 'forged' });
  assert.equal(forged.status, 303);
  assert.equal(forged.headers.get('location'), '/login');
  assert.equal(await drafts(), '0');

  // Logged out: the session is gone, and so is the form.
  const y = await world('Dy');
  const f2 = await y.pat.c.get('/messages/new');
  const csrf = y.pat.c.csrf;
  assert.equal((await y.pat.c.post('/logout')).status, 303);
  const out = await postForm(y.pat.c, '/messages', { csrf_token: csrf, form_token: formToken(f2.text),
    to: y.doc.id, subject: 'x', body: 'after logout' });
  assert.equal(out.status, 303);
  assert.equal(out.headers.get('location'), '/login');
  assert.deepEqual(await sql('SELECT count(*) FROM drafts WHERE user_id = $1', [y.pat.id]), [['0']]);
});

test('Find keeps the subject and the text, and one match is chosen', async () => {
  const x = await world('Df');
  const form = await x.doc.c.get('/messages/new');
  assert.match(form.text, /<button type="submit" name="do" value="find" formnovalidate/);
  const r = await x.doc.c.post('/messages', { form_token: formToken(form.text), do: 'find',
    find: 'secondDf', subject: 'Flu jab', body: 'Dear Peter,\nyour flu jab is due.' });
  assert.equal(r.status, 200);
  assert.deepEqual(options(r.text), [x.pat2.id], 'only the one found');
  assert.match(r.text, new RegExp(`<option value="${x.pat2.id}" selected>`), 'and chosen');
  assert.match(r.text, /value="Flu jab"/);
  assert.ok(r.text.includes('>Dear Peter,\nyour flu jab is due.</textarea>'));
  assert.match(r.text, /name="find" value="secondDf"/);
  assert.equal(await sentCount(x.doc.id), 0, 'Find sends nothing');
  const many = await x.doc.c.post('/messages', { form_token: formToken(r.text), do: 'find', find: 'Df',
    subject: 's', body: 'b' });
  assert.ok(options(many.text).length > 1);
  assert.doesNotMatch(many.text, /selected>/, 'several found: none chosen for the user');
});

test('the limits are shown, and a text too long comes back with the limit named', async () => {
  const x = await world('Dl');
  const form = await x.pat.c.get('/messages/new');
  assert.doesNotMatch(form.text, /maxlength="20000"|maxlength="200"/, 'no silent cut by the browser');
  assert.match(form.text, /<label for="body">Message \(at most 20,000 characters\)<\/label>/);
  const long = 'word '.repeat(4001);
  const r = await x.pat.c.post('/messages', { form_token: formToken(form.text), to: x.doc.id, subject: 'Long', body: long });
  assert.equal(r.status, 422);
  assert.match(r.text, /id="body-error">A message may have at most 20,000 characters\./);
  assert.ok(r.text.includes(`>${long.trim()}</textarea>`), 'the whole text is kept');
  const root = await send(x.doc, x.pat, 'Reply limit', 'hi');
  const page = await x.pat.c.get(`/messages/${root}`);
  assert.doesNotMatch(page.text, /maxlength="20000"/);
  assert.match(page.text, /<label for="body">Your reply \(at most 20,000 characters\)<\/label>/);
});
