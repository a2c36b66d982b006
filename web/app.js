// The dashboard's poll loop: every 2 s it reads /api/metrics and /api/status, keeps the last
// 15 minutes of polls, fills the panels (panels.js) and the charts (uPlot, a fixed-size box
// each, so nothing moves while figures update), and tells when the server cannot be reached.
import * as fmt from './format.js';
import { History, Snapshot } from './metrics.js';
import { bytesRate, latencyWindow, objectsRate, render } from './panels.js';

const POLL_MS = 2000;
const KEEP_MS = 15 * 60 * 1000;
const CHART_HEIGHT = 150;

const history = new History(KEEP_MS);
const conn = document.getElementById('conn');
let downSince = null;

// A chart: its uPlot and its columns (x = seconds since the epoch, then one per series).
class Chart {
  constructor(id, series, axes) {
    this.el = document.getElementById(id);
    this.columns = [[], ...series.map(() => [])];
    const title = this.el.dataset.title;
    this.plot = new uPlot({
      title,
      width: this.width(),
      height: CHART_HEIGHT,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, s: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] },
        n: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] }, b: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] } },
      series: [{}, ...series],
      axes: [timeAxis, ...axes],
    }, this.columns, this.el);
  }

  width() {
    return Math.max(200, Math.floor(this.el.clientWidth));
  }

  push(t, values) {
    this.columns[0].push(t / 1000);
    values.forEach((v, i) => this.columns[i + 1].push(typeof v === 'number' && Number.isFinite(v) ? v : null));
    while (this.columns[0].length > 1 && t / 1000 - this.columns[0][0] > KEEP_MS / 1000) {
      for (const c of this.columns) c.shift();
    }
    this.plot.setData(this.columns);
  }

  resize() {
    this.plot.setSize({ width: this.width(), height: CHART_HEIGHT });
  }
}

// time ticks of whole seconds at least, shown as HH:MM:SS
const timeAxis = {
  space: 70,
  incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600],
  values: (u, ticks) => ticks.map((t) => fmt.clock(t * 1000)),
};
const axis = (format, scale) => ({ scale, values: (u, ticks) => ticks.map(format), size: 72 });
const line = (label, stroke, format, scale) => ({
  label, stroke, width: 2, scale, spanGaps: false, value: (u, v) => (v === null ? '–' : format(v)),
});

const charts = {
  latency: new Chart('chart-latency', [
    line('p50', '#2f7ed8', fmt.duration, 's'),
    line('p99', '#d9534f', fmt.duration, 's'),
  ], [axis(fmt.duration, 's')]),
  backlog: new Chart('chart-backlog', [line('pending', '#8e5ea2', fmt.count, 'n')], [axis(fmt.count, 'n')]),
  throughput: new Chart('chart-throughput', [
    line('objects/s', '#2f7ed8', fmt.rate, 'n'),
    line('bytes/s', '#3cba9f', fmt.bytesRate, 'b'),
  ], [axis((v) => fmt.rate(v), 'n'), { scale: 'b', side: 1, grid: { show: false }, values: (u, t) => t.map(fmt.bytesRate), size: 90 }]),
  s3: new Chart('chart-s3', [
    line('requests/s', '#2f7ed8', fmt.rate, 'n'),
    line('throttled/s', '#d9534f', fmt.rate, 'n'),
  ], [axis((v) => fmt.rate(v), 'n')]),
};

function chartPoll(t) {
  const s = history.latest();
  const lat = latencyWindow(history);
  charts.latency.push(t, lat.count ? [lat.p50, lat.p99] : [null, null]);
  charts.backlog.push(t, [s.sum('ferry_replication_operations_pending')]);
  charts.throughput.push(t, [objectsRate(history), bytesRate(history)]);
  charts.s3.push(t, [history.rate('ferry_s3_requests_total'), history.rate('ferry_s3_throttles_total')]);
}

async function getJson(path) {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

function setConn(state, text) {
  conn.dataset.state = state;
  conn.textContent = text;
  document.body.classList.toggle('stale', state === 'down');
}

async function poll() {
  const t = Date.now();
  let metrics;
  let status;
  try {
    [metrics, status] = await Promise.all([getJson('api/metrics'), getJson('api/status')]);
  } catch (e) {
    if (downSince === null) downSince = t;
    setConn('down', `server unreachable since ${fmt.clock(downSince)}: retrying every 2 s`);
    return;
  }
  downSince = null;
  history.add(new Snapshot(metrics, t));
  document.getElementById('mode').textContent = status.store === true
    ? `ferry serve: ${(status.runs || []).map((r) => r.source).join(', ')}`
    : `ferry ${status.command || ''} (pid ${status.pid}, started ${fmt.clock(Date.parse(status.started))})`;
  render(history, status);
  chartPoll(t);
  setConn('live', 'live');
  document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  document.getElementById('updated').textContent = `Updated ${fmt.clock(t)}.`;
}

async function loop() {
  await poll();
  setTimeout(loop, POLL_MS);
}

let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => Object.values(charts).forEach((c) => c.resize()), 150);
});

loop();
