// How states are shown: tone, label and a glyph that differs by shape, so
// colour is never the only signal.

import { formatDuration } from './format';
import type { Freshness } from './freshness';
import type { LinkInfo } from './liveLink';
import type { SinkDoc } from './types';

export type Tone = 'ok' | 'warn' | 'bad' | 'off';

export interface StatusView {
  tone: Tone;
  label: string;
  /** Glyph shape differs per state: filled, half, hollow, cross. */
  glyph: string;
}

export function statusView(status: string, enabled: boolean): StatusView {
  if (!enabled) return { tone: 'off', label: 'Disabled', glyph: '⊘' };
  switch (status) {
    case 'connected':
      return { tone: 'ok', label: 'Connected', glyph: '●' };
    case 'connecting':
      return { tone: 'warn', label: 'Connecting', glyph: '◐' };
    case 'disconnected':
      return { tone: 'bad', label: 'Disconnected', glyph: '○' };
    case 'error':
      return { tone: 'bad', label: 'Error', glyph: '✕' };
    default:
      return { tone: 'warn', label: status ? status[0]!.toUpperCase() + status.slice(1) : 'Unknown', glyph: '◌' };
  }
}

export interface LinkView {
  tone: Tone;
  label: string;
  detail: string;
}

/**
 * The page's own live link, as shown in the summary strip. With fresh (the
 * age of what the page shows, on the server's clock), an open link says
 * "Live" only while that age is within about a second, else "Behind 12s";
 * paceMs > 0 says the page asked the server for slower updates.
 */
export function linkView(info: LinkInfo, nowMs: number, staleAfterMs = 5000, fresh?: Freshness, paceMs = 0): LinkView {
  const silentFor = info.lastMessageAt === null ? null : Math.max(0, nowMs - info.lastMessageAt);
  const staleText = silentFor === null ? '' : `data ${formatDuration(silentFor / 1000)} old`;
  switch (info.state) {
    case 'closed':
      return { tone: 'off', label: 'Offline', detail: '' };
    case 'connecting':
      return { tone: 'warn', label: 'Connecting…', detail: '' };
    case 'live': {
      const slowed = paceMs > 0 ? `updates slowed to every ${paceMs >= 1000 ? `${paceMs / 1000} s` : `${paceMs} ms`} to keep up` : '';
      if (fresh && fresh.lag !== null && fresh.tone !== 'ok') {
        return {
          tone: fresh.tone,
          label: `Behind ${formatDuration(fresh.lag)}`,
          detail: silentFor !== null && silentFor > staleAfterMs ? 'connected, but no updates arrive' : slowed || 'updates arrive late',
        };
      }
      if (!fresh && silentFor !== null && silentFor > staleAfterMs) {
        return { tone: 'warn', label: `Stale for ${formatDuration(silentFor / 1000)}`, detail: 'connected, but no updates arrive' };
      }
      return { tone: 'ok', label: 'Live', detail: slowed };
    }
    case 'reconnecting': {
      const wait = info.retryAt === null ? 0 : Math.ceil((info.retryAt - nowMs) / 1000);
      const retry = wait > 0 ? `retry in ${wait}s` : 'retrying now';
      return {
        tone: 'bad',
        label: 'Reconnecting',
        detail: [`attempt ${info.attempt}`, retry, staleText].filter(Boolean).join(' · '),
      };
    }
  }
}

/** Per-connection accent colours, chosen to stay clear of the status greens/ambers/reds. */
export const CONNECTION_COLOURS = ['#4c8dff', '#b07cff', '#21b8d0', '#ee6bb5', '#8f9bff', '#5fc3a4'];

export function connectionColour(id: number): string {
  const n = CONNECTION_COLOURS.length;
  return CONNECTION_COLOURS[(((id - 1) % n) + n) % n]!;
}

/** Seconds since the last message after which a connection's "last update" warns. */
export const STALE_AFTER_S = 10;

export function isStale(lastUpdate: number, nowSec: number, enabled: boolean, connected: boolean): boolean {
  if (!enabled) return false;
  if (!lastUpdate) return connected;
  return nowSec - lastUpdate > STALE_AFTER_S;
}

export interface SinkView {
  /** "Redis" for name "redis". */
  title: string;
  tone: Tone;
  label: string;
  /** Glyph shape differs per state, as in statusView. */
  glyph: string;
  /** The latest error, shown on hover and when expanded; "" if none. */
  error: string;
  /** Queue fill, "12 / 1,024" batches. */
  queue: string;
  /** True when the queue is more than three quarters full. */
  queueHigh: boolean;
}

const SINK_TITLES: Record<string, string> = { redis: 'Redis' };

/** How a tick sink is shown: its state as tone + label + glyph, never colour alone. */
export function sinkView(s: SinkDoc): SinkView {
  const title = SINK_TITLES[s.name] ?? (s.name ? s.name[0]!.toUpperCase() + s.name.slice(1) : 'Sink');
  let v: Pick<SinkView, 'tone' | 'label' | 'glyph'>;
  switch (s.state) {
    case 'connected':
      v = { tone: 'ok', label: 'Connected', glyph: '●' };
      break;
    case 'connecting':
      v = { tone: 'warn', label: 'Connecting', glyph: '◐' };
      break;
    case 'reconnecting':
      v = { tone: 'warn', label: 'Reconnecting', glyph: '◑' };
      break;
    case 'down':
      v = { tone: 'bad', label: 'Down', glyph: '✕' };
      break;
    default:
      v = { tone: 'warn', label: s.state ? s.state[0]!.toUpperCase() + s.state.slice(1) : 'Unknown', glyph: '◌' };
  }
  const cap = s.queue_capacity || 0;
  return {
    title,
    ...v,
    error: s.last_error ?? '',
    queue: `${(s.queue_depth ?? 0).toLocaleString('en-US')} / ${cap.toLocaleString('en-US')}`,
    queueHigh: cap > 0 && (s.queue_depth ?? 0) > cap * 0.75,
  };
}
