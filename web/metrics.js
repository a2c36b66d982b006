// The metrics the page polls (/api/metrics, docs/design/dashboard.md) and the history it keeps:
// lookups by family and labels, counter rates between two polls, quantiles from histogram
// buckets.

// One poll of /api/metrics, taken at `t` (ms).
export class Snapshot {
  constructor(doc, t) {
    this.t = t;
    this.families = new Map();
    for (const f of doc.families || []) this.families.set(f.name, f);
  }

  has(name) {
    const f = this.families.get(name);
    return f !== undefined && f.samples.length > 0;
  }

  samples(name, match = {}) {
    const f = this.families.get(name);
    if (!f) return [];
    return f.samples.filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
  }

  // Sum of the values (counters, gauges) or of the counts (histograms) of the matching series;
  // null when the family is absent.
  sum(name, match = {}) {
    if (!this.families.has(name)) return null;
    let total = 0;
    for (const s of this.samples(name, match)) {
      const v = s.count !== undefined ? s.count : s.value;
      if (typeof v === 'number') total += v;
    }
    return total;
  }

  max(name, match = {}) {
    if (!this.families.has(name)) return null;
    let m = null;
    for (const s of this.samples(name, match)) {
      if (typeof s.value === 'number' && (m === null || s.value > m)) m = s.value;
    }
    return m;
  }

  // Sums grouped by the values of `labels`: Map "a\u0000b" -> {labels: {...}, value}.
  groupBy(name, labels) {
    const out = new Map();
    for (const s of this.samples(name)) {
      const key = labels.map((l) => s.labels[l] ?? '').join('\u0000');
      const v = s.count !== undefined ? s.count : s.value;
      const g = out.get(key) || { labels: Object.fromEntries(labels.map((l) => [l, s.labels[l] ?? ''])), value: 0 };
      if (typeof v === 'number') g.value += v;
      out.set(key, g);
    }
    return out;
  }

  // The histogram buckets of the matching series added up: {le, cumulative, count, sum}, or
  // null when there is none.
  histogram(name, match = {}) {
    let out = null;
    for (const s of this.samples(name, match)) {
      if (!Array.isArray(s.cumulative)) continue;
      if (out === null) {
        out = { le: s.le.slice(), cumulative: s.cumulative.slice(), count: s.count, sum: s.sum };
        continue;
      }
      if (s.le.length !== out.le.length) continue;  // other bounds: not comparable
      s.cumulative.forEach((c, i) => (out.cumulative[i] += c));
      out.count += s.count;
      out.sum += s.sum;
    }
    return out;
  }
}

// Bucket counts of `now` minus those of `then` (observations between the two polls); null when
// the counters went down (the process restarted).
export function histogramDelta(now, then) {
  if (now === null) return null;
  if (then === null) return now;
  if (then.le.length !== now.le.length || now.count < then.count) return null;
  return {
    le: now.le,
    cumulative: now.cumulative.map((c, i) => c - then.cumulative[i]),
    count: now.count - then.count,
    sum: now.sum - then.sum,
  };
}

// The q-quantile of a histogram, interpolated linearly inside its bucket (as Prometheus'
// histogram_quantile does); the largest finite bound when it falls in the +Inf bucket; null
// without observations.
export function quantile(h, q) {
  if (h === null || h.count <= 0) return null;
  const rank = q * h.count;
  for (let i = 0; i < h.cumulative.length; i++) {
    if (h.cumulative[i] < rank) continue;
    if (i >= h.le.length) return h.le.length ? h.le[h.le.length - 1] : null;
    const lower = i === 0 ? 0 : h.le[i - 1];
    const below = i === 0 ? 0 : h.cumulative[i - 1];
    const inBucket = h.cumulative[i] - below;
    if (inBucket <= 0) return h.le[i];
    return lower + (h.le[i] - lower) * ((rank - below) / inBucket);
  }
  return null;
}

// The polls of the last `keepMs` milliseconds.
export class History {
  constructor(keepMs) {
    this.keepMs = keepMs;
    this.snaps = [];
  }

  add(snap) {
    this.snaps.push(snap);
    while (this.snaps.length > 2 && snap.t - this.snaps[0].t > this.keepMs) this.snaps.shift();
  }

  latest() {
    return this.snaps.length ? this.snaps[this.snaps.length - 1] : null;
  }

  // The oldest poll at most `ms` before the latest one (the latest itself if there is no
  // other).
  back(ms) {
    const last = this.latest();
    if (last === null) return null;
    for (const s of this.snaps) {
      if (last.t - s.t <= ms) return s;
    }
    return last;
  }

  // Per second change of a counter sum over about `ms`; null when unknown (one poll, absent
  // family, or a restart made it go down).
  rate(name, ms = 10000, match = {}) {
    const now = this.latest();
    const then = this.back(ms);
    if (now === null || then === null || now === then) return null;
    const a = then.sum(name, match);
    const b = now.sum(name, match);
    if (a === null || b === null || b < a) return null;
    return (b - a) / ((now.t - then.t) / 1000);
  }
}
