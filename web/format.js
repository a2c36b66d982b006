// Numbers for people: counts, bytes (KiB, MiB, ...), rates, durations and percentages. Every
// function returns "–" for a value that is not a finite number: nothing is made up.

const DASH = '–';

function finite(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

// 1234567 -> "1,234,567"; fractions keep up to `digits` decimals.
export function count(v, digits = 0) {
  if (!finite(v)) return DASH;
  return v.toLocaleString('en-US', { maximumFractionDigits: digits });
}

// 1536 -> "1.5 KiB"
export function bytes(v) {
  if (!finite(v)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let x = Math.abs(v);
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  const shown = i === 0 ? x.toFixed(0) : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
  return (v < 0 ? '-' : '') + shown + ' ' + units[i];
}

export function bytesRate(v) {
  return finite(v) ? bytes(v) + '/s' : DASH;
}

// per second, with a sensible precision for small rates
export function rate(v, unit = '/s') {
  if (!finite(v)) return DASH;
  const digits = v === 0 ? 0 : v < 1 ? 2 : v < 10 ? 1 : 0;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) + unit;
}

// seconds -> "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min", "3 d 4 h"
export function duration(s) {
  if (!finite(s)) return DASH;
  if (s < 1) return (s * 1000).toFixed(s < 0.01 ? 1 : 0) + ' ms';
  if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min ' + String(Math.floor(s % 60)).padStart(2, '0') + ' s';
  const h = Math.floor(m / 60);
  if (h < 48) return h + ' h ' + String(m % 60).padStart(2, '0') + ' min';
  return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
}

// 0.987 -> "98.7 %"
export function percent(ratio) {
  if (!finite(ratio)) return DASH;
  const p = ratio * 100;
  return (p === 100 || p === 0 ? p.toFixed(0) : p.toFixed(1)) + ' %';
}

// a Date or ms since the epoch -> "14:03:07" (local time)
export function clock(t) {
  if (t === null || t === undefined) return DASH;
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) return DASH;
  return d.toLocaleTimeString('en-GB', { hour12: false });
}

// "… ago" from a time in ms
export function ago(t, now) {
  if (!finite(t)) return DASH;
  const s = Math.max(0, (now - t) / 1000);
  if (s < 1) return 'just now';
  return (s < 60 ? Math.round(s) + ' s' : duration(s)) + ' ago';
}
