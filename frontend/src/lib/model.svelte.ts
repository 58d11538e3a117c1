// The dashboard's state and its reducer. Fine-grained on purpose: each
// ticker row is its own object with its own reactive fields, so a tick for
// AAPL re-renders AAPL's cells and nothing else; membership lists
// ($state.raw arrays) change only with a snapshot.

import type { Batch, LiveTick } from './coalesce';
import { ServerClock } from './freshness';
import { RecentStream } from './recent.svelte';
import type { ConnectionStatusDoc, MetricsUpdate, OverridesDoc, RelayPair, SinkDoc, SnapshotData, StatusUpdate, Tick } from './types';
import { emptyOverrides } from './overrides';

/**
 * One ticker's latest values. The fields are plain, behind getters that read
 * one signal, and that signal moves only while a view shows the row (watch).
 * At market open 5,000 ticks a second land on 3,000 rows of which about 90
 * are on screen; with a signal per field Svelte recorded some 30,000 writes
 * a second, which was 70 % of everything the page allocated (7.8 MB/s, and
 * the JS heap grew to fit it). Views drawn outside Svelte (the overview's
 * canvas, value sorts) read the fields directly and learn of changes from
 * ConnectionModel.watchValues or the clock.
 */
export class TickerRow {
  readonly symbol: string;
  #price: number | null = null;
  #changePct: number | null = null;
  #size: number | null = null;
  #ts = 0;
  #count = 0;
  #dir: -1 | 0 | 1 = 0;
  #flash = 0;
  /** Bumped on a change while watched: what reactive readers depend on. */
  #version = $state(0);
  #watchers = 0;

  constructor(symbol: string) {
    this.symbol = symbol;
  }

  get price(): number | null {
    void this.#version;
    return this.#price;
  }
  get changePct(): number | null {
    void this.#version;
    return this.#changePct;
  }
  get size(): number | null {
    void this.#version;
    return this.#size;
  }
  /** Unix seconds of the last tick, 0 before any. */
  get ts(): number {
    void this.#version;
    return this.#ts;
  }
  /** Updates seen (seeded by the server's count when it sends one). */
  get count(): number {
    void this.#version;
    return this.#count;
  }
  /** Direction of the last price move. */
  get dir(): -1 | 0 | 1 {
    void this.#version;
    return this.#dir;
  }
  /** Bumped on each price move so the view can restart its flash. */
  get flash(): number {
    void this.#version;
    return this.#flash;
  }

  /**
   * Makes the row's getters reactive until the returned function is called:
   * a view that shows the row (a table row, the overview's tooltip) holds a
   * watch while it does. Watches nest; the row is quiet when none is held.
   */
  watch(): () => void {
    this.#watchers++;
    let held = true;
    return () => {
      if (held) this.#watchers--;
      held = false;
    };
  }

  /** Whether any view holds a watch (tests and diagnostics). */
  get watched(): boolean {
    return this.#watchers > 0;
  }

  #changed(): void {
    if (this.#watchers > 0) this.#version++;
  }

  /** Sets values without a flash (snapshot). */
  seed(t: Tick | null): void {
    this.#price = t?.price ?? null;
    this.#changePct = t?.change_pct ?? null;
    this.#size = t?.size ?? null;
    this.#ts = t?.timestamp ?? 0;
    this.#count = t?.count ?? (t ? 1 : 0);
    this.#dir = 0;
    this.#changed();
  }

  /** Applies a live update that folded n ticks. */
  apply(t: Tick, n = 1): void {
    const prev = this.#price;
    if (prev !== null && t.price !== prev) {
      this.#dir = t.price > prev ? 1 : -1;
      this.#flash++;
    }
    this.#price = t.price;
    if (t.change_pct !== undefined) this.#changePct = t.change_pct;
    this.#size = t.size;
    this.#ts = t.timestamp;
    this.#count += n;
    this.#changed();
  }
}

export interface Transition {
  status: string;
  previous: string;
  reason: string;
  timestamp: number;
}

export class ConnectionModel {
  readonly connectionId: string;
  id = $state(0);
  name = $state('');
  enabled = $state(false);
  connected = $state(false);
  status = $state('disconnected');
  stateSince = $state(0);
  connectedSince = $state(0);
  reason = $state('');
  lastError = $state('');
  reconnects = $state(0);
  dropped = $state(0);
  messageCount = $state(0);
  errorCount = $state(0);
  mps = $state(0);
  /** Seconds connected in the current session, from metrics_update. */
  uptime = $state(0);
  lastUpdate = $state(0);
  rateHistory = $state.raw<number[]>([]);
  universeKey = $state('');
  tickerCount = $state(0);
  symbolsSource = $state('');
  note = $state('');
  enableHint = $state('');
  /** Saved runtime changes (replaced, never mutated). */
  overrides = $state.raw<OverridesDoc>(emptyOverrides());
  /** Pairs the relay carries on this connection (replaced, never mutated). */
  relay = $state.raw<RelayPair[]>([]);
  /** Assigned symbols in configuration order; replaced, never mutated. */
  tickers = $state.raw<string[]>([]);
  /** Recent status transitions, newest first (at most 5). */
  transitions = $state.raw<Transition[]>([]);
  /** Not reactive itself: membership changes always come with a new `tickers`. */
  readonly rows = new Map<string, TickerRow>();
  readonly recent: RecentStream;
  private readonly valueWatchers = new Set<(changed: readonly TickerRow[] | null) => void>();
  /** Rows a tick changed since the watchers were last told (see valuesChanged). */
  private readonly touched: TickerRow[] = [];
  private allTouched = false;

  constructor(connectionId: string, recentCap = 50, recentEveryMs = 0) {
    this.connectionId = connectionId;
    this.recent = new RecentStream(recentCap, recentEveryMs);
  }

  applyDoc(d: ConnectionStatusDoc): void {
    this.id = d.id;
    this.name = d.name;
    // A snapshot can be assembled just before a status change and delivered
    // just after it. The state with the later start time wins, so an old
    // snapshot never rolls a column back to "connecting".
    const snapSince = d.state_since ?? 0;
    const keepLive = d.enabled && this.enabled && this.stateSince > 0 && snapSince > 0 && this.stateSince > snapSince;
    this.enabled = d.enabled;
    if (!keepLive) {
      this.connected = d.connected;
      this.status = d.status;
      this.stateSince = snapSince;
      this.connectedSince = d.connected_since ?? 0;
      this.reason = d.reason ?? '';
    }
    this.lastError = d.last_error ?? '';
    this.reconnects = d.reconnects ?? 0;
    this.dropped = d.dropped ?? 0;
    this.messageCount = d.message_count ?? 0;
    this.errorCount = d.metrics?.error_count ?? 0;
    this.mps = d.metrics?.messages_per_second ?? 0;
    this.lastUpdate = d.metrics?.last_update ?? 0;
    this.rateHistory = d.rate_history ?? [];
    this.universeKey = d.config?.universe_key ?? '';
    this.tickerCount = d.config?.ticker_count ?? 0;
    this.symbolsSource = d.symbols_source ?? '';
    this.note = d.note ?? '';
    this.enableHint = d.enable_hint ?? '';
    this.overrides = d.overrides ?? emptyOverrides();
    this.relay = d.relay ?? [];
    this.setTickers(d.config?.tickers ?? []);
  }

  /**
   * Calls fn after each batch that changed row values, with the rows a tick
   * changed (null: any row may have, as after a snapshot); returns the
   * cleanup. For views drawn outside Svelte's reactivity (the overview's
   * canvas), which would otherwise have to depend on every row's fields to
   * learn that one of them moved. The array is reused: read it before
   * returning.
   */
  watchValues(fn: (changed: readonly TickerRow[] | null) => void): () => void {
    this.valueWatchers.add(fn);
    return () => this.valueWatchers.delete(fn);
  }

  /** Notes that a tick changed row (DashboardModel.applyTick). */
  touch(row: TickerRow): void {
    if (this.allTouched) return;
    // More entries than rows means nobody has asked for a while: "all" is as
    // good and keeps the list bounded.
    if (this.touched.length >= this.rows.size) {
      this.allTouched = true;
      this.touched.length = 0;
      return;
    }
    this.touched.push(row);
  }

  /** Notes that every row may have changed (a snapshot). */
  touchAll(): void {
    this.allTouched = true;
    this.touched.length = 0;
  }

  /** Tells the value watchers what changed since the last call (DashboardModel.applyBatch calls it). */
  valuesChanged(): void {
    const changed = this.allTouched ? null : this.touched;
    if (changed === null || changed.length > 0) for (const fn of this.valueWatchers) fn(changed);
    this.touched.length = 0;
    this.allTouched = false;
  }

  /** Replaces the membership, reusing row objects for symbols that stay. */
  setTickers(list: readonly string[]): void {
    const unique = [...new Set(list)];
    const keep = new Set(unique);
    for (const sym of this.rows.keys()) if (!keep.has(sym)) this.rows.delete(sym);
    for (const sym of unique) if (!this.rows.has(sym)) this.rows.set(sym, new TickerRow(sym));
    this.tickers = unique;
  }

  /** Applies a status change unless what we show already began later (a stale event). */
  applyStatus(u: StatusUpdate): boolean {
    if (u.timestamp && this.stateSince && u.timestamp < this.stateSince) return false;
    this.status = u.status;
    this.reason = u.reason ?? '';
    this.stateSince = u.timestamp || this.stateSince;
    this.connected = u.status === 'connected';
    this.connectedSince = this.connected ? this.stateSince : 0;
    if (u.status === 'error' && u.reason) this.lastError = u.reason;
    const tr: Transition = { status: u.status, previous: u.previous ?? '', reason: u.reason ?? '', timestamp: u.timestamp };
    this.transitions = [tr, ...this.transitions].slice(0, 5);
    return true;
  }

  /**
   * Metrics never change the status: only status events and snapshots say
   * what the link is, so a metrics frame computed just before a drop cannot
   * bring a dead column back to "connected".
   */
  applyMetrics(m: MetricsUpdate): void {
    this.mps = m.msgs_per_sec ?? 0;
    this.uptime = m.uptime ?? 0;
    this.messageCount = m.message_count ?? this.messageCount;
    this.errorCount = m.error_count ?? this.errorCount;
    this.lastUpdate = m.last_update ?? this.lastUpdate;
    this.dropped = m.dropped ?? this.dropped;
    this.reconnects = m.reconnects ?? this.reconnects;
    if (Array.isArray(m.rate_history)) this.rateHistory = m.rate_history;
  }
}

export interface Summary {
  total: number;
  enabled: number;
  connected: number;
  ticks: number;
  errors: number;
  mps: number;
}

export class DashboardModel {
  connections = $state.raw<ConnectionModel[]>([]);
  hasSnapshot = $state(false);
  mode = $state('');
  simulated = $state(false);
  uptimeSeconds = $state(0);
  /** Server clock minus ours (seconds): the best recent estimate (see ServerClock). */
  clockOffset = $state(0);
  readonly serverClock = new ServerClock();
  /**
   * Server time (Unix s) of the newest thing applied: a tick's own time, or
   * the server_time of a metrics frame or snapshot. Not reactive (it moves
   * with every tick); the page reads it on its one-second clock.
   */
  newestShown = 0;
  /** Our clock (ms) when the last snapshot was applied. */
  snapshotAt = $state(0);
  /** Bumped on each snapshot, so views that cache an order know to redo it. */
  snapshotSeq = $state(0);
  /** Tick sinks (the Redis publisher); empty when none is configured. */
  sinks = $state.raw<SinkDoc[]>([]);
  /** Ticks that named a symbol we do not know (before the snapshot that adds it). */
  unknownTicks = 0;
  private readonly byId = new Map<string, ConnectionModel>();
  private readonly recentCap: number;
  private readonly recentEveryMs: number;

  /** recentEveryMs: how often at most a recent-ticks list changes (0: every batch). */
  constructor(recentCap = 50, recentEveryMs = 0) {
    this.recentCap = recentCap;
    this.recentEveryMs = recentEveryMs;
  }

  readonly summary: Summary = $derived.by(() => {
    const s: Summary = { total: 0, enabled: 0, connected: 0, ticks: 0, errors: 0, mps: 0 };
    for (const c of this.connections) {
      s.total++;
      if (c.enabled) s.enabled++;
      if (c.status === 'connected') s.connected++;
      s.ticks += c.messageCount;
      s.errors += c.errorCount;
      s.mps += c.mps;
    }
    return s;
  });

  connection(id: string): ConnectionModel | undefined {
    return this.byId.get(id);
  }

  /** Which connection holds a symbol, per the current configuration. */
  ownerOf(symbol: string): ConnectionModel | undefined {
    for (const c of this.connections) if (c.rows.has(symbol)) return c;
    return undefined;
  }

  /** Current server time in Unix seconds given our clock in ms. */
  serverNow(nowMs: number): number {
    return nowMs / 1000 + this.clockOffset;
  }

  /** A frame stamped with the server's clock arrived at arrivedMs (our clock). */
  observeServerTime(serverTimeSec: number | undefined, arrivedMs: number): void {
    if (!serverTimeSec) return;
    this.serverClock.observe(serverTimeSec, arrivedMs);
    if (this.clockOffset !== this.serverClock.offset) this.clockOffset = this.serverClock.offset;
  }

  private shown(serverSec: number | undefined): void {
    if (serverSec && serverSec > this.newestShown) this.newestShown = serverSec;
  }

  applySnapshot(s: SnapshotData, nowMs: number = Date.now()): void {
    const st = s.status;
    this.mode = st.mode ?? '';
    this.simulated = !!st.simulated;
    this.uptimeSeconds = st.uptime_seconds ?? 0;
    // Applied now, it arrived no later than now: a lower bound of the offset,
    // which never drags a better estimate down (a late snapshot resets nothing).
    this.observeServerTime(st.server_time, nowMs);
    this.shown(st.server_time);
    this.sinks = Array.isArray(st.sinks) ? st.sinks : [];

    const next: ConnectionModel[] = [];
    const seen = new Set<string>();
    const docs = [...st.connections].sort((a, b) => a.id - b.id);
    for (const d of docs) {
      const key = d.connection_id || `connection_${d.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let c = this.byId.get(key);
      if (!c) {
        c = new ConnectionModel(key, this.recentCap, this.recentEveryMs);
        this.byId.set(key, c);
      }
      c.applyDoc(d);
      next.push(c);
    }
    for (const key of [...this.byId.keys()]) if (!seen.has(key)) this.byId.delete(key);

    // Replace semantics: every row shows the snapshot's tick or nothing.
    const latest = new Map<string, Tick>();
    for (const t of s.ticks ?? []) if (t && typeof t.symbol === 'string') latest.set(`${t.connection_id ?? ''}\u0000${t.symbol}`, t);
    for (const c of next) {
      for (const row of c.rows.values()) {
        row.seed(latest.get(`${c.connectionId}\u0000${row.symbol}`) ?? latest.get(`\u0000${row.symbol}`) ?? null);
      }
    }
    for (const c of next) c.touchAll();
    this.connections = next;
    this.snapshotAt = nowMs;
    this.hasSnapshot = true;
    this.snapshotSeq++;
  }

  applyTick(t: LiveTick, n = 1): boolean {
    let conn = this.byId.get(t.connection_id);
    let row = conn?.rows.get(t.symbol);
    if (!row) {
      conn = this.ownerOf(t.symbol);
      row = conn?.rows.get(t.symbol);
    }
    if (!row || !conn) {
      this.unknownTicks++;
      return false;
    }
    row.apply(t, n);
    conn.touch(row);
    this.shown(t.timestamp);
    return true;
  }

  applyBatch(b: Batch, nowMs: number = Date.now()): void {
    if (b.snapshot) this.applySnapshot(b.snapshot, nowMs);
    for (const u of b.statuses) this.byId.get(u.connection_id)?.applyStatus(u);
    for (const t of b.ticks.values()) this.applyTick(t, t.n);
    if (b.snapshot || b.ticks.size > 0) for (const c of this.connections) c.valuesChanged();
    for (const [id, r] of b.recent) this.byId.get(id)?.recent.push(r.ticks, r.total);
    for (const m of b.metrics.values()) {
      this.byId.get(m.connection_id)?.applyMetrics(m);
      this.shown(m.server_time);
    }
    if (b.sinks.size > 0) this.applySinks(b.sinks);
  }

  /** Replaces the figures of the sinks named in updates; a new name is appended. */
  applySinks(updates: Map<string, SinkDoc>): void {
    const next = this.sinks.map((s) => updates.get(s.name) ?? s);
    for (const [name, s] of updates) if (!next.some((n) => n.name === name)) next.push(s);
    this.sinks = next;
  }
}
