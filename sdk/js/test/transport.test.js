import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, settle, allEvents, blobJson } from './helpers.js';

const ENDPOINT = 'https://risk.example.cn';
const URL_ = ENDPOINT + '/v1/collect?site=demo';
const offlineSwitch = (w, online) => {
  Object.defineProperty(w.navigator, 'onLine', { get: () => online.value, configurable: true });
};

test('a batch goes when batchSize events are queued', async (t) => {
  const s = setup({ init: { batchSize: 5, flushMs: 2000 } });
  t.after(() => s.w.happyDOM.close());
  for (let i = 0; i < 3; i++) s.tw.track('e' + i);
  await settle();
  assert.equal(s.fetch.calls.length, 0); // page_view + 3
  s.tw.track('e3');
  await s.clock.tick(0);
  assert.equal(s.fetch.calls.length, 1);
  assert.deepEqual(s.fetch.calls[0].body.events.map((e) => e.type), ['page_view', 'custom', 'custom', 'custom', 'custom']);
  assert.equal(s.fetch.calls[0].url, URL_);
  const o = s.fetch.calls[0].opts;
  assert.equal(o.method, 'POST');
  assert.equal(o.keepalive, true);
  assert.equal(o.headers['Content-Type'], 'text/plain;charset=UTF-8');
});

test('a batch goes flushMs after the first queued event', async (t) => {
  const s = setup({ init: { flushMs: 2000 } });
  t.after(() => s.w.happyDOM.close());
  await s.clock.tick(1999);
  assert.equal(s.fetch.calls.length, 0);
  await s.clock.tick(1);
  assert.equal(s.fetch.calls.length, 1);
  s.tw.track('later');
  await s.clock.tick(2000);
  assert.equal(s.fetch.calls.length, 2);
  assert.deepEqual(s.fetch.calls[1].body.events.map((e) => e.name), ['later']);
});

test('flush() returns a promise that settles after delivery', async (t) => {
  const s = setup();
  t.after(() => s.w.happyDOM.close());
  const p = s.tw.flush();
  assert.ok(p instanceof Promise);
  await p;
  assert.equal(s.fetch.calls.length, 1);
  await s.tw.flush(); // nothing queued: no request
  assert.equal(s.fetch.calls.length, 1);
});

test('network errors and 5xx are retried with back-off 1s, 2s, 4s … (same batch_id)', async (t) => {
  const times = [];
  const s = setup({ plan: (n) => (n <= 3 ? (n === 2 ? 503 : 'neterr') : 200) });
  t.after(() => s.w.happyDOM.close());
  const origPush = s.fetch.calls.push.bind(s.fetch.calls);
  s.fetch.calls.push = (c) => { times.push(s.clock.t); return origPush(c); };
  const t0 = s.clock.t;
  s.tw.flush();
  await s.clock.tick(10000);
  assert.equal(s.fetch.calls.length, 4);
  assert.deepEqual(times.map((x) => x - t0), [0, 1000, 3000, 7000]);
  assert.equal(new Set(s.fetch.calls.map((c) => c.body.batch_id)).size, 1);
  assert.equal(s.w.localStorage.getItem('tw_q'), null);
});

test('at most 6 tries, then the events wait in the offline queue until back online', async (t) => {
  let fail = true;
  const s = setup({ plan: () => (fail ? 500 : 200) });
  t.after(() => s.w.happyDOM.close());
  s.tw.track('x');
  s.tw.flush();
  await s.clock.tick(60 * 60 * 1000);
  assert.equal(s.fetch.calls.length, 6);
  const q = JSON.parse(s.w.localStorage.getItem('tw_q'));
  assert.deepEqual(q.map((e) => e[2].type), ['page_view', 'custom']);
  fail = false;
  s.w.dispatchEvent(new s.w.Event('online'));
  await s.clock.tick(0);
  assert.equal(s.fetch.calls.length, 7);
  assert.deepEqual(s.fetch.calls[6].body.events.map((e) => e.type), ['page_view', 'custom']);
  assert.equal(s.w.localStorage.getItem('tw_q'), null);
});

test('4xx is not retried and the batch is dropped', async (t) => {
  const s = setup({ plan: () => 400 });
  t.after(() => s.w.happyDOM.close());
  s.tw.flush();
  await s.clock.tick(120000);
  assert.equal(s.fetch.calls.length, 1);
  assert.equal(s.w.localStorage.getItem('tw_q'), null);
});

test('offline: nothing is tried, the queue keeps the newest 500 events, sent in batches of ≤100 when online', async (t) => {
  const online = { value: false };
  const s = setup({ init: null });
  t.after(() => s.w.happyDOM.close());
  offlineSwitch(s.w, online);
  s.tw.init({ site: 'demo', endpoint: ENDPOINT, batchSize: 100 });
  for (let i = 0; i < 620; i++) s.tw.track('e', { i });
  await s.tw.flush();
  await s.clock.tick(10000);
  assert.equal(s.fetch.calls.length, 0);
  const q = JSON.parse(s.w.localStorage.getItem('tw_q'));
  assert.equal(q.length, 500);
  assert.equal(q[0][2].props.i, 120); // the oldest (page_view and i < 120) dropped
  assert.equal(q[499][2].props.i, 619);
  online.value = true;
  s.w.dispatchEvent(new s.w.Event('online'));
  await s.clock.tick(0);
  assert.deepEqual(s.fetch.calls.map((c) => c.body.events.length), [100, 100, 100, 100, 100]);
  assert.deepEqual(allEvents(s.fetch.calls).map((e) => e.props.i), Array.from({ length: 500 }, (_, i) => 120 + i));
  assert.equal(s.w.localStorage.getItem('tw_q'), null);
});

test('the offline queue left by an earlier page load is sent on init', async (t) => {
  const s = setup({ init: null });
  t.after(() => s.w.happyDOM.close());
  const ev = { type: 'custom', ts: 1, url: 'https://shop.example.cn/old', name: 'old', props: {} };
  s.w.localStorage.setItem('tw_q', JSON.stringify([['sess-old', 'cust-9', ev]]));
  s.tw.init({ site: 'demo', endpoint: ENDPOINT });
  await s.clock.tick(0);
  const old = s.fetch.calls.find((c) => c.body.session_id === 'sess-old');
  assert.ok(old);
  assert.equal(old.body.customer_id, 'cust-9');
  assert.deepEqual(old.body.events, [ev]);
});

test('device token: stored in localStorage and cookie, sent back; deviceId and onDevice', async (t) => {
  const s = setup();
  t.after(() => s.w.happyDOM.close());
  const seen = [];
  assert.equal(s.tw.deviceId(), null);
  s.tw.onDevice((id, info) => seen.push([id, info]));
  await s.tw.flush();
  assert.equal(s.fetch.calls[0].body.device.token, null);
  assert.equal(s.tw.deviceId(), 'dev-1');
  assert.deepEqual(seen, [['dev-1', { device_id: 'dev-1', token: 'tok-1', confidence: 0.97 }]]);
  assert.equal(s.w.localStorage.getItem('tw_dt'), 'tok-1');
  assert.match(s.w.document.cookie, /(^|; )tw_dt=tok-1/);
  s.tw.track('again');
  await s.tw.flush();
  assert.equal(s.fetch.calls[1].body.device.token, 'tok-1');
  // onDevice after the fact is called at once
  let late = null;
  s.tw.onDevice((id) => { late = id; });
  assert.equal(late, 'dev-1');
});

test('the token is read back from the cookie when localStorage lost it', async (t) => {
  const s = setup({ init: null });
  t.after(() => s.w.happyDOM.close());
  s.w.document.cookie = 'tw_dt=tok-from-cookie; Path=/';
  s.tw.init({ site: 'demo', endpoint: ENDPOINT });
  await s.tw.flush();
  assert.equal(s.fetch.calls[0].body.device.token, 'tok-from-cookie');
});

test('attributes go with the first batch of a page load and again only when they change', async (t) => {
  const s = setup();
  t.after(() => s.w.happyDOM.close());
  await s.tw.flush();
  assert.equal(typeof s.fetch.calls[0].body.device.attrs, 'object');
  assert.notEqual(s.fetch.calls[0].body.device.attrs, null);
  s.tw.track('b');
  await s.tw.flush();
  assert.equal(s.fetch.calls[1].body.device.attrs, null);
  Object.defineProperty(s.w.navigator, 'languages', { get: () => ['zh-CN', 'zh'], configurable: true });
  s.tw.track('c');
  await s.tw.flush();
  assert.deepEqual(s.fetch.calls[2].body.device.attrs.languages, ['zh-CN', 'zh']);
  s.tw.track('d');
  await s.tw.flush();
  assert.equal(s.fetch.calls[3].body.device.attrs, null);
});

test('attributes not taken by the server (5xx, then given up) are sent again', async (t) => {
  let n = 0;
  const s = setup({ plan: () => (++n <= 6 ? 500 : 200) });
  t.after(() => s.w.happyDOM.close());
  s.tw.flush();
  await s.clock.tick(100000);
  s.tw.track('next');
  await s.tw.flush();
  assert.notEqual(s.fetch.calls[6].body.device.attrs, null);
});

test('page hide: queued events and batches waiting out a back-off go by sendBeacon as text/plain', async (t) => {
  const s = setup({ plan: () => 'neterr' });
  t.after(() => s.w.happyDOM.close());
  s.tw.track('first');
  s.tw.flush();
  await s.clock.tick(0); // first try failed, now waiting 1s
  assert.equal(s.fetch.calls.length, 1);
  s.tw.track('second');
  Object.defineProperty(s.w.document, 'visibilityState', { get: () => 'hidden', configurable: true });
  s.w.document.dispatchEvent(new s.w.Event('visibilitychange'));
  await settle();
  assert.equal(s.beacons.length, 2);
  for (const b of s.beacons) {
    assert.equal(b.url, URL_);
    assert.equal(b.blob.type.toLowerCase(), 'text/plain;charset=utf-8'); // Blob lower-cases its type
  }
  const bodies = await Promise.all(s.beacons.map((b) => blobJson(b.blob)));
  const types = bodies.flatMap((b) => b.events.map((e) => e.type + (e.name ? ':' + e.name : '')));
  assert.deepEqual(types.sort(), ['behavior', 'custom:first', 'custom:second', 'page_view', 'visibility'].sort());
  await s.clock.tick(120000); // the cancelled retry does not come back
  assert.equal(s.fetch.calls.length, 1);
  // pagehide after hidden: nothing new to send
  s.w.dispatchEvent(new s.w.Event('pagehide'));
  await settle();
  assert.equal(s.beacons.length, 2);
});

test('page hide without a working sendBeacon falls back to fetch keepalive', async (t) => {
  const s = setup({ beacon: () => false });
  t.after(() => s.w.happyDOM.close());
  s.w.dispatchEvent(new s.w.Event('pagehide'));
  await settle();
  assert.equal(s.beacons.length, 1);
  assert.equal(s.fetch.calls.length, 1);
  assert.equal(s.fetch.calls[0].opts.keepalive, true);
  assert.equal(s.fetch.calls[0].url, URL_);
});
