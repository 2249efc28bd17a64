// Behaviour summaries: key intervals, mouse path shape and speed, touch pressure, field times.

const r2 = (x) => Math.round(x * 100) / 100;

/** Mean and (population) standard deviation of a list of numbers. */
export function stats(xs) {
  const n = xs.length;
  if (!n) return { n: 0, mean: null, sd: null };
  let s = 0;
  for (const x of xs) s += x;
  const mean = s / n;
  let v = 0;
  for (const x of xs) v += (x - mean) * (x - mean);
  return { n, mean, sd: Math.sqrt(v / n) };
}

/** Straight-line distance between the ends over the path length, 0–1 (null for no movement). */
export function straightness(points) {
  let path = 0;
  for (let i = 1; i < points.length; i++) path += dist(points[i - 1], points[i]);
  if (!path) return null;
  return Math.min(1, dist(points[0], points[points.length - 1]) / path);
}

function dist(a, b) {
  return Math.hypot(b.x - a.x, b.y - a.y);
}

const KEY_PAUSE_MS = 3000; // longer gaps between keys are pauses, not typing rhythm
const STROKE_PAUSE_MS = 500; // a mouse stroke ends at a pause or a click
const MAX_SAMPLES = 2000;

export class Behavior {
  constructor() {
    this.keyCount = 0;
    this.lastKey = null;
    this.keyIntervals = [];
    this.moves = 0;
    this.distance = 0;
    this.stroke = null; // {start, last, path}
    this.straight = 0; // sum over finished strokes of the end-to-end distance
    this.pathSum = 0; // sum over finished strokes of their path length
    this.speeds = [];
    this.touches = 0;
    this.pressures = [];
    this.fields = {};
    this.version = 0;
  }

  key(ts, repeat) {
    this.keyCount++;
    this.version++;
    if (repeat) return;
    if (this.lastKey != null) {
      const dt = ts - this.lastKey;
      if (dt > 0 && dt <= KEY_PAUSE_MS && this.keyIntervals.length < MAX_SAMPLES) this.keyIntervals.push(dt);
    }
    this.lastKey = ts;
  }

  move(x, y, ts) {
    this.moves++;
    this.version++;
    const p = { x, y, t: ts };
    const s = this.stroke;
    if (!s || ts - s.last.t > STROKE_PAUSE_MS) {
      this.endStroke();
      this.stroke = { start: p, last: p, path: 0 };
      return;
    }
    const d = dist(s.last, p);
    const dt = ts - s.last.t;
    s.path += d;
    this.distance += d;
    if (dt > 0 && this.speeds.length < MAX_SAMPLES) this.speeds.push((d / dt) * 1000); // px/s
    s.last = p;
  }

  endStroke() {
    const s = this.stroke;
    if (s && s.path > 0) {
      this.straight += dist(s.start, s.last);
      this.pathSum += s.path;
    }
    this.stroke = null;
  }

  touch(force) {
    this.touches++;
    this.version++;
    if (typeof force === 'number' && force > 0) this.pressures.push(force);
  }

  field(selector, ms) {
    this.fields[selector] = (this.fields[selector] || 0) + Math.round(ms);
    this.version++;
  }

  /** The summary of this page so far. */
  summary() {
    const k = stats(this.keyIntervals);
    const sp = stats(this.speeds);
    const pr = stats(this.pressures);
    let straight = this.straight, path = this.pathSum;
    const s = this.stroke;
    if (s && s.path > 0) { straight += dist(s.start, s.last); path += s.path; }
    return {
      keys: { count: this.keyCount, mean_ms: k.n ? r2(k.mean) : null, sd_ms: k.n ? r2(k.sd) : null },
      mouse: {
        moves: this.moves,
        distance: Math.round(this.distance),
        straightness: path > 0 ? r2(Math.min(1, straight / path)) : null,
        speed_mean: sp.n ? r2(sp.mean) : null,
        speed_sd: sp.n ? r2(sp.sd) : null,
      },
      touch: { count: this.touches, mean_pressure: pr.n ? r2(pr.mean) : null },
      fields: Object.assign({}, this.fields),
    };
  }
}
