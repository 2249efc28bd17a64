// Black / grey / white lists: browse by type, add an entry, remove one.
import { h, replace } from '../h.js';
import { seg } from '../api.js';
import { href } from '../router.js';
import { LIST_ENTITIES, LIST_TYPES, badge, confirmDialog, errorBox, field, loading, reportError, select,
  showFieldErrors, table, toast, when } from '../ui.js';

export function listsPage(ctx, route) {
  const type = LIST_TYPES.includes(route.query.list_type) ? route.query.list_type : 'black';
  const body = h('div', null, loading());
  const write = ctx.can('lists:write');
  const el = h('div', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, 'Lists')),
    h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'List types' }, LIST_TYPES.map((t) =>
      h('a', { href: href('lists', null, { list_type: t }), role: 'tab', 'aria-selected': String(t === type),
        class: t === type ? 'tab active' : 'tab', 'data-testid': `lists-tab-${t}` }, `${t} list`))),
    write ? addForm() : null,
    h('section', { class: 'panel' }, body));

  function addForm() {
    const listType = select({ name: 'list_type', 'data-testid': 'list-add-type' }, LIST_TYPES, type);
    const entity = select({ name: 'entity', 'data-testid': 'list-add-entity' }, LIST_ENTITIES, 'phone');
    const value = h('input', { type: 'text', name: 'value', 'data-testid': 'list-add-value', required: true, maxlength: 256 });
    const reason = h('input', { type: 'text', name: 'reason', 'data-testid': 'list-add-reason' });
    const form = h('form', { class: 'panel form inline-form', 'data-testid': 'list-add-form', 'aria-label': 'Add a list entry' },
      h('h2', null, 'Add an entry'),
      h('div', { class: 'row' }, field('List', listType, 'list_type'), field('Entity', entity, 'entity'),
        field('Value', value, 'value'), field('Reason', reason, 'reason'),
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'list-add-submit' }, 'Add')),
      h('div', { class: 'form-error', role: 'alert', 'data-testid': 'list-add-error' }));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const formError = form.querySelector('.form-error');
      formError.textContent = '';
      showFieldErrors(form, { detail: [] });
      try {
        await ctx.api.post('/lists', { entries: [{ list_type: listType.value, entity: entity.value, value: value.value, reason: reason.value }] });
        toast(`Added to the ${listType.value} list`);
        value.value = '';
        reason.value = '';
        await load();
      } catch (err) {
        const rest = showFieldErrors(form, err);
        formError.textContent = [err.status === 403 ? 'Your role may not do this.' : err.message,
          ...rest.map((d) => `${d.field}: ${d.message}`)].join(' · ');
        if (err.status !== 422) reportError(err);
      }
    });
    return form;
  }

  async function remove(entry) {
    const ok = await confirmDialog({ title: 'Remove a list entry',
      message: `Remove ${entry.entity} ${entry.value} from the ${entry.list_type} list?`, okLabel: 'Remove', danger: true });
    if (!ok) return;
    try {
      await ctx.api.del(`/lists/${seg(entry.list_type)}/${seg(entry.entity)}/${seg(entry.value)}`);
      toast('Removed');
      await load();
    } catch (e) {
      reportError(e);
    }
  }

  async function load() {
    try {
      const r = await ctx.api.get('/lists', { list_type: type });
      replace(body, table([
        { label: 'List', cell: (x) => badge(x.list_type, 'list') },
        { label: 'Entity', cell: (x) => x.entity ?? '' },
        { label: 'Value', cell: (x) => (x.entity === 'customer' ? h('a', { href: href('customer', x.value) }, x.value) : h('code', null, x.value ?? '')) },
        { label: 'Reason', cell: (x) => x.reason ?? '' },
        { label: 'Source', cell: (x) => x.source ?? '' },
        { label: 'Expires', cell: (x) => (x.expires_at ? when(x.expires_at) : 'never') },
        { label: '', cell: (x) => (write ? h('button', { type: 'button', class: 'small', 'aria-label': `Remove ${x.value}`,
          'data-testid': `list-remove-${x.entity}-${x.value}`, onclick: () => remove(x) }, 'Remove') : '') },
      ], r.entries || [], { testid: 'lists-table', empty: `The ${type} list is empty.` }));
    } catch (e) {
      reportError(e);
      replace(body, errorBox(e));
    }
  }

  const ready = load();
  return { el, ready };
}
