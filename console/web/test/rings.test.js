// The ring explorer: graph elements, members, timeline, and "mark ring fraud" behind a confirmation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOSTILE, byTestId, dialog, dom, fakeServer, pageCtx, settle } from './helpers.js';

const { document } = dom();
const { ringPage, ringsPage } = await import('../src/pages/rings.js');
const { customerPage } = await import('../src/pages/customer.js');
const { ringElements, neighbourhoodElements } = await import('../src/graph.js');
const { parseHash } = await import('../src/router.js');

const RING = {
  id: 'R000001', size: 3, first_seen: '2026-01-01T00:00:00Z', changed_at: '2026-01-02T00:00:00Z',
  profile: { risk: 0.91, devices: 2, rejected_share: 0.33, blacklisted_share: 0, fraud_share: 0 },
  members: [
    { customer_id: 'c-1', joined_at: '2026-01-01T00:00:00Z', flags: ['rejected'] },
    { customer_id: 'c-2', joined_at: '2026-01-01T00:00:00Z', flags: [] },
    { customer_id: HOSTILE, joined_at: '2026-01-01T00:00:00Z', flags: [HOSTILE] },
  ],
  shared: [{ kind: 'device', value: 'd-9', members: ['c-1', 'c-2', HOSTILE], degree: 3, hub: true }],
  timeline: [{ at: '2026-01-01T00:00:00Z', what: 'formed', detail: HOSTILE }],
};

test('the ring graph: customers as circles, shared entities as squares, one edge per member', () => {
  const els = ringElements(RING);
  const nodes = els.filter((e) => !e.data.source);
  const edges = els.filter((e) => e.data.source);
  assert.equal(nodes.filter((n) => n.data.type === 'customer').length, 3);
  assert.equal(nodes.filter((n) => n.data.type === 'entity').length, 1);
  assert.equal(edges.length, 3);
  assert.notEqual(nodes[0].data.colour, nodes[1].data.colour, 'a rejected member is coloured apart');
  const nb = neighbourhoodElements({ center: 'c-1', nodes: [{ id: 'c-1', type: 'customer', label: 'c-1' }, { id: 'd:1', type: 'device', label: 'd1' }],
    edges: [{ source: 'c-1', target: 'd:1', role: 'device' }, { source: 'c-1', target: 'gone', role: 'x' }] });
  assert.equal(nb.length, 3, 'edges to missing nodes are dropped');
  assert.equal(nb[0].data.center, 1);
});

test('the explorer draws the graph, lists members and timeline as text; clicking a customer opens it', async () => {
  const server = fakeServer({ 'GET /rings/R000001': RING });
  let drawn = null;
  const ctx = await pageCtx(server, undefined, { graph: (el, elements, opts) => { drawn = { el, elements, opts }; return { destroy() {} }; } });
  const page = ringPage(ctx, parseHash('#/rings/R000001'));
  document.body.appendChild(page.el);
  await page.ready;
  assert.equal(drawn.elements.length, 7);
  assert.equal(drawn.el.getAttribute('data-testid'), 'ring-graph');
  drawn.opts.onCustomer('c-2');
  assert.deepEqual(ctx.navigated, ['#/customers/c-2']);
  assert.equal(page.el.querySelectorAll('img').length, 0);
  assert.ok(byTestId(page.el, 'ring-timeline').textContent.includes(HOSTILE));
  assert.ok(byTestId(page.el, 'ring-member-c-1'));
  page.el.remove();
});

test('"mark ring fraud" confirms first, then posts and shows the revised events', async () => {
  const server = fakeServer({
    'GET /rings/R000001': RING,
    'POST /rings/R000001/disposition': { ring_id: 'R000001', disposition: 'fraud', members: ['c-1', 'c-2'], revised: ['e-1', 'e-2', HOSTILE] },
  });
  const page = ringPage(await pageCtx(server), parseHash('#/rings/R000001'));
  document.body.appendChild(page.el);
  await page.ready;
  byTestId(page.el, 'ring-mark-fraud').click();
  await settle();
  assert.ok(dialog(document));
  assert.equal(server.calls.filter((c) => c.method === 'POST').length, 0, 'nothing sent before confirming');
  byTestId(document, 'ring-fraud-type').value = 'batch_attack';
  byTestId(document, 'ring-note').value = 'same device farm';
  byTestId(document, 'confirm-ok').click();
  await settle();
  const post = server.calls.find((c) => c.method === 'POST');
  assert.deepEqual(post.body, { disposition: 'fraud', fraud_type: 'batch_attack', note: 'same device farm' });
  const result = byTestId(page.el, 'ring-result');
  assert.ok(result.textContent.includes('3 held applications/drawdowns rejected'), result.textContent);
  assert.ok(result.textContent.includes(HOSTILE));
  assert.equal(document.querySelectorAll('img').length, 0);
  page.el.remove();
});

test('a reader sees no "mark ring fraud"; a retired ring links to its successor', async () => {
  const server = fakeServer({ 'GET /rings/R000001': RING, 'GET /rings/R000002': { id: 'R000002', retired: { at: '2026-01-03T00:00:00Z', why: 'merged', into: 'R000001' } } });
  const reader = { username: 'x', permissions: ['console:read'] };
  const page = ringPage(await pageCtx(server, reader), parseHash('#/rings/R000001'));
  await page.ready;
  assert.equal(byTestId(page.el, 'ring-mark-fraud'), null);
  const retired = ringPage(await pageCtx(server, reader), parseHash('#/rings/R000002'));
  await retired.ready;
  assert.equal(byTestId(retired.el, 'ring-into').getAttribute('href'), '#/rings/R000001');
});

test('the rings list and a customer page render from the API', async () => {
  const server = fakeServer({
    'GET /rings': { rings: [{ id: 'R000001', size: 3, risk: 0.9, first_seen: '2026-01-01T00:00:00Z' }] },
    'GET /customers/c-1': { customer_id: 'c-1', ring_id: 'R000001', decisions: [{ event_id: 'e1', scene: 'login', occurred_at: '2026-01-01T00:00:00Z', outcome: 'reject', score: 0.8, reasons: [HOSTILE] }],
      events: [{ event_id: 'e1', scene: 'login', occurred_at: '2026-01-01T00:00:00Z', event: { note: HOSTILE } }], holds: [], lists: [], devices: ['d-9'] },
    'GET /customers/c-1/neighbourhood': { center: 'c-1', nodes: [{ id: 'c-1', type: 'customer', label: 'c-1' }], edges: [], truncated: false },
  });
  const list = ringsPage(await pageCtx(server));
  await list.ready;
  assert.ok(byTestId(list.el, 'ring-row-R000001'));
  let drawn = null;
  const page = customerPage(await pageCtx(server, undefined, { graph: (el, elements) => { drawn = elements; return { destroy() {} }; } }), parseHash('#/customers/c-1'));
  document.body.appendChild(page.el);
  await page.ready;
  assert.equal(server.calls.at(-1).query.hops, '2');
  assert.equal(drawn.length, 1);
  assert.equal(byTestId(page.el, 'customer-ring').getAttribute('href'), '#/rings/R000001');
  assert.equal(page.el.querySelectorAll('img').length, 0);
  assert.ok(page.el.textContent.includes(HOSTILE));
  page.el.remove();
});
