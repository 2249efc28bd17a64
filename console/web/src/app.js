// The console shell: sign-in, the top bar and left navigation, and hash routing to the pages.
import { h, replace } from './h.js';
import { createApi } from './api.js';
import { href, parseHash } from './router.js';
import { FORBIDDEN, errorMessage, field, reportError, toast } from './ui.js';
import { decisionsPage } from './pages/decisions.js';
import { casePage, casesPage } from './pages/cases.js';
import { customerPage } from './pages/customer.js';
import { ringPage, ringsPage } from './pages/rings.js';
import { policyPage } from './pages/policy.js';
import { listsPage } from './pages/lists.js';
import { auditPage } from './pages/audit.js';

export const NAV = [
  ['decisions', 'Decisions', 'console:read'],
  ['cases', 'Cases', 'console:read'],
  ['rings', 'Rings', 'console:read'],
  ['policy', 'Policy', 'console:read'],
  ['lists', 'Lists', 'console:read'],
  ['audit', 'Audit', 'audit:read'],
];

const PAGES = {
  decisions: [decisionsPage, 'console:read', 'decisions'],
  cases: [casesPage, 'console:read', 'cases'],
  case: [casePage, 'console:read', 'cases'],
  customer: [customerPage, 'console:read', null],
  rings: [ringsPage, 'console:read', 'rings'],
  ring: [ringPage, 'console:read', 'rings'],
  policy: [policyPage, 'console:read', 'policy'],
  lists: [listsPage, 'console:read', 'lists'],
  audit: [auditPage, 'audit:read', 'audit'],
};

/**
 * createApp({root, window, fetch, api, charts, graph, setTimeout, clearTimeout}).
 * `charts.create(el)` → {set(option), dispose()} and `graph(el, elements, opts)` → {destroy()}
 * are injected (main.js passes ECharts and Cytoscape; tests pass stand-ins).
 */
export function createApp({ root, window: win = globalThis.window, fetch, api, charts = null, graph = null,
  setTimeout: st = globalThis.setTimeout.bind(globalThis), clearTimeout: ct = globalThis.clearTimeout.bind(globalThis) } = {}) {
  let me = null;
  let current = null; // the mounted page {el, dispose}
  const app = { me: null, page: null, route: null };

  api = api || createApi({ fetch, onUnauthorized: () => signedOut('Your session has ended: sign in again.') });

  const ctx = {
    api, charts, graph, setTimeout: st, clearTimeout: ct,
    get me() { return me; },
    can: (perm) => Boolean(me && (me.permissions || []).includes(perm)),
    navigate: (hash) => { if (win.location.hash === hash) route(); else win.location.hash = hash; },
  };

  function unmount() {
    if (current && current.dispose) {
      try { current.dispose(); } catch (e) { /* a page that fails to clean up must not stop navigation */ }
    }
    current = null;
    app.page = null;
  }

  function signedOut(message) {
    me = null;
    app.me = null;
    unmount();
    showSignin(message);
  }

  function showSignin(message) {
    const tenant = h('input', { type: 'text', name: 'tenant', autocomplete: 'organization', required: true,
      'data-testid': 'signin-tenant', value: win.localStorage?.getItem('tw-console-tenant') || '' });
    const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, 'data-testid': 'signin-username' });
    const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'signin-password' });
    const error = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'signin-error' }, message || '');
    const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'signin-submit' }, 'Sign in');
    const form = h('form', { class: 'signin panel', 'aria-labelledby': 'signin-title', 'data-testid': 'signin-form' },
      h('h1', { id: 'signin-title' }, '天网 console'),
      h('p', { class: 'muted' }, 'Sign in to review decisions, work cases and manage the policy.'),
      field('Tenant', tenant, 'tenant'), field('User name', username, 'username'), field('Password', password, 'password'),
      error, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.textContent = '';
      submit.disabled = true;
      try {
        await api.signin(tenant.value.trim(), username.value.trim(), password.value);
        try { win.localStorage?.setItem('tw-console-tenant', tenant.value.trim()); } catch { /* private mode */ }
        await loadMe();
        if (parseHash(win.location.hash).name === 'signin') win.location.hash = href('decisions');
        else route();
      } catch (err) {
        error.textContent = errorMessage(err);
        password.value = '';
      } finally {
        submit.disabled = false;
      }
    });
    replace(root, h('main', { class: 'signin-wrap', id: 'main' }, form));
    (tenant.value ? username : tenant).focus?.();
    app.route = { name: 'signin' };
  }

  async function loadMe() {
    me = await api.me();
    app.me = me;
    shell();
  }

  let mainEl = null;
  let navEl = null;

  function shell() {
    navEl = h('nav', { class: 'sidenav', 'aria-label': 'Sections' }, h('ul', null,
      NAV.filter(([, , perm]) => ctx.can(perm)).map(([name, label]) =>
        h('li', null, h('a', { href: href(name), 'data-nav': name, 'data-testid': `nav-${name}` }, label)))));
    mainEl = h('main', { id: 'main', class: 'main', tabindex: '-1' });
    replace(root,
      h('header', { class: 'topbar' },
        h('a', { href: '#/decisions', class: 'brand' }, '天网 console'),
        h('span', { class: 'spacer' }),
        h('span', { class: 'user', 'data-testid': 'current-user' }, `${me.username} · ${me.role} · ${me.tenant}`),
        h('button', { type: 'button', 'data-testid': 'signout', onclick: signout }, 'Sign out')),
      h('div', { class: 'body' }, navEl, mainEl));
  }

  async function signout() {
    try { await api.signout(); } catch (e) { if (e.status !== 401) reportError(e); }
    signedOut('Signed out.');
    win.location.hash = href('signin');
  }

  function route() {
    const r = parseHash(win.location.hash);
    app.route = r;
    if (!me) { signedOut(); return; }
    if (r.name === 'signin') { win.location.hash = href('decisions'); return; }
    unmount();
    const spec = PAGES[r.name];
    for (const a of navEl.querySelectorAll('a[data-nav]')) {
      if (spec && a.dataset.nav === spec[2]) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (!spec) {
      replace(mainEl, h('div', { class: 'page' }, h('h1', null, 'Not found'), h('p', null, 'There is no such page. '),
        h('a', { href: href('decisions') }, 'Go to the live decisions')));
      return;
    }
    const [factory, perm] = spec;
    if (!ctx.can(perm)) {
      replace(mainEl, h('div', { class: 'page' }, h('p', { class: 'error-box', role: 'alert', 'data-testid': 'page-error' }, FORBIDDEN)));
      return;
    }
    replace(mainEl); // mount first, so pages can measure their containers when their data arrives
    try {
      current = factory(ctx, r);
      app.page = current;
      mainEl.appendChild(current.el);
    } catch (e) {
      replace(mainEl, h('p', { class: 'error-box', role: 'alert' }, errorMessage(e)));
      toast(errorMessage(e), 'error');
    }
  }

  const onHash = () => { if (me) route(); };

  /** Stop listening and unmount the page (tests; a real page lives as long as the tab). */
  function stop() {
    win.removeEventListener('hashchange', onHash);
    unmount();
  }

  async function start() {
    win.addEventListener('hashchange', onHash);
    try {
      await loadMe();
    } catch (e) {
      if (e.status !== 401) signedOut(errorMessage(e));
      else if (app.route?.name !== 'signin') signedOut();
      return app;
    }
    route();
    return app;
  }

  Object.assign(app, { start, stop, route, ctx, api });
  return app;
}
