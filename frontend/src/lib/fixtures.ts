// Builders for wire documents, shared by unit and component tests.

import type { ConnectionStatusDoc, SinkDoc, SnapshotData, StatusDoc, Tick } from './types';

export function connDoc(id: number, over: Partial<ConnectionStatusDoc> = {}): ConnectionStatusDoc {
  const tickers = over.config?.tickers ?? [`S${id}A`, `S${id}B`, `S${id}C`];
  return {
    id,
    name: ['primary', 'secondary', 'tertiary'][id - 1] ?? `conn${id}`,
    enabled: true,
    connected: true,
    status: 'connected',
    config: { ticker_count: tickers.length, universe_key: 'market_leaders:top_500', tickers },
    metrics: { messages_per_second: 25.3, last_update: 1000, error_count: 0 },
    connection_id: `connection_${id}`,
    state_since: 900,
    connected_since: 900,
    reason: 'auth_success',
    last_error: '',
    reconnects: 0,
    dropped: 0,
    message_count: 750,
    rate_history: Array.from({ length: 60 }, (_, i) => (i * 7) % 30),
    symbols_source: 'universe',
    note: '',
    enable_hint: '',
    ...over,
  };
}

export function statusDoc(conns: ConnectionStatusDoc[], over: Partial<StatusDoc> = {}): StatusDoc {
  return {
    connections: conns,
    summary: {
      total: conns.length,
      connected: conns.filter((c) => c.connected).length,
      ticks_total: conns.reduce((a, c) => a + c.message_count, 0),
      errors_total: 0,
      messages_per_second: conns.reduce((a, c) => a + c.metrics.messages_per_second, 0),
    },
    mode: 'multi',
    simulated: true,
    uptime_seconds: 120.5,
    server_time: 1000,
    ...over,
  };
}

export function snapshotOf(conns: ConnectionStatusDoc[], ticks: Tick[] = [], over: Partial<StatusDoc> = {}): SnapshotData {
  return { status: statusDoc(conns, over), ticks };
}

/** A demo-like snapshot: n connections, perConn tickers each, every ticker with a tick. */
export function demoSnapshot(n = 3, perConn = 150, serverTime = 1000): SnapshotData {
  const conns: ConnectionStatusDoc[] = [];
  const ticks: Tick[] = [];
  for (let id = 1; id <= n; id++) {
    const tickers = Array.from({ length: perConn }, (_, i) => `T${id}X${String(i).padStart(3, '0')}`);
    conns.push(connDoc(id, { config: { ticker_count: perConn, universe_key: 'market_leaders:top_500', tickers } }));
    tickers.forEach((symbol, i) =>
      ticks.push({ connection_id: `connection_${id}`, symbol, price: 10 + i, size: 100, timestamp: serverTime - (i % 30), change_pct: ((i % 11) - 5) / 3, count: i }),
    );
  }
  return snapshotOf(conns, ticks, { server_time: serverTime });
}

/** A Redis sink document, connected and idle unless overridden. */
export function sinkDoc(over: Partial<SinkDoc> = {}): SinkDoc {
  return {
    name: 'redis',
    state: 'connected',
    since: 900,
    last_error: '',
    target: 'redis://:xxxxx@cache:6379/0',
    required: false,
    published_per_second: 5000,
    published: 600000,
    messages: 1200,
    dropped: 0,
    queue_full: 0,
    queue_depth: 0,
    queue_capacity: 1024,
    queued_ticks: 0,
    queued_ticks_capacity: 131072,
    status_published: 120,
    status_dropped: 0,
    write_errors: 0,
    ...over,
  };
}
