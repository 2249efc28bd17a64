// Rings by risk, and the ring explorer: graph, members, shared entities, timeline, "mark ring fraud".
import { h, replace } from '../h.js';
import { seg } from '../api.js';
import { href } from '../router.js';
import { ringElements } from '../graph.js';
import { FRAUD_TYPES, badge, confirmDialog, errorBox, kv, link, loading, reportError, score, section, table, toast,
  when } from '../ui.js';

const pct = (v) => (typeof v === 'number' ? `${Math.round(v * 1000) / 10}%` : v ?? '—');

export function ringsPage(ctx) {
  const body = h('div', null, loading());
  const el = h('div', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', null, 'Rings')), h('section', { class: 'panel' }, body));
  async function load() {
    try {
      const r = await ctx.api.get('/rings', { limit: 50 });
      replace(body, table([
        { label: 'Ring', cell: (g) => link(href('ring', g.id), g.id) },
        { label: 'Size', cell: (g) => String(g.size ?? '—'), class: 'num' },
        { label: 'Risk', cell: (g) => score(g.risk), class: 'num' },
        { label: 'First seen', cell: (g) => when(g.first_seen) },
        { label: 'Changed', cell: (g) => when(g.changed_at) },
      ], r.rings || [], { testid: 'rings-table', empty: 'No rings.', rowAttrs: (g) => ({ 'data-testid': `ring-row-${g.id}` }) }));
    } catch (e) {
      reportError(e);
      replace(body, errorBox(e));
    }
  }
  const ready = load();
  return { el, ready };
}

export function ringPage(ctx, route) {
  const id = route.id;
  const el = h('div', { class: 'page' }, loading());
  let graph = null;

  async function load() {
    let ring;
    try {
      ring = await ctx.api.get(`/rings/${seg(id)}`);
    } catch (e) {
      reportError(e);
      replace(el, h('h1', null, `Ring ${id}`), errorBox(e));
      return;
    }
    if (ring.retired) {
      const r = ring.retired;
      replace(el, h('div', { class: 'page-head' }, h('h1', null, `Ring ${ring.id ?? id}`), badge('retired', 'status')),
        section('Retired', kv([['At', when(r.at)], ['Why', r.why ?? '—'],
          ['Into', r.into ? link(href('ring', r.into), r.into, { 'data-testid': 'ring-into' }) : '—']])));
      return;
    }
    const p = ring.profile || {};
    const result = h('div', { 'data-testid': 'ring-result', 'aria-live': 'polite' });
    const actions = [];
    if (ctx.can('cases:work')) {
      actions.push(h('button', { type: 'button', class: 'danger', 'data-testid': 'ring-mark-fraud',
        onclick: () => markFraud(result) }, 'Mark ring fraud…'));
    }
    const graphEl = h('div', { class: 'graph graph-large', 'data-testid': 'ring-graph', role: 'img',
      'aria-label': 'Ring members (circles) and shared entities (squares): click a customer to open it' });
    const known = new Set(['risk', 'devices', 'rejected_share', 'blacklisted_share', 'fraud_share']);
    replace(el,
      h('div', { class: 'page-head' }, h('h1', null, `Ring ${ring.id ?? id}`), h('div', { class: 'actions' }, actions)),
      result,
      h('div', { class: 'columns' },
        section('Profile', kv([
          ['Size', String(ring.size ?? (ring.members || []).length)], ['First seen', when(ring.first_seen)],
          ['Changed', when(ring.changed_at)], ['Risk', score(p.risk)], ['Devices', String(p.devices ?? '—')],
          ['Rejected', pct(p.rejected_share)], ['Blacklisted', pct(p.blacklisted_share)], ['Fraud', pct(p.fraud_share)],
          ...Object.entries(p).filter(([k]) => !known.has(k)).map(([k, v]) =>
            [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)]),
        ])),
        section('Timeline', h('ol', { class: 'timeline', 'data-testid': 'ring-timeline' }, (ring.timeline || []).map((t) =>
          h('li', null, h('span', { class: 'muted' }, when(t.at)), ' ', h('strong', null, t.what ?? ''), ' ',
            typeof t.detail === 'object' && t.detail !== null ? JSON.stringify(t.detail) : String(t.detail ?? '')))))),
      section('Graph', h('p', { class: 'muted legend' }, 'Circles: customers (red fraud/blacklisted, orange rejected/held, blue others). Squares: shared entities by kind.'), graphEl),
      section('Members', table([
        { label: 'Customer', cell: (m) => link(href('customer', m.customer_id), m.customer_id) },
        { label: 'Joined', cell: (m) => when(m.joined_at) },
        { label: 'Flags', cell: (m) => (m.flags || []).map((f) => badge(f, 'flag')) },
      ], ring.members || [], { testid: 'ring-members', rowAttrs: (m) => ({ 'data-testid': `ring-member-${m.customer_id}` }) })),
      section('Shared entities', table([
        { label: 'Kind', cell: (s) => s.kind ?? '' },
        { label: 'Value', cell: (s) => h('code', null, String(s.value ?? '')) },
        { label: 'Members', cell: (s) => (s.members || []).map((cid, i) => [i ? ', ' : '', link(href('customer', cid), cid)]) },
        { label: 'Degree', cell: (s) => String(s.degree ?? (s.members || []).length), class: 'num' },
        { label: 'Hub', cell: (s) => (s.hub ? 'yes' : '') },
      ], ring.shared || [], { testid: 'ring-shared' })));
    if (ctx.graph && el.isConnected) {
      graph = ctx.graph(graphEl, ringElements(ring), { onCustomer: (cid) => ctx.navigate(href('customer', cid)) });
    }
  }

  async function markFraud(result) {
    const values = await confirmDialog({
      title: `Mark ring ${id} fraud`,
      message: 'Every member is labelled fraud and their held applications and drawdowns are rejected.',
      okLabel: 'Mark fraud', danger: true,
      fields: [
        { name: 'fraud_type', label: 'Fraud type', kind: 'select', options: FRAUD_TYPES, value: 'intermediary', testid: 'ring-fraud-type' },
        { name: 'note', label: 'Note', kind: 'textarea', testid: 'ring-note' },
      ],
    });
    if (!values) return null;
    try {
      const r = await ctx.api.post(`/rings/${seg(id)}/disposition`, { disposition: 'fraud', fraud_type: values.fraud_type, note: values.note });
      const revised = r.revised || [];
      const msg = `${revised.length} held application${revised.length === 1 ? '' : 's'}/drawdown${revised.length === 1 ? '' : 's'} rejected`;
      toast(`Ring ${id} marked fraud: ${msg}`);
      replace(result, h('div', { class: 'notice', role: 'status' }, h('strong', null, msg),
        revised.length ? h('ul', { class: 'chips' }, revised.map((e) => h('li', null, h('code', null, e)))) : null));
      return r;
    } catch (e) {
      reportError(e);
      return null;
    }
  }

  const ready = load();
  return { el, ready, markFraud, dispose: () => graph?.destroy() };
}
