// Shared pieces of the UI: toasts, the confirmation dialog, error display, tables, formatting.
import { h, replace } from './h.js';

export const FRAUD_TYPES = ['identity_theft', 'intermediary', 'forged_info', 'multi_borrowing', 'batch_attack',
  'far_from_home', 'abnormal_consumption', 'cash_out', 'telecom_scam', 'account_takeover'];
export const LIST_TYPES = ['black', 'grey', 'white'];
export const LIST_ENTITIES = ['phone', 'id_number', 'card', 'email', 'device', 'ip', 'ip_prefix', 'customer',
  'gps_cell', 'employer', 'merchant', 'institution'];
export const FORBIDDEN = 'Your role may not do this.';

/** Show a short message in the toast area (role=status, so screen readers read it). */
export function toast(message, kind = 'info', { timeout = 5000 } = {}) {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite' });
    document.body.appendChild(box);
  }
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': 'toast' },
    h('span', null, message),
    h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: () => el.remove() }, '×'));
  box.appendChild(el);
  if (timeout) {
    const t = setTimeout(() => el.remove(), timeout);
    t?.unref?.(); // (under node's test runner: do not hold the process open)
  }
  return el;
}

/** The message for an error: 403 → the role message, otherwise the server's message. */
export function errorMessage(err) {
  if (err && err.status === 403) return FORBIDDEN;
  return (err && err.message) || String(err);
}

/** Report a failed request as a toast (401 is handled by the app: it shows the sign-in page). */
export function reportError(err) {
  if (err && err.status === 401) return;
  toast(errorMessage(err), 'error');
}

/** An error box in a page. */
export function errorBox(err) {
  return h('div', { class: 'error-box', role: 'alert', 'data-testid': 'page-error' }, errorMessage(err));
}

/**
 * Show per-field messages from an error's detail next to the form's fields: a field's message goes
 * in the element `[data-error-for=<name>]`; `name` matches the detail's field or its last part
 * (`entries.0.value` → `value`). Returns the messages that found no field.
 */
export function showFieldErrors(form, err) {
  for (const el of form.querySelectorAll('[data-error-for]')) el.textContent = '';
  const rest = [];
  for (const d of (err && err.detail) || []) {
    const field = String(d.field ?? '');
    const parts = field.split(/[.[\]]+/).filter(Boolean);
    let target = null;
    for (const name of [field, parts[parts.length - 1]]) {
      if (!name) continue;
      target = [...form.querySelectorAll('[data-error-for]')].find((e) => e.getAttribute('data-error-for') === name);
      if (target) break;
    }
    if (target) target.textContent = String(d.message ?? '');
    else rest.push(d);
  }
  return rest;
}

/** A labelled form field with its error slot. */
export function field(label, control, name) {
  const id = control.id || `f-${name}-${Math.random().toString(36).slice(2, 8)}`;
  control.id = id;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    h('div', { class: 'field-error', 'data-error-for': name, 'aria-live': 'polite' }));
}

export function select(attrs, options, value) {
  return h('select', attrs, options.map((o) => {
    const [v, label] = Array.isArray(o) ? o : [o, o];
    return h('option', { value: v, selected: v === value }, label);
  }));
}

/**
 * A confirmation dialog. fields: [{name, label, kind: 'select'|'textarea'|'text', options, value,
 * required, testid}]. Resolves with the fields' values on OK, or null on cancel.
 */
export function confirmDialog({ title, message, fields = [], okLabel = 'Confirm', danger = false, validate }) {
  return new Promise((resolve) => {
    const prev = document.activeElement;
    const controls = {};
    const form = h('form', { class: 'dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'dialog-title',
      'data-testid': 'confirm-dialog', novalidate: undefined });
    const body = fields.map((f) => {
      const attrs = { name: f.name, 'data-testid': f.testid || `confirm-${f.name}` };
      let c;
      if (f.kind === 'select') c = select(attrs, f.options, f.value);
      else if (f.kind === 'textarea') c = h('textarea', { ...attrs, rows: 3, value: f.value || '' });
      else c = h('input', { ...attrs, type: 'text', value: f.value || '' });
      controls[f.name] = c;
      return field(f.label, c, f.name);
    });
    const done = (v) => {
      overlay.remove();
      document.removeEventListener('keydown', onKey);
      if (prev && prev.focus) prev.focus();
      resolve(v);
    };
    const onKey = (e) => { if (e.key === 'Escape') done(null); };
    replace(form,
      h('h2', { id: 'dialog-title' }, title),
      message ? h('p', null, message) : null,
      body,
      h('div', { class: 'dialog-error', role: 'alert', 'data-testid': 'confirm-error' }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', 'data-testid': 'confirm-cancel', onclick: () => done(null) }, 'Cancel'),
        h('button', { type: 'submit', class: danger ? 'danger' : 'primary', 'data-testid': 'confirm-ok' }, okLabel)));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const values = Object.fromEntries(Object.entries(controls).map(([k, c]) => [k, c.value]));
      for (const f of fields) {
        if (f.required && !String(values[f.name] || '').trim()) {
          form.querySelector(`[data-error-for="${f.name}"]`).textContent = 'required';
          return;
        }
      }
      const problem = validate ? validate(values) : null;
      if (problem) {
        form.querySelector('.dialog-error').textContent = problem;
        return;
      }
      done(values);
    });
    const overlay = h('div', { class: 'overlay' }, form);
    document.body.appendChild(overlay);
    document.addEventListener('keydown', onKey);
    const first = form.querySelector('select, textarea, input, button[type=submit]');
    if (first && first.focus) first.focus();
  });
}

/** A table: columns [{label, cell: (row) => node|string, class}], rows; rowAttrs(row) → attrs. */
export function table(columns, rows, { rowAttrs, empty = 'Nothing here.', testid } = {}) {
  if (!rows.length) return h('p', { class: 'empty', 'data-testid': testid ? `${testid}-empty` : undefined }, empty);
  return h('table', { class: 'grid', 'data-testid': testid },
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
    h('tbody', null, rows.map((r) => tableRow(columns, r, rowAttrs))));
}

export function tableRow(columns, r, rowAttrs) {
  return h('tr', rowAttrs ? rowAttrs(r) : null, columns.map((c) => h('td', { class: c.class }, c.cell(r))));
}

/** Key-value pairs as a <dl>. */
export function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v ?? '—')]));
}

export function section(title, ...children) {
  return h('section', { class: 'panel' }, h('h2', null, title), ...children);
}

/** Preformatted JSON, as text. */
export function json(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

export function when(at) {
  if (!at) return '—';
  const t = Date.parse(at);
  if (Number.isNaN(t)) return String(at);
  const d = new Date(t);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function badge(value, kind = 'outcome') {
  const v = value === null || value === undefined ? '—' : String(value);
  return h('span', { class: `badge ${kind}-${v.replace(/[^a-z0-9_-]/gi, '')}` }, v);
}

export function link(hash, label, attrs = {}) {
  return h('a', { href: hash, ...attrs }, label);
}

export function score(v) {
  return typeof v === 'number' ? (Math.round(v * 1000) / 1000).toString() : v ?? '—';
}

export function loading() {
  return h('p', { class: 'loading', 'aria-busy': 'true' }, 'Loading…');
}
