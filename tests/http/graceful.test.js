// graceful.test.js - SIGTERM lets a request in flight finish: a second carebox
// is spoken to directly over FastCGI while a database lock holds its request.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const { Client, createUser, sql, uniqueEmail, sleep } = require('../lib/harness');
const { Client: PgClient } = require('pg');

// One FastCGI record: version 1, `type`, request id 1, no padding.
function record(type, body = Buffer.alloc(0)) {
  const h = Buffer.from([1, type, 0, 1, body.length >> 8, body.length & 255, 0, 0]);
  return Buffer.concat([h, body]);
}

// A FastCGI name-value pair (lengths under 128 bytes take one byte).
function pair(name, value) {
  const n = Buffer.from(name), v = Buffer.from(value);
  const len = (x) => (x.length < 128 ? Buffer.from([x.length])
    : Buffer.from([(x.length >> 24) | 128, (x.length >> 16) & 255, (x.length >> 8) & 255, x.length & 255]));
  return Buffer.concat([len(n), len(v), n, v]);
}

// Sends one GET over FastCGI to the unix socket `sock`; resolves with the
// response's text (headers and body) once the app ends the request, or
// with what came before the connection closed.
function fcgiGet(sock, uri, cookie) {
  return new Promise((resolve, reject) => {
    const s = net.connect(sock);
    const chunks = [];
    let buf = Buffer.alloc(0);
    s.on('connect', () => {
      const params = Buffer.concat([pair('REQUEST_METHOD', 'GET'), pair('REQUEST_URI', uri),
        pair('QUERY_STRING', ''), pair('REMOTE_ADDR', '127.0.0.1'), pair('HTTP_COOKIE', cookie)]);
      s.write(Buffer.concat([record(1, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0])),
        record(4, params), record(4), record(5)]));
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        const len = buf.readUInt16BE(4), pad = buf[6];
        if (buf.length < 8 + len + pad) break;
        if (buf[1] === 6) chunks.push(buf.subarray(8, 8 + len));
        if (buf[1] === 3) { s.end(); resolve(Buffer.concat(chunks).toString()); }
        buf = buf.subarray(8 + len + pad);
      }
    });
    s.on('close', () => resolve(Buffer.concat(chunks).toString())); // cut short: no END_REQUEST
    s.on('error', reject);
  });
}

test('SIGTERM lets the request in flight finish, then the master exits', async () => {
  const email = uniqueEmail('graceful');
  const id = await createUser({ email });
  const c = new Client();
  await c.login(email);
  const cookie = `carebox_session=${c.jar.get('carebox_session')}`;
  // The session's last-seen is due for a write, and that row is locked.
  await sql(`UPDATE sessions SET last_seen_at = now() - interval '2 minutes' WHERE user_id = $1`, [id]);
  const sock = path.join(process.env.STACK_VAR, 'graceful.sock');
  const app = spawn(path.join(process.env.BUILDDIR, 'carebox'),
    ['-s', sock, '-w', '1', '-d', path.join(process.env.STACK_VAR, 'data')], { stdio: 'ignore' });
  const exited = new Promise((resolve) => app.on('exit', (code) => resolve(code)));
  // The lock is taken, and the request seen waiting for it, before going
  // on: no fixed sleep decides the order on a loaded machine.
  const lock = new PgClient({ database: 'carebox_test' });
  try {
    await lock.connect();
    for (let i = 0; i < 50 && !fs.existsSync(sock); i++) await sleep(100);
    await lock.query('BEGIN');
    await lock.query('SELECT 1 FROM sessions WHERE user_id = $1 FOR UPDATE', [id]);
    let done = false;
    const answer = fcgiGet(sock, '/account', cookie).then((t) => { done = true; return t; });
    for (let i = 0; i < 100; i++) {
      const w = await sql(`SELECT count(*) FROM pg_stat_activity
        WHERE application_name = 'carebox' AND wait_event_type = 'Lock'`);
      if (w[0][0] !== '0') break;
      await sleep(50);
    }
    assert.equal(done, false, 'the request waits for the lock');
    app.kill('SIGTERM');
    await sleep(700);
    assert.equal(app.exitCode, null, 'the master waits for the busy worker');
    await lock.query('COMMIT');
    const text = await answer;
    assert.match(text, /^Status: 200 OK/, 'the request in flight got its whole answer');
    assert.match(text, /<\/html>\s*$/);
    assert.equal(await exited, 0, 'then the master exited cleanly');
    assert.equal(fs.existsSync(sock), false, 'and removed its socket');
  } finally {
    await lock.end().catch(() => {});
    if (app.exitCode === null) app.kill('SIGKILL');
  }
});
