// join.test.js - a browser journey (JavaScript off): a vet registers a
// patient and hands over the code; the pet owner joins with it, creating
// their account on the join page, adds their dog and writes to the vet,
// who finds the dog on the patient's page.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { withPage, closeBrowser, createUser, sql, uniqueEmail } = require('../lib/harness');

after(closeBrowser);

test('a vet hands out a join code; the owner joins, adds their dog and writes to the vet', async () => {
  const clinic = `Browser Vets ${process.pid}-${Date.now()}`;
  const vet = uniqueEmail('e2e-vet');
  await createUser({ email: vet, role: 'doctor', clinic, first: 'Vic', last: 'Vet' });
  await sql(`UPDATE clinics SET kind = 'veterinary' WHERE name = $1`, [clinic]);
  const owner = uniqueEmail('e2e-owner');
  const pw = 'walkies twice a day';
  let code;
  await withPage('join journey (the vet)', async (page) => {
    await page.goto('/login');
    await page.getByLabel('E-mail address').fill(vet);
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: 'Register a patient' }).click();
    await page.getByLabel('First name').fill('Olga');
    await page.getByLabel('Last name').fill('Owner');
    await page.getByRole('button', { name: 'Make the handout' }).click();
    code = (await page.locator('.code').textContent()).trim();
    assert.match(code, /^[A-Z0-9]{5}-[A-Z0-9]{5}$/);
  });
  await withPage('join journey (the owner)', async (page) => {
    await page.goto('/join');
    await page.getByLabel('Join code').fill(code);
    await page.getByRole('button', { name: 'Continue' }).click();
    assert.match(await page.locator('h1').textContent(), new RegExp(`Join ${clinic}`));
    await page.getByLabel('E-mail address').fill(owner);
    await page.getByLabel('First name').fill('Olga');
    await page.getByLabel('Last name').fill('Owner');
    await page.getByLabel('New password', { exact: true }).fill(pw);
    await page.getByLabel('New password, again').fill(pw);
    await page.getByRole('button', { name: 'Create account and join' }).click();
    assert.equal(new URL(page.url()).pathname, '/inbox');

    await page.getByRole('link', { name: 'Olga Owner' }).click();
    await page.getByRole('link', { name: 'People and pets' }).click();
    assert.match(await page.locator('main').textContent(), /Olga Owner · you/);
    assert.equal(await page.getByRole('link', { name: 'Add a family member' }).count(), 0, 'a vet cares for pets only');
    await page.getByRole('link', { name: 'Add a pet' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Rex');
    await page.getByLabel('Species').fill('dog');
    await page.getByLabel('Sex').selectOption({ label: 'Male' });
    await page.getByLabel('Weight in kg').fill('12,4');
    await page.getByRole('button', { name: 'Save' }).click();
    assert.match(await page.locator('#weight_kg-error').textContent(), /at most 2 decimals/);
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Rex', 'the typing is kept');
    await page.getByLabel('Weight in kg').fill('12.4');
    await page.getByLabel('Neutered or spayed').check();
    await page.getByLabel(/Notes for the clinic/).fill('Scared of thunder.');
    await page.getByRole('button', { name: 'Save' }).click();
    assert.equal(new URL(page.url()).pathname, '/account/recipients');
    assert.match(await page.locator('.flash').textContent(), /Rex was added/);
    assert.match(await page.locator('main').textContent(), /Rex · dog/);

    await page.getByRole('link', { name: 'Write', exact: true }).click();
    await page.getByLabel('To', { exact: true }).selectOption({ label: 'Vic Vet (doctor)' });
    await page.getByLabel('Subject').fill('Rex');
    await page.getByLabel('Message').fill('Rex is limping a little since yesterday.');
    await page.getByRole('button', { name: 'Send' }).click();
    assert.match(await page.locator('.flash').textContent(), /Message sent/);
  });
  await withPage('join journey (the vet reads the patient page)', async (page) => {
    await page.goto('/login');
    await page.getByLabel('E-mail address').fill(vet);
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: 'Patients', exact: true }).click();
    await page.getByRole('link', { name: 'Olga Owner' }).click();
    assert.match(await page.locator('main').textContent(), /Rex[\s\S]*dog · male · neutered · 12.40 kg/);
    assert.match(await page.locator('main').textContent(), /Scared of thunder\./);
  });
  assert.deepEqual(await sql(`SELECT r.first_name, r.species, r.sex, r.neutered, r.weight_kg::text, r.notes
    FROM care_recipients r JOIN users u ON u.id = r.owner_id WHERE lower(u.email) = lower($1) AND r.kind = 'pet'`, [owner]),
  [['Rex', 'dog', 'male', 't', '12.40', 'Scared of thunder.']]);
});
