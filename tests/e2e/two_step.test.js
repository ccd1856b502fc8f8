// two_step.test.js - a browser journey (JavaScript off): a doctor of a
// clinic that asks for two steps logs in, is held at enrolment, types the
// key into oathtool (as into a phone), keeps the recovery codes, logs out,
// and logs in again with the password and a code.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { withPage, closeBrowser, createUser, sql, uniqueEmail, totpCode } = require('../lib/harness');

after(closeBrowser);

async function logIn(page, email) {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill('a long enough password');
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('a doctor enrols with the key as text, logs out, and logs in with a code', async () => {
  const clinic = `Browser Two Step ${process.pid}-${Date.now()}`;
  const email = uniqueEmail('e2e-2fa');
  await createUser({ email, role: 'doctor', clinic, first: 'Tess', last: 'Twostep' });
  await sql('UPDATE clinics SET staff_two_step = true WHERE name = $1', [clinic]);
  let key;
  await withPage('two-step journey (enrolment)', async (page) => {
    await logIn(page, email);
    assert.equal(new URL(page.url()).pathname, '/account/two-step', 'held at enrolment');
    assert.match(await page.locator('.flash-error').textContent(), /Your clinic asks its doctors and admins/);
    const qr = await page.locator('img[src="/account/two-step/qr"]').evaluate((img) => img.naturalWidth);
    assert.ok(qr > 0, 'the QR code image loads');
    key = (await page.locator('code.code').textContent()).replace(/\s/g, '');
    assert.match(key, /^[A-Z2-7]{32}$/);
    await page.getByLabel('Code from your app').fill(totpCode(key));
    await page.getByRole('button', { name: 'Turn two-step sign-in on' }).click();
    assert.match(await page.locator('h1').textContent(), /Your recovery codes/);
    assert.equal(await page.locator('ol.recovery li').count(), 10);
    await page.getByRole('link', { name: 'Continue' }).click();
    assert.equal(new URL(page.url()).pathname, '/inbox', 'the session opens everything now');
    await page.getByRole('button', { name: 'Log out' }).click();
  });
  await withPage('two-step journey (sign-in)', async (page) => {
    await logIn(page, email);
    assert.equal(new URL(page.url()).pathname, '/login/code');
    // The enrolment took this step's code: the next step's, as a phone
    // a little fast shows it.
    await page.getByLabel('Code from your app').fill(totpCode(key, new Date(Date.now() + 30000)));
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    assert.equal(new URL(page.url()).pathname, '/inbox');
    assert.match(await page.locator('header nav').textContent(), /Log out/);
  });
});
