// The live decisions feed: polls GET /decisions?after=<last_seq> every 2 s, keeps the newest
// `max` rows (newest first) and counts decisions per minute by outcome for the chart.

export const OUTCOME_ORDER = ['pass', 'review', 'verify', 'delay', 'reject'];

export class DecisionFeed {
  constructor({ api, max = 500, interval = 2000, limit = 100, minutes = 30,
    setTimeout: st = globalThis.setTimeout.bind(globalThis), clearTimeout: ct = globalThis.clearTimeout.bind(globalThis),
    onUpdate = () => {}, onError = () => {} }) {
    Object.assign(this, { api, max, interval, limit, minutes, st, ct, onUpdate, onError });
    this.rows = []; // newest first
    this.lastSeq = null;
    this.perMinute = new Map(); // 'YYYY-MM-DDTHH:MM' → {outcome: count}
    this.timer = null;
    this.running = false;
  }

  /** One request; returns the new items (oldest first). */
  async poll() {
    const query = { limit: this.limit };
    if (this.lastSeq !== null) query.after = this.lastSeq;
    const r = await this.api.get('/decisions', query);
    const items = (Array.isArray(r?.items) ? r.items : [])
      .filter((d) => this.lastSeq === null || d.seq > this.lastSeq)
      .sort((a, b) => a.seq - b.seq);
    for (const d of items) this.rows.unshift(d);
    if (this.rows.length > this.max) this.rows.length = this.max;
    const seqs = items.map((d) => d.seq);
    const last = Number.isFinite(r?.last_seq) ? r.last_seq : null;
    this.lastSeq = Math.max(this.lastSeq ?? -Infinity, last ?? -Infinity, ...seqs);
    if (!Number.isFinite(this.lastSeq)) this.lastSeq = null;
    this.count(items);
    return items;
  }

  count(items) {
    for (const d of items) {
      const minute = minuteOf(d.occurred_at);
      if (!minute) continue;
      const b = this.perMinute.get(minute) || {};
      b[d.outcome] = (b[d.outcome] || 0) + 1;
      this.perMinute.set(minute, b);
    }
    const keys = [...this.perMinute.keys()].sort();
    for (const k of keys.slice(0, Math.max(0, keys.length - this.minutes))) this.perMinute.delete(k);
  }

  /** {minutes: [...], series: {outcome: [counts...]}} for the chart. */
  chartData() {
    const minutes = [...this.perMinute.keys()].sort();
    const seen = new Set();
    for (const b of this.perMinute.values()) for (const o of Object.keys(b)) seen.add(o);
    const outcomes = [...seen].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const series = {};
    for (const o of outcomes) series[o] = minutes.map((m) => this.perMinute.get(m)[o] || 0);
    return { minutes, series };
  }

  start() {
    if (this.running) return;
    this.running = true;
    const loop = async () => {
      if (!this.running) return;
      let next = this.interval;
      try {
        const items = await this.poll();
        if (!this.running) return;
        this.onUpdate(items);
        if (items.length >= this.limit) next = 0; // more are waiting: catch up at once
      } catch (e) {
        if (!this.running) return;
        this.onError(e);
        if (e?.status === 401 || e?.status === 403) { this.running = false; return; }
      }
      this.timer = this.st(loop, next);
    };
    loop();
  }

  stop() {
    this.running = false;
    if (this.timer !== null) this.ct(this.timer);
    this.timer = null;
  }
}

function rank(o) {
  const i = OUTCOME_ORDER.indexOf(o);
  return i < 0 ? 99 : i;
}

export function minuteOf(at) {
  if (typeof at !== 'string') return null;
  const t = Date.parse(at);
  if (Number.isNaN(t)) return null;
  return new Date(t).toISOString().slice(0, 16);
}
