// Long-task attribution from a Chrome trace, for the browser benchmark.
//
// Why a trace: on a shared 2-core box a PerformanceObserver long task (wall
// time) also counts the seconds the renderer was descheduled while other
// jobs ran. The trace's top-level tasks carry both their wall duration (dur)
// and the CPU time the renderer's main thread actually ran (tdur), and what
// ran inside them, so a long task can be told apart from a busy neighbour and
// named: garbage collection, style/layout/paint, or script from which entry
// point (timer, animation frame, socket message) and which functions.
//
// Events are the DevTools timeline's (category devtools.timeline and its
// disabled-by-default twin: RunTask, FunctionCall, TimerFire,
// FireAnimationFrame, EventDispatch, UpdateLayoutTree, Layout, Paint, MinorGC,
// MajorGC...) plus, with --profile, V8's sampling profiler (ProfileChunk),
// whose samples name the functions that used the time inside a long task.

export const TRACE_CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'disabled-by-default-devtools.timeline.frame',
  'toplevel',
  'v8',
  'v8.execute',
  'blink.user_timing',
];
export const PROFILE_CATEGORIES = ['disabled-by-default-v8.cpu_profiler'];

const TOP_LEVEL = new Set(['RunTask', 'ThreadControllerImpl::RunTask']);

/** The DevTools summary category of one event name (undefined: inherits its parent's). */
function categoryOf(name) {
  if (/^(MinorGC|MajorGC|V8\.GC|BlinkGC|ThreadState::|CppGC|V8\.Scavenge|GCEvent)/.test(name) || name === 'BlinkGC.AtomicPhase') return 'gc';
  switch (name) {
    case 'UpdateLayoutTree':
    case 'RecalculateStyles':
    case 'ParseAuthorStyleSheet':
      return 'style';
    case 'Layout':
    case 'UpdateLayerTree':
    case 'IntersectionObserverController::computeIntersections':
      return 'layout';
    case 'PrePaint':
    case 'Paint':
    case 'PaintImage':
    case 'Layerize':
    case 'UpdateLayer':
    case 'CompositeLayers':
    case 'Commit':
      return 'paint';
    case 'FunctionCall':
    case 'EvaluateScript':
    case 'v8.compile':
    case 'v8.compileModule':
    case 'v8.evaluateModule':
    case 'TimerFire':
    case 'FireAnimationFrame':
    case 'EventDispatch':
    case 'RunMicrotasks':
    case 'v8.run':
    case 'V8.Execute':
    case 'FireIdleCallback':
    case 'XHRReadyStateChange':
      return 'script';
    case 'ParseHTML':
      return 'parse';
    default:
      return undefined;
  }
}

/** What started a task: the first script entry point inside it. */
function entryOf(e) {
  const d = e.args?.data ?? {};
  switch (e.name) {
    case 'TimerFire':
      return `timer ${d.timerId ?? ''}`.trim();
    case 'FireAnimationFrame':
      return 'animation frame';
    case 'EventDispatch':
      return `event ${d.type ?? ''}`.trim();
    case 'FunctionCall': {
      const fn = d.functionName || '(anonymous)';
      const file = (d.url ?? '').split('/').at(-1);
      return `${fn} ${file}:${(d.lineNumber ?? 0) + 1}:${(d.columnNumber ?? 0) + 1}`;
    }
    case 'RunMicrotasks':
      return 'microtasks';
    default:
      return undefined;
  }
}

/** The renderer main threads in a trace: [pid, tid] pairs of CrRendererMain, busiest first. */
function mainThreads(events) {
  const names = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain') names.set(`${e.pid}:${e.tid}`, 0);
  for (const e of events) {
    const k = `${e.pid}:${e.tid}`;
    if (names.has(k) && e.ph === 'X') names.set(k, names.get(k) + 1);
  }
  return [...names.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
}

/** Samples of the V8 CPU profiler on one thread: [tsMicros, frames (leaf first)][]. */
function profileSamples(events, pid, tid) {
  const profiles = new Map(); // id -> {start, t, nodes: Map}
  const out = [];
  for (const e of events) {
    // The Profile event is on the profiled thread; its chunks come from V8's profiler thread with the same id.
    if (e.pid !== pid) continue;
    if (e.name === 'Profile' && e.tid === tid) profiles.set(e.id, { t: e.args?.data?.startTime ?? e.ts, nodes: new Map() });
    if (e.name !== 'ProfileChunk') continue;
    const p = profiles.get(e.id);
    if (!p) continue;
    const cp = e.args?.data?.cpuProfile ?? {};
    for (const n of cp.nodes ?? []) p.nodes.set(n.id, n);
    const deltas = e.args?.data?.timeDeltas ?? [];
    (cp.samples ?? []).forEach((id, i) => {
      p.t += deltas[i] ?? 0;
      out.push([p.t, id, p.nodes]);
    });
  }
  return out.map(([t, id, nodes]) => {
    const n = nodes.get(id);
    const cf = n?.callFrame ?? {};
    const file = (cf.url ?? '').split('/').at(-1);
    const name = cf.functionName || (cf.url ? '(anonymous)' : `(${cf.functionName || 'program'})`);
    return [t, file ? `${name} ${file}:${(cf.lineNumber ?? 0) + 1}:${(cf.columnNumber ?? 0) + 1}` : name];
  });
}

/**
 * Finds the renderer main thread's top-level tasks of at least thresholdMs
 * wall or CPU time and says what they were.
 * @returns {{threadTasks: number, tracedMs: number, long: {wallMs: number, cpuMs: number|null, atMs: number, entry: string, by: Record<string, number>, top: [string, number][]}[]}}
 */
export function analyseTrace(events, thresholdMs = 50) {
  const threads = mainThreads(events);
  if (threads.length === 0) return { threadTasks: 0, tracedMs: 0, long: [] };
  const [pid, tid] = threads[0].split(':').map(Number);
  const mine = events.filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && typeof e.dur === 'number');
  mine.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  // Top-level tasks: RunTask events not inside another one.
  const tasks = [];
  let end = -Infinity;
  for (const e of mine) {
    if (!TOP_LEVEL.has(e.name)) continue;
    if (e.ts < end) continue;
    tasks.push(e);
    end = e.ts + e.dur;
  }
  const t0 = mine.length ? mine[0].ts : 0;
  let t1 = t0;
  for (const e of mine) if (e.ts + e.dur > t1) t1 = e.ts + e.dur;
  const samples = profileSamples(events, pid, tid);
  const thr = thresholdMs * 1000;
  const long = [];
  let j = 0; // index into mine: events are sorted, tasks too
  const totals = {}; // CPU self time by category over every task (µs)
  const taskCpu = []; // CPU time of every task of 1 ms or more (ms)
  let cpuSum = 0;
  for (const task of tasks) {
    const cpu = typeof task.tdur === 'number' ? task.tdur : null;
    cpuSum += cpu ?? task.dur;
    if ((cpu ?? task.dur) >= 1000) taskCpu.push((cpu ?? task.dur) / 1000);
    const isLong = task.dur >= thr || (cpu !== null && cpu >= thr);
    const tEnd = task.ts + task.dur;
    while (j < mine.length && mine[j].ts < task.ts) j++;
    // Self time per category, DevTools style: an event's own time minus its children's, under the nearest categorised ancestor.
    const by = {};
    // In CPU time (tdur) when the trace has it: wall time would hand the descheduled gaps to whatever was running.
    const len = (e) => (cpu !== null && typeof e.tdur === 'number' ? e.tdur : e.dur);
    const stack = [{ end: tEnd, cat: 'other', childUs: 0, dur: len(task) }];
    let entry;
    const close = (upTo) => {
      while (stack.length > 1 && stack.at(-1).end <= upTo) {
        const f = stack.pop();
        by[f.cat] = (by[f.cat] ?? 0) + Math.max(0, f.dur - f.childUs);
      }
    };
    for (let k = j; k < mine.length && mine[k].ts < tEnd; k++) {
      const e = mine[k];
      if (e === task || e.ts + e.dur > tEnd + 1) continue;
      close(e.ts);
      const parent = stack.at(-1);
      parent.childUs += len(e);
      const cat = categoryOf(e.name) ?? parent.cat;
      entry ??= entryOf(e);
      stack.push({ end: e.ts + e.dur, cat, childUs: 0, dur: len(e) });
    }
    close(Infinity);
    const root = stack[0];
    by.other = (by.other ?? 0) + Math.max(0, root.dur - root.childUs);
    for (const [k, v] of Object.entries(by)) totals[k] = (totals[k] ?? 0) + v;
    if (!isLong) continue;
    // Functions the profiler caught inside this task, by sample count.
    const fns = new Map();
    for (const [t, fn] of samples) if (t >= task.ts && t <= tEnd) fns.set(fn, (fns.get(fn) ?? 0) + 1);
    const top = [...fns.entries()].filter(([f]) => f !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 5);
    const ms = {};
    for (const [k, v] of Object.entries(by)) if (v >= 500) ms[k] = Math.round(v / 1000);
    long.push({ wallMs: task.dur / 1000, cpuMs: cpu === null ? null : cpu / 1000, atMs: (task.ts - t0) / 1000, entry: entry ?? '(no script)', by: ms, top });
  }
  const tracedMs = (t1 - t0) / 1000;
  taskCpu.sort((a, b) => a - b);
  const q = (p) => (taskCpu.length ? taskCpu[Math.min(taskCpu.length - 1, Math.ceil(p * taskCpu.length) - 1)] : 0);
  // Main-thread CPU per second of trace, in all and by category: steadier than
  // counts of rare long tasks when comparing runs on a noisy box.
  const perSec = {};
  for (const [k, v] of Object.entries(totals)) perSec[k] = v / 1000 / (tracedMs / 1000);
  return { threadTasks: tasks.length, tracedMs, long, cpuMsPerSec: cpuSum / 1000 / (tracedMs / 1000), cpuMsPerSecBy: perSec, taskCpuP50: q(0.5), taskCpuP99: q(0.99), taskCpuMax: taskCpu.at(-1) ?? 0 };
}

/** One line per long task for the notes under the table. */
export function describeLong(l) {
  const parts = Object.entries(l.by)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const top = l.top.length ? `; samples: ${l.top.map(([f, n]) => `${f} ×${n}`).join(', ')}` : '';
  return `at ${(l.atMs / 1000).toFixed(1)} s: ${Math.round(l.wallMs)} ms wall / ${l.cpuMs === null ? '?' : Math.round(l.cpuMs)} ms CPU, ${l.entry} (${parts})${top}`;
}
