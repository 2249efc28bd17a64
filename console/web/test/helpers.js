// Shared test helpers: a happy-dom window installed as the globals the app uses, a fake API
// server behind a recording fetch, and a way to let promises settle.
import { Window } from 'happy-dom';

/** A fresh DOM; sets globalThis.window/document (the app's h() uses `document`). */
export function dom(url = 'http://localhost:8000/console/') {
  const window = new Window({ url, width: 1280, height: 800 });
  globalThis.window = window;
  globalThis.document = window.document;
  const root = window.document.createElement('div');
  root.id = 'app';
  window.document.body.appendChild(root);
  return { window, document: window.document, root };
}

/** Let promises and immediate tasks run. */
export async function settle(rounds = 20) {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 2)); // happy-dom fires hashchange on a timer
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/**
 * A fake server: routes {"GET /cases": (req) => body | [status, body]} keyed by method and path
 * (without the /console/api prefix and the query). Every call is recorded in `calls`.
 */
export function fakeServer(routes = {}) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const u = new URL(url, 'http://localhost:8000');
    const path = u.pathname.replace(/^\/console\/api/, '');
    const method = init.method || 'GET';
    const req = { method, path, query: Object.fromEntries(u.searchParams), headers: { ...(init.headers || {}) },
      body: init.body ? JSON.parse(init.body) : undefined, url: String(url) };
    calls.push(req);
    const handler = routes[`${method} ${path}`];
    let status = 200;
    let body;
    if (!handler) [status, body] = [404, { error: { code: 'not_found', message: `no fake route ${method} ${path}`, detail: [] } }];
    else {
      const out = typeof handler === 'function' ? await handler(req) : handler;
      if (Array.isArray(out) && typeof out[0] === 'number') [status, body] = out;
      else body = out;
    }
    const text = body === undefined ? '' : JSON.stringify(body);
    return { ok: status >= 200 && status < 300, status, text: async () => text };
  };
  return { fetch, calls, routes };
}

export const ME = { tenant: 'demo', username: 'ana', role: 'investigator', csrf: 'tok-123',
  permissions: ['console:read', 'cases:work', 'lists:write'] };
export const ADMIN = { tenant: 'demo', username: 'root', role: 'admin', csrf: 'tok-admin',
  permissions: ['audit:read', 'cases:work', 'console:read', 'lists:write', 'policy:write', 'users:manage'] };

export const HOSTILE = '<img src=x onerror=alert(1)>';

/** A page context as the app builds it, for testing one page on its own. */
export async function pageCtx(server, me = ME, extra = {}) {
  const { createApi } = await import('../src/api.js');
  const api = createApi({ fetch: server.fetch });
  api.setCsrf(me.csrf);
  const navigated = [];
  return {
    api, me, charts: null, graph: null, navigated,
    can: (p) => me.permissions.includes(p),
    navigate: (hash) => navigated.push(hash),
    setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (t) => clearTimeout(t),
    ...extra,
  };
}

/** Click the OK (or Cancel) button of the open confirmation dialog. */
export function dialog(document) {
  return document.querySelector('[data-testid="confirm-dialog"]');
}

export function byTestId(root, id) {
  return root.querySelector(`[data-testid="${id}"]`);
}
