// The decisions poller: after=last_seq, newest first, at most 500 rows, every 2 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecisionFeed } from '../src/feed.js';
import { settle } from './helpers.js';

function fakeDecisions() {
  let seq = 0;
  const asked = [];
  const api = {
    async get(path, query) {
      asked.push({ path, ...query });
      const after = query.after ?? 0;
      const items = [];
      // each poll: up to `limit` new decisions after `after`, newest ones invented on demand
      const n = Math.min(query.limit, 80);
      for (let i = 0; i < n; i++) {
        seq = Math.max(seq, after) + 1;
        items.push({ seq, event_id: `e${seq}`, scene: 'loan_apply', customer_id: `c-${seq % 7}`,
          occurred_at: new Date(Date.UTC(2026, 0, 1, 10, Math.floor(seq / 100))).toISOString(),
          outcome: seq % 5 ? 'pass' : 'reject', score: 0.1, reasons: [], strategy_version: 3 });
      }
      items.reverse(); // the order the server sends does not matter
      return { items, last_seq: seq };
    },
  };
  return { api, asked };
}

test('asks with after=last_seq, keeps at most 500 rows, newest first', async () => {
  const { api, asked } = fakeDecisions();
  const feed = new DecisionFeed({ api, max: 500 });
  await feed.poll();
  assert.equal(asked[0].after, undefined, 'the first poll asks for the newest');
  assert.equal(asked[0].limit, 100);
  assert.equal(feed.lastSeq, 80);
  for (let i = 0; i < 9; i++) await feed.poll();
  assert.equal(asked[1].after, 80);
  assert.equal(asked[9].after, 720);
  assert.equal(feed.rows.length, 500);
  assert.equal(feed.rows[0].seq, 800);
  assert.equal(feed.rows[499].seq, 301);
  for (let i = 1; i < feed.rows.length; i++) assert.ok(feed.rows[i - 1].seq > feed.rows[i].seq);
  const { minutes, series } = feed.chartData();
  assert.deepEqual(Object.keys(series), ['pass', 'reject']);
  const total = minutes.reduce((s, _, i) => s + series.pass[i] + series.reject[i], 0);
  assert.equal(total, 800, 'the per-minute counts cover every decision seen, not only the 500 rows');
});

test('repeats are ignored and an empty answer keeps last_seq', async () => {
  const replies = [
    { items: [{ seq: 5, outcome: 'pass' }, { seq: 4, outcome: 'pass' }], last_seq: 5 },
    { items: [{ seq: 5, outcome: 'pass' }], last_seq: 5 },
    { items: [], last_seq: 5 },
  ];
  const asked = [];
  const feed = new DecisionFeed({ api: { get: async (p, q) => { asked.push(q); return replies.shift(); } } });
  await feed.poll();
  await feed.poll();
  await feed.poll();
  assert.deepEqual(feed.rows.map((r) => r.seq), [5, 4]);
  assert.deepEqual(asked.map((q) => q.after), [undefined, 5, 5]);
});

test('start() polls every 2 s until stopped; a 401 stops it', async () => {
  const timers = [];
  const asked = [];
  let fail = false;
  const api = { get: async (p, q) => { asked.push(q); if (fail) throw Object.assign(new Error('x'), { status: 401 }); return { items: [], last_seq: 9 }; } };
  const updates = [];
  const feed = new DecisionFeed({ api, setTimeout: (f, ms) => { timers.push({ f, ms }); return timers.length; },
    clearTimeout: () => {}, onUpdate: (items) => updates.push(items.length) });
  feed.start();
  await settle();
  assert.equal(asked.length, 1);
  assert.equal(timers.at(-1).ms, 2000);
  timers.at(-1).f();
  await settle();
  assert.equal(asked.length, 2);
  assert.equal(asked[1].after, 9);
  fail = true;
  timers.at(-1).f();
  await settle();
  assert.equal(feed.running, false);
  assert.equal(timers.length, 2, 'no further poll after a 401');
  feed.stop();
});
