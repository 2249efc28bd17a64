// Hash routes: #/decisions, #/cases, #/cases/12, #/customers/c-42, #/rings, #/rings/R000001,
// #/policy, #/lists, #/audit, #/signin. A query after `?` goes to `query`.

const ROUTES = [
  [/^\/?$/, 'decisions'],
  [/^\/decisions$/, 'decisions'],
  [/^\/cases$/, 'cases'],
  [/^\/cases\/([^/]+)$/, 'case'],
  [/^\/customers\/([^/]+)$/, 'customer'],
  [/^\/rings$/, 'rings'],
  [/^\/rings\/([^/]+)$/, 'ring'],
  [/^\/policy$/, 'policy'],
  [/^\/lists$/, 'lists'],
  [/^\/audit$/, 'audit'],
  [/^\/signin$/, 'signin'],
];

function decode(s) {
  try { return decodeURIComponent(s); } catch { return s; }
}

/** parseHash('#/cases/12?x=1') → {name: 'case', id: '12', query: {x: '1'}, path: '/cases/12'} */
export function parseHash(hash) {
  let s = String(hash || '').replace(/^#/, '');
  let query = {};
  const q = s.indexOf('?');
  if (q >= 0) {
    query = Object.fromEntries(new URLSearchParams(s.slice(q + 1)));
    s = s.slice(0, q);
  }
  for (const [re, name] of ROUTES) {
    const m = re.exec(s);
    if (m) return { name, id: m[1] === undefined ? null : decode(m[1]), query, path: s || '/' };
  }
  return { name: 'notfound', id: null, query, path: s };
}

/** The hash of a page: href('case', 12) → '#/cases/12'. */
export function href(name, id, query) {
  const base = {
    decisions: '#/decisions', cases: '#/cases', case: '#/cases/', customer: '#/customers/', rings: '#/rings',
    ring: '#/rings/', policy: '#/policy', lists: '#/lists', audit: '#/audit', signin: '#/signin',
  }[name];
  if (base === undefined) throw new Error(`href: no page ${name}`);
  let out = base.endsWith('/') ? base + encodeURIComponent(String(id)) : base;
  if (query) {
    const qs = new URLSearchParams(query).toString();
    if (qs) out += '?' + qs;
  }
  return out;
}
