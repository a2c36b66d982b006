// Fills the panels of index.html from the latest poll: `h` (History of /api/metrics snapshots)
// and `status` (/api/status). Every figure shown comes from these two; a panel whose metrics
// are absent says so.
import * as fmt from './format.js';
import { histogramDelta, quantile } from './metrics.js';

const MINUTE = 60000;

// Shows `text` in the figure `name` and keeps the number it stands for in data-value (what the
// browser test compares with /metrics).
export function figure(name, value, text) {
  const el = document.querySelector(`[data-figure="${name}"]`);
  if (!el) return;
  el.textContent = text;
  el.dataset.value = typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
}

// Shows the panel's body, or its "absent" line when `present` is false.
function present(id, yes) {
  const panel = document.getElementById(id);
  const absent = panel.querySelector('.absent');
  if (absent) absent.hidden = yes;
  panel.querySelector('.body').hidden = !yes;
}

function cell(tr, text, title) {
  const td = document.createElement('td');
  td.textContent = text;
  if (title) td.title = title;
  tr.appendChild(td);
  return td;
}

// Replaces the rows of `tbody` (by `rows`, each a list of cell texts) only when they changed:
// no flicker, no lost selection.
function fillRows(tbody, rows, emptyText, columns) {
  const key = JSON.stringify(rows);
  if (tbody.dataset.key === key) return;
  tbody.dataset.key = key;
  tbody.replaceChildren();
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell(tr, emptyText);
    td.colSpan = columns;
    td.className = 'muted';
    tbody.appendChild(tr);
    return;
  }
  for (const r of rows) {
    const tr = document.createElement('tr');
    for (const c of r) {
      if (Array.isArray(c)) cell(tr, c[0], c[1]);
      else cell(tr, c);
    }
    tbody.appendChild(tr);
  }
}

// Latency quantiles of the last minute of polls, by (rule, destination) and over all of them.
export function latencyWindow(h, match = {}, name = 'ferry_replication_latency_seconds') {
  const now = h.latest();
  const then = h.back(MINUTE);
  const delta = histogramDelta(now.histogram(name, match), now === then ? null : then.histogram(name, match));
  return { p50: quantile(delta, 0.5), p99: quantile(delta, 0.99), count: delta ? delta.count : 0 };
}

function slaPanel(h) {
  const s = h.latest();
  const has = s.families.has('ferry_replication_latency_seconds') ||
    s.families.has('ferry_replication_operations_pending');
  present('p-sla', has);
  if (!has) return;
  const pairs = new Map();
  for (const name of ['ferry_replication_latency_seconds', 'ferry_replication_operations_pending',
    'ferry_replication_threshold_seconds']) {
    for (const [key, g] of s.groupBy(name, ['rule', 'destination'])) pairs.set(key, g.labels);
  }
  const rows = [];
  for (const labels of [...pairs.values()].sort((a, b) =>
    (a.rule + a.destination).localeCompare(b.rule + b.destination))) {
    const threshold = s.max('ferry_replication_threshold_seconds', labels);
    const within = s.sum('ferry_replication_replicated_within_threshold_total', labels) ?? 0;
    const after = s.sum('ferry_replication_replicated_after_threshold_total', labels) ?? 0;
    const hist = s.histogram('ferry_replication_latency_seconds', labels);
    const win = latencyWindow(h, labels);
    const missed = s.sum('ferry_replication_missed_threshold_total', labels);
    rows.push([
      labels.rule, labels.destination,
      threshold ? fmt.duration(threshold) : 'none',
      threshold && within + after > 0 ? fmt.percent(within / (within + after)) : '–',
      fmt.count(hist ? hist.count : null),
      win.count ? fmt.duration(win.p50) : '–',
      win.count ? fmt.duration(win.p99) : '–',
      fmt.count(missed),
    ]);
  }
  fillRows(document.getElementById('sla-rows'), rows, 'no rule has replicated yet', 8);
}

function backlogPanel(h) {
  const s = h.latest();
  const has = s.families.has('ferry_replication_operations_pending');
  present('p-backlog', has);
  if (!has) return;
  const ops = s.sum('ferry_replication_operations_pending');
  const b = s.sum('ferry_replication_bytes_pending');
  const oldest = s.max('ferry_replication_oldest_pending_seconds');
  figure('pending-ops', ops, fmt.count(ops));
  figure('pending-bytes', b, fmt.bytes(b));
  figure('oldest-pending', oldest, oldest ? fmt.duration(oldest) : 'none');
}

function throughputPanel(h) {
  const s = h.latest();
  const replicated = s.sum('ferry_replication_latency_seconds');
  const copied = s.sum('ferry_transfer_objects_copied_total');
  present('p-throughput', replicated !== null || copied !== null);
  figure('replicated', replicated, fmt.count(replicated));
  figure('objects-copied', copied, fmt.count(copied));
  const objRate = objectsRate(h);
  const byteRate = bytesRate(h);
  figure('objects-rate', objRate, fmt.rate(objRate));
  figure('bytes-rate', byteRate, fmt.bytesRate(byteRate));
}

// Bytes per second: moved (parts of unfinished objects included) where the process counts
// them, else those of completed objects (replication counts only these).
export function bytesRate(h) {
  const s = h.latest();
  return (s.sum('ferry_transfer_bytes_moved_total') ?? 0) > 0
    ? h.rate('ferry_transfer_bytes_moved_total')
    : h.rate('ferry_transfer_bytes_copied_total');
}

// Objects per second: versions replicated (replication) or objects copied (other commands).
export function objectsRate(h) {
  const s = h.latest();
  return s.families.has('ferry_replication_latency_seconds')
    ? h.rate('ferry_replication_latency_seconds')
    : h.rate('ferry_transfer_objects_copied_total');
}

function storeOnly(hasStore) {
  for (const el of document.querySelectorAll('.store-only')) el.hidden = !hasStore;
  for (const el of document.querySelectorAll('.no-store')) el.hidden = hasStore;
}

function jobsPanel(h, status) {
  const hasStore = status !== null && status.store === true;
  storeOnly(hasStore);
  if (!hasStore) {
    const s = h.latest();
    const started = s.sum('ferry_jobs_started_total');
    const finished = s.sum('ferry_jobs_finished_total');
    const done = s.sum('ferry_jobs_finished_total', { outcome: 'done' });
    const dead = s.sum('ferry_jobs_finished_total', { outcome: 'dead' });
    const running = started !== null && finished !== null ? started - finished : null;
    figure('jobs-running', running, fmt.count(running));
    figure('jobs-waiting', null, '–');
    figure('jobs-done', done, fmt.count(done));
    figure('jobs-dead', dead, fmt.count(dead));
    return;
  }
  const kinds = new Map();
  for (const run of status.runs || []) {
    for (const [kind, c] of Object.entries(run.jobs || {})) {
      if (typeof c !== 'object' || c === null || c.queued === undefined) continue;
      const k = kinds.get(kind) || { queued: 0, leased: 0, done: 0, dead: 0 };
      for (const st of ['queued', 'leased', 'done', 'dead']) k[st] += c[st];
      kinds.set(kind, k);
    }
  }
  const total = { queued: 0, leased: 0, done: 0, dead: 0 };
  const rows = [];
  for (const [kind, c] of [...kinds.entries()].sort()) {
    for (const st of Object.keys(total)) total[st] += c[st];
    rows.push([kind, fmt.count(c.queued), fmt.count(c.leased), fmt.count(c.done), fmt.count(c.dead)]);
  }
  figure('jobs-running', total.leased, fmt.count(total.leased));
  figure('jobs-waiting', total.queued, fmt.count(total.queued));
  figure('jobs-done', total.done, fmt.count(total.done));
  figure('jobs-dead', total.dead, fmt.count(total.dead));
  fillRows(document.getElementById('kind-rows'), rows, 'no jobs', 5);
  const workers = document.getElementById('workers');
  const items = (status.workers || []).map((w) =>
    `${w.owner}: ${fmt.count(w.jobs)} job${w.jobs === 1 ? '' : 's'} (` +
    Object.entries(w.kinds).map(([k, n]) => `${k} ${n}`).join(', ') + ')');
  const key = JSON.stringify(items);
  if (workers.dataset.key !== key) {
    workers.dataset.key = key;
    workers.replaceChildren(...(items.length ? items : ['none holds a job now']).map((t) => {
      const li = document.createElement('li');
      li.textContent = t;
      if (!items.length) li.className = 'muted';
      return li;
    }));
  }
}

function failuresPanel(h, status) {
  const s = h.latest();
  const byReason = s.groupBy('ferry_replication_operations_failed_total', ['reason']);
  const attempts = s.sum('ferry_transfer_object_failures_total');
  const parts = [];
  if (byReason.size) {
    parts.push('Versions this process failed to replicate: ' + [...byReason.values()]
      .map((g) => `${g.labels.reason} ${fmt.count(g.value)}`).join(', ') + '.');
  }
  if (attempts !== null) parts.push(`Object failures (transfers): ${fmt.count(attempts)}.`);
  document.getElementById('failed-attempts').textContent = parts.join(' ');
  if (!status || status.store !== true) return;
  const sum = { last_minute: 0, last_hour: 0, total: 0 };
  for (const run of status.runs || []) {
    for (const k of Object.keys(sum)) sum[k] += run.failures && typeof run.failures[k] === 'number' ? run.failures[k] : 0;
  }
  figure('failed-minute', sum.last_minute, fmt.count(sum.last_minute));
  figure('failed-hour', sum.last_hour, fmt.count(sum.last_hour));
  figure('failed-total', sum.total, fmt.count(sum.total));
  if (sum.total > 200) {
    document.getElementById('failed-attempts').textContent +=
      ' More than 200 versions failed: the list shows failing jobs only (ferry replicate status lists them all).';
  }
  const now = Date.now();
  const rows = (status.errors || []).map((e) => [
    [fmt.clock(Date.parse(e.time)), `${e.time} (${fmt.ago(Date.parse(e.time), now)})`],
    e.job !== undefined
      ? [e.key || `job ${e.job} (${e.kind})`, `job ${e.job}, ${e.kind}, ${e.state}`]
      : [e.key, `version ${e.version} to ${e.destination}, ${e.state}`],
    [e.error.length > 120 ? e.error.slice(0, 117) + '…' : e.error, e.error],
  ]);
  fillRows(document.getElementById('error-rows'), rows, 'no errors', 3);
}

// The time the page last saw the received count go up (events carry no time of their own in
// the metrics).
let lastEvent = { count: null, seen: null };

function eventsPanel(h, status) {
  const s = h.latest();
  const received = s.sum('ferry_events_received_total');
  present('p-events', received !== null || s.families.has('ferry_events_refused_total'));
  const rate = h.rate('ferry_events_received_total');
  const refused = s.sum('ferry_events_refused_total');
  figure('events-received', received, fmt.count(received));
  figure('events-rate', rate, fmt.rate(rate));
  figure('events-recorded', s.sum('ferry_events_recorded_total'), fmt.count(s.sum('ferry_events_recorded_total')));
  figure('events-refused', refused, fmt.count(refused));
  figure('events-ignored', s.sum('ferry_events_ignored_total'), fmt.count(s.sum('ferry_events_ignored_total')));
  if (received !== null) {
    if (lastEvent.count !== null && received > lastEvent.count) lastEvent.seen = s.t;
    lastEvent.count = received;
  }
  figure('events-last', lastEvent.seen, lastEvent.seen ? fmt.ago(lastEvent.seen, s.t)
    : received ? 'before page opened' : 'none yet');
  document.querySelector('[data-figure="events-last"]').title = lastEvent.seen ? fmt.clock(lastEvent.seen) : '';
  const line = [];
  if (status && status.store === true) {
    let leased = 0;
    let done = 0;
    let queued = 0;
    let due = null;
    for (const run of status.runs || []) {
      // a round's first scan (scan) and the scans of key ranges (replicate-scan)
      for (const kind of ['scan', 'replicate-scan']) {
        const c = run.jobs && run.jobs[kind];
        if (!c || c.queued === undefined) continue;
        leased += c.leased;
        done += c.done;
        queued += c.queued;
      }
      if (run.next_due && (due === null || Date.parse(run.next_due) < due)) due = Date.parse(run.next_due);
    }
    line.push(leased ? `Repair scan: running (${leased} range${leased === 1 ? '' : 's'}).`
      : queued ? `Repair scan: next round ${due !== null ? 'due at ' + fmt.clock(due) : 'waiting'}.`
        : 'Repair scan: idle.');
    line.push(`Scan jobs done: ${fmt.count(done)}.`);
  }
  const repaired = s.groupBy('ferry_replication_scan_repaired_total', ['reason']);
  if (s.families.has('ferry_replication_scan_repaired_total')) {
    const total = [...repaired.values()].reduce((a, g) => a + g.value, 0);
    line.push(`Repaired by scans (no event brought them): ${fmt.count(total)}` +
      (repaired.size ? ' (' + [...repaired.values()].map((g) => `${g.labels.reason} ${fmt.count(g.value)}`).join(', ') + ')' : '') + '.');
  }
  document.getElementById('scan-line').textContent = line.join(' ');
}

function throttlePanel(h) {
  const s = h.latest();
  const has = s.families.has('ferry_s3_requests_total');
  present('p-throttle', has);
  if (!has) return;
  const r = h.rate('ferry_s3_requests_total');
  const throttles = s.sum('ferry_s3_throttles_total') ?? 0;
  const throttleRate = h.rate('ferry_s3_throttles_total');
  const retries = s.sum('ferry_s3_retries_total');
  const win = latencyWindow(h, {}, 'ferry_s3_request_seconds');
  figure('s3-rate', r, fmt.rate(r));
  figure('s3-throttles', throttles, `${fmt.count(throttles)} (${fmt.rate(throttleRate)})`);
  figure('s3-retries', retries, fmt.count(retries));
  figure('s3-p99', win.p99, win.count ? fmt.duration(win.p99) : '–');
}

function compressPanel(h) {
  const s = h.latest();
  const bytesIn = s.sum('ferry_transport_bytes_in_total');
  const wire = s.sum('ferry_transport_bytes_wire_total');
  const panel = document.getElementById('p-compress');
  // hidden unless the process moved bytes through compressed transport
  panel.hidden = !bytesIn || wire === null;
  if (panel.hidden) return;
  figure('transport-in', bytesIn, fmt.bytes(bytesIn));
  figure('transport-wire', wire, fmt.bytes(wire));
  const saved = bytesIn > 0 ? 1 - wire / bytesIn : null;
  figure('transport-saved', saved, saved === null ? '–' : `${fmt.percent(saved)} (${fmt.bytes(bytesIn - wire)})`);
}

export function render(h, status) {
  slaPanel(h);
  backlogPanel(h);
  throughputPanel(h);
  jobsPanel(h, status);
  failuresPanel(h, status);
  eventsPanel(h, status);
  throttlePanel(h);
  compressPanel(h);
}
