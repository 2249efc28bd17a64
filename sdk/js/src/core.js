// The SDK: autocapture, batching, delivery with back-off, offline queue, consent and sampling.
import { scrub, scrubDeep } from './scrub.js';
import { cssPath, classList } from './selector.js';
import { Behavior } from './behavior.js';
import { quickAttrs, slowAttrs, mergeAttrs } from './device.js';
import { hash64 } from './hash.js';

export const MAX_EVENTS = 100; // per batch
export const MAX_TRIES = 6;
export const OFFLINE_CAP = 500; // events kept in localStorage tw_q
const MAX_ERRORS = 20; // error events per page load
const BLOB_TYPE = 'text/plain;charset=UTF-8'; // a "simple" content type: no CORS preflight
const YEAR_S = 31536000;

/** Back-off before try n+1 after n failed tries: 1s, 2s, 4s … capped at 60s. */
export const backoff = (n) => Math.min(1000 * 2 ** (n - 1), 60000);

export function uuid4(win) {
  const c = win && win.crypto;
  if (c && c.randomUUID) { try { return c.randomUUID(); } catch (e) { /* insecure context */ } }
  const b = new Uint8Array(16);
  if (c && c.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = (Math.random() * 256) | 0;
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => (x + 0x100).toString(16).slice(1)).join('');
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
}

const FIELD_SKIP = { password: 1, hidden: 1 };
const NOT_FIELD = { button: 1, submit: 1, reset: 1, image: 1 };

function fieldType(el) {
  return (el.getAttribute('type') || el.type || 'text').toLowerCase();
}
/** A password or hidden input: never looked at. */
function skipped(el) {
  return !!el && el.tagName === 'INPUT' && !!FIELD_SKIP[fieldType(el)];
}
function isField(el) {
  if (!el || el.nodeType !== 1) return false;
  const t = el.tagName;
  if (t === 'TEXTAREA' || t === 'SELECT') return true;
  return t === 'INPUT' && !FIELD_SKIP[fieldType(el)] && !NOT_FIELD[fieldType(el)];
}

/**
 * Make an SDK instance. `env` overrides what it takes from the page (for tests):
 * {window, fetch, sendBeacon, setTimeout, clearTimeout, now, random}.
 */
export function createTianwang(env = {}) {
  let win, doc, nav;
  let cfg = null;
  let consentOn = null; // set by consent() before init, else by init
  let sampledIn = false;
  let started = false;
  let queue = [];
  let timer = null;
  let sessionId = null;
  let customerId = null;
  let customerToken = null; // the lender's proof that customerId is who is signed in (POST /v1/collect/customer-token)
  let token = null;
  let deviceIdVal = null;
  let deviceInfo = null;
  const deviceCbs = [];
  let slow = null; // the slow attributes, once collected
  let slowP = null;
  let sentAttrs = null; // hash of the attributes the server last accepted (this page load)
  const pending = new Set(); // batches waiting out a back-off
  const inflight = new Set(); // deliveries not finished yet
  const behavior = new Behavior();
  let summaryVersion = -1; // the first summary goes even with no activity (itself a signal)
  let fields = new WeakMap();
  let formStart = new WeakMap();
  let focused = null;
  let lastUrl = null;
  let errors = 0;

  const now = () => (env.now ? env.now() : Date.now());
  const setT = (f, ms) => (env.setTimeout || win.setTimeout).call(null, f, ms);
  const clearT = (t) => (env.clearTimeout || win.clearTimeout).call(null, t);
  const rand = () => (env.random ? env.random() : Math.random());
  const active = () => !!cfg && consentOn !== false && sampledIn;
  const offline = () => nav && nav.onLine === false;

  // ---- storage -------------------------------------------------------------------------------
  const store = (kind) => { try { const s = win[kind]; s.getItem('tw'); return s; } catch (e) { return null; } };
  const get = (kind, k) => { const s = store(kind); try { return s ? s.getItem(k) : null; } catch (e) { return null; } };
  const set = (kind, k, v) => {
    const s = store(kind);
    try { if (s) { if (v == null) s.removeItem(k); else s.setItem(k, v); return true; } } catch (e) { /* full */ }
    return false;
  };
  const readCookie = (k) => {
    try {
      const m = new RegExp('(?:^|; )' + k + '=([^;]*)').exec(doc.cookie);
      return m ? decodeURIComponent(m[1]) : null;
    } catch (e) { return null; }
  };
  const saveToken = (t) => {
    token = t;
    set('localStorage', 'tw_dt', t);
    try {
      const secure = win.location && win.location.protocol === 'https:' ? '; Secure' : '';
      doc.cookie = 'tw_dt=' + encodeURIComponent(t) + '; Max-Age=' + YEAR_S + '; Path=/; SameSite=Lax' + secure;
    } catch (e) { /* no cookies */ }
  };
  const storageId = () => {
    let id = get('localStorage', 'tw_sid');
    if (!id) { id = uuid4(win); if (!set('localStorage', 'tw_sid', id)) return null; }
    return id;
  };

  // ---- events --------------------------------------------------------------------------------
  const href = () => { try { return win.location.href; } catch (e) { return null; } };

  function emit(type, props) {
    if (!active()) return;
    const ev = scrubDeep(Object.assign({ type, ts: now(), url: href() }, props));
    queue.push(ev);
    if (queue.length > OFFLINE_CAP) queue.splice(0, queue.length - OFFLINE_CAP);
    if (queue.length >= cfg.batchSize) flush();
    else if (!timer) timer = setT(() => { timer = null; flush(); }, cfg.flushMs);
  }

  function pageView() {
    const url = href();
    if (url === lastUrl) return;
    const referrer = lastUrl || doc.referrer || '';
    lastUrl = url;
    emit('page_view', { path: win.location.pathname, referrer, title_length: (doc.title || '').length });
  }

  function summary() {
    if (behavior.version === summaryVersion) return;
    summaryVersion = behavior.version;
    emit('behavior', behavior.summary());
  }

  const fieldState = (el) => {
    let s = fields.get(el);
    if (!s) fields.set(el, (s = { focusAt: null, pasted: false, corrections: 0, keys: 0, emitted: true }));
    return s;
  };

  function fieldEvent(el) {
    const s = fieldState(el);
    if (s.emitted) return;
    s.emitted = true;
    const t = now();
    const ms = s.focusAt != null ? t - s.focusAt : 0;
    s.focusAt = null;
    const sel = cssPath(el);
    behavior.field(sel, ms);
    const type = fieldType(el);
    const len = type === 'checkbox' || type === 'radio' ? (el.checked ? 1 : 0) : String(el.value || '').length;
    emit('input', {
      selector: sel, tag: el.tagName.toLowerCase(), name: el.getAttribute('name') || null,
      input_type: el.tagName === 'INPUT' ? type : el.tagName.toLowerCase(),
      length: len, field_ms: ms, pasted: s.pasted, corrections: s.corrections, keystrokes: s.keys,
    });
  }

  const H = {
    click(e) {
      let el = e.target;
      if (!el || el.nodeType !== 1) return;
      el = (el.closest && el.closest('a,button,input,select,textarea,label,[role=button],[onclick]')) || el;
      if (skipped(el)) return;
      behavior.endStroke();
      const t = el.tagName === 'INPUT' ? (NOT_FIELD[fieldType(el)] ? String(el.value || '').length : 0)
        : (el.textContent || '').trim().length;
      emit('click', {
        selector: cssPath(el), tag: el.tagName.toLowerCase(), id: el.getAttribute('id') || null,
        name: el.getAttribute('name') || null, classes: classList(el).slice(0, 10), text_length: t,
        x: Math.round(e.clientX || 0), y: Math.round(e.clientY || 0),
      });
    },
    focusin(e) {
      const el = e.target;
      if (!isField(el)) return;
      const s = fieldState(el);
      Object.assign(s, { focusAt: now(), pasted: false, corrections: 0, keys: 0, emitted: false });
      focused = el;
      const f = el.form;
      if (f && !formStart.has(f)) formStart.set(f, now());
    },
    focusout(e) {
      const el = e.target;
      if (!isField(el)) return;
      if (focused === el) focused = null;
      fieldEvent(el);
    },
    change(e) {
      const el = e.target;
      if (!isField(el)) return;
      const s = fieldState(el);
      if (!s.emitted && doc.activeElement !== el) fieldEvent(el);
      else if (s.emitted && doc.activeElement !== el) { s.emitted = false; fieldEvent(el); }
    },
    paste(e) {
      if (isField(e.target)) fieldState(e.target).pasted = true;
    },
    keydown(e) {
      const el = e.target;
      if (skipped(el)) return;
      behavior.key(now(), !!e.repeat);
      if (isField(el)) {
        const s = fieldState(el);
        s.keys++;
        if (e.key === 'Backspace' || e.key === 'Delete') s.corrections++;
      }
    },
    submit(e) {
      const form = e.target;
      if (!form || form.tagName !== 'FORM') return;
      if (focused && focused.form === form) fieldEvent(focused);
      const n = Array.prototype.filter.call(form.elements || [], isField).length;
      const start = formStart.get(form);
      emit('submit', { selector: cssPath(form), fields: n, fill_ms: start != null ? now() - start : null });
      formStart.delete(form);
      summary();
      flush();
    },
    mousemove(e) {
      behavior.move(e.clientX || 0, e.clientY || 0, now());
    },
    touchstart(e) {
      const t = e.touches && e.touches[0];
      behavior.touch(t ? t.force : null);
    },
    error(e) {
      if (!e || (e.message == null && !e.error) || ++errors > MAX_ERRORS) return;
      emit('error', {
        message: scrub(String(e.message || (e.error && e.error.message) || '')).slice(0, 200),
        source: e.filename || null, line: e.lineno || null,
      });
    },
    visibilitychange() {
      const state = doc.visibilityState === 'hidden' ? 'hidden' : 'visible';
      emit('visibility', { state, in_form: !!(focused || isField(doc.activeElement)) });
      if (state === 'hidden') hide();
    },
    pagehide() {
      hide();
    },
    online() {
      drain();
      flush();
    },
    popstate() {
      pageView();
    },
  };

  function hide() {
    if (!active()) return;
    summary();
    beaconAll();
  }

  function listen() {
    const opt = { capture: true, passive: true };
    for (const k of ['click', 'focusin', 'focusout', 'change', 'paste', 'keydown', 'submit', 'mousemove', 'touchstart', 'visibilitychange']) {
      doc.addEventListener(k, (e) => { try { if (active()) H[k](e); } catch (x) { /* never break the page */ } }, opt);
    }
    for (const k of ['error', 'pagehide', 'online', 'popstate']) {
      win.addEventListener(k, (e) => { try { if (active()) H[k](e); } catch (x) { /* never break the page */ } });
    }
    const hist = win.history;
    if (hist) {
      for (const m of ['pushState', 'replaceState']) {
        const orig = hist[m];
        if (typeof orig !== 'function') continue;
        hist[m] = function () {
          const r = orig.apply(this, arguments);
          try { if (active()) pageView(); } catch (x) { /* ignore */ }
          return r;
        };
      }
    }
  }

  // ---- device attributes ---------------------------------------------------------------------
  function collectSlow() {
    if (slowP) return slowP;
    const run = () => slowAttrs(win).then((s) => (slow = s), () => (slow = {}));
    slowP = doc.readyState === 'loading'
      ? new Promise((r) => doc.addEventListener('DOMContentLoaded', r, { once: true })).then(run)
      : run();
    return slowP;
  }

  /** The attributes to send with a batch (null when unchanged since the server last took them). */
  function attrsFor() {
    const a = scrubDeep(mergeAttrs(quickAttrs(win, storageId()), slow || {}));
    const h = hash64(JSON.stringify(a));
    return h === sentAttrs ? { attrs: null, h } : { attrs: a, h };
  }

  // ---- delivery ------------------------------------------------------------------------------
  const endpointUrl = () => String(cfg.endpoint || '').replace(/\/+$/, '') + '/v1/collect?site=' + encodeURIComponent(cfg.site || '');

  function makeBatch(events, sid, cid) {
    return { batch_id: uuid4(win), session_id: sid || sessionId, customer_id: cid !== undefined ? cid : customerId, events };
  }

  function body(b, a) {
    return JSON.stringify({
      v: 1, batch_id: b.batch_id, sent_at: now(), session_id: b.session_id, customer_id: b.customer_id,
      customer_token: b.customer_id != null && b.customer_id === customerId ? customerToken : null,
      device: { token, attrs: a.attrs }, events: b.events,
    });
  }

  function accepted(a, data) {
    sentAttrs = a.h;
    if (!data || typeof data !== 'object') return;
    if (typeof data.token === 'string' && data.token && data.token.length < 1024) saveToken(data.token);
    if (typeof data.device_id === 'string' && data.device_id) {
      deviceIdVal = data.device_id;
      deviceInfo = { device_id: data.device_id, token: data.token || token, confidence: data.confidence ?? null };
      for (const cb of deviceCbs.slice()) { try { cb(deviceIdVal, deviceInfo); } catch (e) { /* caller's */ } }
    }
  }

  async function deliver(b) {
    for (let n = 1; ; n++) {
      if (!active() || b.done) return;
      if (offline()) return persist(b.events, b);
      if (!slow) await Promise.race([collectSlow(), new Promise((r) => setT(r, 1500))]);
      if (!active() || b.done) return;
      const a = attrsFor();
      const text = body(b, a);
      let res = null;
      try {
        const f = env.fetch || win.fetch;
        res = await f.call(win, endpointUrl(), {
          method: 'POST', body: text, keepalive: text.length < 60000, headers: { 'Content-Type': BLOB_TYPE },
        });
      } catch (e) { res = null; }
      if (res && res.status < 500) {
        if (res.ok) {
          let data = null;
          try { data = await res.json(); } catch (e) { /* no body */ }
          accepted(a, data);
        }
        return; // 2xx done, 4xx dropped (retrying cannot help)
      }
      if (n >= MAX_TRIES) return persist(b.events, b);
      await new Promise((wake) => {
        const p = { b, wake };
        p.t = setT(() => { pending.delete(p); wake(); }, backoff(n));
        pending.add(p);
      });
    }
  }

  function beacon(b) {
    const a = attrsFor();
    const text = body(b, a);
    let ok = false;
    try {
      const nb = env.sendBeacon || (nav.sendBeacon && ((u, d) => nav.sendBeacon(u, d)));
      if (nb && win.Blob) ok = nb(endpointUrl(), new win.Blob([text], { type: BLOB_TYPE }));
    } catch (e) { ok = false; }
    if (ok) { sentAttrs = a.h; return; }
    try {
      const f = env.fetch || win.fetch;
      f.call(win, endpointUrl(), { method: 'POST', body: text, keepalive: true, headers: { 'Content-Type': BLOB_TYPE } })
        .then((r) => { if (r.status >= 500) persist(b.events, b); }, () => persist(b.events, b));
    } catch (e) { persist(b.events, b); }
  }

  /** On page hide: everything queued or waiting out a back-off goes now by sendBeacon. */
  function beaconAll() {
    if (timer) { clearT(timer); timer = null; }
    const bs = [];
    for (const p of pending) { clearT(p.t); p.b.done = true; bs.push(p.b); p.wake(); }
    pending.clear();
    while (queue.length) bs.push(makeBatch(queue.splice(0, MAX_EVENTS)));
    if (offline()) { for (const b of bs) persist(b.events, b); return; }
    for (const b of bs) beacon(b);
  }

  function persist(events, b) {
    if (!active() || !events.length) return;
    let q = [];
    try { q = JSON.parse(get('localStorage', 'tw_q') || '[]'); } catch (e) { q = []; }
    if (!Array.isArray(q)) q = [];
    for (const ev of events) q.push([b.session_id, b.customer_id, ev]);
    if (q.length > OFFLINE_CAP) q = q.slice(q.length - OFFLINE_CAP);
    set('localStorage', 'tw_q', JSON.stringify(q));
  }

  /** Send the offline queue (when online). */
  function drain() {
    if (!active() || offline()) return Promise.resolve();
    let q;
    try { q = JSON.parse(get('localStorage', 'tw_q') || '[]'); } catch (e) { q = []; }
    set('localStorage', 'tw_q', null);
    if (!Array.isArray(q) || !q.length) return Promise.resolve();
    const jobs = [];
    let cur = null;
    for (const e of q) {
      if (!Array.isArray(e) || !e[2]) continue;
      if (!cur || cur.session_id !== e[0] || cur.customer_id !== e[1] || cur.events.length >= MAX_EVENTS) {
        cur = makeBatch([], e[0], e[1]);
        jobs.push(cur);
      }
      cur.events.push(e[2]);
    }
    return Promise.all(jobs.map((b) => track(deliver(b)))).then(() => {});
  }

  function flush() {
    if (timer) { clearT(timer); timer = null; }
    if (!active()) return Promise.resolve();
    while (queue.length) track(deliver(makeBatch(queue.splice(0, MAX_EVENTS))));
    // resolves when this and every earlier batch is delivered, dropped or kept offline
    return Promise.all(Array.from(inflight)).then(() => {});
  }

  function track(p) {
    inflight.add(p);
    p.then(() => inflight.delete(p), () => inflight.delete(p));
    return p;
  }

  function start() {
    if (!active()) return;
    if (!started) {
      started = true;
      listen();
      collectSlow();
    }
    pageView();
    drain();
  }

  function stop() {
    queue = [];
    if (timer) { clearT(timer); timer = null; }
    for (const p of pending) { clearT(p.t); p.b.done = true; p.wake(); }
    pending.clear();
    if (win) set('localStorage', 'tw_q', null);
  }

  // ---- public API ----------------------------------------------------------------------------
  const api = {
    init(opts = {}) {
      win = env.window || (typeof window !== 'undefined' ? window : null);
      if (!win || !win.document) return api;
      doc = win.document;
      nav = win.navigator || {};
      const num = (v, d) => (v == null || v === '' || isNaN(+v) ? d : +v);
      cfg = {
        endpoint: opts.endpoint || '',
        site: opts.site || '',
        sampleRate: Math.max(0, Math.min(1, num(opts.sampleRate, 1))),
        batchSize: Math.max(1, Math.min(MAX_EVENTS, Math.round(num(opts.batchSize, 20)))),
        flushMs: Math.max(50, num(opts.flushMs, 2000)),
      };
      if (consentOn === null) consentOn = opts.consent !== false && opts.consent !== 'false';
      sessionId = get('sessionStorage', 'tw_ss');
      if (!sessionId) { sessionId = uuid4(win); set('sessionStorage', 'tw_ss', sessionId); }
      let smp = get('sessionStorage', 'tw_smp');
      if (smp !== '1' && smp !== '0') {
        smp = rand() < cfg.sampleRate ? '1' : '0';
        set('sessionStorage', 'tw_smp', smp);
      }
      sampledIn = smp === '1';
      const cid = get('sessionStorage', 'tw_cid');
      if (cid && customerId == null) {
        customerId = cid;
        customerToken = get('sessionStorage', 'tw_ctk') || null;
      }
      token = get('localStorage', 'tw_dt') || readCookie('tw_dt');
      start();
      return api;
    },
    identify(id, customerTokenFromBackEnd) {
      customerId = id == null || id === '' ? null : scrub(String(id));
      const t = customerTokenFromBackEnd;
      customerToken = customerId != null && typeof t === 'string' && t.length > 0 && t.length <= 256 ? t : null;
      if (win && active()) {
        set('sessionStorage', 'tw_cid', customerId);
        set('sessionStorage', 'tw_ctk', customerToken);
      }
      return api;
    },
    consent(on) {
      consentOn = !!on;
      if (!consentOn) stop();
      else if (cfg) start();
      return api;
    },
    track(name, props) {
      let p = {};
      try { p = props == null ? {} : JSON.parse(JSON.stringify(props)); } catch (e) { p = {}; }
      emit('custom', { name: String(name), props: p });
      return api;
    },
    flush() {
      return flush();
    },
    deviceId() {
      return deviceIdVal;
    },
    onDevice(cb) {
      if (typeof cb !== 'function') return api;
      deviceCbs.push(cb);
      if (deviceIdVal) { try { cb(deviceIdVal, deviceInfo); } catch (e) { /* caller's */ } }
      return api;
    },
  };
  return api;
}

/** Read the options of a <script data-site=…> tag and init from it. */
export function autoInit(tw, script) {
  if (!script || !script.hasAttribute || !script.hasAttribute('data-site')) return false;
  const d = (k) => script.getAttribute('data-' + k);
  tw.init({
    site: d('site'), endpoint: d('endpoint') || '', sampleRate: d('sample-rate'),
    consent: d('consent') !== 'false', batchSize: d('batch-size'), flushMs: d('flush-ms'),
  });
  return true;
}
