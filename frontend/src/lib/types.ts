// Wire types: mirror .notes/CONTRACT.md exactly. Times are Unix seconds (float).

export type Role = 'admin' | 'viewer' | 'user';

export interface Me {
  username: string;
  role: Role;
}

/** GET /healthz: liveness, and which build is running. */
export interface Health {
  status: string;
  version: string;
  uptime_seconds: number;
}

export type LinkStatus = 'connected' | 'connecting' | 'disconnected' | 'error';

export interface ConnectionConfig {
  ticker_count: number;
  universe_key: string;
  tickers: string[];
}

export interface ConnectionMetrics {
  messages_per_second: number;
  last_update: number;
  error_count: number;
}

export interface ConnectionStatusDoc {
  id: number;
  name: string;
  enabled: boolean;
  connected: boolean;
  status: LinkStatus | string;
  config: ConnectionConfig;
  metrics: ConnectionMetrics;
  connection_id: string;
  state_since: number;
  connected_since: number;
  reason: string;
  last_error: string;
  reconnects: number;
  dropped: number;
  message_count: number;
  rate_history: number[];
  symbols_source: 'universe' | 'symbols' | 'none' | string;
  note: string;
  enable_hint: string;
  /** Saved runtime changes on top of the configuration; absent from older servers. */
  overrides?: OverridesDoc;
  /** Pairs carried for relay consumers (docs/relay.md); absent from older servers. */
  relay?: RelayPair[];
}

/** One pair the relay carries on a connection (docs/relay.md). */
export interface RelayPair {
  channel: string;
  ticker: string;
  /** Consumers subscribed to it now. */
  consumers: number;
  /** false: carried only because consumers asked for it. */
  configured: boolean;
}

/** One ticker added or removed at runtime. */
export interface TickerChangeDoc {
  symbol: string;
  by: string;
  at: number;
}

export interface EnabledChangeDoc {
  enabled: boolean;
  by: string;
  at: number;
}

export interface OverridesDoc {
  added: TickerChangeDoc[];
  removed: TickerChangeDoc[];
  /** null: enabled state as configured. */
  enabled: EnabledChangeDoc | null;
}

export interface StatusSummary {
  total: number;
  connected: number;
  ticks_total: number;
  errors_total: number;
  messages_per_second: number;
}

export interface StatusDoc {
  connections: ConnectionStatusDoc[];
  summary: StatusSummary;
  mode: 'multi' | 'single' | string;
  simulated: boolean;
  uptime_seconds: number;
  server_time: number;
  /** Systems the ticks are handed on to (the Redis sink); empty or absent when none. */
  sinks?: SinkDoc[];
}

export type SinkState = 'connecting' | 'connected' | 'reconnecting' | 'down';

/** One tick sink, as in websocket-status `sinks` and the sink_update event. */
export interface SinkDoc {
  name: string;
  state: SinkState | string;
  since: number;
  last_error: string;
  target: string;
  required: boolean;
  published_per_second: number;
  published: number;
  messages: number;
  dropped: number;
  queue_full: number;
  queue_depth: number;
  queue_capacity: number;
  queued_ticks: number;
  queued_ticks_capacity: number;
  status_published: number;
  status_dropped: number;
  write_errors: number;
}

/** A tick as pushed in tick_update and in snapshot.ticks. */
export interface Tick {
  connection_id?: string;
  symbol: string;
  price: number;
  timestamp: number;
  size: number;
  change_pct?: number | null;
  count?: number;
}

export interface SnapshotData {
  status: StatusDoc;
  ticks: Tick[];
}

export interface StatusUpdate {
  connection_id: string;
  status: LinkStatus | string;
  previous: string;
  reason: string;
  timestamp: number;
}

export interface MetricsUpdate {
  connection_id: string;
  msgs_per_sec: number;
  uptime: number;
  message_count: number;
  error_count: number;
  last_update: number;
  dropped: number;
  reconnects: number;
  rate_history: number[];
  /** The server's clock when the frame was built (Unix seconds); absent from older servers. */
  server_time?: number;
}

export type ServerEvent =
  | { event: 'snapshot'; data: SnapshotData }
  | { event: 'connection_status_update'; data: StatusUpdate }
  | { event: 'tick_update'; data: Tick & { connection_id: string } }
  | { event: 'metrics_update'; data: MetricsUpdate }
  | { event: 'sink_update'; data: SinkDoc };

export interface TickerLookup {
  symbol: string;
  connection_id: string;
  connection: number;
  latest: {
    price: number;
    size: number;
    timestamp: number;
    change_pct: number | null;
    count: number;
  } | null;
}

export interface ActionOk {
  ok: boolean;
  connection_id: string;
  status: string;
}

export interface AddResult {
  added: { symbol: string; connection_id: string }[];
}

export interface RemoveResult {
  removed: string;
  connection_id: string;
}

export interface ResetResult extends ActionOk {
  added: string[];
  removed: string[];
  skipped: string[];
}

export interface AuditEntry {
  id: number;
  time: number;
  user: string;
  role: string;
  action: string;
  target: string;
  result: string;
  detail: string;
  client_ip: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Cursor for the next (older) page; null on the last page. */
  next_before: number | null;
}

export interface ApiErrorBody {
  error?: string;
  detail?: string;
  retry_after?: number;
}

/** One login session, as GET /api/admin/sessions lists it. */
export interface SessionInfo {
  id: string;
  user: string;
  role: Role;
  created: number; // Unix seconds, like every time on the wire
  last_seen: number;
  expires: number;
  client_addr: string;
  user_agent: string;
  /** The caller's own session. */
  current: boolean;
  /** Open /admin-ws sockets of the session. */
  sockets: number;
}
