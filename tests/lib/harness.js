// harness.js - what the HTTP and browser tests share: the server's address,
// requests that keep redirects visible, the HTML checker and the browser.
'use strict';
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const BASE = process.env.CAREBOX_URL || 'http://127.0.0.1:18080';
const LOGDIR = path.join(process.env.BUILDDIR || '.', 'tests', 'log');

// Checks that `html` is well-formed HTML with tidy; fails the test with
// tidy's messages (warnings included) otherwise.
function checkHtml(html, where) {
  const r = spawnSync('tidy', ['-errors', '-q', '--show-warnings', 'yes'], { input: html });
  const out = r.stderr.toString().trim();
  assert.equal(out, '', `tidy on ${where}:\n${out}`);
}

// Fetches `p` without following redirects. Returns { status, headers, text }.
// Every HTML response is run through checkHtml.
async function request(p, opts = {}) {
  const res = await fetch(BASE + p, { redirect: 'manual', ...opts });
  const text = await res.text();
  const type = res.headers.get('content-type') || '';
  if (type.startsWith('text/html') && text.length > 0) checkHtml(text, `${opts.method || 'GET'} ${p}`);
  return { status: res.status, headers: res.headers, text };
}

// POSTs an urlencoded form built from the object `fields`.
function postForm(p, fields, opts = {}) {
  return request(p, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(opts.headers || {}) },
    body: typeof fields === 'string' ? fields : new URLSearchParams(fields).toString(),
  });
}

// Stops or starts the throwaway PostgreSQL cluster of pg_virtualenv.
function pgCluster(action) {
  execFileSync('pg_ctlcluster', [process.env.PGVERSION || '15', 'regress', action, '-m', 'fast'],
    { stdio: 'ignore' });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs `fn(page)` in a fresh browser context with JavaScript disabled. On a
// failure, a screenshot of the page is kept in tests/log/ for the developer.
let browserPromise = null;
async function browser() {
  if (!browserPromise) {
    const { chromium } = require('playwright-core');
    browserPromise = chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  }
  return browserPromise;
}

async function withPage(name, fn) {
  const b = await browser();
  const ctx = await b.newContext({ javaScriptEnabled: false, baseURL: BASE });
  const page = await ctx.newPage();
  page.on('response', async (res) => {
    const type = res.headers()['content-type'] || '';
    if (type.startsWith('text/html')) {
      try { checkHtml(await res.text(), `${res.request().method()} ${res.url()}`); } catch (e) { page.htmlError = page.htmlError || e; }
    }
  });
  try {
    await fn(page);
    if (page.htmlError) throw page.htmlError;
  } catch (e) {
    fs.mkdirSync(LOGDIR, { recursive: true });
    const shot = path.join(LOGDIR, name.replace(/[^a-z0-9]+/gi, '-') + '.png');
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    e.message += `\n(screenshot: ${shot})`;
    throw e;
  } finally {
    await ctx.close();
  }
}

async function closeBrowser() {
  if (browserPromise) await (await browserPromise).close();
  browserPromise = null;
}

module.exports = { BASE, request, postForm, checkHtml, pgCluster, sleep, withPage, closeBrowser };
