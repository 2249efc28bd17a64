// The shell: navigation by permission, routing to pages, 403 → role message, the live decisions page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, HOSTILE, ME, byTestId, dom, fakeServer, settle } from './helpers.js';

const { window, root } = dom('http://localhost:8000/console/#/decisions');
const { createApp } = await import('../src/app.js');

function decisionsRoute() {
  let seq = 0;
  return (req) => {
    const items = [];
    for (let i = 0; i < 3; i++) {
      seq += 1;
      items.push({ seq, event_id: `e${seq}`, scene: 'loan_apply', customer_id: seq === 1 ? HOSTILE : `c-${seq}`,
        occurred_at: '2026-01-01T10:00:00Z', outcome: 'pass', score: 0.1, reasons: [HOSTILE], strategy_version: 1 });
    }
    return { items, last_seq: seq, after: req.query.after };
  };
}

test('routes pages, hides what the role may not do, polls decisions while shown', async () => {
  const timers = [];
  let option = null;
  const server = fakeServer({
    'GET /me': { ...ME },
    'GET /decisions': decisionsRoute(),
    'GET /cases': { items: [], next_after: null },
    'GET /rings': { rings: [] },
    'GET /audit': [403, { error: { code: 'forbidden', message: 'needs audit:read', detail: [] } }],
  });
  const app = createApp({ root, window, fetch: server.fetch,
    charts: { create: () => ({ set: (o) => { option = o; }, dispose() {} }) },
    setTimeout: (f, ms) => { timers.push({ f, ms }); return timers.length; }, clearTimeout: () => {} });
  await app.start();
  await settle();
  const navs = [...root.querySelectorAll('[data-testid^="nav-"]')].map((a) => a.textContent);
  assert.deepEqual(navs, ['Decisions', 'Cases', 'Rings', 'Policy', 'Lists'], 'no Audit for an investigator');
  assert.equal(byTestId(root, 'nav-decisions').getAttribute('aria-current'), 'page');

  // the decisions page: rows newest first, hostile strings as text, a line chart per outcome
  assert.equal(app.route.name, 'decisions');
  const rows = byTestId(root, 'decisions-rows');
  assert.equal(rows.children.length, 3);
  assert.equal(rows.children[0].getAttribute('data-testid'), 'decision-row-3');
  assert.equal(root.querySelectorAll('img').length, 0);
  assert.equal(option.series[0].type, 'line');
  assert.equal(timers.at(-1).ms, 2000);
  timers.at(-1).f();
  await settle();
  assert.equal(server.calls.filter((c) => c.path === '/decisions').at(-1).query.after, '3');
  assert.equal(rows.children[0].getAttribute('data-testid'), 'decision-row-6');

  // leaving the page stops the poller
  window.location.hash = '#/cases';
  await settle();
  assert.equal(app.route.name, 'cases');
  const polled = server.calls.filter((c) => c.path === '/decisions').length;
  timers.at(-1).f();
  await settle();
  assert.equal(server.calls.filter((c) => c.path === '/decisions').length, polled, 'no polling after leaving');

  // a page the role may not see
  window.location.hash = '#/audit';
  await settle();
  assert.match(byTestId(root, 'page-error').textContent, /Your role may not do this/);
  assert.equal(server.calls.filter((c) => c.path === '/audit').length, 0);

  window.location.hash = '#/nowhere';
  await settle();
  assert.match(root.textContent, /Not found/);
  app.stop();
});

test('an admin sees Audit; sign-out returns to the sign-in page', async () => {
  window.location.hash = '#/audit';
  await settle();
  const server = fakeServer({
    'GET /me': { ...ADMIN },
    'GET /audit': (req) => ({ items: [{ id: 9, at: '2026-01-01T00:00:00Z', actor: 'console:root', action: 'policy.publish', target: HOSTILE, detail: { note: HOSTILE } }], next_before: null, q: req.query }),
    'POST /signout': { signed_out: true },
  });
  const app = createApp({ root, window, fetch: server.fetch });
  await app.start();
  await settle();
  assert.ok(byTestId(root, 'nav-audit'));
  assert.ok(byTestId(root, 'audit-row-9'));
  assert.equal(root.querySelectorAll('img').length, 0);
  byTestId(root, 'signout').click();
  await settle();
  const out = server.calls.find((c) => c.path === '/signout');
  assert.equal(out.headers['X-CSRF-Token'], ADMIN.csrf);
  assert.ok(byTestId(root, 'signin-form'));
  assert.equal(window.location.hash, '#/signin');
});
