// audit.test.js - the audit log's filter form in a browser (JavaScript off):
// an admin narrows the log by person, action and day, pages back, and a
// day out of order comes back with its mistake.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { withPage, logInPage, closeBrowser, createUser, uniqueEmail, sql } = require('../lib/harness');

after(closeBrowser);

test('an admin filters the audit log and pages through what the filters let through', async () => {
  const clinic = `Browser Audit ${process.pid}-${Date.now()}`, email = uniqueEmail('e2e-audit');
  const adminId = await createUser({ role: 'admin', email, clinic, first: 'Alma', last: 'Admin' });
  const docId = await createUser({ role: 'doctor', email: uniqueEmail('e2e-audit-doc'), clinic, first: 'Dev', last: 'Doctor' });
  await sql(`INSERT INTO audit_log (at, action, actor_id, clinic_id, detail)
    SELECT timestamptz '2026-02-02 09:00+00' + g * interval '1 minute',
      CASE WHEN g % 3 = 0 THEN 'reset link created' ELSE 'patient page viewed' END,
      CASE WHEN g % 3 = 0 THEN $1 ELSE $2 END::uuid, c.id, 'e' || g
    FROM clinics c, generate_series(1, 180) g WHERE c.name = $3`, [adminId, docId, clinic]);
  await withPage('audit log filters', async (page) => {
    await logInPage(page, email);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Done by', { exact: true }).selectOption({ label: 'Dev Doctor (doctor)' });
    await page.getByLabel('Action').selectOption('patient page viewed');
    await page.getByLabel('From the day').fill('2026-02-02');
    await page.getByLabel('To the day').fill('2026-02-02');
    await page.getByRole('button', { name: 'Show' }).click();
    const details = () => page.locator('td[data-label="Detail"]').allTextContents();
    const first = await details();
    assert.equal(first.length, 100);
    assert.deepEqual(first.slice(0, 3), ['e179', 'e178', 'e176'], 'the doctor\'s views, newest first');
    await page.getByRole('link', { name: 'Older entries' }).click();
    const second = await details();
    assert.equal(second.length, 20, '120 in all');
    assert.equal(second.at(-1), 'e1');
    assert.equal(await page.getByLabel('Action').inputValue(), 'patient page viewed', 'the form keeps the filters');
    await page.getByRole('link', { name: 'Newest entries' }).click();
    assert.deepEqual(await details(), first);

    await page.getByLabel('From the day').fill('2026-02-03');
    await page.getByRole('button', { name: 'Show' }).click();
    assert.match(await page.locator('#to-error').textContent(), /The last day cannot be before the first day/);
    assert.equal(await page.getByLabel('From the day').inputValue(), '2026-02-03');
    await page.getByRole('link', { name: 'Show all entries' }).click();
    assert.equal((await details()).length, 100);
  });
});
