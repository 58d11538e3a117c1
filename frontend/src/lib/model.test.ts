import { describe, expect, it } from 'vitest';
import { PendingBatch } from './coalesce';
import { connDoc, demoSnapshot, sinkDoc, snapshotOf } from './fixtures';
import { DashboardModel, TickerRow } from './model.svelte';
import type { ServerEvent } from './types';

const tickEv = (conn: string, symbol: string, price: number, change_pct = 0.5): ServerEvent => ({
  event: 'tick_update',
  data: { connection_id: conn, symbol, price, timestamp: 2000, size: 10, change_pct },
});

function batchOf(...evs: ServerEvent[]) {
  const p = new PendingBatch();
  for (const e of evs) p.add(e);
  return p.take();
}

describe('TickerRow', () => {
  it('flashes only when the price moves, in the direction it moved', () => {
    const r = new TickerRow('AAPL');
    r.apply({ symbol: 'AAPL', price: 10, size: 1, timestamp: 1 });
    expect([r.dir, r.flash]).toEqual([0, 0]); // first price: nothing to compare with
    r.apply({ symbol: 'AAPL', price: 11, size: 1, timestamp: 2 });
    expect([r.dir, r.flash]).toEqual([1, 1]);
    r.apply({ symbol: 'AAPL', price: 11, size: 1, timestamp: 3 });
    expect([r.dir, r.flash]).toEqual([1, 1]);
    r.apply({ symbol: 'AAPL', price: 9, size: 1, timestamp: 4 }, 4);
    expect([r.dir, r.flash, r.count]).toEqual([-1, 2, 7]);
  });

  it('keeps the last change when an update carries none', () => {
    const r = new TickerRow('AAPL');
    r.apply({ symbol: 'AAPL', price: 10, size: 1, timestamp: 1, change_pct: 2 });
    r.apply({ symbol: 'AAPL', price: 10, size: 1, timestamp: 1 });
    expect(r.changePct).toBe(2);
  });

  it('seed sets values without a flash and null clears them', () => {
    const r = new TickerRow('AAPL');
    r.apply({ symbol: 'AAPL', price: 10, size: 1, timestamp: 1 });
    r.apply({ symbol: 'AAPL', price: 12, size: 1, timestamp: 1 });
    r.seed({ symbol: 'AAPL', price: 5, size: 3, timestamp: 9, change_pct: -1, count: 42 });
    expect([r.price, r.size, r.ts, r.changePct, r.count, r.dir]).toEqual([5, 3, 9, -1, 42, 0]);
    r.seed(null);
    expect([r.price, r.size, r.ts, r.changePct, r.count]).toEqual([null, null, 0, null, 0]);
  });
});

describe('DashboardModel snapshot', () => {
  it('builds one connection per slot, ordered by id, with every ticker as a row', () => {
    const m = new DashboardModel();
    const s = demoSnapshot(3, 150);
    s.status.connections.reverse();
    m.applySnapshot(s, 1_000_000);
    expect(m.hasSnapshot).toBe(true);
    expect(m.connections.map((c) => c.connectionId)).toEqual(['connection_1', 'connection_2', 'connection_3']);
    expect(m.connections.map((c) => c.rows.size)).toEqual([150, 150, 150]);
    expect(m.connections[0]!.tickers[0]).toBe('T1X000');
    expect(m.connection('connection_2')!.rows.get('T2X010')!.price).toBe(20);
    expect(m.simulated).toBe(true);
    expect(m.mode).toBe('multi');
  });

  it('replaces state on a new snapshot: no duplicates, no stale statuses, rows reused', () => {
    const m = new DashboardModel();
    m.applySnapshot(snapshotOf([connDoc(1, { config: { ticker_count: 2, universe_key: 'u', tickers: ['AAPL', 'MSFT'] } })], [
      { connection_id: 'connection_1', symbol: 'AAPL', price: 1, size: 1, timestamp: 1 },
    ]));
    const c1 = m.connections[0]!;
    const aapl = c1.rows.get('AAPL')!;
    m.applyBatch(batchOf({ event: 'connection_status_update', data: { connection_id: 'connection_1', status: 'error', previous: 'connected', reason: 'boom', timestamp: 905 } }));
    expect(c1.status).toBe('error');

    m.applySnapshot(
      snapshotOf(
        [
          connDoc(1, { state_since: 950, config: { ticker_count: 3, universe_key: 'u', tickers: ['AAPL', 'TSLA', 'TSLA'] } }),
          connDoc(2, { enabled: false, connected: false, status: 'disconnected', enable_hint: 'set X=true' }),
        ],
        [{ connection_id: 'connection_1', symbol: 'TSLA', price: 7, size: 1, timestamp: 1 }],
      ),
    );
    expect(m.connections).toHaveLength(2);
    expect(m.connections[0]).toBe(c1);
    expect(c1.status).toBe('connected');
    expect(c1.tickers).toEqual(['AAPL', 'TSLA']);
    expect([...c1.rows.keys()].sort()).toEqual(['AAPL', 'TSLA']);
    expect(c1.rows.get('AAPL')).toBe(aapl);
    expect(aapl.price).toBeNull(); // not in the new snapshot's ticks
    expect(c1.rows.get('TSLA')!.price).toBe(7);
    expect(m.connections[1]!.enableHint).toBe('set X=true');
    expect(m.snapshotSeq).toBe(2);

    m.applySnapshot(snapshotOf([connDoc(2)]));
    expect(m.connections.map((c) => c.connectionId)).toEqual(['connection_2']);
    expect(m.connection('connection_1')).toBeUndefined();
  });

  it('accepts snapshot ticks without a connection id', () => {
    const m = new DashboardModel();
    m.applySnapshot(snapshotOf([connDoc(1)], [{ symbol: 'S1B', price: 3, size: 1, timestamp: 1 }]));
    expect(m.connections[0]!.rows.get('S1B')!.price).toBe(3);
  });

  it('derives the server clock offset', () => {
    const m = new DashboardModel();
    m.applySnapshot(snapshotOf([connDoc(1)], [], { server_time: 1_700_000_010 }), 1_700_000_000_000);
    expect(m.clockOffset).toBeCloseTo(10);
    expect(m.serverNow(1_700_000_005_000)).toBeCloseTo(1_700_000_015);
  });

  it('keeps its clock offset through a late snapshot, so Age is not reset by it', () => {
    const m = new DashboardModel();
    m.applySnapshot(snapshotOf([connDoc(1, { config: { ticker_count: 1, universe_key: '', tickers: ['AAA'] } })], [], { server_time: 1000 }), 1_000_000);
    m.observeServerTime(1001, 1_001_000); // a prompt metrics frame: offset 0
    m.applyTick({ connection_id: 'connection_1', symbol: 'AAA', price: 1, size: 1, timestamp: 1002 });
    // A snapshot built at server time 1003 applied 20 s later (at our 1023 s).
    m.applySnapshot(snapshotOf([connDoc(1, { config: { ticker_count: 1, universe_key: '', tickers: ['AAA'] } })], [{ symbol: 'AAA', price: 1, size: 1, timestamp: 1002 }], { server_time: 1003 }), 1_023_000);
    expect(m.clockOffset).toBeCloseTo(0);
    expect(m.serverNow(1_023_000) - m.connections[0]!.rows.get('AAA')!.ts, 'age of AAA').toBeCloseTo(21);
    expect(m.newestShown).toBe(1003);
  });
});

describe('DashboardModel events', () => {
  it('applies coalesced ticks to exactly one row each', () => {
    const m = new DashboardModel();
    m.applySnapshot(demoSnapshot(2, 5));
    const rows = m.connections.flatMap((c) => [...c.rows.values()]);
    const before = rows.map((r) => r.count);
    m.applyBatch(batchOf(tickEv('connection_1', 'T1X001', 50), tickEv('connection_1', 'T1X001', 51), tickEv('connection_2', 'T2X004', 1)));
    const changed = rows.filter((r, i) => r.count !== before[i]).map((r) => r.symbol);
    expect(changed).toEqual(['T1X001', 'T2X004']);
    const r = m.connection('connection_1')!.rows.get('T1X001')!;
    expect(r.price).toBe(51);
    expect(r.count).toBe(before[1]! + 2);
    expect(r.dir).toBe(1);
  });

  it('feeds the recent stream of the right connection, newest first', () => {
    const m = new DashboardModel();
    m.applySnapshot(demoSnapshot(2, 5));
    m.applyBatch(batchOf(tickEv('connection_1', 'T1X001', 50), tickEv('connection_2', 'T2X000', 1), tickEv('connection_1', 'T1X002', 52)));
    expect(m.connection('connection_1')!.recent.items.map((i) => i.symbol)).toEqual(['T1X002', 'T1X001']);
    expect(m.connection('connection_2')!.recent.items.map((i) => i.symbol)).toEqual(['T2X000']);
  });

  it('finds a row by symbol when the tick names another connection, and counts strays', () => {
    const m = new DashboardModel();
    m.applySnapshot(demoSnapshot(2, 3));
    expect(m.applyTick({ connection_id: 'connection_9', symbol: 'T2X001', price: 1, size: 1, timestamp: 1 })).toBe(true);
    expect(m.applyTick({ connection_id: 'connection_1', symbol: 'NOPE', price: 1, size: 1, timestamp: 1 })).toBe(false);
    expect(m.unknownTicks).toBe(1);
  });

  it('applies status updates: state, since, reason, error and a short history', () => {
    const m = new DashboardModel();
    m.applySnapshot(snapshotOf([connDoc(1)]));
    const c = m.connections[0]!;
    const st = (status: string, previous: string, reason: string, timestamp: number): ServerEvent => ({
      event: 'connection_status_update',
      data: { connection_id: 'connection_1', status, previous, reason, timestamp },
    });
    m.applyBatch(batchOf(st('disconnected', 'connected', 'drop: EOF', 1010), st('connecting', 'disconnected', 'reconnect', 1011)));
    expect([c.status, c.connected, c.stateSince, c.reason, c.connectedSince]).toEqual(['connecting', false, 1011, 'reconnect', 0]);
    m.applyBatch(batchOf(st('error', 'connecting', 'auth_failed: bad key', 1012)));
    expect(c.lastError).toBe('auth_failed: bad key');
    m.applyBatch(batchOf(st('connected', 'error', 'auth_success', 1013)));
    expect([c.connected, c.connectedSince]).toEqual([true, 1013]);
    expect(c.transitions.map((t) => t.status)).toEqual(['connected', 'error', 'connecting', 'disconnected']);
    for (let i = 0; i < 10; i++) m.applyBatch(batchOf(st('connecting', 'x', '', 1020 + i)));
    expect(c.transitions).toHaveLength(5);
    m.applyBatch(batchOf({ event: 'connection_status_update', data: { connection_id: 'connection_7', status: 'error', previous: '', reason: '', timestamp: 1 } }));
  });

  it('orders statuses and snapshots by time, not by arrival', () => {
    const m = new DashboardModel();
    const st = (status: string, timestamp: number): ServerEvent => ({
      event: 'connection_status_update',
      data: { connection_id: 'connection_1', status, previous: '', reason: status, timestamp },
    });
    const snap = (status: string, since: number): ServerEvent => ({
      event: 'snapshot',
      data: snapshotOf([connDoc(1, { status, connected: status === 'connected', state_since: since })]),
    });
    m.applySnapshot(snapshotOf([connDoc(1, { status: 'disconnected', connected: false, state_since: 100 })]));
    const c = m.connections[0]!;

    // a snapshot assembled before "connected" but delivered after it
    m.applyBatch(batchOf(st('connecting', 200), st('connected', 201)));
    m.applyBatch(batchOf(snap('connecting', 200)));
    expect([c.status, c.stateSince]).toEqual(['connected', 201]);

    // the same race inside one frame
    m.applyBatch(batchOf(st('connecting', 300), st('connected', 301), snap('connecting', 300)));
    expect([c.status, c.stateSince]).toEqual(['connected', 301]);

    // a status older than the snapshot that follows it is dropped
    m.applyBatch(batchOf(st('error', 350), snap('connected', 400)));
    expect([c.status, c.stateSince]).toEqual(['connected', 400]);

    // a late, older event does not roll back a newer state
    expect(c.applyStatus({ connection_id: 'connection_1', status: 'connecting', previous: '', reason: '', timestamp: 390 })).toBe(false);
    expect(c.status).toBe('connected');

    // a newer snapshot always wins, and a disabled slot is always taken as sent
    m.applyBatch(batchOf(snap('disconnected', 500)));
    expect(c.status).toBe('disconnected');
    m.applyBatch(batchOf(st('connected', 600)));
    m.applySnapshot(snapshotOf([connDoc(1, { enabled: false, status: 'disconnected', connected: false, state_since: 550 })]));
    expect([c.enabled, c.status]).toEqual([false, 'disconnected']);
  });

  it('never lets metrics change the status (a stale frame cannot revive a dropped link)', () => {
    const m = new DashboardModel();
    m.applySnapshot(snapshotOf([connDoc(1, { status: 'connected', connected: true, state_since: 990 })], [], { server_time: 1000 }), 1_000_000);
    const c = m.connections[0]!;
    const metrics: ServerEvent = {
      event: 'metrics_update',
      data: { connection_id: 'connection_1', msgs_per_sec: 5, uptime: 10, message_count: 1, error_count: 0, last_update: 1, dropped: 0, reconnects: 0, rate_history: [] },
    };
    const drop: ServerEvent = {
      event: 'connection_status_update',
      data: { connection_id: 'connection_1', status: 'error', previous: 'connected', reason: 'auth_failed: authentication failed', timestamp: 1001 },
    };
    m.applyBatch(batchOf(drop, metrics), 1_001_000);
    expect([c.status, c.connected, c.reason]).toEqual(['error', false, 'auth_failed: authentication failed']);
    m.applyBatch(batchOf(metrics), 1_002_000);
    expect(c.status).toBe('error');
    expect(c.uptime).toBe(10);
  });

  it('applies metrics and recomputes the summary', () => {
    const m = new DashboardModel();
    m.applySnapshot(snapshotOf([connDoc(1), connDoc(2, { status: 'connecting', connected: false })]));
    expect(m.summary).toMatchObject({ total: 2, connected: 1, ticks: 1500, errors: 0 });
    m.applyBatch(
      batchOf({
        event: 'metrics_update',
        data: { connection_id: 'connection_2', msgs_per_sec: 4.5, uptime: 3, message_count: 10, error_count: 2, last_update: 1500, dropped: 1, reconnects: 3, rate_history: [1, 2, 3] },
      }),
    );
    const c2 = m.connection('connection_2')!;
    expect([c2.mps, c2.uptime, c2.messageCount, c2.errorCount, c2.lastUpdate, c2.dropped, c2.reconnects]).toEqual([4.5, 3, 10, 2, 1500, 1, 3]);
    expect(c2.rateHistory).toEqual([1, 2, 3]);
    expect(m.summary).toMatchObject({ ticks: 760, errors: 2 });
    expect(m.summary.mps).toBeCloseTo(25.3 + 4.5);
  });

  it('applies a snapshot before the events that followed it in the same frame', () => {
    const m = new DashboardModel();
    m.applySnapshot(demoSnapshot(1, 3));
    m.applyBatch(batchOf(tickEv('connection_1', 'T1X000', 99), { event: 'snapshot', data: demoSnapshot(1, 3) }, tickEv('connection_1', 'T1X001', 77)));
    const c = m.connections[0]!;
    expect(c.rows.get('T1X000')!.price).toBe(10); // the pre-snapshot tick was discarded
    expect(c.rows.get('T1X001')!.price).toBe(77);
  });
});

describe('DashboardModel sinks', () => {
  it('has none without a sinks section (no REDIS_URL, or an older server)', () => {
    const m = new DashboardModel();
    m.applySnapshot(demoSnapshot(1, 1));
    expect(m.sinks).toEqual([]);
  });
  it('takes them from the snapshot and updates them from sink_update', () => {
    const m = new DashboardModel();
    m.applySnapshot(snapshotOf([connDoc(1)], [], { sinks: [sinkDoc()] }));
    expect(m.sinks.map((s) => s.state)).toEqual(['connected']);
    const p = new PendingBatch();
    p.add({ event: 'sink_update', data: sinkDoc({ state: 'down', last_error: 'connection refused', dropped: 40 }) });
    p.add({ event: 'sink_update', data: sinkDoc({ name: 'other' }) });
    m.applyBatch(p.take());
    expect(m.sinks.map((s) => [s.name, s.state, s.dropped])).toEqual([
      ['redis', 'down', 40],
      ['other', 'connected', 0],
    ]);
  });
});
