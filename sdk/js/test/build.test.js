// The built file (make sdk): there, within budget, talking only to its endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { page, settle } from './helpers.js';

const OUT = fileURLToPath(new URL('../../../src/tianwang/static/sdk/tianwang.js', import.meta.url));
const BUDGET = 25 * 1024;

test('the built file exists and is at most 25 KB gzipped', () => {
  assert.ok(existsSync(OUT), OUT + ' is missing: run `make sdk`');
  const gz = gzipSync(readFileSync(OUT), { level: 9 }).length;
  assert.ok(gz <= BUDGET, `${gz} bytes gzipped`);
});

test('the bundle names no host and uses no other way out', () => {
  const code = readFileSync(OUT, 'utf8');
  assert.doesNotMatch(code, /https?:\/\//);
  assert.doesNotMatch(code, /["'`]\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
  for (const api of ['XMLHttpRequest', 'WebSocket', 'EventSource', 'importScripts', 'new Image', 'RTCPeerConnection', '.src=']) {
    assert.ok(!code.includes(api), api);
  }
});

test('the bundle auto-inits from its script tag and posts to the same origin', async (t) => {
  const w = page('https://shop.example.cn/apply');
  t.after(() => w.happyDOM.close());
  const s = w.document.createElement('script');
  s.setAttribute('src', '/sdk/tianwang.js');
  for (const [k, v] of Object.entries({ site: 'demo', endpoint: '', 'sample-rate': '1', consent: 'true' })) s.setAttribute('data-' + k, v);
  w.document.head.appendChild(s);
  const calls = [];
  w.fetch = async (u, o) => {
    calls.push([String(u), JSON.parse(o.body)]);
    return { ok: true, status: 200, json: async () => ({ device_id: 'd-9', token: 'tk-9', confidence: 0.9, accepted: 1 }) };
  };
  new Function('window', readFileSync(OUT, 'utf8'))(w); // eslint-disable-line no-new-func
  const tw = w.tianwang;
  assert.equal(typeof tw.init, 'function');
  for (const f of ['identify', 'consent', 'track', 'flush', 'deviceId', 'onDevice']) assert.equal(typeof tw[f], 'function', f);
  tw.identify('c-1');
  tw.track('hello', { n: 1 });
  await tw.flush();
  await settle();
  assert.equal(calls.length, 1);
  assert.equal(calls[0][0], '/v1/collect?site=demo');
  assert.deepEqual(calls[0][1].events.map((e) => e.type), ['page_view', 'custom']);
  assert.equal(calls[0][1].customer_id, 'c-1');
  assert.equal(tw.deviceId(), 'd-9');
  assert.equal(w.localStorage.getItem('tw_dt'), 'tk-9');
});
