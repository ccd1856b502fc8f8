// confirm.test.js - a browser journey (JavaScript off): "Log out everywhere"
// looks unlike the ordinary buttons, asks first, Cancel goes back; the
// confirmation logs out and the login page says so; so does a plain log out.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { withPage, logInPage, closeBrowser, createUser, uniqueEmail } = require('../lib/harness');

after(closeBrowser);

async function logIn(page, email) {
  await logInPage(page, email);
  assert.equal(new URL(page.url()).pathname, '/inbox');
}

// How a button looks: its background and border colours.
const looks = (button) => button.evaluate((el) => {
  const s = getComputedStyle(el);
  return `${s.backgroundColor} ${s.borderTopColor}`;
});

test('log out everywhere asks first, Cancel goes back, Yes logs out with a notice', async () => {
  const email = uniqueEmail('e2e-confirm');
  await createUser({ email, clinic: `Browser Confirm Clinic ${process.pid}-${Date.now()}`, first: 'Cleo', last: 'Careful' });
  await withPage('confirm journey', async (page) => {
    await logIn(page, email);
    await page.goto('/account');
    const danger = page.getByRole('button', { name: 'Log out everywhere' });
    assert.notEqual(await looks(danger), await looks(page.getByRole('button', { name: 'Save' })),
      'the danger button looks unlike an ordinary one');
    await danger.click();
    assert.equal(new URL(page.url()).pathname, '/account/sessions');
    assert.equal(await page.locator('h1').textContent(), 'Log out everywhere?');
    await page.getByRole('link', { name: 'Cancel' }).click();
    assert.equal(new URL(page.url()).pathname, '/account');
    assert.match(await page.locator('header nav').textContent(), /Cleo Careful/, 'still logged in');

    await page.getByRole('button', { name: 'Log out everywhere' }).click();
    await page.getByRole('button', { name: 'Yes, log out everywhere' }).click();
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.match(await page.locator('.flash').textContent(), /You have logged out everywhere/);
    await page.goto('/account');
    assert.equal(new URL(page.url()).pathname, '/login', 'logged out');

    await logIn(page, email);
    await page.getByRole('button', { name: 'Log out' }).click();
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await page.locator('.flash').textContent(), 'You have logged out.');
  });
});
