// Live decisions: a table, newest on top (at most 500 rows), and decisions per minute by outcome.
import { h } from '../h.js';
import { DecisionFeed } from '../feed.js';
import { href } from '../router.js';
import { badge, link, score, tableRow, when, errorMessage } from '../ui.js';

const COLUMNS = [
  { label: 'Seq', cell: (d) => String(d.seq), class: 'num' },
  { label: 'Time', cell: (d) => when(d.occurred_at) },
  { label: 'Scene', cell: (d) => d.scene ?? '—' },
  { label: 'Customer', cell: (d) => (d.customer_id ? link(href('customer', d.customer_id), d.customer_id) : '—') },
  { label: 'Outcome', cell: (d) => badge(d.outcome) },
  { label: 'Score', cell: (d) => score(d.score), class: 'num' },
  { label: 'Reasons', cell: (d) => (d.reasons || []).join(', ') },
  { label: 'Strategy', cell: (d) => d.strategy_version ?? '—' },
  { label: 'Event', cell: (d) => h('code', null, d.event_id ?? '') },
];

export function decisionsPage(ctx) {
  const status = h('span', { class: 'muted', 'data-testid': 'decisions-status', 'aria-live': 'polite' }, 'connecting…');
  const chartEl = h('div', { class: 'chart', 'data-testid': 'decisions-chart', role: 'img',
    'aria-label': 'Decisions per minute by outcome' });
  const tbody = h('tbody', { 'data-testid': 'decisions-rows' });
  const pauseBtn = h('button', { type: 'button', 'data-testid': 'decisions-pause', onclick: () => toggle() }, 'Pause');
  const el = h('div', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, 'Live decisions'), status, pauseBtn),
    h('section', { class: 'panel' }, h('h2', null, 'Decisions per minute'), chartEl),
    h('section', { class: 'panel' },
      h('table', { class: 'grid', 'data-testid': 'decisions-table' },
        h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', { scope: 'col' }, c.label)))),
        tbody)));

  const chart = ctx.charts ? ctx.charts.create(chartEl) : null;
  const feed = new DecisionFeed({
    api: ctx.api, max: 500, setTimeout: ctx.setTimeout, clearTimeout: ctx.clearTimeout,
    onUpdate: (items) => {
      // Prepend the new rows (newest first) and drop those past the last 500.
      const frag = document.createDocumentFragment();
      for (let i = items.length - 1; i >= 0; i--) {
        frag.appendChild(tableRow(COLUMNS, items[i], (d) => ({ 'data-testid': `decision-row-${d.seq}` })));
      }
      tbody.insertBefore(frag, tbody.firstChild);
      while (tbody.children.length > feed.max) tbody.removeChild(tbody.lastChild);
      status.textContent = `${feed.rows.length} shown · last seq ${feed.lastSeq ?? '—'} · ${new Date().toLocaleTimeString()}`;
      if (chart && items.length) drawChart(chart, feed.chartData());
    },
    onError: (e) => { status.textContent = errorMessage(e); },
  });
  let paused = false;
  function toggle() {
    paused = !paused;
    pauseBtn.textContent = paused ? 'Resume' : 'Pause';
    if (paused) feed.stop(); else feed.start();
  }
  feed.start();
  if (chart) drawChart(chart, feed.chartData());
  return { el, feed, dispose: () => { feed.stop(); chart?.dispose(); } };
}

const COLOURS = { pass: '#2e7d32', review: '#1565c0', verify: '#6a1b9a', delay: '#ef6c00', reject: '#c62828' };

function drawChart(chart, { minutes, series }) {
  chart.set({
    animation: false,
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 32, bottom: 28 },
    xAxis: { type: 'category', data: minutes.map((m) => m.slice(11)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: Object.entries(series).map(([name, data]) => ({
      name, type: 'line', data, smooth: false, showSymbol: false, itemStyle: { color: COLOURS[name] },
    })),
  });
}

