// accounts.test.js - browser journeys (JavaScript off): sign up and ask to join, log in, a
// wrong password, log out, accepted by the clinic; an admin's handout makes a doctor.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { withPage, closeBrowser, createUser, uniqueEmail, clearThrottle } = require('../lib/harness');

after(closeBrowser);

async function logIn(page, email, password) {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('a patient signs up, asks to join, logs out, mistypes the password, logs in, is accepted', async () => {
  const doctor = uniqueEmail('e2e-doc');
  await createUser({ email: doctor, role: 'doctor', clinic: 'Browser Clinic', first: 'Dev', last: 'Doctor' });
  const email = uniqueEmail('e2e-patient');
  const pw = 'tea with honey at noon';
  await withPage('signup journey', async (page) => {
    await page.goto('/login');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('First name').fill('Mira');
    await page.getByLabel('Last name').fill('Novak');
    await page.getByLabel('Your clinic').selectOption({ label: 'Browser Clinic' });
    await page.getByLabel('Your date of birth').fill('1990-05-17');
    await page.getByLabel('New password', { exact: true }).fill(pw);
    await page.getByLabel('New password, again').fill(pw);
    await page.getByRole('button', { name: 'Create account' }).click();
    assert.equal(new URL(page.url()).pathname, '/account/clinics');
    assert.match(await page.locator('header nav').textContent(), /Mira Novak/);
    assert.match(await page.locator('main').textContent(), /You asked to join Browser Clinic/);
    await page.getByRole('link', { name: 'Write', exact: true }).click();
    assert.match(await page.locator('main').textContent(), /nobody you can write to/, 'no one to write to before acceptance');

    await page.getByRole('button', { name: 'Log out' }).click();
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.doesNotMatch(await page.locator('header nav').textContent(), /Mira Novak/);

    await logIn(page, email, 'tea with honey at one');
    assert.match(await page.locator('#login-error').textContent(), /Wrong e-mail address or password/);
    assert.equal(await page.getByLabel('E-mail address').inputValue(), email, 'the e-mail stays filled in');

    await page.getByLabel('Password').fill(pw);
    await page.getByRole('button', { name: 'Log in' }).click();
    assert.equal(new URL(page.url()).pathname, '/inbox');
    assert.match(await page.locator('header nav').textContent(), /Mira Novak/);
  });
  await clearThrottle();
  await withPage('signup journey (the clinic accepts)', async (page) => {
    await logIn(page, doctor, 'a long enough password');
    await page.getByRole('link', { name: 'Join requests' }).click();
    assert.match(await page.locator('main').textContent(), /Mira Novak · born 17 May 1990/);
    await page.getByRole('button', { name: 'Accept Mira Novak' }).click();
    assert.match(await page.locator('.flash').textContent(), /Mira Novak is now a patient of your clinic/);
  });
  await withPage('signup journey (the patient writes)', async (page) => {
    await logIn(page, email, pw);
    await page.getByRole('link', { name: 'Write', exact: true }).click();
    await page.getByLabel('To', { exact: true }).selectOption({ label: 'Dev Doctor (doctor)' });
    await page.getByLabel('Subject').fill('Hello');
    await page.getByLabel('Message').fill('Thank you for taking me on.');
    await page.getByRole('button', { name: 'Send' }).click();
    assert.match(await page.locator('.flash').textContent(), /Message sent/);
  });
});

test('an admin invites a doctor with a handout; the doctor creates an account and joins', async () => {
  const admin = uniqueEmail('e2e-admin');
  await createUser({ email: admin, role: 'admin', clinic: 'Invite Clinic', first: 'Ida', last: 'Admin' });
  const doctor = uniqueEmail('e2e-invitee');
  let link;
  await withPage('invite journey (admin)', async (page) => {
    await logIn(page, admin, 'a long enough password');
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.goto('/admin/invite');
    await page.getByLabel('First name').fill('Noor');
    await page.getByLabel('Last name').fill('Haddad');
    await page.getByLabel('Role').selectOption('doctor');
    await page.getByRole('button', { name: 'Make the handout' }).click();
    const sheet = await page.locator('.handout').textContent();
    assert.match(sheet, /For Noor Haddad, as doctor\./);
    assert.match(sheet, /[A-Z0-9]{5}-[A-Z0-9]{5}/, 'the short code');
    link = await page.locator('.handout a').getAttribute('href');
    assert.match(link, /\/join\?key=[0-9a-f]{64}$/);
  });
  await withPage('invite journey (doctor)', async (page) => {
    await page.goto(link);
    assert.match(await page.locator('h1').textContent(), /Join Invite Clinic/);
    await page.getByLabel('E-mail address').fill(doctor);
    await page.getByLabel('First name').fill('Noor');
    await page.getByLabel('Last name').fill('Haddad');
    await page.getByLabel('New password', { exact: true }).fill('stethoscope in the drawer');
    await page.getByLabel('New password, again').fill('stethoscope in the drawer');
    await page.getByRole('button', { name: 'Create account and join' }).click();
    assert.equal(new URL(page.url()).pathname, '/inbox');
    assert.match(await page.locator('header nav').textContent(), /Noor Haddad/);
    assert.match(await page.locator('header nav').textContent(), /Register a patient/, 'a member of staff');
    await page.getByRole('button', { name: 'Log out' }).click();
    await logIn(page, doctor, 'stethoscope in the drawer');
    assert.equal(new URL(page.url()).pathname, '/inbox');
    await page.goto(link);
    assert.match(await page.locator('main').textContent(), /does not work/, 'the link works once');
  });
});
