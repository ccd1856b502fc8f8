// access.test.js - the access matrix: every route of the route table (as
// `carebox -r` prints it), for a visitor, each role of one clinic, a
// stranger and another clinic's staff, answers the status the table below
// says, with real ids of the clinic's objects in its {id}. A route without a
// line here fails the test, so a new route is covered the day it is added.
// Every POST, for everyone the route lets in, is refused with 403 without a
// CSRF token and with another session's, and changes nothing.
'use strict';
const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { Client, createUser, uniqueEmail, sql, ADDRESS } = require('../lib/harness');
const { formToken, postFiles } = require('../lib/messaging');

// Who asks: a visitor; the patient, doctor and admin of the matrix's
// clinic; a patient of a clinic of their own (a stranger to it all); the
// doctor and admin of another clinic. Every row of EXPECT is in this order.
const ACTORS = ['visitor', 'patient', 'doctor', 'admin', 'stranger', 'otherDoctor', 'otherAdmin'];
const ROLE = { patient: 'patient', doctor: 'doctor', admin: 'admin', stranger: 'patient',
  otherDoctor: 'doctor', otherAdmin: 'admin' };

// A POST the actor may make: its handler acts (logs out, deactivates,
// joins...), which the feature's own tests check; here it is sent only
// without a token and with a wrong one. Every number is sent with the
// actor's right token and an empty form, and must change nothing: 303 is
// a visitor sent to /login, 403 a role the route does not take, 404 an
// object that is not the actor's to see, 422 a form the person may not
// send at all (a kind of recipient they may not add).
const RUN = 'runs';

// Route pattern -> what its {id} is (an object of the matrix's clinic and
// patient), the query its requests carry, and for each method the status
// per actor: visitor, patient, doctor, admin, stranger, otherDoctor, otherAdmin.
const EXPECT = {
  '/': { GET: [303, 303, 303, 303, 303, 303, 303] },
  '/healthz': { GET: [200, 200, 200, 200, 200, 200, 200] },
  '/login': { GET: [200, 303, 303, 303, 303, 303, 303], POST: [RUN, RUN, RUN, RUN, RUN, RUN, RUN] },
  '/logout': { POST: [303, RUN, RUN, RUN, RUN, RUN, RUN] },
  // Without a pending sign-in (a right password first), back to /login.
  '/login/code': { GET: [303, 303, 303, 303, 303, 303, 303], POST: [RUN, RUN, RUN, RUN, RUN, RUN, RUN] },
  '/account/two-step': { GET: [303, 200, 200, 200, 200, 200, 200], POST: [303, RUN, RUN, RUN, RUN, RUN, RUN] },
  '/account/two-step/qr': { GET: [303, 200, 200, 200, 200, 200, 200] },
  '/account/two-step/off': { POST: [303, RUN, RUN, RUN, RUN, RUN, RUN] },
  '/signup': { GET: [200, 303, 303, 303, 303, 303, 303], POST: [RUN, RUN, RUN, RUN, RUN, RUN, RUN] },
  '/account': { GET: [303, 200, 200, 200, 200, 200, 200], POST: [303, RUN, RUN, RUN, RUN, RUN, RUN] },
  '/account/password': { POST: [303, RUN, RUN, RUN, RUN, RUN, RUN] },
  '/account/notices': { POST: [303, RUN, RUN, RUN, RUN, RUN, RUN] },
  '/account/verify': { POST: [303, RUN, RUN, RUN, RUN, RUN, RUN] },
  // A GET that only asks first: "Log out everywhere?".
  '/account/sessions': { GET: [303, 200, 200, 200, 200, 200, 200], POST: [303, RUN, RUN, RUN, RUN, RUN, RUN] },
  '/account/activity': { GET: [303, 200, 200, 200, 200, 200, 200] },
  '/account/clinics': { GET: [303, 200, 200, 200, 200, 200, 200] },
  '/account/clinics/request': { POST: [303, RUN, RUN, RUN, RUN, RUN, RUN] },
  '/account/clinics/{id}/act': { id: 'clinic', POST: [303, RUN, RUN, RUN, 404, 404, 404] },
  // Only a patient leaves on their own: staff are not even asked.
  '/account/clinics/{id}/leave': { id: 'clinic', GET: [303, 200, 404, 404, 404, 404, 404],
    POST: [303, RUN, RUN, RUN, 404, 404, 404] },
  '/account/recipients': { GET: [303, 200, 200, 200, 200, 200, 200] },
  // The clinics are medical practices: their staff are patients nowhere.
  '/account/recipients/new': { query: '?kind=person',
    GET: [303, 200, 403, 403, 200, 403, 403], POST: [303, RUN, 422, 422, RUN, 422, 422] },
  '/account/recipients/{id}': { id: 'recipient',
    GET: [303, 200, 404, 404, 404, 404, 404], POST: [303, RUN, 404, 404, 404, 404, 404] },
  '/account/recipients/{id}/archive': { id: 'recipient', POST: [303, RUN, 404, 404, 404, 404, 404] },
  '/account/recipients/{id}/unarchive': { id: 'recipient', POST: [303, RUN, 404, 404, 404, 404, 404] },
  // Without a token a one-time link is no link; posting a join key that
  // opens nothing counts against the address, so it is left to join.test.js.
  '/invite': { GET: [404, 404, 404, 404, 404, 404, 404], POST: [404, 404, 404, 404, 404, 404, 404] },
  '/reset': { GET: [404, 404, 404, 404, 404, 404, 404], POST: [404, 404, 404, 404, 404, 404, 404] },
  '/verify': { GET: [404, 404, 404, 404, 404, 404, 404], POST: [404, 404, 404, 404, 404, 404, 404] },
  // The form comes back: no address typed.
  '/forgot': { GET: [200, 200, 200, 200, 200, 200, 200], POST: [422, 422, 422, 422, 422, 422, 422] },
  '/join': { GET: [200, 200, 200, 200, 200, 200, 200], POST: [RUN, RUN, RUN, RUN, RUN, RUN, RUN] },
  '/patients/new': { GET: [303, 403, 200, 200, 403, 200, 200], POST: [303, 403, RUN, RUN, 403, RUN, RUN] },
  '/patients/requests': { GET: [303, 403, 200, 200, 403, 200, 200] },
  '/patients/requests/{id}/accept': { id: 'request', POST: [303, 403, RUN, RUN, 403, 404, 404] },
  '/patients/requests/{id}/decline': { id: 'request', POST: [303, 403, RUN, RUN, 403, 404, 404] },
  '/patients': { GET: [303, 403, 200, 200, 403, 200, 200] },
  '/patients/{id}': { id: 'member', GET: [303, 403, 200, 200, 403, 404, 404] },
  '/admin/users': { GET: [303, 403, 403, 200, 403, 403, 200] },
  '/admin/users/{id}': { id: 'member', GET: [303, 403, 403, 200, 403, 403, 404] },
  '/admin/users/{id}/reset': { id: 'member', POST: [303, 403, 403, RUN, 403, 403, 404] },
  '/admin/users/{id}/two-step-reset': { id: 'member', POST: [303, 403, 403, RUN, 403, 403, 404] },
  '/admin/users/{id}/deactivate': { id: 'member', GET: [303, 403, 403, 200, 403, 403, 404],
    POST: [303, 403, 403, RUN, 403, 403, 404] },
  '/admin/users/{id}/activate': { id: 'member', POST: [303, 403, 403, RUN, 403, 403, 404] },
  '/admin/users/{id}/unpause': { id: 'member', POST: [303, 403, 403, RUN, 403, 403, 404] },
  '/admin/users/{id}/remove': { id: 'member', GET: [303, 403, 403, 200, 403, 403, 404],
    POST: [303, 403, 403, RUN, 403, 403, 404] },
  '/admin/invite': { GET: [303, 403, 403, 200, 403, 403, 200], POST: [303, 403, 403, RUN, 403, 403, RUN] },
  '/admin/audit': { GET: [303, 403, 403, 200, 403, 403, 200] },
  '/admin/clinic': { GET: [303, 403, 403, 200, 403, 403, 200], POST: [303, 403, 403, RUN, 403, 403, RUN] },
  '/admin/jobs': { GET: [303, 403, 403, 200, 403, 403, 200] },
  // A failed job of the matrix's clinic.
  '/admin/jobs/{id}/retry': { id: 'job', POST: [303, 403, 403, RUN, 403, 403, 404] },
  '/clinics': { GET: [200, 200, 200, 200, 200, 200, 200] },
  '/clinics/{id}': { id: 'clinic', GET: [200, 200, 200, 200, 200, 200, 200] },
  // Only the demo (CAREBOX_DEMO=1) has its mail page.
  '/demo/mail': { GET: [404, 404, 404, 404, 404, 404, 404] },
  '/demo/mail/{id}': { id: 'clinic', GET: [404, 404, 404, 404, 404, 404, 404] },
  '/inbox': { GET: [303, 200, 200, 200, 200, 200, 200] },
  '/sent': { GET: [303, 200, 200, 200, 200, 200, 200] },
  '/archive': { GET: [303, 200, 200, 200, 200, 200, 200] },
  '/messages/new': { GET: [303, 200, 200, 200, 200, 200, 200] },
  '/messages': { POST: [303, RUN, RUN, RUN, RUN, RUN, RUN] },
  // A thread the patient began with the doctor, with a file.
  '/messages/{id}': { id: 'thread', GET: [303, 200, 200, 404, 404, 404, 404] },
  '/messages/{id}/reply': { id: 'thread', POST: [303, RUN, RUN, 404, 404, 404, 404] },
  '/messages/{id}/unread': { id: 'thread', POST: [303, RUN, RUN, 404, 404, 404, 404] },
  '/messages/{id}/archive': { id: 'thread', POST: [303, RUN, RUN, 404, 404, 404, 404] },
  '/messages/{id}/unarchive': { id: 'thread', POST: [303, RUN, RUN, 404, 404, 404, 404] },
  '/search': { query: '?q=matrix', GET: [303, 200, 200, 200, 200, 200, 200] },
  '/attachments/{id}': { id: 'attachment', GET: [303, 200, 200, 404, 404, 404, 404] },
};

// Addresses besides the routes' own: path -> status per actor.
const MORE_GETS = {
  '/account/recipients/new?kind=pet': [303, 403, 403, 403, 403, 403, 403],
  '/account/recipients/new': [303, 303, 303, 303, 303, 303, 303],
  '/admin/users/00000000-0000-4000-8000-000000000000': [303, 403, 403, 404, 403, 403, 404],
  '/admin/users/not-a-uuid': [404, 404, 404, 404, 404, 404, 404],
  '/messages/00000000-0000-4000-8000-000000000000': [303, 404, 404, 404, 404, 404, 404],
};

const clients = {};
const users = {}; // actor -> user id
const ids = {}; // object name -> id, for {id}
let clinics = []; // the clinics whose rows must not change
let routes = []; // { pattern, methods, access } from carebox -r

before(async () => {
  const out = execFileSync(path.join(process.env.BUILDDIR || '.', 'carebox'), ['-r'], { encoding: 'utf8' });
  routes = out.trim().split('\n').map((line) => {
    const [pattern, methods, access] = line.split('\t');
    return { pattern, methods: methods.split(', '), access: access.split(',') };
  });
  const tag = `${process.pid}-${Date.now()}`;
  const clinic = { patient: `Matrix Clinic ${tag}`, stranger: `Matrix Stranger Clinic ${tag}`,
    otherDoctor: `Matrix Other Clinic ${tag}` };
  clinic.doctor = clinic.admin = clinic.patient;
  clinic.otherAdmin = clinic.otherDoctor;
  clients.visitor = new Client();
  await clients.visitor.get('/login');
  for (const actor of ACTORS.slice(1)) {
    const email = uniqueEmail(`matrix-${actor}`);
    users[actor] = await createUser({ email, role: ROLE[actor], clinic: clinic[actor] });
    clients[actor] = new Client();
    assert.equal((await clients[actor].login(email)).status, 303, `${actor} logs in`);
    await clients[actor].get('/account');
  }
  clinics = (await sql('SELECT id FROM clinics WHERE name = ANY($1)', [Object.values(clinic)])).map((r) => r[0]);
  ids.clinic = (await sql('SELECT id FROM clinics WHERE name = $1', [clinic.patient]))[0][0];
  ids.member = users.patient;
  ids.recipient = (await sql(`INSERT INTO care_recipients (owner_id, kind, first_name, last_name, relationship)
    VALUES ($1, 'person', 'Kim', 'Matrix', 'child') RETURNING id`, [users.patient]))[0][0];
  users.requester = await createUser({ email: uniqueEmail('matrix-requester'), clinic: clinic.stranger });
  ids.request = (await sql(`INSERT INTO join_requests (clinic_id, user_id, date_of_birth)
    VALUES ($1, $2, '1980-01-01') RETURNING id`, [ids.clinic, users.requester]))[0][0];
  const form = await clients.patient.get('/messages/new');
  const sent = await postFiles(clients.patient, '/messages', { form_token: formToken(form.text), to: users.doctor,
    subject: 'Matrix results', body: 'The matrix file.' }, [['scan.txt', 'text/plain', 'matrix scan']]);
  assert.equal(sent.status, 303, 'the patient writes to the doctor with a file');
  ids.thread = sent.headers.get('location').split('/').pop();
  ids.attachment = (await sql('SELECT id FROM attachments WHERE message_id = $1', [ids.thread]))[0][0];
  // (Of a kind no worker runs: it stays failed.)
  ids.job = (await sql(`INSERT INTO jobs (kind, clinic_id, state, max_attempts, attempts, last_error, finished_at)
    VALUES ('matrix.test', $1, 'failed', 1, 1, 'matrix failure', now()) RETURNING id`, [ids.clinic]))[0][0];
  assert.ok(ids.attachment, 'the file was stored');
});

// The address of `pattern`: its {id} filled in, its query added.
const fill = (pattern) => {
  const e = EXPECT[pattern] || {};
  return pattern.replace('{id}', () => ids[e.id]) + (e.query || '');
};
// A row of statuses as one line, so that a failure shows each wrong row whole.
const row = (statuses) => statuses.join(' ');
const routeOf = (pattern) => routes.find((r) => r.pattern === pattern);
const letIn = (route, actor) => route.access.includes('public') || route.access.includes(ROLE[actor]);

// The rows of every table that concern the matrix's people and clinics
// (the other test files, running at the same time, touch only their own),
// without what merely visiting changes (last seen, the notice shown), one
// line each, sorted. Every table of the schema must be listed.
const SCOPE = {
  users: 'id = ANY($1)',
  memberships: 'user_id = ANY($1) OR clinic_id = ANY($2)',
  sessions: 'user_id = ANY($1)',
  one_time_links: 'user_id = ANY($1) OR clinic_id = ANY($2) OR created_by = ANY($1)',
  audit_log: 'clinic_id = ANY($2) OR actor_id = ANY($1) OR subject_id = ANY($1)',
  clinics: 'id = ANY($2)',
  clinic_hours: 'clinic_id = ANY($2)',
  inboxes: 'user_id = ANY($1)',
  outboxes: 'user_id = ANY($1)',
  messages: 'id IN (SELECT m.id FROM unnest($1::uuid[]) u, viewer_messages(u) m)',
  conversation_members: 'user_id = ANY($1)',
  drafts: 'user_id = ANY($1)',
  attachments: 'message_id IN (SELECT m.id FROM unnest($1::uuid[]) u, viewer_messages(u) m)',
  form_tokens: 'user_id = ANY($1)',
  join_requests: 'user_id = ANY($1) OR clinic_id = ANY($2)',
  care_recipients: 'owner_id = ANY($1)',
  login_failures: 'address = $4 OR lower(email) IN (SELECT lower(email) FROM users WHERE id = ANY($1))',
  address_counts: 'address = $4',
  two_step: 'user_id = ANY($1)',
  recovery_codes: 'user_id = ANY($1)',
  login_steps: 'user_id = ANY($1)',
  jobs: 'clinic_id = ANY($2)',
  // The test kinds' effects (tests/db/jobs_test.sql): of jobs of the clinics.
  job_test_effects: 'job_id IN (SELECT id FROM jobs WHERE clinic_id = ANY($2))',
  // Prescriptions (sql/0023_prescriptions.sql): the clinics' and the people's.
  medications: 'clinic_id = ANY($2)',
  prescriptions: 'clinic_id = ANY($2) OR requested_by = ANY($1)',
  prescription_items: 'prescription_id IN (SELECT id FROM prescriptions WHERE clinic_id = ANY($2) OR requested_by = ANY($1))',
  prescription_events: 'prescription_id IN (SELECT id FROM prescriptions WHERE clinic_id = ANY($2) OR requested_by = ANY($1))',
  // The legal changes of status: the migration's, no one's.
  prescription_transitions: 'false',
  payments: 'user_id = ANY($1)',
  payment_attempts: 'payment_id IN (SELECT id FROM payments WHERE user_id = ANY($1))',
  // The payment simulator's (tests/db/pay_sim.sql), per clinic.
  pay_sim_settings: 'merchant IN (SELECT unnest($2::uuid[])::text)',
  pay_sim_ledger: 'merchant IN (SELECT unnest($2::uuid[])::text)',
};
const VOLATILE = ['last_seen_at', 'flash_kind', 'flash_text', 'search', 'data'];
async function state() {
  const q = Object.entries(SCOPE).map(([t, where]) =>
    `SELECT '${t} ' || (to_jsonb(x) - $3::text[])::text FROM ${t} x WHERE ${where}`).join(' UNION ALL ');
  return (await sql(`${q} ORDER BY 1`, [Object.values(users), clinics, VOLATILE, ADDRESS])).map((r) => r[0]);
}

// POSTs `token` (null: none) as `actor` to `p`, as a form or, with
// `file`, as multipart/form-data with a file.
function postToken(actor, p, token, file) {
  if (!file) return clients[actor].post(p, { csrf_token: token });
  const form = new FormData();
  if (token) form.append('csrf_token', token);
  form.append('attachment', new Blob(['matrix']), 'x.txt');
  return clients[actor].request(p, { method: 'POST', body: form });
}

test('every route of the table has its line in the matrix, and every line a route', async () => {
  assert.ok(routes.length > 40, `carebox -r lists the routes (${routes.length})`);
  for (const r of routes) {
    const want = EXPECT[r.pattern];
    assert.ok(want, `${r.pattern} has no line in the access matrix (tests/http/access.test.js)`);
    for (const m of ['GET', 'POST']) {
      assert.equal(Boolean(want[m]), r.methods.includes(m), `${r.pattern}: ${m} is in the matrix as in the table`);
      if (!want[m]) continue;
      assert.equal(want[m].length, ACTORS.length, `${r.pattern} ${m}: one status per actor`);
      // Whom the table keeps out, the router answers before any handler.
      ACTORS.forEach((actor, i) => letIn(r, actor) || assert.equal(want[m][i], actor === 'visitor' ? 303 : 403,
        `${r.pattern} ${m}: the route table keeps ${actor} out`));
    }
    if (r.pattern.includes('{id}')) assert.ok(ids[want.id], `${r.pattern}: the matrix has a ${want.id}`);
  }
  for (const p of Object.keys(EXPECT)) assert.ok(routeOf(p), `${p} is in the matrix but not in the route table`);
});

test('the state compared covers every table of the schema', async () => {
  const tables = (await sql(`SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`)).map((r) => r[0]);
  assert.deepEqual(tables.sort(), Object.keys(SCOPE).sort());
});

test('every GET answers each actor as the matrix says', async () => {
  const gets = Object.entries(EXPECT).filter(([, e]) => e.GET).map(([p, e]) => [fill(p), e.GET]);
  gets.push(...Object.entries(MORE_GETS));
  const got = {};
  for (const [p, want] of gets) {
    got[p] = row(await Promise.all(ACTORS.map(async (actor) => {
      const r = await clients[actor].get(p);
      if (r.status === 303 && actor === 'visitor' && p !== '/' && p !== '/login/code') {
        assert.match(r.headers.get('location'), /^\/login\?next=/, `GET ${p} as visitor goes to /login`);
      }
      return r.status;
    })));
  }
  assert.deepEqual(got, Object.fromEntries(gets.map(([p, want]) => [p, row(want)])), 'GET: the statuses per actor');
});

test('a POST the matrix does not let run is refused, with the right token, and changes nothing', async () => {
  const got = {}, want = {};
  for (const [pattern, e] of Object.entries(EXPECT)) {
    if (!e.POST || e.POST.every((s) => s === RUN)) continue;
    const before = await state();
    want[pattern] = row(e.POST);
    got[pattern] = row(await Promise.all(ACTORS.map(async (actor, i) => {
      if (e.POST[i] === RUN) return RUN;
      const r = await clients[actor].post(fill(pattern), {});
      if (r.status === 303) assert.equal(r.headers.get('location'), '/login', `POST ${pattern} as ${actor} goes to /login`);
      return r.status;
    })));
    assert.deepEqual(await state(), before, `POST ${pattern} changed nothing`);
  }
  assert.deepEqual(got, want, 'POST: the statuses per actor');
});

test('every POST without a CSRF token, or with another session\'s, is 403 for everyone let in, and changes nothing', async () => {
  const before = await state();
  for (const route of routes.filter((r) => r.methods.includes('POST'))) {
    const p = fill(route.pattern);
    await Promise.all(ACTORS.filter((actor) => letIn(route, actor)).map(async (actor) => {
      const other = clients[ACTORS[(ACTORS.indexOf(actor) + 1) % ACTORS.length]].csrf;
      for (const file of route.access.includes('uploads') ? [false, true] : [false]) {
        for (const [how, token] of [['without a token', null], ['with another session\'s token', other]]) {
          const r = await postToken(actor, p, token, file);
          assert.equal(r.status, 403, `POST ${p} as ${actor} ${how}${file ? ', with a file' : ''}`);
        }
      }
    }));
    assert.deepEqual(await state(), before, `POST ${route.pattern} changed nothing`);
  }
  for (const actor of ACTORS.slice(1)) assert.equal((await clients[actor].get('/inbox')).status, 200, `${actor} still logged in`);
});

test('a method a route does not take answers 405 with the methods it does', async () => {
  for (const route of routes.filter((r) => !(r.methods.includes('GET') && r.methods.includes('POST')))) {
    const p = fill(route.pattern), get = route.methods.includes('POST');
    const r = get ? await clients.visitor.get(p) : await clients.visitor.post(p, {});
    assert.equal(r.status, 405, `${get ? 'GET' : 'POST'} ${p}`);
    assert.equal(r.headers.get('allow'), route.methods.join(', '), `Allow of ${p}`);
  }
});
