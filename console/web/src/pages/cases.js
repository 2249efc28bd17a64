// The case queue (tabs open / mine / investigating / closed) and one case.
import { h, replace } from '../h.js';
import { seg } from '../api.js';
import { href } from '../router.js';
import { FRAUD_TYPES, badge, confirmDialog, errorBox, field, kv, link, loading, reportError, score, section,
  select, showFieldErrors, table, toast, when } from '../ui.js';

const TABS = [
  ['open', 'Open', { status: 'open' }],
  ['mine', 'Mine', { owner: 'me' }],
  ['investigating', 'Investigating', { status: 'investigating' }],
  ['closed', 'Closed', { status: 'closed' }],
];

function subject(c) {
  if (c.subject_kind === 'ring') return link(href('ring', c.subject_id), `ring ${c.subject_id}`);
  return link(href('customer', c.subject_id), c.subject_id);
}

export function casesPage(ctx, route) {
  const tab = TABS.some((t) => t[0] === route.query.tab) ? route.query.tab : 'open';
  const query = TABS.find((t) => t[0] === tab)[2];
  const body = h('div', { 'data-testid': 'cases-body' }, loading());
  const more = h('button', { type: 'button', hidden: true, 'data-testid': 'cases-more', onclick: () => load() }, 'Load more');
  const el = h('div', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, 'Cases')),
    h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Case queues' }, TABS.map(([key, label]) =>
      h('a', { href: href('cases', null, { tab: key }), role: 'tab', 'aria-selected': String(key === tab),
        class: key === tab ? 'tab active' : 'tab', 'data-testid': `cases-tab-${key}` }, label))),
    h('section', { class: 'panel' }, body, more));

  const rows = [];
  let after = null;
  const columns = [
    { label: 'Case', cell: (c) => link(href('case', c.id), `#${c.id}`, { 'data-testid': `case-link-${c.id}` }) },
    { label: 'Subject', cell: subject },
    { label: 'Status', cell: (c) => badge(c.status, 'status') },
    { label: 'Owner', cell: (c) => c.owner || '—' },
    { label: 'Priority', cell: (c) => String(c.priority ?? '—'), class: 'num' },
    { label: 'Alerts', cell: (c) => String(c.alerts ?? 0), class: 'num' },
    { label: 'First', cell: (c) => when(c.first_at) },
    { label: 'Last', cell: (c) => when(c.last_at) },
    { label: '', cell: (c) => assignCell(c) },
  ];

  function assignCell(c) {
    if (!ctx.can('cases:work') || c.status === 'closed' || c.owner === ctx.me.username) return '';
    const btn = h('button', { type: 'button', class: 'small', 'data-testid': `case-assign-${c.id}`, onclick: async () => {
      btn.disabled = true;
      try {
        await ctx.api.post(`/cases/${seg(c.id)}/assign`, { owner: ctx.me.username });
        c.owner = ctx.me.username;
        toast(`Case #${c.id} assigned to you`);
        render();
      } catch (e) {
        btn.disabled = false;
        reportError(e);
      }
    } }, 'Assign to me');
    return btn;
  }

  function render() {
    replace(body, table(columns, rows, { testid: 'cases-table', empty: 'No cases in this queue.',
      rowAttrs: (c) => ({ 'data-testid': `case-row-${c.id}` }) }));
  }

  async function load() {
    try {
      const r = await ctx.api.get('/cases', { ...query, after, limit: 50 });
      rows.push(...(r.items || []));
      after = r.next_after ?? null;
      more.hidden = after === null;
      render();
    } catch (e) {
      reportError(e);
      replace(body, errorBox(e));
    }
  }
  const ready = load();
  return { el, ready };
}

export function casePage(ctx, route) {
  const id = route.id;
  const el = h('div', { class: 'page' }, loading());
  const path = `/cases/${seg(id)}`;

  async function load() {
    try {
      render(await ctx.api.get(path));
    } catch (e) {
      reportError(e);
      replace(el, h('h1', null, `Case #${id}`), errorBox(e));
    }
  }

  async function act(what, body, message) {
    try {
      const r = await ctx.api.post(`${path}/${what}`, body);
      toast(message);
      await load();
      return r;
    } catch (e) {
      reportError(e);
      throw e;
    }
  }

  function render(data) {
    const c = data.case || {};
    const work = ctx.can('cases:work');
    const closed = c.status === 'closed';
    const actions = [];
    if (work && c.owner !== ctx.me.username && !closed) {
      actions.push(h('button', { type: 'button', 'data-testid': 'case-assign-me',
        onclick: () => act('assign', { owner: ctx.me.username }, 'Assigned to you').catch(() => {}) }, 'Assign to me'));
    }
    if (work) {
      const st = select({ 'aria-label': 'Status', 'data-testid': 'case-status-select' },
        ['open', 'investigating', 'closed'], c.status);
      actions.push(h('span', { class: 'inline' }, st, h('button', { type: 'button', 'data-testid': 'case-status-set',
        onclick: () => act('status', { status: st.value }, `Status set to ${st.value}`).catch(() => {}) }, 'Set status')));
      if (!closed) {
        actions.push(h('button', { type: 'button', class: 'danger', 'data-testid': 'case-dispose',
          onclick: () => disposeCase() }, 'Dispose…'));
      }
    }

    const alerts = table([
      { label: 'Kind', cell: (a) => a.kind ?? '—' },
      { label: 'Source', cell: (a) => a.source ?? '—' },
      { label: 'Customer', cell: (a) => (a.customer_id ? link(href('customer', a.customer_id), a.customer_id) : '—') },
      { label: 'Ring', cell: (a) => (a.ring_id ? link(href('ring', a.ring_id), a.ring_id) : '—') },
      { label: 'Score', cell: (a) => score(a.score), class: 'num' },
      { label: 'Reason', cell: (a) => a.reason ?? '' },
      { label: 'At', cell: (a) => when(a.at) },
    ], data.alerts || [], { testid: 'case-alerts', empty: 'No alerts.' });

    const notes = h('ol', { class: 'notes', 'data-testid': 'case-notes' }, (data.notes || []).map((n) =>
      h('li', { class: `note note-${n.kind}` },
        h('div', { class: 'muted' }, `${when(n.at)} · ${n.author ?? ''} · ${n.kind ?? 'note'}`),
        h('div', { class: 'note-text' }, n.text ?? ''))));

    let noteForm = null;
    if (work) {
      const text = h('textarea', { name: 'text', rows: 3, 'data-testid': 'note-text', required: true });
      const kind = select({ name: 'kind', 'data-testid': 'note-kind' }, [['note', 'Note'], ['evidence', 'Evidence']], 'note');
      noteForm = h('form', { class: 'form', 'data-testid': 'note-form' },
        field('Add a note', text, 'text'), field('Kind', kind, 'kind'),
        h('button', { type: 'submit', 'data-testid': 'note-submit' }, 'Add note'));
      noteForm.addEventListener('submit', async (e) => {
        e.preventDefault();
        if (!text.value.trim()) { showFieldErrors(noteForm, { detail: [{ field: 'text', message: 'write something first' }] }); return; }
        try {
          await ctx.api.post(`${path}/notes`, { text: text.value, kind: kind.value });
          toast('Note added');
          await load();
        } catch (err) {
          showFieldErrors(noteForm, err);
          reportError(err);
        }
      });
    }

    const held = table([
      { label: 'Event', cell: (x) => h('code', null, x.event_id ?? '') },
      { label: 'Customer', cell: (x) => (x.customer_id ? link(href('customer', x.customer_id), x.customer_id) : '—') },
      { label: 'Scene', cell: (x) => x.scene ?? '—' },
      { label: 'Held as', cell: (x) => badge(x.held_outcome) },
      { label: 'Until', cell: (x) => when(x.delay_until) },
    ], data.held || [], { testid: 'case-held', empty: 'No held events.' });

    replace(el,
      h('div', { class: 'page-head' }, h('h1', null, `Case #${c.id ?? id}`), badge(c.status, 'status'),
        h('div', { class: 'actions' }, actions)),
      section('Summary', kv([
        ['Subject', subject(c)], ['Owner', c.owner || 'unassigned'], ['Priority', String(c.priority ?? '—')],
        ['Alerts', String(c.alerts ?? (data.alerts || []).length)], ['First', when(c.first_at)], ['Last', when(c.last_at)],
        c.disposition ? ['Disposition', `${c.disposition}${c.fraud_type ? ` (${c.fraud_type})` : ''}`] : null,
      ])),
      section('Alerts', alerts),
      section('Customers', h('ul', { class: 'chips' }, (data.customers || []).map((cid) =>
        h('li', null, link(href('customer', cid), cid))))),
      data.ring ? section('Ring', h('p', null, link(href('ring', data.ring.id), `Ring ${data.ring.id}`),
        ` · ${(data.ring.members || []).length} members`)) : null,
      section('Held events', held),
      section('Notes', notes, noteForm));
  }

  async function disposeCase() {
    const values = await confirmDialog({
      title: `Dispose case #${id}`,
      message: 'Closing the case labels its events; fraud rejects the held applications and drawdowns.',
      okLabel: 'Dispose', danger: true,
      fields: [
        { name: 'disposition', label: 'Disposition', kind: 'select', options: [['fraud', 'Fraud'], ['not_fraud', 'Not fraud']], value: 'fraud', testid: 'dispose-disposition' },
        { name: 'fraud_type', label: 'Fraud type (for fraud)', kind: 'select', options: FRAUD_TYPES, value: FRAUD_TYPES[0], testid: 'dispose-fraud-type' },
        { name: 'note', label: 'Note', kind: 'textarea', testid: 'dispose-note' },
      ],
    });
    if (!values) return null;
    const body = { disposition: values.disposition, note: values.note };
    if (values.disposition === 'fraud') body.fraud_type = values.fraud_type;
    return act('dispose', body, `Case #${id} disposed as ${values.disposition}`).catch(() => null);
  }

  const ready = load();
  // Not `dispose`: the router calls a page's dispose() when it leaves it.
  return { el, ready, disposeCase };
}

