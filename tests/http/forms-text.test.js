// forms-text.test.js - forms read well in a text browser: in `w3m -dump`
// (w3m ignores CSS) each label stands on a line of its own, with its field
// on the line below; and every form template puts its labels so.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Client, createUser, uniqueEmail } = require('../lib/harness');

const clinic = `Text Forms Clinic ${process.pid}-${Date.now()}`;

// The page as w3m shows it, wide enough that no label is wrapped.
const dump = (html) => execFileSync('w3m', ['-dump', '-T', 'text/html', '-cols', '300', '-O', 'UTF-8'],
  { input: html, encoding: 'utf8' }).split('\n');
const decode = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<')
  .replace(/&gt;/g, '>').replace(/&amp;/g, '&');

// The labels of the fields of `html` that take typing or a choice, in
// order: every <label for> but a checkbox's, which w3m shows as "[ ] text".
const labels = (html) => [...html.matchAll(/(<p class="check">[^\n]*)?<label for="[^"]+">([^<]+)<\/label>/g)]
  .filter((m) => !m[1]).map((m) => decode(m[2]));

// Checks that in the dump of `html` each label is a line of its own and
// the next line begins with its field ("[" is how w3m draws an input, a
// list or a text area). Returns how many labels it checked.
function checkLabels(html, where) {
  const lines = dump(html);
  let at = 0;
  const want = labels(html);
  for (const label of want) {
    const i = lines.findIndex((l, n) => n >= at && l.trim() === label);
    assert.ok(i >= 0, `${where}: "${label}" stands on a line of its own in w3m:\n${lines.join('\n')}`);
    assert.match(lines[i + 1], /^\s*\[/, `${where}: the field of "${label}" is on the line below it`);
    at = i + 1;
  }
  return want.length;
}

async function loggedIn(role) {
  const email = uniqueEmail(`text-${role}`);
  await createUser({ email, role, clinic });
  const c = new Client();
  assert.equal((await c.login(email)).status, 303);
  return c;
}

test('in w3m, the label of every field of the forms stands on its own line, above its field', async () => {
  const pages = {
    visitor: ['/login', '/signup', '/join', '/clinics'],
    patient: ['/account', '/account/clinics', '/account/recipients/new?kind=person', '/search', '/account/two-step'],
    doctor: ['/patients/new', '/patients', '/messages/new'],
    admin: ['/admin/invite', '/admin/clinic', '/admin/users'],
  };
  let checked = 0;
  for (const [role, paths] of Object.entries(pages)) {
    const c = role === 'visitor' ? new Client() : await loggedIn(role);
    for (const p of paths) {
      const r = await c.get(p);
      assert.equal(r.status, 200, `GET ${p} as ${role}`);
      checked += checkLabels(r.text, `${p} as ${role}`);
    }
  }
  // A form sent back with its mistakes reads the same, each under its field.
  const v = new Client();
  await v.get('/signup');
  const bad = await v.post('/signup', { email: 'not an address', first_name: '', last_name: 'X', password: 'x', password2: 'y' });
  assert.equal(bad.status, 422);
  checked += checkLabels(bad.text, 'the signup form with its mistakes');
  assert.ok(checked > 40, `${checked} labels checked`);
});

test('the check reads a label beside its field as a mistake', () => {
  const inline = '<form><label for="a">First name</label>\n<input id="a" name="a"></form>';
  assert.throws(() => checkLabels(inline, 'a label beside its field'), /stands on a line of its own/);
  const fixed = '<form><div class="field"><label for="a">First name</label><br>\n<input id="a" name="a"></div></form>';
  assert.equal(checkLabels(fixed, 'a label above its field'), 1);
});


test('every form template puts each label, then a line break, before its field', () => {
  const dir = path.join(process.env.SRCDIR || '.', 'templates');
  const wrong = {};
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.mustache'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (line.includes('<label') && !/^<div class="field"><label for="[^"]+">[^<]+<\/label><br>$/.test(line) &&
        !/^<p class="check"><input [^>]*type="checkbox"[^>]*> <label /.test(line)) (wrong[f] = wrong[f] || []).push(line);
    }
  }
  assert.deepEqual(Object.keys(wrong).map((f) => `${f}: ${wrong[f].join(' | ')}`), [],
    'labels not on a line of their own in a text browser');
});
