// Shared test helpers: a happy-dom page, a fake clock and a recording fake fetch.
import { Window } from 'happy-dom';
import { createTianwang } from '../src/index.js';

/** Let promises and happy-dom's immediate tasks run. */
export async function settle(rounds = 30) {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Timers that only move when told to. */
export class Clock {
  constructor(t = 1_700_000_000_000) {
    this.t = t;
    this.timers = [];
    this.seq = 0;
    this.now = () => this.t;
    this.setTimeout = (f, ms) => {
      const id = ++this.seq;
      this.timers.push({ id, at: this.t + (ms || 0), f });
      return id;
    };
    this.clearTimeout = (id) => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  }

  /** Advance by ms, firing due timers in order (and letting promises settle between them). */
  async tick(ms) {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.f();
    }
    this.t = end;
    await settle();
  }
}

export function response(status, body = {}) {
  return { ok: status >= 200 && status < 300, status, json: async () => body };
}

/**
 * A fetch that records each call and answers from `plan` (a function of the call number):
 * a number is a status, 'neterr' throws like a network error, default is 200.
 */
export function fakeFetch(plan = () => 200, body = { device_id: 'dev-1', token: 'tok-1', confidence: 0.97, accepted: 1 }) {
  const calls = [];
  const f = async (url, opts) => {
    const n = calls.length + 1;
    calls.push({ url: String(url), opts, body: JSON.parse(opts.body) });
    const r = plan(n);
    if (r === 'neterr') throw new TypeError('Failed to fetch');
    return response(r || 200, body);
  };
  f.calls = calls;
  return f;
}

/** A happy-dom page. */
export function page(url = 'https://shop.example.cn/apply', html = '') {
  const w = new Window({ url, width: 1280, height: 800 });
  if (html) w.document.body.innerHTML = html;
  return w;
}

/** A page with an SDK instance on fake fetch, fake beacon and a fake clock. */
export function setup({ url, html, init = {}, plan, body, random, beacon = () => true } = {}) {
  const w = page(url, html);
  const clock = new Clock();
  const fetch = fakeFetch(plan, body);
  const beacons = [];
  const sendBeacon = (u, blob) => {
    beacons.push({ url: String(u), blob });
    return beacon(u, blob);
  };
  const tw = createTianwang({ window: w, fetch, sendBeacon, now: clock.now, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, random });
  if (init) tw.init(Object.assign({ site: 'demo', endpoint: 'https://risk.example.cn' }, init));
  return { w, doc: w.document, clock, fetch, beacons, tw };
}

export async function blobJson(blob) {
  return JSON.parse(await blob.text());
}

export function allEvents(calls) {
  return calls.flatMap((c) => c.body.events);
}

export { createTianwang };
