// Drives Debian's chromium (headless, through playwright-core) against a running `ferry serve`
// and checks its dashboard (tests/cli/dashboard_test.sh runs it):
//   node dashboard.mjs URL SCREENSHOT WRITE_SCRIPT WRITTEN [BREAK_SCRIPT]
// URL: the server's base URL; SCREENSHOT: where to save a PNG of the page; WRITE_SCRIPT: a bash
// script that writes WRITTEN more objects to the replicated bucket (run once, mid-test);
// BREAK_SCRIPT: a bash script run at the end that makes the replication of one key fail and
// prints that key (its error must then show in the page's last errors; a second screenshot,
// SCREENSHOT with -failure.png).
// Checks: the page loads with no console error and no failed request; it goes live; figures it
// shows lie between the same counters read from /metrics (or /api/status) just before and just
// after one of its polls, and their text is the value formatted; a figure follows new writes;
// the charts draw; it says so when the server cannot be reached, and recovers; a failure shows
// in the last errors. Prints "ok - ..."
// lines; exits 1 at the first failure.
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

const [url, screenshot, writeScript, writtenText, breakScript] = process.argv.slice(2);
const written = Number(writtenText);
const failures = [];

function ok(what) {
  console.log(`ok   - ${what}`);
}
function fail(what) {
  console.log(`FAIL - ${what}`);
  failures.push(what);
}
function check(what, cond, detail = '') {
  if (cond) ok(what);
  else fail(detail ? `${what}: ${detail}` : what);
}

// Sum of the samples of `name` in a Prometheus exposition (optionally only lines whose labels
// contain `labelPart`).
function promSum(text, name, labelPart = '') {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    if (labelPart && !(m[2] || '').includes(labelPart)) continue;
    sum += Number(m[3]);
    found = true;
  }
  return found ? sum : null;
}

async function get(path) {
  const r = await fetch(url + path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.text();
}

function jobsDone(statusText) {
  let done = 0;
  for (const run of JSON.parse(statusText).runs) {
    for (const c of Object.values(run.jobs)) done += c.done;
  }
  return done;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let exitCode = 0;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1500 } });
  const page = await context.newPage();
  const consoleErrors = [];
  const failedRequests = [];
  let watching = true;
  page.on('console', (m) => {
    if (watching && (m.type() === 'error' || m.type() === 'warning')) consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => watching && consoleErrors.push(`exception: ${e.message}`));
  page.on('requestfailed', (r) => watching && failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (watching && r.status() >= 400) failedRequests.push(`${r.url()}: HTTP ${r.status()}`);
  });

  await page.goto(url + '/', { waitUntil: 'load' });
  check('the page has its title', (await page.title()) === 'ferry');
  await page.waitForFunction(() => document.getElementById('conn').dataset.state === 'live', null, { timeout: 15000 });
  ok('it goes live (its first poll answered)');
  // two polls: rates need two
  await page.waitForFunction(() => Number(document.body.dataset.polls || 0) >= 2, null, { timeout: 15000 });

  // Reads /metrics and /api/status, waits for one more poll of the page, reads its figures,
  // reads /metrics and /api/status again.
  async function sample() {
    const before = { metrics: await get('/metrics'), status: await get('/api/status') };
    const polls = await page.evaluate(() => Number(document.body.dataset.polls || 0));
    await page.waitForFunction((n) => Number(document.body.dataset.polls || 0) > n, polls, { timeout: 10000 });
    const shown = await page.evaluate(() => {
      const out = {};
      for (const el of document.querySelectorAll('[data-figure]')) {
        out[el.dataset.figure] = { value: el.dataset.value, text: el.textContent };
      }
      return out;
    });
    const after = { metrics: await get('/metrics'), status: await get('/api/status') };
    return { before, shown, after };
  }

  function between(what, shown, lo, hi) {
    const v = shown && shown.value !== '' ? Number(shown.value) : NaN;
    check(`${what}: ${shown ? shown.text : '(absent)'} lies in [${lo}, ${hi}]`,
      Number.isFinite(v) && lo !== null && hi !== null && v >= lo && v <= hi);
    // the text is the value, formatted as a count
    check(`  and the text is that number`, shown && shown.text.replace(/,/g, '') === String(v));
    return v;
  }

  const s1 = await sample();
  const lat = 'ferry_replication_latency_seconds_count';
  const replicated1 = between('versions replicated', s1.shown.replicated,
    promSum(s1.before.metrics, lat), promSum(s1.after.metrics, lat));
  check('  (some were replicated already)', replicated1 > 0);
  between('events received', s1.shown['events-received'],
    promSum(s1.before.metrics, 'ferry_events_received_total'),
    promSum(s1.after.metrics, 'ferry_events_received_total'));
  between('events recorded', s1.shown['events-recorded'],
    promSum(s1.before.metrics, 'ferry_events_recorded_total'),
    promSum(s1.after.metrics, 'ferry_events_recorded_total'));
  between('jobs done (state store)', s1.shown['jobs-done'], jobsDone(s1.before.status), jobsDone(s1.after.status));
  between('operations pending', s1.shown['pending-ops'],
    Math.min(promSum(s1.before.metrics, 'ferry_replication_operations_pending'),
      promSum(s1.after.metrics, 'ferry_replication_operations_pending')),
    Math.max(promSum(s1.before.metrics, 'ferry_replication_operations_pending'),
      promSum(s1.after.metrics, 'ferry_replication_operations_pending')));
  const slaRows = await page.locator('#sla-rows tr').count();
  const slaText = await page.locator('#sla-rows').innerText();
  check(`the SLA table has a row per rule and destination (${slaRows}: ${slaText.replace(/\s+/g, ' ')})`,
    slaRows === 1 && slaText.includes('all') && slaText.includes('100 %'));

  // more objects written: the figure follows
  execFileSync('bash', [writeScript], { stdio: 'inherit' });
  const t0 = Date.now();
  await page.waitForFunction((want) => {
    const el = document.querySelector('[data-figure="replicated"]');
    return Number(el.dataset.value || 0) >= want;
  }, replicated1 + written, { timeout: 60000 });
  ok(`the replicated figure reaches ${replicated1 + written} after ${written} more writes ` +
     `(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const s2 = await sample();
  between('versions replicated, later', s2.shown.replicated,
    promSum(s2.before.metrics, lat), promSum(s2.after.metrics, lat));
  // the charts draw: a canvas of the size the box gives
  const canvases = await page.evaluate(() =>
    [...document.querySelectorAll('.chart canvas')].filter((c) => c.width > 100 && c.height > 50).length);
  check(`the charts draw (${canvases} canvases)`, canvases >= 4);
  // a panel's layout does not move while figures update
  const box1 = await page.locator('#p-jobs').boundingBox();
  await page.waitForFunction((n) => Number(document.body.dataset.polls) > n,
    await page.evaluate(() => Number(document.body.dataset.polls)), { timeout: 10000 });
  const box2 = await page.locator('#p-jobs').boundingBox();
  check('the panels keep their place between polls', JSON.stringify(box1) === JSON.stringify(box2));

  await page.screenshot({ path: screenshot, fullPage: true });
  ok(`screenshot saved: ${screenshot}`);
  check('no console error or warning', consoleErrors.length === 0, consoleErrors.join(' | '));
  check('no failed request', failedRequests.length === 0, failedRequests.join(' | '));

  // the server unreachable (its API refused for a while): the page says so, then recovers
  watching = false;
  await page.route('**/api/**', (route) => route.abort('connectionrefused'));
  await page.waitForFunction(() => document.getElementById('conn').dataset.state === 'down', null, { timeout: 10000 });
  const downText = await page.locator('#conn').innerText();
  check(`unreachable is shown ("${downText}")`, /unreachable/.test(downText));
  await page.unroute('**/api/**');
  await page.waitForFunction(() => document.getElementById('conn').dataset.state === 'live', null, { timeout: 10000 });
  ok('and it goes live again');

  // a failure: the destination bucket removed, then one more object written (BREAK_SCRIPT,
  // which prints the key); the failing job's error shows in the last errors, with the key
  if (breakScript) {
    const key = execFileSync('bash', [breakScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    const t1 = Date.now();
    try {
      await page.waitForFunction((k) => document.getElementById('error-rows').innerText.includes(k), key, { timeout: 60000 });
      const row = await page.locator('#error-rows tr').first().innerText();
      ok(`the failure shows in the last errors after ${((Date.now() - t1) / 1000).toFixed(1)} s: ${row.replace(/\s+/g, ' ')}`);
      const status = JSON.parse(await get('/api/status'));
      check('  as /api/status has it', status.errors.some((e) => e.key === key && row.includes(e.error.slice(0, 20))));
      await page.waitForFunction((n) => Number(document.body.dataset.polls) > n,
        await page.evaluate(() => Number(document.body.dataset.polls)), { timeout: 10000 });
      const shownTotal = await page.locator('[data-figure="failed-total"]').getAttribute('data-value');
      const later = JSON.parse(await get('/api/status'));
      check(`  and the failures figure (${shownTotal}) is the store's`,
        Number(shownTotal) >= 1 && Number(shownTotal) === later.runs[0].failures.total);
    } catch (e) {
      fail(`the failure of ${key} shows in the last errors: ${e.message}`);
    }
    await page.screenshot({ path: screenshot.replace(/\.png$/, '-failure.png'), fullPage: true });
  }
} catch (e) {
  fail(`error: ${e.message}`);
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`${failures.length} browser check(s) failed`);
  exitCode = 1;
}
process.exit(exitCode);
