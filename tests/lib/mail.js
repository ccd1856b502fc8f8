// mail.js - what the mail tests share: the mails the tests' SMTP server
// (tests/lib/smtp.py, started by tests/stack) received, parsed; proving a
// person's address; waiting for their mail jobs.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { sql, sleep } = require('./harness');

const SMTP_DIR = process.env.SMTP_DIR;

// The RFC 2047 encoded words of a header value decoded (UTF-8, base64;
// the white space between two words dropped, as RFC 2047 says).
function decodeHeader(v) {
  return v.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=/gi,
    (_, b) => Buffer.from(b, 'base64').toString('utf8'));
}

// Parses one stored mail: { file, from, to (the envelope's), data (as
// received), headers (lower-case names, values unfolded), header(name)
// (decoded), body }.
function parse(file) {
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  const cut = m.data.indexOf('\r\n\r\n');
  const headers = {};
  for (const line of m.data.slice(0, cut).replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { file, from: m.from, to: m.to, data: m.data, headers, header: (n) => decodeHeader(headers[n] || ''),
    body: m.data.slice(cut + 4) };
}

// The mails `dir` (default: the stack's) holds, oldest first; only those to
// `to` (any case) when given.
function mails(to = null, dir = SMTP_DIR) {
  let files;
  try { files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort(); } catch { return []; }
  return files.map((f) => parse(path.join(dir, f)))
    .filter((m) => !to || m.to.some((t) => t.toLowerCase() === to.toLowerCase()));
}

// Waits until at least `n` mails to `to` arrived (at most `ms`); resolves to
// them all.
async function waitMail(to, { n = 1, ms = 15000, dir = SMTP_DIR } = {}) {
  let got = [];
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(50)) {
    got = mails(to, dir);
    if (got.length >= n) return got;
  }
  throw new Error(`no ${n} mail(s) to ${to} within ${ms} ms (got ${got.length})`);
}

// The mail jobs of person `userId` (payload "user"), as rows
// [id, state, attempts, last_error, payload->>'mail'], oldest first.
const mailJobs = (userId) => sql(`SELECT id, state, attempts, coalesce(last_error, ''), payload->>'mail'
  FROM jobs WHERE kind IN ('mail.send', 'test.mail') AND payload->>'user' = $1 ORDER BY created_at, id`, [userId]);

// Waits until every mail job of `userId` is finished (done or failed) and
// there are at least `n` of them; resolves to mailJobs().
async function mailJobsDone(userId, n = 1, ms = 15000) {
  let rows = [];
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(50)) {
    rows = await mailJobs(userId);
    if (rows.length >= n && rows.every((r) => r[1] === 'done' || r[1] === 'failed')) return rows;
  }
  throw new Error(`the mail jobs of ${userId} did not finish: ${JSON.stringify(rows)}`);
}

// Makes `email` the proven address of `userId` (as following its
// verification link does).
const prove = (userId, email) => sql('UPDATE users SET mail_to = $2 WHERE id = $1', [userId, email]);

// The same-site path of the first link to `route` ("/reset", "/verify")
// in the mail's body, e.g. "/reset?token=...".
function linkIn(mail, route) {
  const base = process.env.CAREBOX_URL || 'http://127.0.0.1:18080';
  const m = new RegExp(`${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(${route}\\?[a-z]+=[0-9a-f]+)`).exec(mail.body);
  if (!m) throw new Error(`no ${route} link in: ${mail.body}`);
  return m[1];
}

// Starts an SMTP server of the test's own (tests/lib/smtp.py) on `port`,
// keeping its mails in `dir`; resolves once it listens to { stop() }.
async function startSmtp(port, dir) {
  const portFile = path.join(dir, 'port');
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(portFile, { force: true });
  const p = spawn('/usr/bin/python3', [path.join(__dirname, 'smtp.py'), '--dir', dir, '--port', String(port),
    '--port-file', portFile], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !fs.existsSync(portFile); i++) await sleep(100);
  if (!fs.existsSync(portFile)) { p.kill(); throw new Error('the SMTP server did not start'); }
  return { stop: () => new Promise((resolve) => { p.on('exit', resolve); p.kill('SIGTERM'); }) };
}

module.exports = { SMTP_DIR, decodeHeader, mails, waitMail, mailJobs, mailJobsDone, prove, linkIn, startSmtp };
