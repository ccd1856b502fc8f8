// demo-root.test.js - `make demo` as root from a checkout the postgres and
// www-data users cannot enter (a home directory of mode 700, as /root):
// the demo keeps its cluster, sockets and logs under /var/tmp instead,
// serves its pages and runs its background jobs. Runs alone (it starts a
// PostgreSQL of its own).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { request } = require('undici');

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

test('make demo as root works from a checkout postgres cannot enter', { skip: process.getuid() !== 0 && 'only root meets this' },
  async () => {
    // A build directory of mode 700 (mkdtemp's), holding the programs.
    const build = fs.mkdtempSync(path.join(os.tmpdir(), 'carebox-demo-root-'));
    assert.equal(fs.statSync(build).mode & 0o777, 0o700);
    for (const p of ['carebox', 'carebox-admin', 'carebox-worker']) fs.symlinkSync(path.join(process.env.BUILDDIR, p), path.join(build, p));
    const place = `/var/tmp/carebox-demo-${crypto.createHash('sha256').update(build).digest('hex').slice(0, 12)}`;
    const port = await freePort();
    // The demo's own settings, not those of the test run's cluster.
    const env = { ...process.env, BUILDDIR: build, CAREBOX_PORT: String(port) };
    for (const k of Object.keys(env)) if (/^(PG|CAREBOX_(DATABASE|ADMIN_DATABASE|BASE)_URL)/.test(k)) delete env[k];
    const demo = spawn('sh', [path.join(process.env.SRCDIR, 'scripts', 'demo')], {
      env,
      detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    demo.stdout.on('data', (d) => { out += d; });
    demo.stderr.on('data', (d) => { out += d; });
    const ended = new Promise((resolve) => demo.on('exit', resolve));
    try {
      for (let i = 0; i < 600 && !out.includes('carebox is running'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /carebox is running/, out);
      assert.match(out, new RegExp(`the demo's database, sockets and logs are in ${place}`));
      // The demo says it runs once it has started nginx, which may take a
      // moment more to listen on a busy machine; what the demo printed
      // comes with a failure to reach it.
      let r;
      for (let i = 0; !r; i++) {
        r = await request(`http://127.0.0.1:${port}/login`).catch((e) => {
          if (e.code !== 'ECONNREFUSED' || i >= 100) assert.fail(`${e.message}\n${out}`);
          return new Promise((resolve) => setTimeout(resolve, 100));
        });
      }
      assert.equal(r.statusCode, 200, 'the login page');
      await r.body.text();
      const css = await request(`http://127.0.0.1:${port}/static/style.css`);
      assert.equal(css.statusCode, 200, 'the static files');
      await css.body.text();
      assert.ok(fs.existsSync(path.join(place, 'pg', 'PG_VERSION')), 'the cluster is in its place');
      for (let i = 0; i < 100 && !/job prune \S+ attempt 1 done/.test(out); i++) await new Promise((res) => setTimeout(res, 100));
      assert.match(out, /carebox-worker\[\d+\]: connected to the database; waiting for jobs/, 'the worker runs');
      assert.match(out, /carebox-worker\[\d+\]: job prune \S+ attempt 1 done \d+ms/, 'and ran its first prune');
    } finally {
      try { process.kill(-demo.pid, 'SIGINT'); } catch { /* it has stopped */ }
      await ended;
      fs.rmSync(build, { recursive: true, force: true });
      fs.rmSync(place, { recursive: true, force: true });
    }
  });
