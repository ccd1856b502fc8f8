// forgot.test.js - browser journey (JavaScript off): a patient forgets their
// password, asks for a link on the login page, reads the mail the tests'
// SMTP server received, chooses a new password, and logs in with it.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { withPage, logInPage, closeBrowser, createUser, uniqueEmail } = require('../lib/harness');
const { waitMail, prove, linkIn } = require('../lib/mail');

after(closeBrowser);

test('a patient forgets their password, gets the mail, resets it and logs in', async () => {
  const email = uniqueEmail('e2e-forgot');
  const id = await createUser({ email, clinic: 'Forgot Browser Clinic', first: 'Fern', last: 'Gott' });
  await prove(id, email);
  const pw = 'lavender fields in june';
  await withPage('forgot journey', async (page) => {
    await page.goto('/login');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    assert.equal(new URL(page.url()).pathname, '/forgot');
    await page.getByLabel('E-mail address').fill(email);
    await page.getByRole('button', { name: 'Mail me a link' }).click();
    assert.match(await page.locator('main').textContent(), /a link to choose a new password is on its way/);

    const [mail] = await waitMail(email);
    assert.equal(mail.header('subject'), 'Reset your carebox password');
    await page.goto(linkIn(mail, '/reset'));
    assert.equal(new URL(page.url()).pathname, '/reset', 'the token left the address bar');
    assert.match(await page.locator('main').textContent(), new RegExp(`Choose a new password for ${email.replace(/[.+]/g, '\\$&')}`));
    await page.getByLabel('New password', { exact: true }).fill(pw);
    await page.getByLabel('New password, again').fill(pw);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.match(await page.locator('body').textContent(), /Your password was reset; log in with the new one/);

    await logInPage(page, email, pw);
    assert.equal(new URL(page.url()).pathname, '/inbox');
    assert.match(await page.locator('header nav').textContent(), /Fern Gott/);
  });
});
