// skeleton.test.js - the browser (JavaScript off) sees styled pages and error pages.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { withPage, closeBrowser } = require('../lib/harness');

after(closeBrowser);

test('the front page opens with the stylesheet applied', async () => {
  await withPage('front page', async (page) => {
    const res = await page.goto('/');
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/login', 'a visitor lands on the login page');
    assert.equal(await page.locator('h1').textContent(), 'Log in');
    const color = await page.locator('header.site').evaluate((el) => getComputedStyle(el).borderBottomStyle);
    assert.equal(color, 'solid', 'the header border comes from style.css');
  });
});

test('the 404 page is a styled page with a way back', async () => {
  await withPage('404 page', async (page) => {
    const res = await page.goto('/nowhere');
    assert.equal(res.status(), 404);
    assert.equal(await page.locator('h1').textContent(), 'Not Found');
    await page.getByRole('link', { name: 'Back to the start page' }).click();
    assert.equal(new URL(page.url()).pathname, '/login');
  });
});
