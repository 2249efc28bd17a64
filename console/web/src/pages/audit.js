// The audit log (admins): newest first, older pages with `before`.
import { h, replace } from '../h.js';
import { errorBox, loading, reportError, table, when } from '../ui.js';

export function auditPage(ctx) {
  const body = h('div', null, loading());
  const more = h('button', { type: 'button', hidden: true, 'data-testid': 'audit-more', onclick: () => load() }, 'Older entries');
  const el = h('div', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', null, 'Audit log')), h('section', { class: 'panel' }, body, more));
  const rows = [];
  let before = null;
  async function load() {
    try {
      const r = await ctx.api.get('/audit', { limit: 100, before });
      rows.push(...(r.items || []));
      before = r.next_before ?? null;
      more.hidden = before === null;
      replace(body, table([
        { label: 'Id', cell: (a) => String(a.id), class: 'num' },
        { label: 'At', cell: (a) => when(a.at) },
        { label: 'Actor', cell: (a) => a.actor ?? '' },
        { label: 'Action', cell: (a) => h('code', null, a.action ?? '') },
        { label: 'Target', cell: (a) => a.target ?? '' },
        { label: 'Detail', cell: (a) => h('span', { class: 'detail' }, a.detail && typeof a.detail === 'object' ? JSON.stringify(a.detail) : String(a.detail ?? '')) },
      ], rows, { testid: 'audit-table', empty: 'No entries.', rowAttrs: (a) => ({ 'data-testid': `audit-row-${a.id}` }) }));
    } catch (e) {
      reportError(e);
      replace(body, errorBox(e));
    }
  }
  const ready = load();
  return { el, ready };
}
