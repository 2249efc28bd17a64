// The policy editor: the live version's files, validate / diff / backtest / publish / roll back.
import { h, replace } from '../h.js';
import { FORBIDDEN, confirmDialog, errorBox, errorMessage, json, kv, loading, reportError, section, table, toast,
  when } from '../ui.js';

export function policyPage(ctx) {
  const el = h('div', { class: 'page' }, loading());
  const state = { files: {}, version: null, selected: null, texts: {}, chart: null };
  const out = h('div', { class: 'policy-output', 'data-testid': 'policy-output', 'aria-live': 'polite' });
  const fileList = h('ul', { class: 'file-list', 'data-testid': 'policy-files' });
  const editors = h('div', { class: 'editors' });
  const write = ctx.can('policy:write');

  function files() {
    return Object.fromEntries(Object.entries(state.texts).map(([path, ta]) => [path, ta.value]));
  }

  function select(path) {
    state.selected = path;
    for (const [p, ta] of Object.entries(state.texts)) ta.parentElement.hidden = p !== path;
    for (const b of fileList.querySelectorAll('button')) b.setAttribute('aria-current', String(b.dataset.path === path));
  }

  function showFiles(version, fileMap) {
    state.version = version;
    state.texts = {};
    replace(fileList);
    replace(editors);
    for (const path of Object.keys(fileMap).sort()) {
      const ta = h('textarea', { class: 'code', spellcheck: 'false', wrap: 'off', rows: 28, readonly: !write,
        'data-testid': `policy-text-${path}`, 'aria-label': `Contents of ${path}`, value: fileMap[path] });
      state.texts[path] = ta;
      editors.appendChild(h('div', { class: 'editor', hidden: true }, h('div', { class: 'editor-head' }, h('code', null, path),
        h('span', { class: 'muted' }, ` · version ${version}`)), ta));
      fileList.appendChild(h('li', null, h('button', { type: 'button', class: 'file', 'data-path': path,
        'data-testid': `policy-file-${path}`, onclick: () => select(path) }, path)));
    }
    const first = Object.keys(state.texts).sort()[0];
    if (first) select(first);
  }

  function markFileErrors(detail) {
    for (const b of fileList.querySelectorAll('button')) {
      const path = b.dataset.path;
      const bad = (detail || []).some((d) => String(d.field ?? '').includes(path));
      b.classList.toggle('has-error', bad);
    }
  }

  function showProblem(title, err) {
    replace(out, h('h3', null, title), h('p', { class: 'error-box', role: 'alert', 'data-testid': 'policy-error' }, errorMessage(err)),
      (err.detail || []).length ? h('ul', { class: 'problems', 'data-testid': 'policy-problems' }, err.detail.map((d) =>
        h('li', null, h('code', null, String(d.field ?? '')), ': ', String(d.message ?? '')))) : null);
    markFileErrors(err.detail);
    if (err.status !== 401 && err.status !== 403 && err.status !== 422) reportError(err);
    if (err.status === 403) toast(FORBIDDEN, 'error');
  }

  async function run(button, title, fn) {
    button.disabled = true;
    replace(out, h('p', { class: 'loading', 'aria-busy': 'true' }, `${title}…`));
    try {
      await fn();
    } catch (e) {
      showProblem(`${title} failed`, e);
    } finally {
      button.disabled = false;
    }
  }

  const validateBtn = h('button', { type: 'button', 'data-testid': 'policy-validate', onclick: () => run(validateBtn, 'Validate', async () => {
    const r = await ctx.api.post('/policy/validate', { files: files() });
    markFileErrors([]);
    replace(out, h('h3', null, 'Valid'), h('p', { class: 'ok', 'data-testid': 'policy-valid' }, 'The edited policy is valid.'), json(r.summary ?? r));
  }) }, 'Validate');

  const diffBtn = h('button', { type: 'button', 'data-testid': 'policy-diff', onclick: () => run(diffBtn, 'Diff', async () => {
    const r = await ctx.api.post('/policy/diff', { files: files() });
    const lines = String(r.diff || '').split('\n');
    replace(out, h('h3', null, 'Changes against the live version'), r.diff ? h('pre', { class: 'diff', 'data-testid': 'policy-diff-text' },
      lines.map((l) => h('span', { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@') ? 'hunk' : '' }, l + '\n')))
      : h('p', { class: 'muted', 'data-testid': 'policy-diff-text' }, 'No changes.'));
  }) }, 'Diff');

  const backtestBtn = h('button', { type: 'button', 'data-testid': 'policy-backtest', onclick: () => run(backtestBtn, 'Backtest', async () => {
    const r = await ctx.api.post('/policy/backtest', { files: files(), customers: 2000, days: 2 });
    showBacktest(r);
  }) }, 'Backtest');

  const publishBtn = h('button', { type: 'button', class: 'primary', 'data-testid': 'policy-publish', onclick: () => publish() }, 'Publish…');
  const rollbackBtn = h('button', { type: 'button', class: 'danger', 'data-testid': 'policy-rollback', onclick: () => rollback() }, 'Roll back…');

  async function publish() {
    const values = await confirmDialog({
      title: 'Publish the edited policy',
      message: 'It becomes the live version at once, for every decision.',
      okLabel: 'Publish', fields: [{ name: 'note', label: 'What changes and why', kind: 'textarea', required: true, testid: 'publish-note' }],
    });
    if (!values) return null;
    try {
      const r = await ctx.api.post('/policy/publish', { files: files(), note: values.note });
      toast(`Published version ${r.version}`);
      await load();
      return r;
    } catch (e) {
      showProblem('Publish failed', e);
      return null;
    }
  }

  async function rollback() {
    const values = await confirmDialog({
      title: 'Roll back the policy', message: 'The previous version becomes live again, as a new version.',
      okLabel: 'Roll back', danger: true,
    });
    if (!values) return null;
    try {
      const r = await ctx.api.post('/policy/rollback', {});
      toast(`Rolled back: version ${r.version} is live`);
      await load();
      return r;
    } catch (e) {
      showProblem('Roll back failed', e);
      return null;
    }
  }

  function showBacktest(r) {
    const mine = r.figures || {};
    const live = r.against || {};
    const names = [...new Set([...Object.keys(mine.targets || {}), ...Object.keys(live.targets || {})])];
    const fig = (t) => (t ? `${fmt(t.value)}${t.part !== undefined ? ` (${t.part}/${t.whole})` : ''}` : '—');
    const okCell = (t) => (t ? h('span', { class: t.ok ? 'ok' : 'bad' }, t.ok ? 'met' : 'missed') : '—');
    const outcomes = [...new Set([...Object.keys(mine.outcomes || {}), ...Object.keys(live.outcomes || {})])];
    const chartEl = h('div', { class: 'chart', 'data-testid': 'backtest-chart', role: 'img', 'aria-label': 'Outcomes: edited vs live' });
    replace(out,
      h('h3', null, 'Backtest: edited vs live'),
      kv([
        ['Events', `edited ${mine.events ?? '—'} · live ${live.events ?? '—'}`],
        ['Reviews per day', `edited ${fmt(mine.review_per_day_mean)} · live ${fmt(live.review_per_day_mean)}`],
        ['Money protected (yuan)', `edited ${fmt(mine.money?.protected_yuan)} · live ${fmt(live.money?.protected_yuan)}`],
        ['Money at risk (yuan)', `edited ${fmt(mine.money?.at_risk_yuan)} · live ${fmt(live.money?.at_risk_yuan)}`],
      ]),
      table([
        { label: 'Target', cell: (n) => n },
        { label: 'Goal', cell: (n) => fmt((mine.targets?.[n] || live.targets?.[n])?.goal) },
        { label: 'Edited', cell: (n) => fig(mine.targets?.[n]), class: 'num' },
        { label: '', cell: (n) => okCell(mine.targets?.[n]) },
        { label: 'Live', cell: (n) => fig(live.targets?.[n]), class: 'num' },
        { label: '', cell: (n) => okCell(live.targets?.[n]) },
      ], names, { testid: 'backtest-targets', empty: 'No targets.' }),
      table([
        { label: 'Outcome', cell: (o) => o },
        { label: 'Edited', cell: (o) => String(mine.outcomes?.[o] ?? 0), class: 'num' },
        { label: 'Live', cell: (o) => String(live.outcomes?.[o] ?? 0), class: 'num' },
      ], outcomes, { testid: 'backtest-outcomes', empty: 'No outcomes.' }),
      chartEl);
    state.chart?.dispose();
    state.chart = ctx.charts && chartEl.isConnected ? ctx.charts.create(chartEl) : null;
    state.chart?.set({
      animation: false,
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 32, bottom: 28 },
      xAxis: { type: 'category', data: outcomes },
      yAxis: { type: 'value' },
      series: [
        { name: 'edited', type: 'bar', data: outcomes.map((o) => count(mine.outcomes?.[o])) },
        { name: 'live', type: 'bar', data: outcomes.map((o) => count(live.outcomes?.[o])) },
      ],
    });
  }

  async function load() {
    try {
      const [policy, current] = await Promise.all([ctx.api.get('/policy'), ctx.api.get('/policy/files')]);
      const liveInfo = policy.live || {};
      const versions = table([
        { label: 'Version', cell: (v) => String(v.version) },
        { label: 'Name', cell: (v) => v.name ?? '' },
        { label: 'Published', cell: (v) => when(v.published_at) },
        { label: 'By', cell: (v) => v.published_by ?? '' },
        { label: 'Note', cell: (v) => v.note ?? '' },
        { label: '', cell: (v) => h('button', { type: 'button', class: 'small', 'data-testid': `policy-open-${v.version}`,
          onclick: () => openVersion(v.version) }, 'Open') },
      ], policy.versions || [], { testid: 'policy-versions', rowAttrs: (v) => ({ 'data-testid': `policy-version-${v.version}` }) });
      replace(el,
        h('div', { class: 'page-head' }, h('h1', null, 'Policy'),
          h('div', { class: 'actions toolbar' }, validateBtn, diffBtn, write ? backtestBtn : null, write ? publishBtn : null,
            write ? rollbackBtn : null)),
        section('Live version', kv([
          ['Version', String(liveInfo.version ?? '—')], ['Name', liveInfo.name ?? '—'], ['Checksum', liveInfo.checksum ?? '—'],
          ['Published', `${when(liveInfo.published_at)} by ${liveInfo.published_by ?? '—'}`], ['Note', liveInfo.note ?? '—'],
        ]), liveInfo.summary ? h('details', null, h('summary', null, 'Summary'), json(liveInfo.summary)) : null),
        h('div', { class: 'policy-layout' },
          h('nav', { class: 'panel', 'aria-label': 'Policy files' }, h('h2', null, 'Files'), fileList),
          h('section', { class: 'panel editor-panel' }, editors)),
        section('Result', out),
        section('Versions', versions));
      showFiles(current.version ?? liveInfo.version, current.files || {});
    } catch (e) {
      reportError(e);
      replace(el, h('h1', null, 'Policy'), errorBox(e));
    }
  }

  async function openVersion(version) {
    try {
      const r = await ctx.api.get('/policy/files', { version });
      showFiles(r.version ?? version, r.files || {});
      toast(`Opened version ${r.version ?? version} in the editor`);
    } catch (e) {
      reportError(e);
    }
  }

  const ready = load();
  return { el, ready, publish, rollback, dispose: () => state.chart?.dispose() };
}

function fmt(v) {
  if (typeof v === 'number') return String(Math.round(v * 10000) / 10000);
  return v === undefined || v === null ? '—' : String(v);
}

function count(v) {
  return typeof v === 'number' ? v : (v && typeof v === 'object' && typeof v.count === 'number' ? v.count : 0);
}
