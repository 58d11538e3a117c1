// Folds incoming /admin-ws events into one pending batch between animation
// frames. Memory stays bounded however long frames are delayed (a background
// tab gets no animation frames at all): ticks keep only the latest per
// symbol, metrics the latest per connection, and the recent-ticks feed the
// newest `recentCap` per connection plus a count.

import type { MetricsUpdate, ServerEvent, SinkDoc, SnapshotData, StatusUpdate, Tick } from './types';

export type LiveTick = Tick & { connection_id: string };

export interface CoalescedTick extends LiveTick {
  /** How many updates for this symbol were folded into this one. */
  n: number;
}

export interface RecentChunk {
  /** Newest last (arrival order), at most recentCap. */
  ticks: LiveTick[];
  /** All ticks seen for the connection in this batch, including ones not kept. */
  total: number;
}

export interface Batch {
  snapshot: SnapshotData | null;
  statuses: StatusUpdate[];
  ticks: Map<string, CoalescedTick>;
  recent: Map<string, RecentChunk>;
  metrics: Map<string, MetricsUpdate>;
  /** The latest sink_update per sink name. */
  sinks: Map<string, SinkDoc>;
  /** Raw events folded into this batch. */
  events: number;
}

export function emptyBatch(): Batch {
  return { snapshot: null, statuses: [], ticks: new Map(), recent: new Map(), metrics: new Map(), sinks: new Map(), events: 0 };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function validEvent(e: unknown): e is ServerEvent {
  if (!isObj(e) || typeof e.event !== 'string' || !isObj(e.data)) return false;
  const d = e.data;
  switch (e.event) {
    case 'snapshot':
      return isObj(d.status) && Array.isArray((d.status as Record<string, unknown>).connections);
    case 'tick_update':
      return typeof d.symbol === 'string' && typeof d.connection_id === 'string' && typeof d.price === 'number';
    case 'connection_status_update':
    case 'metrics_update':
      return typeof d.connection_id === 'string';
    case 'sink_update':
      return typeof d.name === 'string' && typeof d.state === 'string';
    default:
      return false;
  }
}

/**
 * Parses one server frame (a JSON array of events). Unknown or malformed
 * events are skipped, never thrown: one bad event must not stop the page.
 */
export function parseFrame(data: string): ServerEvent[] {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return [];
  }
  if (!Array.isArray(v)) v = [v];
  return (v as unknown[]).filter(validEvent);
}

export class PendingBatch {
  private b: Batch = emptyBatch();
  constructor(private readonly recentCap = 50) {}

  get size(): number {
    return this.b.events;
  }

  add(e: ServerEvent): void {
    const b = this.b;
    b.events++;
    switch (e.event) {
      case 'snapshot':
        // The snapshot replaces ticks and metrics queued before it. Status
        // changes are kept: the model orders them against the snapshot by
        // their timestamps, since a snapshot may be older than an event that
        // overtook it.
        this.b = { ...emptyBatch(), snapshot: e.data, statuses: b.statuses, events: b.events };
        return;
      case 'connection_status_update':
        b.statuses.push(e.data);
        return;
      case 'metrics_update':
        b.metrics.set(e.data.connection_id, e.data);
        return;
      case 'sink_update':
        b.sinks.set(e.data.name, e.data);
        return;
      case 'tick_update': {
        const t = e.data;
        const prev = b.ticks.get(t.symbol);
        // The parsed event is ours alone: count on it rather than copy it
        // (thousands of ticks a second at market open, each a copy for the GC).
        const ct = t as CoalescedTick;
        ct.n = (prev?.n ?? 0) + 1;
        b.ticks.set(t.symbol, ct);
        let r = b.recent.get(t.connection_id);
        if (!r) b.recent.set(t.connection_id, (r = { ticks: [], total: 0 }));
        r.total++;
        r.ticks.push(t);
        // Trim in chunks so a flood costs amortised O(1) per tick.
        if (r.ticks.length >= this.recentCap * 2) r.ticks = r.ticks.slice(-this.recentCap);
        return;
      }
    }
  }

  /** Returns the folded batch and starts a new one. */
  take(): Batch {
    const b = this.b;
    this.b = emptyBatch();
    for (const r of b.recent.values()) if (r.ticks.length > this.recentCap) r.ticks = r.ticks.slice(-this.recentCap);
    return b;
  }
}
