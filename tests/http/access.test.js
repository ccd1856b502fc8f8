// access.test.js - the access matrix: every route, with no session and with
// each role, answers the expected status. The table below is the contract.
'use strict';
const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { Client, createUser, uniqueEmail, sql } = require('../lib/harness');

const ROLES = ['visitor', 'patient', 'doctor', 'admin'];
const clients = {};
let member; // a user of the admins' clinic, for /admin/users/{id}
let clinicId; // the admins' clinic, for /clinics/{clinic}
let recipient; // the patient's own self, for /account/recipients/{recipient}

before(async () => {
  const clinic = `Matrix Clinic ${process.pid}`;
  clients.visitor = new Client();
  await clients.visitor.get('/login');
  for (const role of ROLES.slice(1)) {
    const email = uniqueEmail(`matrix-${role}`);
    await createUser({ email, role, clinic });
    clients[role] = new Client();
    assert.equal((await clients[role].login(email)).status, 303, `${role} logs in`);
    await clients[role].get('/account');
  }
  member = (await sql(`SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id
    JOIN clinics c ON c.id = m.clinic_id WHERE c.name = $1 AND m.role = 'patient'`, [clinic]))[0][0];
  clinicId = (await sql('SELECT id FROM clinics WHERE name = $1', [clinic]))[0][0];
  recipient = (await sql(`SELECT id FROM care_recipients WHERE owner_id = $1 AND kind = 'self'`, [member]))[0][0];
});

// GET: path -> [visitor, patient, doctor, admin]. 303 for a visitor is the
// way to /login; 303 for a user on /login and /signup is the way home.
const GETS = {
  '/': [303, 303, 303, 303],
  '/inbox': [303, 200, 200, 200],
  '/sent': [303, 200, 200, 200],
  '/archive': [303, 200, 200, 200],
  '/healthz': [200, 200, 200, 200],
  '/login': [200, 303, 303, 303],
  '/signup': [200, 303, 303, 303],
  '/account': [303, 200, 200, 200],
  '/account/clinics': [303, 200, 200, 200],
  '/account/activity': [303, 200, 200, 200],
  '/join': [200, 200, 200, 200],
  '/patients/requests': [303, 403, 200, 200],
  '/account/recipients': [303, 200, 200, 200],
  // The matrix's clinic is a medical practice; its staff are patients nowhere.
  '/account/recipients/new?kind=person': [303, 200, 403, 403],
  '/account/recipients/new?kind=pet': [303, 403, 403, 403],
  '/account/recipients/{recipient}': [303, 200, 404, 404],
  '/invite': [404, 404, 404, 404],
  '/reset': [404, 404, 404, 404],
  '/patients/new': [303, 403, 200, 200],
  '/patients': [303, 403, 200, 200],
  '/patients/{member}': [303, 403, 200, 200],
  '/admin/users': [303, 403, 403, 200],
  '/admin/users/{member}': [303, 403, 403, 200],
  '/admin/invite': [303, 403, 403, 200],
  '/admin/audit': [303, 403, 403, 200],
  '/admin/clinic': [303, 403, 403, 200],
  '/clinics': [200, 200, 200, 200],
  '/clinics/{clinic}': [200, 200, 200, 200],
};

// POST: path -> roles allowed (others: visitor 303 to /login, users 403).
const POSTS = {
  '/logout': ['patient', 'doctor', 'admin'],
  '/account': ['patient', 'doctor', 'admin'],
  '/account/password': ['patient', 'doctor', 'admin'],
  '/account/sessions': ['patient', 'doctor', 'admin'],
  '/account/recipients/new?kind=person': ['patient', 'doctor', 'admin'],
  '/account/recipients/{recipient}': ['patient', 'doctor', 'admin'],
  '/account/recipients/{recipient}/archive': ['patient', 'doctor', 'admin'],
  '/account/recipients/{recipient}/unarchive': ['patient', 'doctor', 'admin'],
  '/account/clinics/request': ['patient', 'doctor', 'admin'],
  '/patients/new': ['doctor', 'admin'],
  '/patients/requests/{member}/accept': ['doctor', 'admin'],
  '/patients/requests/{member}/decline': ['doctor', 'admin'],
  '/admin/users/{member}/reset': ['admin'],
  '/admin/users/{member}/deactivate': ['admin'],
  '/admin/users/{member}/activate': ['admin'],
  '/admin/users/{member}/remove': ['admin'],
  '/admin/invite': ['admin'],
  '/admin/clinic': ['admin'],
};

const fill = (p) => p.replace('{member}', member).replace('{clinic}', clinicId).replace('{recipient}', recipient);

test('every GET route answers each role as the matrix says', async () => {
  for (const [path, want] of Object.entries(GETS)) {
    for (let i = 0; i < ROLES.length; i++) {
      const r = await clients[ROLES[i]].get(fill(path));
      assert.equal(r.status, want[i], `GET ${path} as ${ROLES[i]}`);
      if (r.status === 303 && ROLES[i] === 'visitor' && path !== '/') {
        assert.match(r.headers.get('location'), /^\/login\?next=/, `GET ${path} as visitor goes to login`);
      }
    }
  }
});

test('POST routes refuse visitors and other roles before the handler runs', async () => {
  for (const [path, allowed] of Object.entries(POSTS)) {
    for (const role of ROLES) {
      if (allowed.includes(role)) continue;
      const r = await clients[role].post(fill(path), {});
      if (role === 'visitor') {
        assert.equal(r.status, 303, `POST ${path} as visitor`);
        assert.equal(r.headers.get('location'), '/login');
      } else {
        assert.equal(r.status, 403, `POST ${path} as ${role}`);
      }
    }
  }
  assert.equal((await sql(`SELECT active FROM users WHERE id = $1`, [member]))[0][0], 't', 'nothing was deactivated');
  assert.equal((await sql(`SELECT bool_and(active) FROM memberships WHERE user_id = $1`, [member]))[0][0], 't',
    'nobody was removed');
});

test('POST routes without a CSRF token are refused with 403 for the allowed roles too', async () => {
  for (const [path, allowed] of Object.entries(POSTS)) {
    for (const role of allowed) {
      const r = await clients[role].post(fill(path), { csrf_token: null });
      assert.equal(r.status, 403, `POST ${path} as ${role} without a token`);
    }
  }
  for (const role of ROLES.slice(1)) assert.equal((await clients[role].get('/inbox')).status, 200, `${role} still logged in`);
  assert.equal((await sql(`SELECT active FROM users WHERE id = $1`, [member]))[0][0], 't', 'nothing was deactivated');
});

test('unknown ids and malformed ids answer 404', async () => {
  const r = await clients.admin.get('/admin/users/00000000-0000-4000-8000-000000000000');
  assert.equal(r.status, 404);
  const m = await clients.admin.get('/admin/users/not-a-uuid');
  assert.equal(m.status, 404);
});
