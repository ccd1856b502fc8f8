// graceful.test.js - SIGTERM lets a request in flight finish: a second carebox
// is spoken to directly over FastCGI while a database lock holds its request.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { Client, createUser, sql, uniqueEmail, sleep } = require('../lib/harness');
const { fcgiRequest, startCarebox } = require('../lib/fcgi');
const { Client: PgClient } = require('pg');

test('SIGTERM lets the request in flight finish, then the master exits', async () => {
  const email = uniqueEmail('graceful');
  const id = await createUser({ email });
  const c = new Client();
  await c.login(email);
  const cookie = `carebox_session=${c.jar.get('carebox_session')}`;
  // The session's last-seen is due for a write, and that row is locked.
  await sql(`UPDATE sessions SET last_seen_at = now() - interval '2 minutes' WHERE user_id = $1`, [id]);
  // The lock is taken, and the request seen waiting for it, before going
  // on: no fixed sleep decides the order on a loaded machine.
  const { app, sock, exited } = await startCarebox('graceful');
  const lock = new PgClient({ database: 'carebox_test' });
  try {
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('SELECT 1 FROM sessions WHERE user_id = $1 FOR UPDATE', [id]);
    const holder = (await lock.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    let done = false;
    const answer = fcgiRequest(sock, { uri: '/account', cookie }).then((t) => { done = true; return t; });
    for (let i = 0; i < 100; i++) {
      const w = await sql(`SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [holder]);
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
