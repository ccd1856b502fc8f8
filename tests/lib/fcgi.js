// fcgi.js - a second carebox for tests that need one of their own (other
// settings, or a process they may stop), spoken to directly over FastCGI on
// its unix socket, without nginx.
'use strict';
const { spawn } = require('node:child_process');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const { sleep } = require('./harness');

// One FastCGI record: version 1, `type`, request id 1, no padding. A body
// longer than a record holds is sent as several records of the type.
function record(type, body = Buffer.alloc(0)) {
  const parts = [];
  for (let at = 0; at === 0 || at < body.length; at += 65535) {
    const chunk = body.subarray(at, at + 65535);
    parts.push(Buffer.from([1, type, 0, 1, chunk.length >> 8, chunk.length & 255, 0, 0]), chunk);
  }
  return Buffer.concat(parts);
}

// A FastCGI name-value pair.
function pair(name, value) {
  const n = Buffer.from(name), v = Buffer.from(value);
  const len = (x) => (x.length < 128 ? Buffer.from([x.length])
    : Buffer.from([(x.length >> 24) | 128, (x.length >> 16) & 255, (x.length >> 8) & 255, x.length & 255]));
  return Buffer.concat([len(n), len(v), n, v]);
}

// Sends one request over FastCGI to the unix socket `sock`: `uri` (with
// its query string), and for a POST the urlencoded `body`; `host` is the
// Host header nginx would pass on. Resolves with
// the response's text (headers and body) once the app ends the request,
// or with what came before the connection closed.
function fcgiRequest(sock, { method = 'GET', uri, cookie = '', body = '', address = '127.0.0.1', host = '' }) {
  const q = uri.indexOf('?');
  const params = [['REQUEST_METHOD', method], ['REQUEST_URI', uri],
    ['QUERY_STRING', q < 0 ? '' : uri.slice(q + 1)], ['REMOTE_ADDR', address], ['HTTP_COOKIE', cookie],
    ['HTTP_HOST', host]];
  if (method === 'POST') {
    params.push(['CONTENT_TYPE', 'application/x-www-form-urlencoded'],
      ['CONTENT_LENGTH', String(Buffer.byteLength(body))]);
  }
  return new Promise((resolve, reject) => {
    const s = net.connect(sock);
    const chunks = [];
    let buf = Buffer.alloc(0);
    s.on('connect', () => {
      s.write(Buffer.concat([record(1, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0])),
        record(4, Buffer.concat(params.map(([k, v]) => pair(k, v)))), record(4),
        ...(body ? [record(5, Buffer.from(body))] : []), record(5)]));
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

// Starts a carebox of its own, with `workers` workers, on a socket named
// `name` in the stack's directory and the environment of the test process
// plus `env`; resolves to { app, sock, exited } once the socket is there.
async function startCarebox(name, { workers = 1, env = {} } = {}) {
  const sock = path.join(process.env.STACK_VAR, `${name}.sock`);
  const app = spawn(path.join(process.env.BUILDDIR, 'carebox'),
    ['-s', sock, '-w', String(workers), '-d', path.join(process.env.STACK_VAR, 'data')],
    { stdio: 'ignore', env: { ...process.env, ...env } });
  const exited = new Promise((resolve) => app.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 50 && !fs.existsSync(sock); i++) await sleep(100);
  return { app, sock, exited };
}

module.exports = { fcgiRequest, startCarebox };
