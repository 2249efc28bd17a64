import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, settle, allEvents, page, createTianwang, fakeFetch } from './helpers.js';
import { autoInit } from '../src/index.js';

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const FORM = `
  <form id="apply">
    <div><input name="full_name" id="name"><input type="hidden" name="csrf" value="HIDDEN-csrf-999"></div>
    <div><input type="password" name="pw"><textarea name="note"></textarea>
      <select name="term"><option value="6">6</option><option value="12">12</option></select></div>
    <div><button class="primary" type="submit">提交申请</button></div>
  </form>`;

const key = (w, el, k) => el.dispatchEvent(new w.KeyboardEvent('keydown', { key: k, bubbles: true }));

test('payload shape', async (t) => {
  const s = setup({ init: { site: 'demo', endpoint: 'https://risk.example.cn' } });
  t.after(() => s.w.happyDOM.close());
  s.tw.identify('cust-42');
  s.tw.track('hello', { a: 1 });
  await s.tw.flush();
  const b = s.fetch.calls[0].body;
  assert.deepEqual(Object.keys(b), ['v', 'batch_id', 'sent_at', 'session_id', 'customer_id', 'customer_token', 'device', 'events']);
  assert.equal(b.customer_token, null); // identified without the lender's token: the server counts the events as the device's
  assert.equal(b.v, 1);
  assert.match(b.batch_id, UUID4);
  assert.match(b.session_id, UUID4);
  assert.equal(b.sent_at, s.clock.t);
  assert.equal(b.customer_id, 'cust-42');
  assert.deepEqual(Object.keys(b.device), ['token', 'attrs']);
  assert.ok(b.events.length <= 100);
  for (const e of b.events) {
    assert.equal(typeof e.type, 'string');
    assert.equal(typeof e.ts, 'number');
    assert.equal(e.url, 'https://shop.example.cn/apply');
  }
  assert.deepEqual(b.events[1], { type: 'custom', ts: s.clock.t, url: 'https://shop.example.cn/apply', name: 'hello', props: { a: 1 } });
  // the session id is per tab session: kept in sessionStorage
  assert.equal(s.w.sessionStorage.getItem('tw_ss'), b.session_id);
  assert.match(b.device.attrs.storage_id, UUID4);
  assert.equal(s.w.localStorage.getItem('tw_sid'), b.device.attrs.storage_id);
});

test('page_view on load and through the history API', async (t) => {
  const s = setup({ url: 'https://shop.example.cn/a?x=1', init: { site: 'demo', endpoint: 'https://risk.example.cn' } });
  t.after(() => s.w.happyDOM.close());
  s.w.document.title = 'Loan';
  s.w.history.pushState({}, '', '/b');
  s.w.history.replaceState({ s: 1 }, '', '/b'); // same URL: no page view
  s.w.history.replaceState({}, '', '/c?from=13812345678');
  s.w.history.back(); // happy-dom goes back synchronously; the browser then fires popstate
  s.w.dispatchEvent(new s.w.PopStateEvent('popstate', { state: null }));
  await s.tw.flush();
  const pv = allEvents(s.fetch.calls).filter((e) => e.type === 'page_view');
  assert.deepEqual(pv.map((e) => [e.url, e.path, e.referrer]), [
    ['https://shop.example.cn/a?x=1', '/a', ''],
    ['https://shop.example.cn/b', '/b', 'https://shop.example.cn/a?x=1'],
    ['https://shop.example.cn/c?from=[phone]', '/c', 'https://shop.example.cn/b'],
    ['https://shop.example.cn/a?x=1', '/a', 'https://shop.example.cn/c?from=[phone]'],
  ]);
  assert.equal(pv[2].url, 'https://shop.example.cn/c?from=[phone]');
  assert.equal(pv[1].title_length, 4);
});

test('click: CSS path and attributes, never the text', async (t) => {
  const s = setup({ html: FORM });
  t.after(() => s.w.happyDOM.close());
  const btn = s.doc.querySelector('button');
  btn.addEventListener('click', (e) => e.preventDefault());
  btn.dispatchEvent(new s.w.MouseEvent('click', { bubbles: true, clientX: 120.4, clientY: 80.6 }));
  await s.tw.flush();
  const c = allEvents(s.fetch.calls).find((e) => e.type === 'click');
  assert.deepEqual(c, {
    type: 'click', ts: s.clock.t, url: 'https://shop.example.cn/apply',
    selector: 'body > form#apply > div:nth-of-type(3) > button.primary', tag: 'button', id: null, name: null,
    classes: ['primary'], text_length: 4, x: 120, y: 81,
  });
  assert.ok(!JSON.stringify(s.fetch.calls.map((x) => x.body)).includes('提交申请'));
});

test('input: one event per focus with length, timing, paste, corrections; never the value', async (t) => {
  const s = setup({ html: FORM });
  t.after(() => s.w.happyDOM.close());
  const name = s.doc.getElementById('name');
  name.focus();
  await s.clock.tick(100);
  for (const k of ['z', 'e', 'b', 'r', 'a', 'Backspace', 'a']) { key(s.w, name, k); await s.clock.tick(120); }
  name.dispatchEvent(new s.w.Event('paste', { bubbles: true }));
  name.value = 'zebra-secret-777';
  name.dispatchEvent(new s.w.Event('change', { bubbles: true }));
  await s.clock.tick(20);
  name.blur();
  await s.tw.flush();
  const inputs = allEvents(s.fetch.calls).filter((e) => e.type === 'input');
  assert.equal(inputs.length, 1);
  assert.deepEqual(inputs[0], {
    type: 'input', ts: s.clock.t, url: 'https://shop.example.cn/apply',
    selector: 'body > form#apply > div:nth-of-type(1) > input#name:nth-of-type(1)', tag: 'input', name: 'full_name', input_type: 'text',
    length: 16, field_ms: 100 + 7 * 120 + 20, pasted: true, corrections: 1, keystrokes: 7,
  });
  assert.ok(!JSON.stringify(s.fetch.calls.map((x) => x.body)).includes('zebra'));
});

test('password and hidden fields are skipped entirely', async (t) => {
  const s = setup({ html: FORM });
  t.after(() => s.w.happyDOM.close());
  const pw = s.doc.querySelector('input[type=password]');
  pw.focus();
  for (const k of 'hunter2') { key(s.w, pw, k); await s.clock.tick(90); }
  pw.value = 'hunter2-PASSWORD';
  pw.dispatchEvent(new s.w.Event('change', { bubbles: true }));
  pw.dispatchEvent(new s.w.MouseEvent('click', { bubbles: true }));
  pw.blur();
  const hidden = s.doc.querySelector('input[type=hidden]');
  hidden.dispatchEvent(new s.w.Event('change', { bubbles: true }));
  s.doc.querySelector('form').dispatchEvent(new s.w.Event('submit', { bubbles: true, cancelable: true }));
  await s.tw.flush();
  const evs = allEvents(s.fetch.calls);
  const text = JSON.stringify(s.fetch.calls.map((x) => x.body));
  assert.equal(evs.filter((e) => e.type === 'input' || e.type === 'click').length, 0);
  assert.ok(!text.includes('hunter2') && !text.includes('HIDDEN-csrf') && !text.includes('password'));
  const beh = evs.find((e) => e.type === 'behavior');
  assert.equal(beh.keys.count, 0); // keystrokes in a password field are not even timed
  const sub = evs.find((e) => e.type === 'submit');
  assert.equal(sub.fields, 3); // name, textarea, select
});

test('submit: field count, fill time from the first focus, then a behaviour summary', async (t) => {
  const s = setup({ html: FORM });
  t.after(() => s.w.happyDOM.close());
  const name = s.doc.getElementById('name');
  const note = s.doc.querySelector('textarea');
  for (let i = 0; i < 20; i++) s.doc.dispatchEvent(new s.w.MouseEvent('mousemove', { clientX: i * 5, clientY: i * 5 }));
  name.focus();
  await s.clock.tick(500);
  for (const k of 'abc') { key(s.w, name, k); await s.clock.tick(100); }
  note.focus(); // blur of name
  await s.clock.tick(1000);
  s.doc.querySelector('form').dispatchEvent(new s.w.Event('submit', { bubbles: true, cancelable: true }));
  await s.clock.tick(0);
  const evs = allEvents(s.fetch.calls);
  const types = evs.map((e) => e.type);
  assert.deepEqual(types, ['page_view', 'input', 'input', 'submit', 'behavior']); // submit flushes at once
  const sub = evs[3];
  assert.deepEqual(sub, { type: 'submit', ts: s.clock.t, url: 'https://shop.example.cn/apply', selector: 'body > form#apply', fields: 3, fill_ms: 1800 });
  const beh = evs[4];
  assert.deepEqual(Object.keys(beh), ['type', 'ts', 'url', 'keys', 'mouse', 'touch', 'fields']);
  assert.deepEqual(beh.keys, { count: 3, mean_ms: 100, sd_ms: 0 });
  assert.equal(beh.mouse.moves, 20);
  assert.deepEqual(beh.fields, { 'body > form#apply > div:nth-of-type(1) > input#name:nth-of-type(1)': 800, 'body > form#apply > div:nth-of-type(2) > textarea': 1000 });
  assert.equal(evs[2].field_ms, 1000); // the field in focus at submit is reported then
});

test('visibility events say whether a form field had focus', async (t) => {
  const s = setup({ html: FORM });
  t.after(() => s.w.happyDOM.close());
  let state = 'hidden';
  Object.defineProperty(s.doc, 'visibilityState', { get: () => state, configurable: true });
  s.doc.getElementById('name').focus();
  s.doc.dispatchEvent(new s.w.Event('visibilitychange'));
  state = 'visible';
  s.doc.dispatchEvent(new s.w.Event('visibilitychange'));
  await s.tw.flush();
  const vis = allEvents(s.fetch.calls).filter((e) => e.type === 'visibility');
  const fromBeacon = JSON.parse(await s.beacons[0].blob.text()).events.filter((e) => e.type === 'visibility');
  assert.deepEqual([...fromBeacon, ...vis].map((e) => [e.state, e.in_form]), [['hidden', true], ['visible', true]]);
});

test('errors: message scrubbed and cut to 200 characters', async (t) => {
  const s = setup();
  t.after(() => s.w.happyDOM.close());
  s.w.dispatchEvent(new s.w.ErrorEvent('error', { message: 'bad card 4111111111111111 for 13812345678 ' + 'x'.repeat(400), filename: 'https://shop.example.cn/app.js?u=11010519491231002X', lineno: 12 }));
  await s.tw.flush();
  const e = allEvents(s.fetch.calls).find((x) => x.type === 'error');
  assert.equal(e.message.length, 200);
  assert.ok(e.message.startsWith('bad card [card] for [phone] xxx'));
  assert.equal(e.source, 'https://shop.example.cn/app.js?u=[id]');
  assert.equal(e.line, 12);
});

test('identify with the lender\'s customer token sends it with the customer\'s batches', async (t) => {
  const s = setup({ init: { site: 'demo', endpoint: 'https://risk.example.cn' } });
  t.after(() => s.w.happyDOM.close());
  s.tw.identify('cust-7', 'ct1.1900000000000.abc');
  s.tw.track('hello', {});
  await s.tw.flush();
  const b = s.fetch.calls[0].body;
  assert.equal(b.customer_id, 'cust-7');
  assert.equal(b.customer_token, 'ct1.1900000000000.abc');
  assert.equal(s.w.sessionStorage.getItem('tw_ctk'), 'ct1.1900000000000.abc');
  s.tw.identify(null);
  s.tw.track('later', {});
  await s.tw.flush();
  const later = s.fetch.calls[s.fetch.calls.length - 1].body;
  assert.equal(later.customer_id, null);
  assert.equal(later.customer_token, null);
});

test('custom events and identify are scrubbed too', async (t) => {
  const s = setup();
  t.after(() => s.w.happyDOM.close());
  s.tw.identify('13812345678');
  s.tw.track('loan_apply', { amount: 5000, contact: { phone: '+86 13912345678' }, card: '6228480012345671', list: ['11010519491231002X'] });
  await s.tw.flush();
  const b = s.fetch.calls[0].body;
  assert.equal(b.customer_id, '[phone]');
  const c = b.events.find((e) => e.type === 'custom');
  assert.deepEqual(c.props, { amount: 5000, contact: { phone: '[phone]' }, card: '[card]', list: ['[id]'] });
});

test('consent off: stop capturing, drop the queue, send nothing', async (t) => {
  const s = setup({ html: FORM });
  t.after(() => s.w.happyDOM.close());
  s.tw.track('queued');
  s.w.localStorage.setItem('tw_q', JSON.stringify([['s', null, { type: 'custom', ts: 1, url: 'u' }]]));
  s.tw.consent(false);
  assert.equal(s.w.localStorage.getItem('tw_q'), null);
  s.tw.track('after');
  s.doc.querySelector('button').dispatchEvent(new s.w.MouseEvent('click', { bubbles: true }));
  s.w.dispatchEvent(new s.w.Event('pagehide'));
  await s.tw.flush();
  await s.clock.tick(60000);
  assert.equal(s.fetch.calls.length, 0);
  assert.equal(s.beacons.length, 0);
});

test('consent off also stops retries already waiting', async (t) => {
  const s = setup({ plan: () => 503 });
  t.after(() => s.w.happyDOM.close());
  s.tw.flush();
  await s.clock.tick(0);
  assert.equal(s.fetch.calls.length, 1);
  s.tw.consent(false);
  await s.clock.tick(600000);
  assert.equal(s.fetch.calls.length, 1);
  assert.equal(s.w.localStorage.getItem('tw_q'), null);
});

test('consent false at init: nothing until consent(true)', async (t) => {
  const s = setup({ init: { site: 'demo', endpoint: 'https://risk.example.cn', consent: false } });
  t.after(() => s.w.happyDOM.close());
  s.tw.track('x');
  await s.tw.flush();
  await s.clock.tick(60000);
  assert.equal(s.fetch.calls.length, 0);
  assert.equal(s.w.localStorage.getItem('tw_sid'), null);
  s.tw.consent(true);
  await s.tw.flush();
  assert.deepEqual(allEvents(s.fetch.calls).map((e) => e.type), ['page_view']);
});

test('sampling is decided once per session', async (t) => {
  const out = setup({ init: { site: 'demo', sampleRate: 0.5 }, random: () => 0.7 });
  t.after(() => out.w.happyDOM.close());
  out.tw.track('x');
  await out.tw.flush();
  assert.equal(out.fetch.calls.length, 0);
  assert.equal(out.w.sessionStorage.getItem('tw_smp'), '0');

  const inn = setup({ init: { site: 'demo', sampleRate: 0.5 }, random: () => 0.3 });
  t.after(() => inn.w.happyDOM.close());
  await inn.tw.flush();
  assert.equal(inn.fetch.calls.length, 1);
  // the same tab session keeps its decision, whatever the next draw
  const again = createTianwang({ window: inn.w, fetch: inn.fetch, random: () => 0.99 }).init({ site: 'demo', sampleRate: 0.5 });
  again.track('y');
  await again.flush();
  assert.equal(inn.fetch.calls.length, 2);

  const zero = setup({ init: { site: 'demo', sampleRate: 0 }, random: () => 0 });
  t.after(() => zero.w.happyDOM.close());
  await zero.tw.flush();
  assert.equal(zero.fetch.calls.length, 0);
});

test('only the configured endpoint is ever contacted', async (t) => {
  const w = page('https://shop.example.cn/apply?id=1', FORM);
  t.after(() => w.happyDOM.close());
  const urls = [];
  const rec = (kind) => (u) => { urls.push([kind, String(u)]); };
  // every way out of the page, recorded (the SDK is given none of them directly)
  w.fetch = async (u) => { rec('fetch')(u); return { ok: false, status: 503, json: async () => ({}) }; };
  Object.defineProperty(w.navigator, 'sendBeacon', { value: (u) => { rec('beacon')(u); return true; }, configurable: true });
  w.XMLHttpRequest.prototype.open = function (m, u) { rec('xhr')(u); };
  w.WebSocket = function (u) { rec('ws')(u); };
  w.Image = function () { const o = {}; Object.defineProperty(o, 'src', { set: rec('img') }); return o; };
  const origCreate = w.document.createElement.bind(w.document);
  w.document.createElement = (tag, ...a) => {
    const el = origCreate(tag, ...a);
    if (/^(script|img|iframe|link)$/i.test(tag)) rec('element:' + tag)('');
    return el;
  };
  const tw = createTianwang({ window: w });
  tw.init({ site: 'demo', endpoint: 'https://risk.example.cn/', batchSize: 3, flushMs: 100 });
  const name = w.document.getElementById('name');
  name.focus();
  key(w, name, 'a');
  name.blur();
  w.document.querySelector('button').dispatchEvent(new w.MouseEvent('click', { bubbles: true }));
  tw.track('t', { x: 1 });
  await new Promise((r) => setTimeout(r, 1300)); // real timers: a first retry happens too
  w.dispatchEvent(new w.Event('pagehide'));
  await settle();
  assert.ok(urls.length >= 3, JSON.stringify(urls));
  for (const [kind, u] of urls) {
    assert.ok(kind === 'fetch' || kind === 'beacon', kind);
    assert.equal(u, 'https://risk.example.cn/v1/collect?site=demo');
  }
});

test('endpoint empty means same origin', async (t) => {
  const s = setup({ init: { site: 'demo', endpoint: '' } });
  t.after(() => s.w.happyDOM.close());
  await s.tw.flush();
  assert.equal(s.fetch.calls[0].url, '/v1/collect?site=demo');
});

test('auto-init from the script tag data attributes', async (t) => {
  const w = page('https://shop.example.cn/');
  t.after(() => w.happyDOM.close());
  w.document.body.innerHTML = '<script data-site="demo site" data-endpoint="" data-sample-rate="1" data-consent="true"></script>';
  const fetch = fakeFetch();
  const tw = createTianwang({ window: w, fetch });
  assert.equal(autoInit(tw, w.document.querySelector('script')), true);
  await tw.flush();
  assert.equal(fetch.calls[0].url, '/v1/collect?site=demo%20site');
  const w2 = page('https://shop.example.cn/');
  t.after(() => w2.happyDOM.close());
  w2.document.body.innerHTML = '<script data-site="demo" data-consent="false"></script><script src="x.js"></script>';
  const f2 = fakeFetch();
  const tw2 = createTianwang({ window: w2, fetch: f2 });
  assert.equal(autoInit(tw2, w2.document.querySelectorAll('script')[1]), false); // no data-site: no init
  autoInit(tw2, w2.document.querySelector('script'));
  await tw2.flush();
  assert.equal(f2.calls.length, 0); // data-consent="false"
});
