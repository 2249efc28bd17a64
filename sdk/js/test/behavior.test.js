import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Behavior, stats, straightness } from '../src/index.js';

test('stats: mean and standard deviation', () => {
  assert.deepEqual(stats([]), { n: 0, mean: null, sd: null });
  const s = stats([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(s.mean, 5);
  assert.equal(s.sd, 2);
});

test('straightness: 1 for a straight path, low for a zig-zag', () => {
  const straight = Array.from({ length: 11 }, (_, i) => ({ x: i * 10, y: i * 5 }));
  assert.equal(straightness(straight), 1);
  const zig = Array.from({ length: 11 }, (_, i) => ({ x: i * 10, y: i % 2 ? 50 : 0 }));
  const z = straightness(zig);
  assert.ok(z > 0 && z < 0.3, String(z));
  assert.equal(straightness([{ x: 1, y: 1 }]), null);
  assert.equal(straightness([{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 0, y: 0 }]), 0);
});

test('mouse summary: straight vs zig-zag strokes, distance and speed', () => {
  const a = new Behavior();
  for (let i = 0; i <= 10; i++) a.move(i * 10, 0, 1000 + i * 10); // 100 px in 100 ms
  const sa = a.summary().mouse;
  assert.equal(sa.moves, 11);
  assert.equal(sa.distance, 100);
  assert.equal(sa.straightness, 1);
  assert.equal(sa.speed_mean, 1000); // px/s
  assert.equal(sa.speed_sd, 0);

  const b = new Behavior();
  for (let i = 0; i <= 10; i++) b.move(i * 10, i % 2 ? 40 : 0, 1000 + i * 10);
  const sb = b.summary().mouse;
  assert.ok(sb.straightness < 0.3, String(sb.straightness));
  assert.ok(sb.distance > 400);

  // a pause splits strokes: two straight strokes in different directions are still straight
  const c = new Behavior();
  for (let i = 0; i <= 5; i++) c.move(i * 10, 0, 1000 + i * 10);
  for (let i = 0; i <= 5; i++) c.move(50, i * 10, 5000 + i * 10);
  assert.equal(c.summary().mouse.straightness, 1);
});

test('key interval stats, long pauses and auto-repeat left out', () => {
  const b = new Behavior();
  for (const t of [0, 100, 300, 400, 600]) b.key(1000 + t, false); // intervals 100,200,100,200
  b.key(1000 + 600 + 10000, false); // a pause: not an interval
  b.key(1000 + 600 + 10050, true); // auto-repeat
  const k = b.summary().keys;
  assert.equal(k.count, 7);
  assert.equal(k.mean_ms, 150);
  assert.equal(k.sd_ms, 50);
  assert.deepEqual(new Behavior().summary().keys, { count: 0, mean_ms: null, sd_ms: null });
});

test('touch pressure and field times', () => {
  const b = new Behavior();
  b.touch(0.5); b.touch(0.7); b.touch(undefined);
  b.field('form#f > input', 1200); b.field('form#f > input', 300.4);
  const s = b.summary();
  assert.deepEqual(s.touch, { count: 3, mean_pressure: 0.6 });
  assert.deepEqual(s.fields, { 'form#f > input': 1500 });
  assert.deepEqual(Object.keys(s), ['keys', 'mouse', 'touch', 'fields']);
});
