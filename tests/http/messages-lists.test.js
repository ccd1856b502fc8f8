// messages-lists.test.js - the inbox, sent and search lists: newest first,
// ten at a time, paged both ways; search finds only one's own messages.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { UUID, world, decode, send } = require('../lib/messaging');

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
    const older = new RegExp(`href="(${path}\\?before=${UUID})">Older conversations`).exec(first.text);
    assert.ok(older, `${path}: a link to older messages`);
    const second = await c.get(decode(older[1]));
    assert.equal(second.status, 200);
    assert.deepEqual(subjects(second.text), [2, 1], `${path}: then the rest`);
    assert.doesNotMatch(second.text, /Older conversations/);
    assert.match(second.text, new RegExp(`href="${path}">Newest`));
  }
  const sent = await x.pat.c.get('/sent');
  assert.match(sent.text, /not read yet/, 'sent shows read receipts: unread so far');
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
  assert.equal(link(first.text, 'Newer conversations'), null, 'the first page has nothing newer');
  const second = await x.doc.c.get(link(first.text, 'Older conversations'));
  const third = await x.doc.c.get(link(second.text, 'Older conversations'));
  assert.deepEqual(subjects(third.text), [5, 4, 3, 2, 1]);
  assert.equal(link(third.text, 'Older conversations'), null, 'the last page has nothing older');
  const back = await x.doc.c.get(link(third.text, 'Newer conversations'));
  assert.equal(back.status, 200);
  assert.deepEqual(subjects(back.text), [15, 14, 13, 12, 11, 10, 9, 8, 7, 6], 'newer: the page in front');
  assert.ok(link(back.text, 'Older conversations') && link(back.text, 'Newer conversations'), 'links both ways');
  const top = await x.doc.c.get(link(back.text, 'Newer conversations'));
  assert.deepEqual(subjects(top.text), [25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
  assert.equal(link(top.text, 'Newer conversations'), null, 'nothing newer than the newest');
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
