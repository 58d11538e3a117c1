// Relay consumers (issue 13, docs/relay.md): wire types and the pure rules
// of the Consumers page (what the key form sends, how a consumer's row
// reads, msgs/s out from two polls) and the dashboard's relay line. The
// page's state lives in consumersModel.svelte.ts.

import type { ConfirmRequest } from './actions.svelte';
import { frameEvents } from './alerts';
import { formatAge, formatCount, formatRate } from './format';
import { formatWhen } from './tokens';
import type { RelayPair } from './types';

/**
 * One connected consumer as GET /api/admin/consumers lists it. Unlike the
 * rest of the API its times are RFC 3339 strings (Go time.Time), never the key.
 */
export interface RelayConsumer {
  id: number;
  name: string;
  key_prefix: string;
  key_id: number;
  remote: string;
  since: number;
  authenticated: boolean;
  subscriptions: number;
  queue_depth: number;
  sent: number;
  dropped: number;
  slow: boolean;
}

export interface RelaySnapshot {
  consumers: RelayConsumer[];
  connections_total: number;
  slow_disconnects: number;
  auth_failures: number;
  max_conn_refusals: number;
  events_in: number;
  events_out: number;
}

/** A consumer key's record: never the key or its hash. Times are RFC 3339. */
export interface ConsumerKey {
  id: number;
  name: string;
  prefix: string;
  allow_list: string[] | null;
  max_conns: number;
  created_by: string;
  created_at: number;
  last_used_at?: number;
  revoked_at?: number;
  state: 'active' | 'revoked' | string;
  connected: number;
}

export interface ConsumerKeyList {
  keys: ConsumerKey[];
}

/** The 201 answer of POST /api/admin/consumer-keys: the only time the key is shown. */
export interface CreatedConsumerKey extends ConsumerKey {
  key: string;
}

export interface CreateKeyBody {
  name: string;
  allow_list?: string[];
  max_conns?: number;
}

export interface KeyForm {
  name: string;
  /** Tickers separated by commas or spaces; empty: any ticker. */
  allow: string;
  /** From <input type="number">: a number, or '' / null when left empty. */
  maxConns: number | string | null;
}

export type KeyField = 'name' | 'allow' | 'maxConns';

export type KeyBuildResult = { ok: true; body: CreateKeyBody } | { ok: false; field: KeyField; message: string };

/** The server's limits (backend/web/consumers.go), checked here so the form can say so before sending. */
export const MAX_KEY_NAME = 128;
export const MAX_KEY_CONNS = 10000;
// Same rule as massive.NormalizeTicker; the server has the last word.
const TICKER = /^[A-Z0-9.\-]{1,10}$/;

/** Upper-cased, de-duplicated tickers of the allow-list field, in the order typed. */
export function parseAllowList(raw: string): string[] {
  const out: string[] = [];
  for (const t of raw.split(/[\s,;]+/)) {
    const s = t.trim().toUpperCase();
    if (s && !out.includes(s)) out.push(s);
  }
  return out;
}

/** The request body for the form, or which field is wrong and why. */
export function buildKeyBody(form: KeyForm): KeyBuildResult {
  const name = form.name.trim();
  if (!name) return { ok: false, field: 'name', message: 'Name the key after the program that uses it, e.g. "risk monitor".' };
  if ([...name].length > MAX_KEY_NAME) return { ok: false, field: 'name', message: `At most ${MAX_KEY_NAME} characters.` };
  if (/[\u0000-\u001f\u007f]/.test(name)) return { ok: false, field: 'name', message: 'No control characters.' };
  const body: CreateKeyBody = { name };
  const allow = parseAllowList(form.allow);
  const bad = allow.find((t) => !TICKER.test(t));
  if (bad !== undefined) return { ok: false, field: 'allow', message: `"${bad}" is not a ticker: 1-10 of A-Z, 0-9, '.', '-'.` };
  if (allow.length) body.allow_list = allow;
  const raw = form.maxConns;
  if (raw !== null && String(raw).trim() !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > MAX_KEY_CONNS) return { ok: false, field: 'maxConns', message: `A whole number from 0 (no cap) to ${MAX_KEY_CONNS}.` };
    if (n > 0) body.max_conns = n;
  }
  return { ok: true, body };
}

/** The field a server 400 is about, from its error ("invalid allow_list"). */
export function fieldOfKeyError(error: string): KeyField | null {
  if (error === 'invalid name') return 'name';
  if (error === 'invalid allow_list') return 'allow';
  if (error === 'invalid max_conns') return 'maxConns';
  return null;
}

/** Milliseconds of a wire time (Unix seconds, like the rest of the API); NaN when absent (0 or missing). */
export function parseTime(s: number | undefined | null): number {
  if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) return NaN;
  return s * 1000;
}

/** "2030-01-31 14:05 UTC", like the Tokens page; `empty` when absent. */
export function formatStamp(s: number | undefined | null, empty = '—'): string {
  const ms = parseTime(s);
  return Number.isNaN(ms) ? empty : formatWhen(ms / 1000, empty);
}

/** Sent counters of one poll, by consumer id, for the next poll's rates. */
export interface SentSample {
  atMs: number;
  sent: Map<number, number>;
}

export function sampleOf(list: readonly RelayConsumer[], atMs: number): SentSample {
  return { atMs, sent: new Map(list.map((c) => [c.id, c.sent])) };
}

/**
 * Events per second written to a consumer between two polls; null when
 * there is no earlier poll of it (a new connection) or no time passed. A
 * counter that went back (an id reused after a restart) reads as unknown.
 */
export function sentRate(prev: SentSample | null, c: RelayConsumer, atMs: number): number | null {
  const before = prev?.sent.get(c.id);
  if (prev === null || before === undefined) return null;
  const dt = (atMs - prev.atMs) / 1000;
  if (!(dt > 0) || c.sent < before) return null;
  return (c.sent - before) / dt;
}

export interface ConsumerRowView {
  id: number;
  name: string;
  key: string;
  remote: string;
  since: string;
  sinceTitle: string;
  subscriptions: string;
  rate: string;
  sent: string;
  queue: string;
  drops: string;
  /** 'bad' while being cut off as slow, 'warn' with a backlog or past drops. */
  tone: 'ok' | 'warn' | 'bad' | 'off';
  state: string;
}

export function consumerRowView(c: RelayConsumer, rate: number | null, nowMs: number): ConsumerRowView {
  const since = parseTime(c.since);
  const tone = !c.authenticated ? 'off' : c.slow ? 'bad' : c.dropped > 0 || c.queue_depth > 0 ? 'warn' : 'ok';
  return {
    id: c.id,
    name: c.authenticated ? c.name || '—' : '(not signed in)',
    key: c.key_prefix ? `${c.key_prefix}…` : '—',
    remote: c.remote || '—',
    since: Number.isNaN(since) ? '—' : formatAge(Math.max(0, (nowMs - since) / 1000)),
    sinceTitle: Number.isNaN(since) ? '' : new Date(since).toISOString(),
    subscriptions: formatCount(c.subscriptions),
    rate: rate === null ? '—' : formatRate(rate),
    sent: formatCount(c.sent),
    queue: formatCount(c.queue_depth),
    drops: formatCount(c.dropped),
    tone,
    state: !c.authenticated ? 'Authenticating' : c.slow ? 'Slow: cutting off' : c.dropped > 0 ? 'Dropped events' : 'OK',
  };
}

/** Oldest connection first, like RabbitMQ's list: a new one lands at the bottom and rows do not jump. */
export function sortConsumers(list: readonly RelayConsumer[]): RelayConsumer[] {
  return [...list].sort((a, b) => (parseTime(a.since) || 0) - (parseTime(b.since) || 0) || a.id - b.id);
}

export function disconnectQuestion(c: RelayConsumer): ConfirmRequest {
  const who = c.authenticated && c.name ? `“${c.name}”` : `connection ${c.id}`;
  return {
    title: `Disconnect ${who}?`,
    body: `The connection from ${c.remote || 'its address'} is closed at once. Its key stays valid, so the program may connect again; revoke the key to keep it out.`,
    confirmLabel: 'Disconnect',
    danger: true,
  };
}

export function revokeKeyQuestion(k: ConsumerKey): ConfirmRequest {
  const open = k.connected > 0 ? ` Its ${k.connected === 1 ? 'open connection is' : `${k.connected} open connections are`} closed at once.` : '';
  return {
    title: `Revoke “${k.name}”?`,
    body: `Key ${k.prefix}… stops working: the program using it cannot connect any more.${open} This cannot be undone.`,
    confirmLabel: 'Revoke key',
    danger: true,
  };
}

export function allowListLabel(k: ConsumerKey): string {
  return k.allow_list && k.allow_list.length ? k.allow_list.join(', ') : 'any ticker';
}

export function maxConnsLabel(k: ConsumerKey): string {
  return k.max_conns > 0 ? String(k.max_conns) : 'no cap';
}

/**
 * The dashboard's one line about pairs a connection carries only because
 * consumers asked for them ("3 tickers for consumers (T.XYZ, Q.ABC …)");
 * null when there are none. Configured pairs are not mentioned: the
 * column shows those already.
 */
export function relayLine(pairs: readonly RelayPair[] | undefined | null, show = 3): { text: string; title: string } | null {
  const extra = (pairs ?? []).filter((p) => !p.configured);
  if (!extra.length) return null;
  const names = extra.map((p) => `${p.channel}.${p.ticker}`);
  const head = names.slice(0, show).join(', ');
  const more = names.length > show ? ' …' : '';
  return {
    text: `${extra.length} ${extra.length === 1 ? 'ticker' : 'tickers'} for consumers (${head}${more})`,
    title: extra.map((p) => `${p.channel}.${p.ticker}: ${p.consumers} ${p.consumers === 1 ? 'consumer' : 'consumers'}`).join('\n'),
  };
}

/** The data of the consumer_connected and consumer_disconnected events on /admin-ws (docs/api.md). */
export interface ConsumerChange {
  at: number;
  /** consumer_disconnected only: left | slow_consumer | admin | revoked | shutdown. */
  reason?: string;
  consumer: RelayConsumer;
}

/** The data of the per-second consumers event: GET /api/admin/consumers plus when it was built. */
export interface ConsumersDoc extends RelaySnapshot {
  at: number;
}

export type ConsumerEvent =
  | { event: 'consumer_connected' | 'consumer_disconnected'; data: ConsumerChange }
  | { event: 'consumers'; data: ConsumersDoc };

const isConsumer = (c: unknown): c is RelayConsumer =>
  typeof c === 'object' && c !== null && typeof (c as RelayConsumer).id === 'number' && typeof (c as RelayConsumer).sent === 'number';

/**
 * The consumer events in one raw /admin-ws frame, in order. Tick frames are
 * by far the most common and never contain the names, so they cost one
 * substring search and no parse; malformed events are skipped.
 */
export function consumerEventsIn(data: string): ConsumerEvent[] {
  const out: ConsumerEvent[] = [];
  for (const ev of frameEvents(data, '"event":"consumer')) {
    const d = ev.data as Partial<ConsumerChange & ConsumersDoc> | undefined;
    if (!d || typeof d !== 'object') continue;
    if ((ev.event === 'consumer_connected' || ev.event === 'consumer_disconnected') && isConsumer(d.consumer)) {
      out.push({ event: ev.event, data: d as ConsumerChange });
    } else if (ev.event === 'consumers' && Array.isArray(d.consumers) && d.consumers.every(isConsumer)) {
      out.push({ event: 'consumers', data: d as ConsumersDoc });
    }
  }
  return out;
}

/** Why a consumer left, in words. */
export function reasonText(reason: string | undefined): string {
  switch (reason) {
    case 'left':
      return 'left';
    case 'slow_consumer':
      return 'cut off as a slow consumer';
    case 'admin':
      return 'disconnected by an admin';
    case 'revoked':
      return 'its key was revoked';
    case 'shutdown':
      return 'Tickwatch shut down';
    default:
      return reason ? `disconnected (${reason})` : 'disconnected';
  }
}

/** A consumer that left while the page was open, for the "recently disconnected" list. */
export interface Departure {
  id: number;
  name: string;
  remote: string;
  reason: string;
  /** Tone of the reason: a cut-off is bad news, a revoke or an admin's action is not. */
  tone: 'ok' | 'warn' | 'bad';
  atMs: number;
}

export function departureOf(ch: ConsumerChange, nowMs: number): Departure {
  const c = ch.consumer;
  const atMs = parseTime(ch.at);
  return {
    id: c.id,
    name: c.name || `connection ${c.id}`,
    remote: c.remote || '—',
    reason: reasonText(ch.reason),
    tone: ch.reason === 'slow_consumer' ? 'bad' : ch.reason === 'left' || ch.reason === 'shutdown' ? 'warn' : 'ok',
    atMs: Number.isNaN(atMs) ? nowMs : atMs,
  };
}

/** list with c added or replaced, oldest connection first. */
export function upsertConsumer(list: readonly RelayConsumer[], c: RelayConsumer): RelayConsumer[] {
  return sortConsumers([...list.filter((x) => x.id !== c.id), c]);
}
