// The API client: CSRF header on POST/DELETE only, 401 → sign-in, errors carry the server's detail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ME, dom, fakeServer, settle } from './helpers.js';
import { ApiError, createApi } from '../src/api.js';

test('the CSRF token goes on POST and DELETE, never on GET', async () => {
  const server = fakeServer({
    'POST /signin': { ...ME },
    'GET /cases': { items: [], next_after: null },
    'POST /cases/1/assign': { ok: true },
    'DELETE /lists/black/phone/123': { removed: 1 },
  });
  const api = createApi({ fetch: server.fetch });
  await api.signin('demo', 'ana', 'pw');
  assert.equal(server.calls[0].headers['X-CSRF-Token'], undefined, 'no token before sign-in');
  await api.get('/cases', { status: 'open', owner: undefined, limit: 50 });
  await api.post('/cases/1/assign', { owner: 'ana' });
  await api.del('/lists/black/phone/123');
  const [, get, post, del] = server.calls;
  assert.equal(get.headers['X-CSRF-Token'], undefined);
  assert.deepEqual(get.query, { status: 'open', limit: '50' });
  assert.equal(post.headers['X-CSRF-Token'], 'tok-123');
  assert.equal(post.headers['Content-Type'], 'application/json');
  assert.deepEqual(post.body, { owner: 'ana' });
  assert.equal(del.method, 'DELETE');
  assert.equal(del.headers['X-CSRF-Token'], 'tok-123');
});

test('GET /me refreshes the token', async () => {
  const server = fakeServer({ 'GET /me': { ...ME, csrf: 'fresh' }, 'POST /x': {} });
  const api = createApi({ fetch: server.fetch });
  await api.me();
  await api.post('/x', {});
  assert.equal(server.calls[1].headers['X-CSRF-Token'], 'fresh');
});

test('a 401 calls onUnauthorized (a failed sign-in does not) and forgets the token', async () => {
  let n = 0;
  const server = fakeServer({
    'POST /signin': [401, { error: { code: 'unauthenticated', message: 'wrong tenant, user name or password', detail: [] } }],
    'GET /cases': [401, { error: { code: 'unauthenticated', message: 'sign in first', detail: [] } }],
    'POST /x': {},
  });
  const api = createApi({ fetch: server.fetch, onUnauthorized: () => n++ });
  api.setCsrf('old');
  await assert.rejects(api.signin('demo', 'ana', 'bad'), (e) => e instanceof ApiError && e.status === 401 && /wrong tenant/.test(e.message));
  assert.equal(n, 0);
  await assert.rejects(api.get('/cases'), (e) => e.unauthorized);
  assert.equal(n, 1);
  await api.post('/x', {});
  assert.equal(server.calls.at(-1).headers['X-CSRF-Token'], undefined);
});

test('errors carry code, message and per-field detail; 403 is marked forbidden', async () => {
  const server = fakeServer({
    'POST /lists': [422, { error: { code: 'invalid_body', message: 'bad entries', detail: [{ field: 'entries.0.value', message: 'must be a real value' }] } }],
    'POST /policy/publish': [403, { error: { code: 'forbidden', message: 'needs policy:write', detail: [] } }],
    'GET /broken': [500, 'not json'],
  });
  const api = createApi({ fetch: server.fetch });
  await assert.rejects(api.post('/lists', { entries: [] }), (e) => e.status === 422 && e.code === 'invalid_body'
    && e.detail[0].field === 'entries.0.value');
  await assert.rejects(api.post('/policy/publish', {}), (e) => e.forbidden);
  await assert.rejects(api.get('/broken'), (e) => e.status === 500 && /HTTP 500/.test(e.message));
  const down = createApi({ fetch: async () => { throw new TypeError('failed'); } });
  await assert.rejects(down.get('/x'), (e) => e.status === 0 && e.code === 'network');
});

test('in the app, a 401 turns into the sign-in page', async () => {
  const { window, root } = dom('http://localhost:8000/console/#/cases');
  const { createApp } = await import('../src/app.js');
  let signedIn = false;
  const server = fakeServer({
    'GET /me': () => (signedIn ? { ...ME } : [401, { error: { code: 'unauthenticated', message: 'sign in', detail: [] } }]),
    'POST /signin': () => { signedIn = true; return { tenant: 'demo', username: 'ana', role: 'investigator', csrf: 'tok-123' }; },
    'GET /cases': () => (signedIn ? { items: [], next_after: null } : [401, { error: { code: 'unauthenticated', message: 'x' } }]),
  });
  const app = createApp({ root, window, fetch: server.fetch });
  await app.start();
  await settle();
  const q = (id) => root.querySelector(`[data-testid="${id}"]`);
  assert.ok(q('signin-username'), 'the sign-in page is shown');
  q('signin-tenant').value = 'demo';
  q('signin-username').value = 'ana';
  q('signin-password').value = 'secret';
  q('signin-form').dispatchEvent(new window.Event('submit', { cancelable: true }));
  await settle();
  assert.deepEqual(server.calls.find((c) => c.path === '/signin').body, { tenant: 'demo', username: 'ana', password: 'secret' });
  assert.equal(q('current-user').textContent, 'ana · investigator · demo');
  assert.ok(q('cases-table-empty'), 'the page asked for lands after sign-in');
  // the session ends: the next 401 shows the sign-in page again
  signedIn = false;
  window.location.hash = '#/cases?tab=closed';
  await settle();
  assert.ok(q('signin-form'));
  assert.match(q('signin-error').textContent, /session has ended/);
  window.close?.();
});
