// The console's API client: JSON in and out, the session cookie, the CSRF header on changes.

export class ApiError extends Error {
  constructor(status, code, message, detail = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
  }

  get forbidden() { return this.status === 403; }
  get unauthorized() { return this.status === 401; }
}

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Encode one path segment (ids come from the server and may hold anything). */
export const seg = (s) => encodeURIComponent(String(s));

/**
 * createApi({fetch, base, onUnauthorized}):
 * - `X-CSRF-Token` on POST/DELETE (never on GET), from sign-in or /me;
 * - a 401 (other than a failed sign-in) calls onUnauthorized, which shows the sign-in page;
 * - failures throw ApiError with the server's {code, message, detail}.
 */
export function createApi({ fetch = globalThis.fetch?.bind(globalThis), base = '/console/api', onUnauthorized = () => {} } = {}) {
  let csrf = null;

  async function request(method, path, { query, body } = {}) {
    let url = base + path;
    if (query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.append(k, String(v));
      const s = qs.toString();
      if (s) url += '?' + s;
    }
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (CHANGES.has(method) && csrf) headers['X-CSRF-Token'] = csrf;
    let res;
    try {
      res = await fetch(url, {
        method, headers, credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'network', 'the server could not be reached');
    }
    let data = null;
    const raw = await res.text();
    if (raw) {
      try { data = JSON.parse(raw); } catch { data = null; }
    }
    if (!res.ok) {
      const e = (data && typeof data === 'object' && data.error) || {};
      const err = new ApiError(res.status, e.code || `http_${res.status}`,
        typeof e.message === 'string' && e.message ? e.message : `the request failed (HTTP ${res.status})`,
        Array.isArray(e.detail) ? e.detail : []);
      if (res.status === 401 && path !== '/signin') {
        csrf = null;
        onUnauthorized(err);
      }
      throw err;
    }
    return data;
  }

  const api = {
    get: (path, query) => request('GET', path, { query }),
    post: (path, body = {}) => request('POST', path, { body }),
    del: (path) => request('DELETE', path),
    get csrf() { return csrf; },
    setCsrf(token) { csrf = token || null; },
    async signin(tenant, username, password) {
      const r = await request('POST', '/signin', { body: { tenant, username, password } });
      csrf = r.csrf;
      return r;
    },
    async me() {
      const r = await request('GET', '/me');
      csrf = r.csrf;
      return r;
    },
    async signout() {
      try { await request('POST', '/signout', { body: {} }); } finally { csrf = null; }
    },
  };
  return api;
}
