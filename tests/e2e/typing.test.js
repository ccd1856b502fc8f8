// typing.test.js - nothing typed is lost, in the browser (JavaScript off):
// a message sent after the session ended comes back after logging in, Find
// keeps what was typed, and a text over the limit comes back whole.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { withPage, logInPage, closeBrowser, createUser, uniqueEmail, sql } = require('../lib/harness');

after(closeBrowser);

const clinic = `Browser Typing Clinic ${process.pid}-${Date.now()}`;
let patient, doctorId;
const ready = (async () => {
  patient = uniqueEmail('e2e-typing-pat');
  const patientId = await createUser({ email: patient, clinic, first: 'Tess', last: 'Typer' });
  doctorId = await createUser({ email: uniqueEmail('e2e-typing-doc'), role: 'doctor', clinic, first: 'Dora', last: 'Keeper' });
  return patientId;
})();

test('a message sent after the session ended is back, filled in, after logging in', async () => {
  const patientId = await ready;
  await withPage('typing: session ended while writing', async (page) => {
    await logInPage(page, patient);
    await page.goto('/messages/new');
    await page.getByLabel('To', { exact: true }).selectOption({ label: 'Dora Keeper (doctor)' });
    await page.getByLabel('Subject').fill('My knee');
    await page.getByLabel('Message').fill('It hurts on stairs.\n\nSince Monday.');
    await sql(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [patientId]);
    await page.getByRole('button', { name: 'Send' }).click();
    assert.match(await page.locator('#login-notice').textContent(), /Your session has ended: log in again to send your message/);
    await page.getByLabel('E-mail address').fill(patient);
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByRole('button', { name: 'Log in' }).click();
    assert.equal(new URL(page.url()).pathname, '/messages/new');
    assert.match(await page.locator('#draft-back').textContent(), /Welcome back/);
    assert.equal(await page.getByLabel('Subject').inputValue(), 'My knee');
    assert.equal(await page.getByLabel('Message').inputValue(), 'It hurts on stairs.\n\nSince Monday.');
    assert.equal(await page.getByLabel('To', { exact: true }).inputValue(), doctorId);
    await page.getByRole('button', { name: 'Send' }).click();
    assert.match(await page.locator('.flash').textContent(), /Message sent/);
    assert.match(await page.locator('.thread').innerText(), /It hurts on stairs\.\n+Since Monday\./);
  });
});

test('Find keeps what was typed and chooses the one person found', async () => {
  await ready;
  await withPage('typing: find keeps the text', async (page) => {
    await logInPage(page, patient);
    await page.goto('/messages/new');
    await page.getByLabel('Subject').fill('Flu jab');
    await page.getByLabel('Message').fill('When can I come?');
    await page.getByLabel('Find a person').fill('keeper');
    await page.getByRole('button', { name: 'Find' }).click();
    assert.equal(await page.getByLabel('Subject').inputValue(), 'Flu jab');
    assert.equal(await page.getByLabel('Message').inputValue(), 'When can I come?');
    assert.equal(await page.getByLabel('To', { exact: true }).inputValue(), doctorId, 'the one found is chosen');
  });
});

test('a text over the limit is not cut by the browser: it comes back whole, with the limit', async () => {
  await ready;
  await withPage('typing: the limit', async (page) => {
    await logInPage(page, patient);
    await page.goto('/messages/new');
    const long = 'a'.repeat(20001);
    await page.getByLabel('To', { exact: true }).selectOption({ label: 'Dora Keeper (doctor)' });
    await page.getByLabel('Subject').fill('Long');
    await page.getByLabel('Message').fill(long);
    await page.getByRole('button', { name: 'Send' }).click();
    assert.match(await page.locator('#body-error').textContent(), /at most 20,000 characters/);
    assert.equal((await page.getByLabel('Message').inputValue()).length, 20001, 'the whole text is kept');
  });
});
