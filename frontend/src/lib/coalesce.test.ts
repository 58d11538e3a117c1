import { describe, expect, it } from 'vitest';
import { FrameBatcher, type Scheduler } from './batcher';
import { parseFrame, PendingBatch, type Batch } from './coalesce';
import { demoSnapshot, sinkDoc } from './fixtures';
import type { ServerEvent } from './types';

const tick = (symbol: string, price: number, conn = 'connection_1', timestamp = 1): ServerEvent => ({
  event: 'tick_update',
  data: { connection_id: conn, symbol, price, timestamp, size: 100, change_pct: 0.1 },
});
const status = (conn: string, s: string): ServerEvent => ({
  event: 'connection_status_update',
  data: { connection_id: conn, status: s, previous: 'connected', reason: 'drop: EOF', timestamp: 5 },
});
const metrics = (conn: string, n: number): ServerEvent => ({
  event: 'metrics_update',
  data: {
    connection_id: conn,
    msgs_per_sec: n,
    uptime: 1,
    message_count: n,
    error_count: 0,
    last_update: 1,
    dropped: 0,
    reconnects: 0,
    rate_history: [],
  },
});
const snapshot = (): ServerEvent => ({
  event: 'snapshot',
  data: {
    status: {
      connections: [],
      summary: { total: 0, connected: 0, ticks_total: 0, errors_total: 0, messages_per_second: 0 },
      mode: 'multi',
      simulated: true,
      uptime_seconds: 1,
      server_time: 1,
    },
    ticks: [],
  },
});

describe('parseFrame', () => {
  it('parses an array of events', () => {
    const evs = parseFrame(JSON.stringify([tick('AAPL', 1), status('connection_1', 'error')]));
    expect(evs.map((e) => e.event)).toEqual(['tick_update', 'connection_status_update']);
  });
  it('accepts a bare event object', () => {
    expect(parseFrame(JSON.stringify(metrics('connection_1', 3)))).toHaveLength(1);
  });
  it.each([
    ['not json', '{oops'],
    ['a number', '42'],
    ['unknown event', '[{"event":"hello","data":{}}]'],
    ['missing data', '[{"event":"tick_update"}]'],
    ['tick without symbol', '[{"event":"tick_update","data":{"connection_id":"c","price":1}}]'],
    ['tick with string price', '[{"event":"tick_update","data":{"connection_id":"c","symbol":"A","price":"1"}}]'],
    ['snapshot without connections', '[{"event":"snapshot","data":{"status":{}}}]'],
    ['status without id', '[{"event":"connection_status_update","data":{"status":"error"}}]'],
    ['sink without name', '[{"event":"sink_update","data":{"state":"down"}}]'],
  ])('skips %s', (_n, raw) => expect(parseFrame(raw)).toEqual([]));
  it('keeps the good events of a partly bad frame', () => {
    const raw = JSON.stringify([{ event: 'tick_update', data: null }, tick('MSFT', 2)]);
    expect(parseFrame(raw)).toHaveLength(1);
  });
});

describe('PendingBatch', () => {
  it('keeps the latest tick per symbol and counts folded updates', () => {
    const p = new PendingBatch();
    p.add(tick('AAPL', 1));
    p.add(tick('MSFT', 5));
    p.add(tick('AAPL', 2));
    p.add(tick('AAPL', 3));
    const b = p.take();
    expect(b.events).toBe(4);
    expect(b.ticks.get('AAPL')).toMatchObject({ price: 3, n: 3 });
    expect(b.ticks.get('MSFT')).toMatchObject({ price: 5, n: 1 });
    expect(p.size).toBe(0);
    expect(p.take().ticks.size).toBe(0);
  });

  it('keeps statuses in order and only the latest metrics per connection', () => {
    const p = new PendingBatch();
    p.add(status('connection_1', 'disconnected'));
    p.add(metrics('connection_1', 1));
    p.add(status('connection_1', 'connecting'));
    p.add(metrics('connection_1', 2));
    p.add(metrics('connection_2', 7));
    const b = p.take();
    expect(b.statuses.map((s) => s.status)).toEqual(['disconnected', 'connecting']);
    expect(b.metrics.get('connection_1')?.msgs_per_sec).toBe(2);
    expect(b.metrics.get('connection_2')?.msgs_per_sec).toBe(7);
  });

  it('a snapshot discards ticks and metrics queued before it, keeps statuses and what follows', () => {
    const p = new PendingBatch();
    p.add(tick('AAPL', 1));
    p.add(status('connection_1', 'error'));
    p.add(metrics('connection_1', 1));
    p.add(snapshot());
    p.add(tick('MSFT', 2));
    const b = p.take();
    expect(b.snapshot).not.toBeNull();
    expect([...b.ticks.keys()]).toEqual(['MSFT']);
    expect(b.statuses.map((s) => s.status)).toEqual(['error']);
    expect(b.metrics.size).toBe(0);
    expect(b.recent.get('connection_1')?.total).toBe(1);
  });

  it('bounds the recent feed per connection but counts every tick', () => {
    const p = new PendingBatch(5);
    for (let i = 0; i < 1000; i++) p.add(tick(`S${i % 40}`, i, i % 2 ? 'connection_2' : 'connection_1'));
    const b = p.take();
    const r1 = b.recent.get('connection_1')!;
    expect(r1.total).toBe(500);
    expect(r1.ticks.map((t) => t.price)).toEqual([990, 992, 994, 996, 998]);
    expect(b.recent.get('connection_2')!.ticks).toHaveLength(5);
    expect(b.ticks.size).toBe(40);
  });
});

describe('FrameBatcher', () => {
  function manual(): Scheduler & { run: () => void; requested: number } {
    let cb: (() => void) | null = null;
    const s = {
      requested: 0,
      request: (f: () => void) => {
        s.requested++;
        cb = f;
        return s.requested;
      },
      cancel: () => {
        cb = null;
      },
      run: () => {
        const f = cb;
        cb = null;
        f?.();
      },
    };
    return s;
  }

  it('flushes once per frame however many socket frames arrive', () => {
    const sched = manual();
    const flushed: Batch[] = [];
    const fb = new FrameBatcher((b) => flushed.push(b), sched);
    for (let i = 0; i < 20; i++) fb.pushFrame(JSON.stringify([tick('AAPL', i), tick('MSFT', i)]));
    expect(sched.requested).toBe(1);
    expect(flushed).toHaveLength(0);
    sched.run();
    expect(flushed).toHaveLength(1);
    expect(flushed[0]!.events).toBe(40);
    expect(flushed[0]!.ticks.get('AAPL')).toMatchObject({ price: 19, n: 20 });
    fb.pushFrame(JSON.stringify([tick('AAPL', 99)]));
    expect(sched.requested).toBe(2);
  });

  it('applies a status change at once, with what was pending before it', () => {
    const sched = manual();
    const flushed: Batch[] = [];
    const fb = new FrameBatcher((b) => flushed.push(b), sched);
    fb.pushFrame(JSON.stringify([tick('AAPL', 1)]));
    fb.pushFrame(JSON.stringify([{ event: 'connection_status_update', data: { connection_id: 'connection_1', status: 'disconnected', timestamp: 5 } }]));
    expect(flushed, 'no animation frame needed').toHaveLength(1);
    expect(flushed[0]!.statuses[0]).toMatchObject({ status: 'disconnected' });
    expect(flushed[0]!.ticks.get('AAPL')).toMatchObject({ price: 1 });
    sched.run(); // the cancelled frame has nothing left to do
    expect(flushed).toHaveLength(1);
  });

  it('reports server_time of metrics and snapshots at arrival, before the frame is applied', () => {
    const sched = manual();
    const seen: [number, number][] = [];
    const fb = new FrameBatcher(() => {}, sched, 50, { onServerTime: (s, at) => seen.push([s, at]), now: () => 42_000 });
    fb.pushFrame(JSON.stringify([{ event: 'metrics_update', data: { connection_id: 'connection_1', server_time: 41.5 } }]));
    fb.pushFrame(JSON.stringify([{ event: 'metrics_update', data: { connection_id: 'connection_1' } }]));
    expect(seen).toEqual([[41.5, 42_000]]);
  });

  it('does not schedule for empty or malformed frames', () => {
    const sched = manual();
    const fb = new FrameBatcher(() => {}, sched);
    fb.pushFrame('garbage');
    fb.pushFrame('[]');
    expect(sched.requested).toBe(0);
  });

  it('dispose cancels the pending frame and ignores later input', () => {
    const sched = manual();
    const flushed: Batch[] = [];
    const fb = new FrameBatcher((b) => flushed.push(b), sched);
    fb.push([tick('AAPL', 1)]);
    fb.dispose();
    sched.run();
    fb.push([tick('AAPL', 2)]);
    fb.flush();
    expect(flushed).toHaveLength(0);
  });
});

describe('sink_update', () => {
  const sink = (state: string, dropped: number): ServerEvent => ({ event: 'sink_update', data: sinkDoc({ state, dropped }) });
  it('is parsed', () => expect(parseFrame(JSON.stringify([sink('down', 3)]))).toHaveLength(1));
  it('keeps the latest per sink, and a snapshot clears it', () => {
    const p = new PendingBatch();
    p.add(sink('reconnecting', 1));
    p.add(sink('down', 7));
    expect([...p.take().sinks.values()]).toEqual([sinkDoc({ state: 'down', dropped: 7 })]);
    p.add(sink('down', 9));
    p.add({ event: 'snapshot', data: demoSnapshot(1, 1) });
    expect(p.take().sinks.size).toBe(0);
  });
});
