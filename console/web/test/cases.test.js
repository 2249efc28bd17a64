// The case queue renders rows from a (fake) API; dispose asks for confirmation first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOSTILE, ME, byTestId, dialog, dom, fakeServer, pageCtx, settle } from './helpers.js';

const { window, document } = dom();
const { casesPage, casePage } = await import('../src/pages/cases.js');
const { parseHash } = await import('../src/router.js');

const CASES = [
  { id: 12, subject_kind: 'customer', subject_id: 'c-42', status: 'open', owner: null, priority: 80, alerts: 3,
    first_at: '2026-01-01T10:00:00Z', last_at: '2026-01-01T11:00:00Z', disposition: null, fraud_type: null },
  { id: 13, subject_kind: 'ring', subject_id: 'R000001', status: 'open', owner: 'ana', priority: 95, alerts: 7,
    first_at: '2026-01-01T09:00:00Z', last_at: '2026-01-01T12:00:00Z', disposition: null, fraud_type: null },
  { id: 14, subject_kind: 'customer', subject_id: HOSTILE, status: 'open', owner: HOSTILE, priority: 10, alerts: 1,
    first_at: null, last_at: null, disposition: null, fraud_type: null },
];

function mount(page) {
  document.body.appendChild(page.el);
  return page;
}

test('the queue renders a row per case, hostile strings as text, and assigns to me', async () => {
  const server = fakeServer({
    'GET /cases': (req) => ({ items: req.query.after ? [] : CASES, next_after: null }),
    'POST /cases/12/assign': { id: 12, owner: 'ana' },
  });
  const page = mount(casesPage(await pageCtx(server), parseHash('#/cases')));
  await page.ready;
  assert.deepEqual(server.calls[0].query, { status: 'open', limit: '50' });
  for (const c of CASES) assert.ok(byTestId(page.el, `case-row-${c.id}`), `row ${c.id}`);
  assert.equal(page.el.querySelectorAll('img').length, 0);
  assert.ok(byTestId(page.el, 'case-row-14').textContent.includes(HOSTILE));
  assert.equal(byTestId(page.el, 'case-row-13').querySelector('a[href="#/rings/R000001"]').textContent, 'ring R000001');
  assert.equal(byTestId(page.el, 'case-assign-13'), null, 'no "assign to me" on my own case');
  byTestId(page.el, 'case-assign-12').click();
  await settle();
  const post = server.calls.find((c) => c.method === 'POST');
  assert.equal(post.path, '/cases/12/assign');
  assert.deepEqual(post.body, { owner: 'ana' });
  assert.equal(post.headers['X-CSRF-Token'], ME.csrf);
  assert.ok(byTestId(page.el, 'case-row-12').textContent.includes('ana'));
  page.el.remove();
});

test('tabs map to queries: mine → owner=me, investigating, closed', async () => {
  for (const [tab, query] of [['mine', { owner: 'me' }], ['investigating', { status: 'investigating' }], ['closed', { status: 'closed' }]]) {
    const server = fakeServer({ 'GET /cases': { items: [], next_after: null } });
    const page = casesPage(await pageCtx(server), parseHash(`#/cases?tab=${tab}`));
    await page.ready;
    assert.deepEqual(server.calls[0].query, { ...query, limit: '50' }, tab);
    assert.equal(byTestId(page.el, `cases-tab-${tab}`).getAttribute('aria-selected'), 'true');
    assert.ok(byTestId(page.el, 'cases-table-empty'));
  }
});

test('a reader sees no "assign to me" buttons', async () => {
  const server = fakeServer({ 'GET /cases': { items: CASES, next_after: null } });
  const reader = { ...ME, role: 'analyst', permissions: ['console:read'] };
  const page = casesPage(await pageCtx(server, reader), parseHash('#/cases'));
  await page.ready;
  assert.equal(page.el.querySelectorAll('[data-testid^="case-assign-"]').length, 0);
});

const DETAIL = {
  case: CASES[0],
  alerts: [{ kind: 'rule', source: 'policy', customer_id: 'c-42', ring_id: null, score: 0.9, reason: HOSTILE, at: '2026-01-01T10:00:00Z' }],
  notes: [{ author: 'bo', kind: 'note', text: HOSTILE, at: '2026-01-01T10:05:00Z' }],
  customers: ['c-42'],
  held: [{ event_id: 'e-1', customer_id: 'c-42', scene: 'drawdown', held_outcome: 'delay', delay_until: '2026-01-02T00:00:00Z' }],
  ring: null,
};

test('dispose asks for confirmation first; cancel sends nothing, OK sends the disposition', async () => {
  const server = fakeServer({ 'GET /cases/12': DETAIL, 'POST /cases/12/dispose': { id: 12, status: 'closed' } });
  const page = mount(casePage(await pageCtx(server), parseHash('#/cases/12')));
  await page.ready;
  assert.equal(page.el.querySelectorAll('img').length, 0);
  assert.ok(byTestId(page.el, 'case-notes').textContent.includes(HOSTILE));

  byTestId(page.el, 'case-dispose').click();
  await settle();
  assert.ok(dialog(document), 'a confirmation dialog is open');
  assert.equal(server.calls.filter((c) => c.method === 'POST').length, 0, 'nothing sent before confirming');
  byTestId(document, 'confirm-cancel').click();
  await settle();
  assert.equal(dialog(document), null);
  assert.equal(server.calls.filter((c) => c.method === 'POST').length, 0);

  byTestId(page.el, 'case-dispose').click();
  await settle();
  byTestId(document, 'dispose-fraud-type').value = 'cash_out';
  byTestId(document, 'dispose-note').value = 'confirmed by phone';
  byTestId(document, 'confirm-ok').click();
  await settle();
  const post = server.calls.find((c) => c.method === 'POST');
  assert.equal(post.path, '/cases/12/dispose');
  assert.deepEqual(post.body, { disposition: 'fraud', fraud_type: 'cash_out', note: 'confirmed by phone' });
  assert.equal(post.headers['X-CSRF-Token'], ME.csrf);
  assert.ok([...document.querySelectorAll('[data-testid="toast"]')].some((t) => t.textContent.includes('disposed as fraud')));
  page.el.remove();
});

test('not fraud sends no fraud type; notes are posted with their kind', async () => {
  const server = fakeServer({ 'GET /cases/12': DETAIL, 'POST /cases/12/dispose': {}, 'POST /cases/12/notes': {} });
  const page = mount(casePage(await pageCtx(server), parseHash('#/cases/12')));
  await page.ready;
  byTestId(page.el, 'case-dispose').click();
  await settle();
  byTestId(document, 'dispose-disposition').value = 'not_fraud';
  byTestId(document, 'confirm-ok').click();
  await settle();
  assert.deepEqual(server.calls.find((c) => c.path === '/cases/12/dispose').body, { disposition: 'not_fraud', note: '' });

  byTestId(page.el, 'note-text').value = 'called the employer';
  byTestId(page.el, 'note-kind').value = 'evidence';
  byTestId(page.el, 'note-form').dispatchEvent(new window.Event('submit', { cancelable: true }));
  await settle();
  assert.deepEqual(server.calls.find((c) => c.path === '/cases/12/notes').body, { text: 'called the employer', kind: 'evidence' });
  page.el.remove();
});

test('a 403 shows "your role may not do this"', async () => {
  const server = fakeServer({ 'GET /cases/12': DETAIL,
    'POST /cases/12/status': [403, { error: { code: 'forbidden', message: 'needs cases:work', detail: [] } }] });
  const page = mount(casePage(await pageCtx(server), parseHash('#/cases/12')));
  await page.ready;
  byTestId(page.el, 'case-status-set').click();
  await settle();
  const toasts = [...document.querySelectorAll('[data-testid="toast"]')].map((t) => t.textContent);
  assert.ok(toasts.some((t) => t.includes('Your role may not do this')), toasts.join('|'));
  page.el.remove();
});

test('leaving a case page opens no dialog (the router calls a page\'s dispose() on the way out)', async () => {
  const server = fakeServer({ 'GET /cases/12': DETAIL });
  const page = mount(casePage(await pageCtx(server), parseHash('#/cases/12')));
  await page.ready;
  if (typeof page.dispose === 'function') page.dispose();
  assert.equal(page.el.ownerDocument.querySelector('[data-testid="confirm-dialog"]'), null);
  assert.equal(server.calls.filter((c) => c.method === 'POST').length, 0);
});
