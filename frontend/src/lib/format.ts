// Formatting is locale-independent on purpose: ops screens are compared across
// machines and screenshots, and a fixed format keeps columns aligned.

const DASH = '—';
const MINUS = '−';

function group(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function fixed(n: number, digits: number): string {
  const s = Math.abs(n).toFixed(digits);
  const dot = s.indexOf('.');
  const body = dot < 0 ? group(s) : group(s.slice(0, dot)) + s.slice(dot);
  return (n < 0 && Number(s) !== 0 ? MINUS : '') + body;
}

export function formatPrice(p: number | null | undefined): string {
  if (p == null || !Number.isFinite(p)) return DASH;
  return fixed(p, Math.abs(p) < 1 && p !== 0 ? 4 : 2);
}

export function formatPct(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return DASH;
  const s = fixed(x, 2);
  if (s === '0.00') return '0.00%';
  return (x > 0 ? '+' : '') + s + '%';
}

/** Compact counts for narrow cells: 950, 1.5K, 23K, 2.3M, 1.1B. */
export function formatCompact(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return DASH;
  const a = Math.abs(n);
  const sign = n < 0 ? MINUS : '';
  const units: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (let i = 0; i < units.length; i++) {
    const [v, u] = units[i]!;
    if (a >= v) {
      const q = a / v;
      const s = q >= 100 ? Math.round(q).toString() : q.toFixed(1).replace(/\.0$/, '');
      // 999.96K rounds to "1000K": promote it to the next unit.
      if (s === '1000' && i > 0) return sign + '1' + units[i - 1]![1];
      return sign + s + u;
    }
  }
  return sign + (Number.isInteger(a) ? a.toString() : a.toFixed(a < 10 ? 2 : 0));
}

export function formatCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return DASH;
  return fixed(Math.round(n), 0);
}

/** Messages per second: one decimal below 100, whole numbers above, compact above 10K. */
export function formatRate(r: number | null | undefined): string {
  if (r == null || !Number.isFinite(r)) return DASH;
  if (Math.abs(r) >= 10_000) return formatCompact(r);
  if (Math.abs(r) >= 100) return fixed(Math.round(r), 0);
  return fixed(r, 1);
}

/** Durations: 45s, 3m 12s, 2h 05m, 3d 4h. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return DASH;
  let s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(s).padStart(2, '0')}s`;
}

/** Short age for table cells: 0s, 12s, 3m, 2h, 4d. */
export function formatAge(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return DASH;
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** "12s ago" relative to now (both Unix seconds); "never" for 0/absent timestamps. */
export function formatRelative(ts: number | null | undefined, nowSec: number): string {
  if (!ts) return 'never';
  const age = nowSec - ts;
  if (age < 1) return 'just now';
  return `${formatDuration(age)} ago`;
}

/** Wall-clock time of a Unix-seconds timestamp, HH:MM:SS in local time (with .mmm when asked). */
export function formatClock(ts: number, millis = false): string {
  if (!ts || !Number.isFinite(ts)) return DASH;
  const d = new Date(ts * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const hms = `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  return millis ? `${hms}.${String(d.getMilliseconds()).padStart(3, '0')}` : hms;
}
