// messages.test.js - a browser journey (JavaScript off): a patient writes to
// their doctor with a file attached, the doctor sees the unread count, reads
// and replies, the patient sees the reply and the read receipt, and search
// finds the message.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { withPage, closeBrowser, createUser, uniqueEmail } = require('../lib/harness');

after(closeBrowser);

const PW = 'a long enough password';

async function logIn(page, email) {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(PW);
  await page.getByRole('button', { name: 'Log in' }).click();
  assert.equal(new URL(page.url()).pathname, '/inbox');
}

test('a patient and a doctor exchange messages through the forms', async () => {
  const clinic = `Browser Msg Clinic ${process.pid}-${Date.now()}`;
  const patient = uniqueEmail('e2e-msg-pat'), doctor = uniqueEmail('e2e-msg-doc');
  await createUser({ email: patient, clinic, first: 'Rosa', last: 'Ruiz' });
  await createUser({ email: doctor, role: 'doctor', clinic, first: 'Amir', last: 'Bakr' });
  const word = `rhubarb${process.pid}`;
  let thread;

  await withPage('messages journey (patient writes)', async (page) => {
    await logIn(page, patient);
    await page.getByRole('link', { name: 'Write', exact: true }).click();
    await page.getByLabel('To', { exact: true }).selectOption({ label: 'Amir Bakr (doctor)' });
    await page.getByLabel('Subject').fill('Allergy question');
    await page.getByLabel('Message').fill(`Is ${word} safe for me?\nI react to pollen.`);
    await page.getByLabel(/Attach files/).setInputFiles({
      name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('pollen: yes\n'),
    });
    await page.getByRole('button', { name: 'Send' }).click();
    thread = new URL(page.url()).pathname;
    assert.match(thread, /^\/messages\/[0-9a-f-]{36}$/);
    assert.match(await page.locator('.flash').textContent(), /Message sent/);
    assert.match(await page.locator('.thread').textContent(), /Delivered/);
  });

  await withPage('messages journey (doctor replies)', async (page) => {
    await logIn(page, doctor);
    assert.match(await page.locator('header nav').textContent(), /1 unread/);
    await page.getByRole('link', { name: 'Allergy question' }).click();
    assert.equal(new URL(page.url()).pathname, thread);
    assert.doesNotMatch(await page.locator('header nav').textContent(), /unread/);
    const body = await page.locator('.thread .body').first().innerText();
    assert.equal(body, `Is ${word} safe for me?\nI react to pollen.`, 'line breaks kept (a <br>)');
    assert.equal(await page.getByRole('link', { name: 'notes.txt' }).count(), 1, 'the attachment is listed');
    await page.getByLabel('Your reply').fill('Yes, in small amounts.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    assert.equal(new URL(page.url()).pathname, thread);
    assert.match(await page.locator('.flash').textContent(), /Reply sent/);
    assert.match(await page.locator('.thread').textContent(), /Yes, in small amounts\./);
  });

  await withPage('messages journey (patient reads the reply)', async (page) => {
    await logIn(page, patient);
    assert.match(await page.locator('header nav').textContent(), /1 unread/);
    // One row for the conversation, with the reply's first words under it.
    assert.match(await page.locator('table.messages').textContent(), /Allergy question \(2 messages\) 1 new\s*Yes, in small amounts\./);
    await page.getByRole('link', { name: 'Allergy question' }).click();
    const text = await page.locator('.thread').textContent();
    assert.match(text, /Yes, in small amounts\./);
    assert.match(text, /Read \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d/, 'the read receipt');

    await page.getByRole('link', { name: 'Search' }).click();
    await page.getByLabel('Words to find').fill(word);
    await page.getByRole('button', { name: 'Search' }).click();
    assert.equal(await page.locator('mark').first().textContent(), word);
    await page.getByRole('link', { name: 'Allergy question' }).click();
    assert.equal(new URL(page.url()).pathname, thread);
  });
});
