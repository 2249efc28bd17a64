// The policy editor: files, validate errors per file, backtest side by side, publish/rollback behind confirmation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, ME, byTestId, dialog, dom, fakeServer, pageCtx, settle } from './helpers.js';

const { document } = dom();
const { policyPage } = await import('../src/pages/policy.js');
const { listsPage } = await import('../src/pages/lists.js');
const { parseHash } = await import('../src/router.js');

const FILES = { 'strategy.yaml': 'name: demo\n', 'rules/loan.yaml': 'rules: []\n' };
const routes = () => ({
  'GET /policy': { live: { version: 3, name: 'demo', checksum: 'abc', published_at: '2026-01-01T00:00:00Z', published_by: 'root', note: 'n', summary: { rules: 2 } },
    versions: [{ version: 3, name: 'demo', published_at: '2026-01-01T00:00:00Z', published_by: 'root', note: '<b>third</b>' },
      { version: 2, name: 'demo', published_at: '2025-12-01T00:00:00Z', published_by: 'root', note: 'second' }] },
  'GET /policy/files': (req) => ({ version: Number(req.query.version || 3), files: req.query.version === '2' ? { 'strategy.yaml': 'old\n' } : FILES }),
  'POST /policy/validate': (req) => (req.body.files['rules/loan.yaml'].includes('oops')
    ? [422, { error: { code: 'invalid_policy', message: 'the policy does not compile', detail: [{ field: 'rules/loan.yaml: rules[0].when', message: 'unknown variable x' }] } }]
    : { summary: { rules: 2 } }),
  'POST /policy/diff': { diff: '--- a\n+++ b\n@@ -1 +1 @@\n-a\n+b\n' },
  'POST /policy/backtest': { events: 100, figures: { events: 100, outcomes: { pass: 90, reject: 10 }, targets: { catch_rate: { value: 0.8, goal: 0.7, ok: true, part: 8, whole: 10 } } },
    against: { events: 100, outcomes: { pass: 95, reject: 5 }, targets: { catch_rate: { value: 0.5, goal: 0.7, ok: false, part: 5, whole: 10 } } } },
  'POST /policy/publish': { version: 4 },
  'POST /policy/rollback': { version: 5 },
});

async function open(me = ADMIN, extra = {}) {
  const server = fakeServer(routes());
  const page = policyPage(await pageCtx(server, me, extra));
  document.body.appendChild(page.el);
  await page.ready;
  return { server, page };
}

test('shows a file list and a textarea per file; versions with notes as text', async () => {
  const { page } = await open();
  assert.ok(byTestId(page.el, 'policy-file-strategy.yaml'));
  assert.ok(byTestId(page.el, 'policy-file-rules/loan.yaml'));
  assert.equal(byTestId(page.el, 'policy-text-strategy.yaml').value, 'name: demo\n');
  byTestId(page.el, 'policy-file-strategy.yaml').click();
  assert.equal(byTestId(page.el, 'policy-text-strategy.yaml').parentElement.hidden, false);
  assert.equal(byTestId(page.el, 'policy-text-rules/loan.yaml').parentElement.hidden, true);
  assert.ok(byTestId(page.el, 'policy-version-3').textContent.includes('<b>third</b>'));
  assert.equal(page.el.querySelectorAll('b').length, 0);
  byTestId(page.el, 'policy-open-2').click();
  await settle();
  assert.equal(byTestId(page.el, 'policy-text-strategy.yaml').value, 'old\n');
  page.el.remove();
});

test('validate sends the edited files and shows a 422 next to the file', async () => {
  const { server, page } = await open();
  byTestId(page.el, 'policy-text-rules/loan.yaml').value = 'oops';
  byTestId(page.el, 'policy-validate').click();
  await settle();
  const post = server.calls.find((c) => c.path === '/policy/validate');
  assert.deepEqual(post.body.files, { 'strategy.yaml': 'name: demo\n', 'rules/loan.yaml': 'oops' });
  assert.match(byTestId(page.el, 'policy-error').textContent, /does not compile/);
  assert.match(byTestId(page.el, 'policy-problems').textContent, /unknown variable x/);
  assert.ok(byTestId(page.el, 'policy-file-rules/loan.yaml').classList.contains('has-error'));
  assert.ok(!byTestId(page.el, 'policy-file-strategy.yaml').classList.contains('has-error'));
  byTestId(page.el, 'policy-text-rules/loan.yaml').value = 'rules: []\n';
  byTestId(page.el, 'policy-validate').click();
  await settle();
  assert.ok(byTestId(page.el, 'policy-valid'));
  byTestId(page.el, 'policy-diff').click();
  await settle();
  assert.equal(byTestId(page.el, 'policy-diff-text').querySelectorAll('.add').length, 2);
  page.el.remove();
});

test('backtest shows edited and live side by side, with a bar chart of outcomes', async () => {
  let option = null;
  const charts = { create: () => ({ set: (o) => { option = o; }, dispose() {} }) };
  const { server, page } = await open(ADMIN, { charts });
  byTestId(page.el, 'policy-backtest').click();
  await settle();
  const post = server.calls.find((c) => c.path === '/policy/backtest');
  assert.equal(post.body.customers, 2000);
  assert.equal(post.body.days, 2);
  const targets = byTestId(page.el, 'backtest-targets').textContent;
  assert.ok(targets.includes('catch_rate') && targets.includes('0.8 (8/10)') && targets.includes('0.5 (5/10)'), targets);
  assert.deepEqual(option.xAxis.data, ['pass', 'reject']);
  assert.deepEqual(option.series.map((s) => s.data), [[90, 10], [95, 5]]);
  assert.equal(option.series[0].type, 'bar');
  page.el.remove();
});

test('publish asks for a note in a confirmation dialog first; cancel publishes nothing', async () => {
  const { server, page } = await open();
  byTestId(page.el, 'policy-publish').click();
  await settle();
  assert.ok(dialog(document));
  assert.ok(byTestId(document, 'publish-note'));
  assert.equal(server.calls.filter((c) => c.path === '/policy/publish').length, 0);
  byTestId(document, 'confirm-cancel').click();
  await settle();
  assert.equal(server.calls.filter((c) => c.path === '/policy/publish').length, 0);

  byTestId(page.el, 'policy-publish').click();
  await settle();
  byTestId(document, 'confirm-ok').click(); // an empty note is refused
  await settle();
  assert.ok(dialog(document), 'the dialog stays open without a note');
  assert.equal(server.calls.filter((c) => c.path === '/policy/publish').length, 0);
  byTestId(document, 'publish-note').value = 'lower the review threshold';
  byTestId(document, 'confirm-ok').click();
  await settle();
  const post = server.calls.find((c) => c.path === '/policy/publish');
  assert.deepEqual(post.body, { files: FILES, note: 'lower the review threshold' });
  assert.equal(post.headers['X-CSRF-Token'], ADMIN.csrf);
  assert.ok([...document.querySelectorAll('[data-testid="toast"]')].some((t) => t.textContent.includes('Published version 4')));

  byTestId(page.el, 'policy-rollback').click();
  await settle();
  assert.equal(server.calls.filter((c) => c.path === '/policy/rollback').length, 0);
  byTestId(document, 'confirm-ok').click();
  await settle();
  assert.deepEqual(server.calls.find((c) => c.path === '/policy/rollback').body, {});
  page.el.remove();
});

test('without policy:write: no backtest, publish or rollback buttons, read-only text', async () => {
  const { page } = await open(ME);
  assert.equal(byTestId(page.el, 'policy-publish'), null);
  assert.equal(byTestId(page.el, 'policy-rollback'), null);
  assert.equal(byTestId(page.el, 'policy-backtest'), null);
  assert.ok(byTestId(page.el, 'policy-validate'));
  assert.equal(byTestId(page.el, 'policy-text-strategy.yaml').hasAttribute('readonly'), true);
  page.el.remove();
});

test('lists: add shows per-field messages; remove confirms and DELETEs the entry', async () => {
  const server = fakeServer({
    'GET /lists': { entries: [{ list_type: 'black', entity: 'phone', value: '13800000000', reason: 'x', source: 'console', expires_at: null }] },
    'POST /lists': [422, { error: { code: 'invalid_body', message: 'bad entry', detail: [{ field: 'entries.0.value', message: 'must be a real value' }] } }],
    'DELETE /lists/black/phone/13800000000': { removed: 1 },
  });
  const page = listsPage(await pageCtx(server), parseHash('#/lists'));
  document.body.appendChild(page.el);
  await page.ready;
  assert.deepEqual(server.calls[0].query, { list_type: 'black' });
  byTestId(page.el, 'list-add-form').dispatchEvent(new document.defaultView.Event('submit', { cancelable: true }));
  await settle();
  assert.equal(page.el.querySelector('[data-error-for="value"]').textContent, 'must be a real value');
  assert.match(byTestId(page.el, 'list-add-error').textContent, /bad entry/);
  byTestId(page.el, 'list-remove-phone-13800000000').click();
  await settle();
  assert.equal(server.calls.filter((c) => c.method === 'DELETE').length, 0);
  byTestId(document, 'confirm-ok').click();
  await settle();
  const del = server.calls.find((c) => c.method === 'DELETE');
  assert.equal(del.path, '/lists/black/phone/13800000000');
  assert.equal(del.headers['X-CSRF-Token'], ME.csrf);
  page.el.remove();
});
