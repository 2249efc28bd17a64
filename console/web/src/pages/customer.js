// A customer: ring, neighbourhood graph, decisions, events, holds, list entries, devices.
import { h, replace } from '../h.js';
import { seg } from '../api.js';
import { href } from '../router.js';
import { neighbourhoodElements } from '../graph.js';
import { badge, errorBox, json, kv, link, loading, reportError, score, section, table, when } from '../ui.js';

export function customerPage(ctx, route) {
  const id = route.id;
  const el = h('div', { class: 'page' }, loading());
  let graph = null;

  async function load() {
    let data;
    try {
      data = await ctx.api.get(`/customers/${seg(id)}`);
    } catch (e) {
      reportError(e);
      replace(el, h('h1', null, `Customer ${id}`), errorBox(e));
      return;
    }
    const graphEl = h('div', { class: 'graph', 'data-testid': 'customer-graph', role: 'img',
      'aria-label': 'Customer neighbourhood: click a customer to open it' });
    const graphNote = h('p', { class: 'muted' });
    const events = h('div', null, (data.events || []).length ? (data.events || []).map((ev) =>
      h('details', { class: 'event' },
        h('summary', null, `${when(ev.occurred_at)} · ${ev.scene ?? ''} · `, h('code', null, ev.event_id ?? '')),
        json(ev.event ?? {}))) : h('p', { class: 'empty' }, 'No events.'));
    replace(el,
      h('div', { class: 'page-head' }, h('h1', null, `Customer ${data.customer_id ?? id}`)),
      section('Summary', kv([
        ['Ring', data.ring_id ? link(href('ring', data.ring_id), data.ring_id, { 'data-testid': 'customer-ring' }) : 'none'],
        ['Devices', (data.devices || []).length ? (data.devices || []).join(', ') : '—'],
      ])),
      section('Neighbourhood (2 hops)', graphEl, graphNote),
      section('Decisions', table([
        { label: 'Time', cell: (d) => when(d.occurred_at) },
        { label: 'Scene', cell: (d) => d.scene ?? '—' },
        { label: 'Outcome', cell: (d) => badge(d.outcome) },
        { label: 'Score', cell: (d) => score(d.score), class: 'num' },
        { label: 'Reasons', cell: (d) => (d.reasons || []).join(', ') },
        { label: 'Event', cell: (d) => h('code', null, d.event_id ?? '') },
      ], data.decisions || [], { testid: 'customer-decisions', empty: 'No decisions.' })),
      section('Held events', table([
        { label: 'Event', cell: (x) => h('code', null, x.event_id ?? '') },
        { label: 'Scene', cell: (x) => x.scene ?? '—' },
        { label: 'Held as', cell: (x) => badge(x.held_outcome ?? x.outcome) },
        { label: 'Until', cell: (x) => when(x.delay_until) },
      ], data.holds || [], { empty: 'Nothing held.' })),
      section('List entries', table([
        { label: 'List', cell: (x) => badge(x.list_type, 'list') },
        { label: 'Entity', cell: (x) => x.entity ?? '' },
        { label: 'Value', cell: (x) => h('code', null, x.value ?? '') },
        { label: 'Reason', cell: (x) => x.reason ?? '' },
      ], data.lists || [], { empty: 'On no list.' })),
      section('Events', events));

    try {
      const nb = await ctx.api.get(`/customers/${seg(id)}/neighbourhood`, { hops: 2 });
      const elements = neighbourhoodElements(nb);
      graphNote.textContent = `${(nb.nodes || []).length} nodes, ${(nb.edges || []).length} links${nb.truncated ? ' (truncated)' : ''}`;
      if (ctx.graph && el.isConnected) {
        graph = ctx.graph(graphEl, elements, { onCustomer: (cid) => ctx.navigate(href('customer', cid)) });
      }
    } catch (e) {
      if (e.status !== 401) graphNote.textContent = e.message;
    }
  }

  const ready = load();
  return { el, ready, dispose: () => graph?.destroy() };
}
