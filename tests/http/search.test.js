// search.test.js - what a search matches (word starts, word forms, every
// word), that odd characters are only text, that it never leaves the
// viewer's own messages, the "…" of cut snippets, and paging. (The lists'
// shared paging and the archive are in messages-lists.test.js.)
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { world, decode, send } = require('../lib/messaging');
const { sql } = require('../lib/harness');

let counter = 0;
// A tag no other message has: a number, so that no stemming touches it.
const tag = () => `t${process.pid}x${Date.now()}x${++counter}`;

// The results of a search page: [{ snippet (HTML), text, marks, href }].
async function search(c, q) {
  const r = await c.get(`/search?q=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, `search ${JSON.stringify(q)}: ${r.text.slice(0, 200)}`);
  return hits(r.text);
}
function hits(html) {
  return [...html.matchAll(/<li>\s*<p class="meta">[\s\S]*?<a href="([^"]+)">[\s\S]*?<p class="snippet">([\s\S]*?)<\/p>/g)]
    .map((m) => ({
      href: decode(m[1]),
      snippet: m[2],
      text: decode(m[2].replace(/<\/?mark>/g, '')),
      marks: [...m[2].matchAll(/<mark>([^<]*)<\/mark>/g)].map((x) => decode(x[1])),
    }));
}
// Which of `tags` the hits' snippets hold, in the order found.
const found = (list, tags) => list.flatMap((h) => tags.filter((t) => h.text.includes(t)));

test('a word finds its other forms, marked in the snippet', async () => {
  const x = await world('WF');
  const t = tag();
  await send(x.pat, x.doc, 'Refill', `${t} a I need a new prescription please.`);
  await send(x.pat, x.doc, 'Lab', `${t} b The result came back fine.`);
  await send(x.pat, x.doc, 'Hay fever', `${t} c My allergy is worse in spring.`);
  await send(x.pat, x.doc, 'Other', `${t} d Nothing to see here at all.`);

  const p = await search(x.doc.c, 'prescriptions');
  assert.deepEqual(found(p, [`${t} a`]), [`${t} a`], '"prescriptions" finds "prescription"');
  assert.deepEqual(p[0].marks, ['prescription'], 'and marks it');
  assert.equal(p.length, 1, 'and nothing else');
  const r = await search(x.doc.c, 'Results');
  assert.deepEqual(found(r, [`${t} a`, `${t} b`, `${t} c`]), [`${t} b`], '"Results" finds "result"');
  assert.deepEqual(r[0].marks, ['result']);
  const a = await search(x.doc.c, 'allergies');
  assert.deepEqual(found(a, [`${t} c`]), [`${t} c`], '"allergies" finds "allergy" (by a stem, "allergi", that no start matches)');
  assert.equal((await search(x.doc.c, 'prescribing')).length, 0, 'another word of the same start is not a form');
});

test('a word start finds the words it starts, in the text and the subject', async () => {
  const x = await world('WS');
  const t = tag();
  await send(x.pat, x.doc, 'Skin', `${t} a The eczema came back on my arms.`);
  await send(x.pat, x.doc, 'Eczema cream', `${t} b Which one should I use?`);
  await send(x.pat, x.doc, 'Other', `${t} c A rash, not the same thing.`);

  const e = await search(x.doc.c, 'ecz');
  assert.deepEqual(found(e, [`${t} a`, `${t} b`, `${t} c`]), [`${t} b`, `${t} a`], 'newest first');
  assert.deepEqual(e[1].marks, ['eczema'], 'the whole word is marked');
  assert.deepEqual(e[0].marks, [], 'found by its subject: nothing in the text to mark');
  assert.equal((await search(x.doc.c, 'ECZE')).length, 2, 'in any case');
  assert.equal((await search(x.doc.c, 'zema')).length, 0, 'the inside of a word is no start');
  assert.equal((await search(x.doc.c, 'eczemas')).length, 2, 'a plural finds the word');
  const same = await search(x.doc.c, t);
  assert.equal(same.length, 3, 'a whole word is its own start');
});

test('several words find the messages that have them all, in any order', async () => {
  const x = await world('MW');
  const t = tag();
  await send(x.pat, x.doc, 'Knee', `${t} a My knee hurts after running.`);
  await send(x.pat, x.doc, 'Knee pain', `${t} b It swells in the evening.`);
  await send(x.pat, x.doc, 'Back', `${t} c My back hurts, not the knee, since Monday.`);
  await send(x.pat, x.doc, 'Run', `${t} d Running is fine now.`);

  const tags = [`${t} a`, `${t} b`, `${t} c`, `${t} d`];
  assert.deepEqual(found(await search(x.doc.c, 'knee hurts'), tags), [`${t} c`, `${t} a`]);
  assert.deepEqual(found(await search(x.doc.c, 'hurt knees'), tags), [`${t} c`, `${t} a`], 'forms and order do not matter');
  assert.deepEqual(found(await search(x.doc.c, 'knee pain'), tags), [`${t} b`], 'one word in the subject, one in the text');
  assert.deepEqual(found(await search(x.doc.c, 'kne run'), tags), [`${t} a`], 'two starts');
  assert.deepEqual(found(await search(x.doc.c, 'knee wrist'), tags), [], 'all words, not any');
  const marked = await search(x.doc.c, 'knee hurts');
  assert.deepEqual(marked.find((h) => h.text.includes(`${t} a`)).marks, ['knee', 'hurts']);
});

test('quotes, operators and backslashes in a search are only text', async () => {
  const x = await world('OC');
  const t = tag();
  await send(x.pat, x.doc, 'Odd', `${t} it's a can't-miss: see http://example.org/a'b?c=1 or C:\\temp\\notes, (x & y) | !z.`);
  await send(x.pat, x.doc, 'Plain', `${t} nothing odd in here.`);

  const odd = ["'", "''", '"', '\\', '\\\\', '&', '|', '!', ':', ':*', '(', ')', '<->', '<2>', "'a':*", '&&', '!(',
    "it's", "can't", 'a:b', 'x & y', '(x | y)', '!z', "example.org/a'b", "'b?c=1", 'C:\\temp', "\\'", '"unclosed', '-', '*'];
  for (const q of odd) {
    const r = await x.doc.c.get(`/search?q=${encodeURIComponent(q)}`);
    assert.equal(r.status, 200, `${JSON.stringify(q)} is a search like any other`);
  }
  for (const q of [`"${t}"`, `(${t})`, `!${t}`, `${t}:*`, `${t} & !`, `'${t}'`, `\\${t}`, `${t}|`, `-${t}`]) {
    assert.equal((await search(x.doc.c, q)).length, 2, `${JSON.stringify(q)}: the word in it is searched for, nothing is an operator`);
  }
  const apostrophe = await search(x.doc.c, "it's can't");
  assert.equal(found(apostrophe, [t]).length, 1, 'words with apostrophes');
  assert.equal((await search(x.doc.c, "example.org/a'b")).length, 1, 'a word with a quote in it');
  assert.equal((await search(x.doc.c, '& | ! ( ) :')).length, 0, 'no words: nothing found');
  const none = await x.doc.c.get(`/search?q=${encodeURIComponent('& | !')}`);
  assert.match(none.text, /No messages match your search/);
});

test('a search never shows another person\'s message, by any form or start', async () => {
  const x = await world('OW');
  const t = tag();
  await send(x.pat, x.doc, 'Mine', `${t} mine: the eczema prescription.`);
  await send(x.out, x.far, 'Theirs', `${t} theirs: the eczema prescriptions.`);
  await send(x.pat2, x.col, 'Colleague', `${t} colleague: eczema prescription too.`);

  for (const q of ['ecz', 'eczema', 'prescriptions', 'prescript', t, `${t} eczema`]) {
    for (const [who, mine] of [[x.pat, 'mine'], [x.doc, 'mine'], [x.far, 'theirs'], [x.out, 'theirs']]) {
      const list = await search(who.c, q);
      assert.deepEqual(found(list, [`${t} mine`, `${t} theirs`, `${t} colleague`]), [`${t} ${mine}`],
        `${who.name} searching ${q} finds only their own`);
    }
    assert.equal((await search(x.pat2.c, q)).length, 1, 'the colleague\'s sender too');
  }
  assert.equal((await search(x.col.c, 'mine')).length, 0, 'nor one of the same clinic\'s');
});

test('a snippet shows "…" where it was cut, and only there', async () => {
  const x = await world('SN');
  const t = tag();
  const words = (n, w) => Array.from({ length: n }, (_, i) => `${w}${i}`).join(' ');
  // 40 words before and after the hit: cut at both ends.
  await send(x.pat, x.doc, 'Middle', `Intro ${words(40, 'before')} ${t}mid ${words(40, 'after')} outro.`);
  // The hit first: cut at the end only.
  await send(x.pat, x.doc, 'Start', `${t}start ${words(60, 'later')} the end.`);
  // The hit last: cut at the start only.
  await send(x.pat, x.doc, 'End', `${words(60, 'early')} last ${t}end.`);
  // Short: the whole text, no "…" (also with its hit past the words shown before a hit).
  await send(x.pat, x.doc, 'Short', `  Just ${words(15, 'lead')} ${t}short here.  `);
  // A tag-like bit: text like any other, shown as written (escaped).
  await send(x.pat, x.doc, 'Tag', `<b>${t}tag</b> ${words(50, 'more')}`);
  await send(x.pat, x.doc, 'Tag short', `Before <i>${t}italic</i> after.`);

  const one = async (q) => {
    const list = await search(x.doc.c, q);
    assert.equal(list.length, 1, q);
    return list[0];
  };
  const mid = await one(`${t}mid`);
  assert.match(mid.snippet, /^…[^…]+…$/, 'cut at both ends');
  assert.ok(mid.snippet.includes(`<mark>${t}mid</mark>`));
  assert.doesNotMatch(mid.text, /Intro|outro/);
  const start = await one(`${t}start`);
  assert.match(start.snippet, new RegExp(`^<mark>${t}start</mark> later0 [^…]+…$`), 'cut at the end only');
  const end = await one(`${t}end`);
  assert.match(end.snippet, new RegExp(`^…[^…]+ last <mark>${t}end</mark>\\.$`), 'cut at the start only');
  const short = await one(`${t}short`);
  assert.doesNotMatch(short.snippet, /…/, 'not cut: no "…"');
  assert.match(short.text, new RegExp(`^Just lead0 [^…]+ lead14 ${t}short here\\.$`));
  const tagged = await one(`${t}tag`);
  assert.match(tagged.snippet, new RegExp(`^&lt;b&gt;<mark>${t}tag</mark>&lt;/b&gt; more0 [^…]+…$`), 'a tag at the start is no cut');
  const tagShort = await one(`${t}italic`);
  assert.doesNotMatch(tagShort.snippet, /…/, 'a short text with a tag in it is not cut');
  assert.match(tagShort.text, new RegExp(`^Before <i>${t}italic</i> after\\.$`), 'shown as written');
});

test('paging a search by a word start and forms: ten at a time, both ways', async () => {
  const x = await world('PG');
  const t = tag();
  // Forms and starts of one word, each message told apart by its number.
  const forms = ['vaccine', 'vaccines', 'vaccinated', 'vaccination', 'Vaccine'];
  for (let i = 1; i <= 13; i++) await send(x.pat, x.doc, `Page ${i}`, `${t} n${i}n ${forms[i % forms.length]} booked`);
  const nums = (list) => list.map((h) => Number(/ n(\d+)n /.exec(h.text)[1]));

  const first = await x.doc.c.get(`/search?q=${encodeURIComponent(`vacc ${t}`)}`);
  assert.deepEqual(nums(hits(first.text)), [13, 12, 11, 10, 9, 8, 7, 6, 5, 4]);
  const older = /href="(\/search\?q=[^"]+&amp;before=[^"]+)">Older results/.exec(first.text);
  assert.ok(older, 'a link to older results');
  const second = await x.doc.c.get(decode(older[1]));
  assert.equal(second.status, 200);
  assert.deepEqual(nums(hits(second.text)), [3, 2, 1]);
  assert.doesNotMatch(second.text, /Older results/);
  const newer = /href="(\/search\?q=[^"]+&amp;after=[^"]+)">Newer results/.exec(second.text);
  assert.ok(newer, 'a link to newer results');
  assert.deepEqual(nums(hits((await x.doc.c.get(decode(newer[1]))).text)), [13, 12, 11, 10, 9, 8, 7, 6, 5, 4]);
  // The patient sent them all: the same pages from the sent side.
  assert.deepEqual(nums(await search(x.pat.c, `${t} vaccinations`)).slice(0, 3), [13, 12, 11]);
});

// Messages put straight into the database (as many as a busy doctor has),
// from `from` to `to`: bodies[k] is sent `minutes[k]` minutes ago.
async function bulk(from, to, bodies, minutes) {
  await sql(`INSERT INTO messages (inbox_id, outbox_id, subject, body, sender_name, recipient_name, created_at)
    SELECT i.id, o.id, 'Bulk ' || b.n, b.body, $3, $4, now() - b.ago * interval '1 minute'
    FROM inboxes i, outboxes o, unnest($5::text[], $6::float8[]) WITH ORDINALITY b (body, ago, n)
    WHERE i.user_id = $1 AND o.user_id = $2`, [to.id, from.id, from.name, to.name, bodies, minutes]);
}

// Every page of a search, followed by its Older links, and back by the
// Newer links, which must give the same pages: the hits' texts.
async function allPages(c, q) {
  let r = await c.get(`/search?q=${encodeURIComponent(q)}`);
  const pages = [];
  for (;;) {
    assert.equal(r.status, 200);
    const page = hits(r.text).map((h) => h.text);
    assert.ok(page.length <= 10, 'ten at a time');
    pages.push(page);
    const older = /href="(\/search\?q=[^"]+&amp;before=[^"]+)">Older results/.exec(r.text);
    if (!older) break;
    assert.ok(pages.length < 20, 'at most 20 pages');
    r = await c.get(decode(older[1]));
  }
  for (let k = pages.length - 2; k >= 0; k--) {
    const newer = /href="(\/search\?q=[^"]+&amp;after=[^"]+)">Newer results/.exec(r.text);
    assert.ok(newer, 'a link to newer results');
    r = await c.get(decode(newer[1]));
    assert.deepEqual(hits(r.text).map((h) => h.text), pages[k], 'Newer gives the page before again');
  }
  return pages.flat();
}

test('in a long box, common and rare words alike give every hit newest first, whether found by walking or by the index', async () => {
  const x = await world('LB');
  const t = tag();
  // The doctor receives 250 messages, a minute apart, and sends 20 among
  // the newest. A word in every third is common enough to be found among
  // the newest hundred; one in two of the newest and four past the first
  // hundred, and one only past them, must be found through the index; one
  // in 20 sent and in two received ones mixes both boxes.
  const recv = [], recvAgo = [], sent = [], sentAgo = [];
  const rare = new Set([5, 40, 150, 151, 200, 250]), beyond = new Set([120, 249]), mix = new Set([3, 130]);
  const late = new Set([3, 130]);
  for (let i = 1; i <= 250; i++) {
    const words = [`r${i}r`, 'filler text'];
    if (i % 3 === 0) words.push(`${t}common`);
    if (rare.has(i)) words.push(`${t}rare`);
    if (beyond.has(i)) words.push(`${t}beyond`);
    if (mix.has(i)) words.push(`${t}mix`);
    if (late.has(i)) words.push(`${t}late`);
    if (i === 60) words.push(`${t}up`);
    recv.push(words.join(' '));
    recvAgo.push(i);
  }
  for (let n = 1; n <= 20; n++) {
    sent.push(`s${n}s ${t}mix`);
    sentAgo.push(n * 2 + 0.5);
  }
  // And 12 older ones with a word that two received messages have, one
  // of them past the newest hundred but newer than all 12.
  for (let n = 21; n <= 32; n++) {
    sent.push(`s${n}s ${t}late`);
    sentAgo.push(135 + n * 2 + 0.5);
  }
  // Twenty with a word one received message between them has, so that
  // going back to newer results passes it.
  for (let n = 1; n <= 20; n++) {
    sent.push(`s${n + 32}s ${t}up`);
    sentAgo.push(n <= 10 ? 220.5 + n : 9.5 + n);
  }
  await bulk(x.pat, x.doc, recv, recvAgo);
  await bulk(x.doc, x.pat, sent, sentAgo);
  const label = (text) => /^(r\d+r|s\d+s)/.exec(text)[1];
  const expect = (pred) => [
    ...recv.map((b, k) => [recvAgo[k], b]), ...sent.map((b, k) => [sentAgo[k], b]),
  ].filter(([, b]) => pred(b)).sort((a, b) => a[0] - b[0]).map(([, b]) => label(b));

  for (const word of ['common', 'rare', 'beyond', 'mix', 'late', 'up']) {
    const got = (await allPages(x.doc.c, `${t}${word}`)).map(label);
    assert.deepEqual(got, expect((b) => b.includes(`${t}${word}`)), `"${word}": every hit, newest first, across pages`);
  }
  assert.equal((await allPages(x.doc.c, `${t}nowhere`)).length, 0, 'a word in none finds none');
  // The patient sees the same messages from the other side.
  assert.deepEqual((await allPages(x.pat.c, `${t}beyond`)).map(label), ['r120r', 'r249r']);
});
