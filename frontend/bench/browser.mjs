// Browser benchmark of the dashboard (issue 9): a real Chromium (the Debian
// build the e2e suite uses) on the real binary under three loads, measuring
// what an operator sees: frame rate, long tasks, how late ticks and status
// changes reach the screen, DOM size, JS heap, renderer RSS and the delay of a
// sort click. It asserts nothing; it prints a Markdown table for BENCHMARKS.md.
//
//   go tool task bench:browser                       # every load, 60 s each
//   go tool task bench:browser -- --duration 300     # the issue's 5 minutes
//   go tool task bench:browser -- --loads heavy --duration 30
//   go tool task bench:browser -- --loads heavy --duration 300 --warmup 60   # steady-state memory
//
// TICKWATCH_BIN names the binary (the task builds it); CHROMIUM_PATH overrides
// /usr/bin/chromium. Output also goes to .task/bench-browser-<time>.md.
//
// How each figure is taken (all in the page unless said otherwise):
// - fps: requestAnimationFrame callbacks counted per wall-clock second; median
//   and 5th percentile of those seconds after a warm-up (the first 5 s, `--warmup`).
// - long tasks: PerformanceObserver('longtask') after the warm-up.
// - tick-to-DOM: Node receives every /admin-ws frame through the DevTools
//   protocol (off the page's main thread) and remembers each symbol's recent
//   ticks; a MutationObserver in the page records when a row's price text
//   changes. The shown text is matched to the newest tick that formats to it,
//   and the latency is (page clock + server clock offset) - tick timestamp.
//   Matching the newest equal price can only under-state a latency.
// - status-to-paint: the simulator's /control/drop cuts an upstream
//   connection several times per run; the latency runs from the
//   connection_status_update's own timestamp to the first paint after the
//   column's data-status attribute changed (rAF, then a posted message).
// - sort click: Playwright clicks a sort button; the delay runs from the
//   event's timeStamp to the first paint after it (as Event Timing does).
// - DOM elements, JS heap (DevTools Runtime.getHeapUsage) and the RSS of the
//   page's renderer process (/proc of the Chromium started here) are sampled
//   every 5 s; runs of 2 minutes or more also list the RSS and heap samples
//   once a minute under the table.
// - long tasks by wall and by CPU time: a Chrome trace (CDP Tracing) over the
//   first --trace seconds (30 by default, 0 for none) of the measured part;
//   see trace.mjs. A PerformanceObserver long task is wall time, which on a
//   shared box includes the renderer being descheduled; the trace's CPU time
//   (tdur) does not, and the notes under the table say what each long task
//   was. --profile adds V8's sampler to name functions (build the SPA with
//   `npx vite build --minify false` to read them).
// - what allocates: --alloc S runs V8's sampling heap profiler over the first
//   S seconds of the measured part, freed objects included, and writes the
//   allocation sites by bytes to .task/bench-alloc-<load>.txt. The RSS samples
//   carry its parts (anonymous, file, shared memory) and V8's committed heap.
// - BENCH_EXTRA_ARGS adds Chromium flags, e.g. "--js-flags=--trace-gc" (with
//   DEBUG=pw:browser to see the renderer's output).

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { freePort } from '../e2e/server.mjs';
import { analyseTrace, describeLong, PROFILE_CATEGORIES, TRACE_CATEGORIES } from './trace.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const LOADS = {
  demo: { label: 'demo (built-in simulator, 500 tickers, ~600 trades/s)', external: false },
  heavy: { label: 'heavy (3 x 1,000 tickers, 5,000 ticks/s)', external: true, perSlot: 1000, rate: 5000 },
  extreme: { label: 'extreme (3 x 3,334 tickers, 20,000 ticks/s)', external: true, perSlot: 3334, rate: 20000 },
};

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    loads: { type: 'string', default: 'demo,heavy,extreme' },
    drops: { type: 'string', default: '6' },
    label: { type: 'string', default: '' },
    // Seconds between the dashboard's first rows and the measured part: 5 by
    // default; a long one (60) leaves out the renderer's caches filling up
    // when the question is whether memory is flat in steady state.
    warmup: { type: 'string', default: '5' },
    // Seconds of Chrome trace recorded from the start of the measured part (0: none).
    trace: { type: 'string', default: '30' },
    // Adds V8's sampling profiler to the trace: names the functions inside each long task.
    profile: { type: 'boolean', default: false },
    // Seconds of V8's sampling heap profiler from the start of the measured
    // part (0: none): writes the allocation sites by bytes allocated, collected
    // or not, to .task/ (read names from a `npx vite build --minify false` build).
    alloc: { type: 'string', default: '0' },
  },
});
const durationS = Number(opts.duration);
const WARMUP_S = Number(opts.warmup);
const traceS = Math.min(Number(opts.trace), durationS);

async function waitHealthy(url, proc, what) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${what} exited early (${proc.exitCode})`);
    try {
      const r = await fetch(url);
      if (r.ok || r.status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not come up`);
    await sleep(100);
  }
}

function stop(proc) {
  return new Promise((res) => {
    if (proc.exitCode !== null) return res();
    proc.once('exit', () => res());
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
  });
}

/** Starts the simulator (external loads) and the server; returns their URLs and a stop function. */
async function startStack(bin, load) {
  const dir = mkdtempSync(join(tmpdir(), 'tickwatch-bench-'));
  const httpPort = await freePort();
  const simPort = await freePort();
  const procs = [];
  const password = 'bench-' + Math.random().toString(36).slice(2);
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('MASSIVE_') || k.startsWith('WEBSOCKET_') || k.startsWith('SIM_')) delete env[k];
  Object.assign(env, {
    HTTP_ADDR: `127.0.0.1:${httpPort}`,
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD: password,
    DATA_DIR: join(dir, 'data'),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
  });
  if (load.external) {
    const sim = spawn(bin, ['simulate', '--addr', `127.0.0.1:${simPort}`, '--rate', String(load.rate)], { stdio: 'ignore' });
    procs.push(sim);
    await waitHealthy(`http://127.0.0.1:${simPort}/control/conns`, sim, 'simulator');
    const syms = (slot) => Array.from({ length: load.perSlot }, (_, i) => `L${slot}${String(i).padStart(4, '0')}`).join(',');
    // As backend/app/load_test.go: trades only, the shipped flush interval and ring size.
    Object.assign(env, {
      MASSIVE_API_KEY: 'bench',
      MASSIVE_SIMULATOR: 'off',
      MASSIVE_WEBSOCKET_URL: `ws://127.0.0.1:${simPort}/stocks`,
      MASSIVE_CHANNELS: 'T',
      USE_MULTI_CONNECTION: 'true',
      LIVE_FLUSH_INTERVAL: '100ms',
      TICK_BUFFER_SIZE: '4096',
      WEBSOCKET_CONNECTION_1_SYMBOLS: syms(1),
      WEBSOCKET_CONNECTION_2_ENABLED: 'true',
      WEBSOCKET_CONNECTION_2_SYMBOLS: syms(2),
      WEBSOCKET_CONNECTION_3_ENABLED: 'true',
      WEBSOCKET_CONNECTION_3_SYMBOLS: syms(3),
    });
  } else {
    // Trades, not the demo's default per-second aggregates: an aggregate is
    // stamped with its bar's end, which makes tick-to-DOM meaningless.
    Object.assign(env, { SIM_ADDR: `127.0.0.1:${simPort}`, MASSIVE_CHANNELS: 'T' });
  }
  const server = spawn(bin, [], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let errTail = '';
  server.stderr.on('data', (b) => (errTail = (errTail + b.toString()).slice(-3000)));
  procs.push(server);
  const base = `http://127.0.0.1:${httpPort}`;
  try {
    await waitHealthy(`${base}/healthz`, server, 'tickwatch');
  } catch (e) {
    throw new Error(`${e.message}\n${errTail}`);
  }
  return {
    base,
    sim: `http://127.0.0.1:${simPort}`,
    password,
    async stop() {
      for (const p of procs.reverse()) await stop(p);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- /proc: the renderer processes of the Chromium this script started ----

function procChildren() {
  const kids = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch {
      // gone
    }
  }
  return kids;
}

/** Writes the sampled allocation sites, heaviest first, to .task/bench-alloc-<load>.txt. */
function writeAllocProfile(name, profile, seconds) {
  const self = new Map(); // "fn url:line" -> bytes
  let total = 0;
  const walk = (n, stack) => {
    const f = n.callFrame;
    const here = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
    if (n.selfSize > 0) {
      // The site and its three nearest callers: the same function allocates for different reasons.
      const site = [here, ...stack.slice(-3).reverse()].join('  <  ');
      self.set(site, (self.get(site) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c, [...stack, here]);
  };
  walk(profile.head, []);
  const lines = [`${name}: ${(total / 2 ** 20).toFixed(1)} MB allocated in ${seconds.toFixed(0)} s (${(total / 2 ** 20 / seconds).toFixed(2)} MB/s), sampled every 16 KB`];
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) lines.push(`${(v / 2 ** 20).toFixed(2).padStart(7)} MB ${(100 * v / total).toFixed(1).padStart(5)} %  ${k}`);
  mkdirSync(join(repoRoot, '.task'), { recursive: true });
  const file = join(repoRoot, '.task', `bench-alloc-${name}.txt`);
  writeFileSync(file, lines.join('\n') + '\n');
  console.error(`bench:browser: allocation profile in ${file}`);
}

/**
 * RSS in MB of the largest renderer under this Node process (our one page),
 * with its parts: anonymous memory (V8 and Blink heaps, caches), file-backed
 * pages (code, fonts) and shared memory (in software rendering, the raster
 * tiles handed to the compositor), so growth can be put down to one of them.
 */
function rendererRss() {
  const kids = procChildren();
  const stack = [...(kids.get(process.pid) ?? [])];
  let best = { total: 0, anon: 0, file: 0, shmem: 0 };
  const kb = (status, key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  while (stack.length) {
    const pid = stack.pop();
    stack.push(...(kids.get(pid) ?? []));
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const st = readFileSync(`/proc/${pid}/status`, 'utf8');
      const total = kb(st, 'VmRSS');
      if (total > best.total) best = { total, anon: kb(st, 'RssAnon'), file: kb(st, 'RssFile'), shmem: kb(st, 'RssShmem') };
    } catch {
      // gone
    }
  }
  return best;
}

// ---- figures ----

function pct(xs, p) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

// The page's formatPrice (frontend/src/lib/format.ts), to match shown text to ticks.
function formatPrice(p) {
  const digits = Math.abs(p) < 1 && p !== 0 ? 4 : 2;
  const s = Math.abs(p).toFixed(digits);
  const dot = s.indexOf('.');
  const body = s.slice(0, dot).replace(/\B(?=(\d{3})+(?!\d))/g, ',') + s.slice(dot);
  return (p < 0 && Number(s) !== 0 ? '−' : '') + body;
}

/** Installed in the page before it loads: the in-page probes. */
function pageProbes() {
  const w = window;
  const T = (w.__bench = { frames: [], longtasks: [], longDetail: [], loaf: [], priceMuts: [], statusPaints: [], clicks: [], measuring: false });
  const loop = () => {
    T.frames.push(Date.now());
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      if (!T.measuring) continue;
      T.longtasks.push(e.duration);
      T.longDetail.push({ at: Math.round(e.startTime), ms: Math.round(e.duration), by: e.attribution?.[0]?.name ?? '' });
    }
  }).observe({ type: 'longtask', buffered: false });
  // Long animation frames (Chromium 123+) say what a long frame spent its
  // time on (scripts with their entry point, style and layout, blocking
  // time), which the longtask entry does not.
  try {
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) {
        if (!T.measuring || e.duration < 50) continue;
        T.loaf.push({
          at: Math.round(e.startTime),
          ms: Math.round(e.duration),
          blocking: Math.round(e.blockingDuration),
          render: Math.round(e.renderStart ? e.startTime + e.duration - e.renderStart : 0),
          layout: Math.round(e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0),
          scripts: e.scripts.map((x) => `${x.invoker || x.invokerType} ${Math.round(x.duration)}ms`).slice(0, 4),
        });
      }
    }).observe({ type: 'long-animation-frame', buffered: false });
  } catch {
    // an older Chromium: no long-animation-frame entries
  }
  // After the next paint: rAF runs before it, a posted message after it.
  const afterPaint = (cb) =>
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => cb(Date.now());
      ch.port2.postMessage(0);
    });
  const seenStatus = new Map();
  const onMut = (muts) => {
    const now = Date.now();
    const rows = new Set();
    for (const m of muts) {
      const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      if (!el) continue;
      if (m.type === 'attributes' && m.attributeName === 'data-status') {
        const st = el.getAttribute('data-status');
        const id = el.getAttribute('data-connection');
        if (seenStatus.get(id) !== st) {
          seenStatus.set(id, st);
          afterPaint((t) => T.statusPaints.push([id, st, t]));
        }
        continue;
      }
      const td = el.closest('td.price');
      if (td) rows.add(td);
      else if (el.matches?.('tr[data-symbol]')) rows.add(el.querySelector('td.price'));
    }
    if (!T.measuring) return;
    for (const td of rows) {
      const tr = td?.closest('tr[data-symbol]');
      if (!tr) continue;
      T.priceMuts.push([tr.dataset.symbol, td.textContent.replace(/[▲▼\s]/g, ''), now]);
    }
  };
  // The body, not <main>: the SPA swaps the login view for the dashboard without a reload.
  const start = () => {
    new MutationObserver(onMut).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-status'] });
  };
  document.addEventListener('DOMContentLoaded', start);
  document.addEventListener(
    'click',
    (e) => {
      if (!e.target.closest?.('.seg button')) return;
      const t0 = performance.timeOrigin + e.timeStamp;
      afterPaint((t) => T.clicks.push(t - t0));
    },
    true,
  );
}

/**
 * Starts a Chrome trace of the page (see trace.mjs); stop() ends it, saves it
 * to .task/trace-<load>-<time>.json (open it in DevTools' Performance panel)
 * and returns the long tasks it found.
 */
async function startTrace(cdp) {
  // BENCH_TRACE_EXTRA adds categories, e.g. disabled-by-default-devtools.timeline.invalidationTracking.
  const extra = (process.env.BENCH_TRACE_EXTRA ?? '').split(',').filter(Boolean);
  const categories = [...TRACE_CATEGORIES, ...(opts.profile ? PROFILE_CATEGORIES : []), ...extra];
  await cdp.send('Tracing.start', {
    transferMode: 'ReturnAsStream',
    traceConfig: { recordMode: 'recordAsMuchAsPossible', includedCategories: categories, excludedCategories: ['*'] },
  });
  return {
    async stop(load) {
      const done = new Promise((res) => cdp.once('Tracing.tracingComplete', res));
      await cdp.send('Tracing.end');
      const { stream } = await done;
      const chunks = [];
      for (;;) {
        const r = await cdp.send('IO.read', { handle: stream, size: 1 << 20 });
        chunks.push(r.base64Encoded ? Buffer.from(r.data, 'base64').toString('utf8') : r.data);
        if (r.eof) break;
      }
      await cdp.send('IO.close', { handle: stream });
      const text = chunks.join('');
      mkdirSync(join(repoRoot, '.task'), { recursive: true });
      const file = join(repoRoot, '.task', `trace-${load}-${Date.now()}.json`);
      writeFileSync(file, text);
      const parsed = JSON.parse(text);
      const events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
      return { file, ...analyseTrace(events, 50) };
    },
  };
}

async function runLoad(bin, name) {
  const load = LOADS[name];
  const stack = await startStack(bin, load);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...(process.env.BENCH_EXTRA_ARGS ? process.env.BENCH_EXTRA_ARGS.split(' ') : [])],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, colorScheme: 'dark' });
    const page = await context.newPage();
    await page.addInitScript(pageProbes);

    // Every /admin-ws frame, seen by Node: each symbol's recent ticks, status events, clock offset.
    const ticks = new Map(); // symbol -> [price, tsMs][] newest last
    const statuses = []; // [connection_id, status, tsMs]
    let offsetMs = -Infinity; // server clock minus ours: the largest observation (a delay only lowers it)
    let setFlush = [];
    page.on('websocket', (ws) => {
      if (!ws.url().endsWith('/admin-ws')) return;
      ws.on('framesent', ({ payload }) => {
        if (typeof payload === 'string' && payload.includes('set_flush')) setFlush.push(JSON.parse(payload).interval_ms);
      });
      ws.on('framereceived', ({ payload }) => {
        const now = Date.now();
        let evs;
        try {
          evs = JSON.parse(typeof payload === 'string' ? payload : payload.toString());
        } catch {
          return;
        }
        for (const e of Array.isArray(evs) ? evs : [evs]) {
          const d = e.data;
          if (e.event === 'tick_update') {
            let l = ticks.get(d.symbol);
            if (!l) ticks.set(d.symbol, (l = []));
            l.push([d.price, d.timestamp * 1000]);
            if (l.length > 64) l.splice(0, 32);
          } else if (e.event === 'connection_status_update') {
            statuses.push([d.connection_id, d.status, d.timestamp * 1000]);
          } else if (e.event === 'snapshot' && d.status?.server_time) {
            offsetMs = Math.max(offsetMs, d.status.server_time * 1000 - now);
          } else if (e.event === 'metrics_update' && d.server_time) {
            offsetMs = Math.max(offsetMs, d.server_time * 1000 - now);
          }
        }
      });
    });

    await page.goto(stack.base + '/admin/websockets');
    await page.waitForURL(/\/login/);
    await page.fill('input[name="username"]', 'admin');
    await page.fill('input[name="password"]', stack.password);
    await page.click('button[type="submit"]');
    await page.waitForSelector('section[data-connection="connection_1"] tbody tr[data-symbol]', { timeout: 60_000 });
    await sleep(WARMUP_S * 1000);
    const cdp = await context.newCDPSession(page);
    await page.evaluate(() => {
      window.__bench.measuring = true;
      window.__bench.frames.length = 0;
    });
    const t0 = Date.now();
    const tracing = traceS > 0 ? await startTrace(cdp) : null;
    const allocS = Math.min(Number(opts.alloc), durationS);
    let allocDone = allocS <= 0;
    if (!allocDone) {
      await cdp.send('HeapProfiler.enable');
      // Objects the GC has already freed are kept in the profile: the question is what allocates, not what lives.
      await cdp.send('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    }
    let traced = null;

    const samples = []; // {t, rss, heap, dom}
    const tickLat = [];
    const statusLat = [];
    const drain = async () => {
      const got = await page.evaluate(() => {
        const b = window.__bench;
        const out = { muts: b.priceMuts, paints: b.statusPaints };
        b.priceMuts = [];
        b.statusPaints = [];
        return out;
      });
      const off = Number.isFinite(offsetMs) ? offsetMs : 0;
      for (const [sym, text, t] of got.muts) {
        const l = ticks.get(sym);
        if (!l) continue;
        for (let i = l.length - 1; i >= 0; i--) {
          if (formatPrice(l[i][0]) === text) {
            tickLat.push(t + off - l[i][1]);
            break;
          }
        }
      }
      for (const [id, st, t] of got.paints) {
        const ev = statuses.filter((s) => s[0] === id && s[1] === st && s[2] <= t + off + 1).at(-1);
        if (ev && ev[2] >= t0) statusLat.push(t + off - ev[2]);
      }
    };
    const sample = async () => {
      const heap = await cdp.send('Runtime.getHeapUsage');
      const dom = await page.evaluate(() => document.getElementsByTagName('*').length);
      const r = rendererRss();
      // heapTotal is what V8 has committed (young and old generation), which RSS counts; heap is what is in use.
      samples.push({ t: (Date.now() - t0) / 1000, rss: r.total, anon: r.anon, file: r.file, shmem: r.shmem, heap: heap.usedSize / 2 ** 20, heapTotal: heap.totalSize / 2 ** 20, dom });
    };

    const drops = Math.max(1, Number(opts.drops));
    const dropEvery = (durationS * 1000) / (drops + 1);
    const sorts = ['Change', 'Most active', 'Symbol'];
    const sortEvery = (durationS * 1000) / 7;
    let nextDrop = dropEvery;
    let nextSort = sortEvery / 2;
    let dropsDone = 0;
    let sortsDone = 0;
    let nextSample = 0;
    while (Date.now() - t0 < durationS * 1000) {
      const el = Date.now() - t0;
      if (el >= nextSample) {
        await sample();
        nextSample += 5000;
      }
      if (el >= nextDrop && dropsDone < drops) {
        const conns = await (await fetch(`${stack.sim}/control/conns`)).json();
        const target = conns[dropsDone % conns.length];
        if (target) await fetch(`${stack.sim}/control/drop?conn=${target.id}`, { method: 'POST' });
        dropsDone++;
        nextDrop += dropEvery;
      }
      if (el >= nextSort) {
        const label = sorts[sortsDone % sorts.length];
        await page.locator('section[data-connection="connection_1"] .seg button', { hasText: label }).click();
        sortsDone++;
        nextSort += sortEvery;
      }
      if (tracing && !traced && el >= traceS * 1000) traced = await tracing.stop(name);
      if (!allocDone && el >= allocS * 1000) {
        allocDone = true;
        writeAllocProfile(name, (await cdp.send('HeapProfiler.stopSampling')).profile, el / 1000);
      }
      await drain();
      await sleep(1000);
    }
    if (tracing && !traced) traced = await tracing.stop(name);
    await drain();
    await sample();
    const fin = await page.evaluate(() => {
      const b = window.__bench;
      b.measuring = false;
      const lt = document.querySelector('.tile.link');
      return { frames: b.frames, longtasks: b.longtasks, longDetail: b.longDetail, loaf: b.loaf, clicks: b.clicks, linkLabel: lt ? lt.textContent.replace(/\s+/g, ' ').trim() : '' };
    });
    // Frames per wall-clock second.
    const perSec = new Map();
    for (const t of fin.frames) {
      const s = Math.floor((t - t0) / 1000);
      if (s >= 0 && s < durationS) perSec.set(s, (perSec.get(s) ?? 0) + 1);
    }
    const fps = Array.from({ length: durationS }, (_, i) => perSec.get(i) ?? 0);
    const rss = samples.map((s) => s.rss);
    const heap = samples.map((s) => s.heap);
    const dom = samples.map((s) => s.dom);
    return {
      name,
      label: load.label,
      fpsMedian: pct(fps, 50),
      fpsP5: pct(fps, 5),
      longCount: fin.longtasks.length,
      longMax: Math.max(0, ...fin.longtasks),
      longDetail: fin.longDetail,
      loaf: fin.loaf,
      tickP50: pct(tickLat, 50),
      tickP99: pct(tickLat, 99),
      tickN: tickLat.length,
      statusP50: pct(statusLat, 50),
      statusP99: pct(statusLat, 99),
      statusN: statusLat.length,
      domMax: Math.max(...dom),
      heapFirst: heap[0],
      heapMax: Math.max(...heap),
      rssFirst: rss[0],
      rssLast: rss.at(-1),
      rssMax: Math.max(...rss),
      clickMedian: pct(fin.clicks, 50),
      clickMax: Math.max(0, ...fin.clicks),
      clicks: fin.clicks.length,
      setFlush,
      linkLabel: fin.linkLabel,
      offsetMs,
      traced,
      samples,
    };
  } finally {
    await browser.close();
    await stack.stop();
  }
}

const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toString() : '—');

function traceCols(t) {
  if (!t) return '— | —';
  const wall = t.long.filter((l) => l.wallMs >= 50);
  const cpu = t.long.filter((l) => l.cpuMs !== null && l.cpuMs >= 50);
  const max = (xs) => f0(Math.max(0, ...xs));
  return `${f0(t.tracedMs / 1000)} s: ${wall.length}, ${max(wall.map((l) => l.wallMs))} | ${cpu.length}, ${max(cpu.map((l) => l.cpuMs))}`;
}

function table(results) {
  const lines = [
    `| load | fps median / p5 | long tasks (count, max ms) | tick-to-DOM p50 / p99 ms (n) | status-to-paint p50 / p99 ms (n) | DOM elements (max) | JS heap MB first / max | renderer RSS MB first / last / max | sort click ms median / max (n) | page said at the end | asked for slower flush | traced s: long tasks by wall (count, max ms) | traced: long tasks by CPU time (count, max ms) |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const r of results) {
    lines.push(
      `| ${r.name} | ${f0(r.fpsMedian)} / ${f0(r.fpsP5)} | ${r.longCount}, ${f0(r.longMax)} | ${f0(r.tickP50)} / ${f0(r.tickP99)} (${r.tickN}) | ${f0(r.statusP50)} / ${f0(r.statusP99)} (${r.statusN}) | ${r.domMax} | ${f0(r.heapFirst)} / ${f0(r.heapMax)} | ${f0(r.rssFirst)} / ${f0(r.rssLast)} / ${f0(r.rssMax)} | ${f0(r.clickMedian)} / ${f0(r.clickMax)} (${r.clicks}) | ${r.linkLabel.replace(/\|/g, '/')} | ${r.setFlush.length ? r.setFlush.join('→') + ' ms' : 'no'} | ${traceCols(r.traced)} |`,
    );
  }
  const notes = [];
  for (const r of results) {
    if (!r.traced) continue;
    const l = r.traced.long;
    const tr = r.traced;
    const by = Object.entries(tr.cpuMsPerSecBy)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${f0(v)}`)
      .join(', ');
    notes.push(
      `- ${r.name}: ${l.length} task(s) of 50 ms or more (wall or CPU) in ${f0(tr.tracedMs / 1000)} s traced (${tr.threadTasks} main-thread tasks); main thread CPU ${f0(tr.cpuMsPerSec)} ms/s (${by}); CPU per task of 1 ms+ p50 / p99 / max ${tr.taskCpuP50.toFixed(1)} / ${f0(tr.taskCpuP99)} / ${f0(tr.taskCpuMax)} ms; trace ${tr.file.replace(repoRoot + '/', '')}`,
    );
    // The CPU-longest first: on a shared box, wall time also counts time the renderer was not running.
    for (const t of [...l].sort((a, b) => (b.cpuMs ?? b.wallMs) - (a.cpuMs ?? a.wallMs)).slice(0, 12)) notes.push(`  - ${describeLong(t)}`);
  }
  for (const r of results) {
    if (durationS < 120) continue;
    // The first sample of each minute, and the last.
    const perMin = r.samples.filter((x, i, a) => i === 0 || i === a.length - 1 || Math.floor(x.t / 60) !== Math.floor(a[i - 1].t / 60));
    lines.push('', `${r.name}, renderer RSS / JS heap MB by minute: ${perMin.map((x) => `${f0(x.t)} s ${f0(x.rss)} / ${f0(x.heap)}`).join(', ')}`);
    lines.push('', `${r.name}, renderer RSS by part, anon (V8 committed) / file / shmem MB by minute: ${perMin.map((x) => `${f0(x.t)} s ${f0(x.anon)} (${f0(x.heapTotal)}) / ${f0(x.file)} / ${f0(x.shmem)}`).join(', ')}`);
  }
  if (notes.length) lines.push('', 'Long tasks in the trace, longest CPU time first (wall = dur, CPU = the main thread\'s own running time, tdur; in brackets ms of CPU self time by category):', ...notes);
  return lines.join('\n');
}

async function main() {
  const bin = process.env.TICKWATCH_BIN;
  if (!bin) throw new Error('TICKWATCH_BIN is not set: run `go tool task bench:browser`');
  const names = opts.loads.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!LOADS[n]) throw new Error(`unknown load ${n} (demo, heavy, extreme)`);
  const rev = spawnSync('git', ['describe', '--always', '--dirty'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim();
  const results = [];
  for (const n of names) {
    process.stderr.write(`bench:browser: ${n} for ${durationS} s…\n`);
    const r = await runLoad(bin, n);
    process.stderr.write(JSON.stringify(r) + '\n');
    results.push(r);
  }
  const head = `${opts.label ? opts.label + ' · ' : ''}${rev} · ${new Date().toISOString()} · ${durationS} s per load after ${WARMUP_S} s warm-up · loadavg ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`;
  const md = `${head}\n\n${table(results)}\n`;
  mkdirSync(join(repoRoot, '.task'), { recursive: true });
  writeFileSync(join(repoRoot, '.task', `bench-browser-${Date.now()}.md`), md);
  process.stdout.write(md);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
