// Alerts as the dashboard shows them: the list from GET /api/admin/alerts,
// kept current by "alert" events on /admin-ws, a firing count for the top
// bar, and resolved incidents that fade and then leave the strip. Plain
// functions; alerts.svelte.ts holds the state.

export type AlertState = 'firing' | 'resolved';

export interface Alert {
  id: number;
  key: string;
  kind: string;
  connection?: string;
  ticker?: string;
  source?: string;
  state: AlertState;
  /** Times are Unix seconds (ms precision), like the rest of the API. */
  since: number;
  fired_at: number;
  resolved_at?: number;
  value: number;
  threshold: number;
  unit: string;
  message: string;
  acked_by?: string;
  acked_at?: number;
}

/** The data of an /admin-ws "alert" event. */
export interface AlertEvent extends Alert {
  /** updated: a firing ticker_silent group whose count or symbols changed. */
  type: 'firing' | 'updated' | 'resolved' | 'acknowledged';
}

export interface AlertList {
  alerts: Alert[];
  firing: number;
}

/** A resolved alert is shown dimmed after this long... */
export const FADE_AFTER_MS = 30_000;
/** ...and leaves the strip after this long (the API still lists it). */
export const HIDE_AFTER_MS = 10 * 60_000;

/**
 * The alert events in one raw socket frame. Tick frames are by far the most
 * common and never contain the event name, so they cost one substring
 * search and no parse.
 */
export function alertEventsIn(data: string): AlertEvent[] {
  const out: AlertEvent[] = [];
  for (const ev of frameEvents(data, '"event":"alert"')) {
    const d = ev.data as AlertEvent | undefined;
    if (ev.event === 'alert' && d && typeof d.id === 'number' && typeof d.key === 'string') out.push(d);
  }
  return out;
}

/**
 * The events of one raw /admin-ws frame, or none when the frame does not
 * contain needle (checked before parsing: most frames are ticks, and a
 * substring search costs far less than JSON.parse) or is not a JSON array.
 * The caller checks each event's data.
 */
export function frameEvents(data: string, needle: string): { event?: unknown; data?: unknown }[] {
  if (!data.includes(needle)) return [];
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch {
    return [];
  }
  if (!Array.isArray(frame)) return [];
  return frame.filter((ev): ev is { event?: unknown; data?: unknown } => typeof ev === 'object' && ev !== null);
}

/** Whether a frame is a snapshot: the link was (re)established and events may have been missed. */
export function isSnapshotFrame(data: string): boolean {
  return data.startsWith('[{"event":"snapshot"');
}

/** list with a (new or updated) alert, newest id first. */
export function mergeAlert(list: readonly Alert[], a: Alert): Alert[] {
  const plain: Partial<AlertEvent> = { ...a };
  delete plain.type; // an event's type is not part of the incident
  const out = list.filter((x) => x.id !== a.id);
  out.push(plain as Alert);
  return out.sort((x, y) => y.id - x.id);
}

export function firingCount(list: readonly Alert[]): number {
  return list.reduce((n, a) => n + (a.state === 'firing' ? 1 : 0), 0);
}

export interface AlertView {
  id: number;
  firing: boolean;
  faded: boolean;
  acked: boolean;
  title: string;
  detail: string;
  /** "for 2m 41s" while firing, "resolved 12s ago" after. */
  when: string;
  ackedBy: string;
}

const KIND_LABEL: Record<string, string> = {
  connection_silent: 'Connection silent',
  ticker_silent: 'Ticker silent',
  subscription_drift: 'Subscription drift',
  reconnect_storm: 'Reconnect storm',
  auth_failed: 'Authentication failed',
  max_connections: 'Evicted (max_connections)',
  drops: 'Frames dropped',
};

export function kindLabel(kind: string): string {
  return KIND_LABEL[kind] ?? kind;
}

function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function alertView(a: Alert, nowMs: number): AlertView {
  const firing = a.state === 'firing';
  const resolvedAt = a.resolved_at ? a.resolved_at * 1000 : NaN;
  const where = [a.ticker, a.connection, a.source].filter(Boolean).join(' · ');
  // A ticker_silent incident without a ticker is a connection's group
  // (many tickers at once); its message names them and says how many.
  const label = a.kind === 'ticker_silent' && !a.ticker ? 'Tickers silent' : kindLabel(a.kind);
  return {
    id: a.id,
    firing,
    faded: !firing && Number.isFinite(resolvedAt) && nowMs - resolvedAt >= FADE_AFTER_MS,
    acked: !!a.acked_by,
    title: where ? `${label}: ${where}` : label,
    detail: a.message,
    when: firing ? `for ${span(nowMs - a.since * 1000)}` : `resolved ${span(nowMs - resolvedAt)} ago`,
    ackedBy: a.acked_by ?? '',
  };
}

/** What the strip shows: firing first (oldest incident first), then resolved ones not yet hidden, newest first. */
export function stripViews(list: readonly Alert[], nowMs: number): AlertView[] {
  const firing = list.filter((a) => a.state === 'firing').sort((x, y) => x.id - y.id);
  const resolved = list.filter((a) => a.state === 'resolved' && !(a.resolved_at && nowMs - a.resolved_at * 1000 >= HIDE_AFTER_MS));
  return [...firing, ...resolved].map((a) => alertView(a, nowMs));
}
