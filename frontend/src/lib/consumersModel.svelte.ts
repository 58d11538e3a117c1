// State of the Consumers page: the connected consumers, kept current by
// the relay's events on /admin-ws (a REST load on open and on every
// snapshot, i.e. every (re)connection of the socket), polled every
// REFRESH_MS instead while the socket is down, disconnecting one behind a
// confirmation, and the consumer keys (create, shown once, revoke).
// Dependencies (API, live link, confirmation, clipboard, clock, timer) are
// injected so tests drive it without a browser or a server.

import type { Confirmer } from './actions.svelte';
import type { Result } from './api';
import { isSnapshotFrame } from './alerts';
import {
  buildKeyBody,
  consumerEventsIn,
  departureOf,
  disconnectQuestion,
  fieldOfKeyError,
  revokeKeyQuestion,
  sampleOf,
  sentRate,
  sortConsumers,
  upsertConsumer,
  type ConsumerKey,
  type ConsumerKeyList,
  type CreatedConsumerKey,
  type CreateKeyBody,
  type Departure,
  type KeyField,
  type KeyForm,
  type RelayConsumer,
  type RelaySnapshot,
  type SentSample,
} from './consumers';
import type { LinkInfo, LinkState } from './liveLink';
import { ShownOnce, type ClipboardLike } from './shownOnce.svelte';

export interface ConsumersApi {
  consumers(): Promise<Result<RelaySnapshot>>;
  disconnectConsumer(id: number): Promise<Result<{ ok: boolean; id: number }>>;
  listConsumerKeys(): Promise<Result<ConsumerKeyList>>;
  createConsumerKey(body: CreateKeyBody): Promise<Result<CreatedConsumerKey>>;
  revokeConsumerKey(id: number): Promise<Result<{ ok: boolean; id: number; disconnected: number }>>;
}

/** setInterval and clearInterval, replaceable in tests. */
export interface Ticker {
  every(ms: number, fn: () => void): () => void;
}

export const browserTicker: Ticker = {
  every(ms, fn) {
    const h = setInterval(fn, ms);
    return () => clearInterval(h);
  },
};

/** The REST poll while the live socket is down (or with no socket at all). */
export const REFRESH_MS = 2000;
/** While live, a slow REST refresh keeps the totals honest (auth failures, refusals) when no consumer is connected. */
export const LIVE_REFRESH_MS = 30_000;
/** How many recent disconnections the page lists. */
export const MAX_DEPARTURES = 5;

/** The page's own /admin-ws link (LiveLink in the browser; a fake in tests). */
export interface LiveFeed {
  start(): void;
  stop(): void;
}

export type LiveFeedFactory = (o: { onMessage: (data: string) => void; onState: (info: LinkInfo) => void }) => LiveFeed;

/** 'off': no live link at all (polling only). */
export type FeedState = LinkState | 'off';

type Notice = { ok: boolean; message: string } | null;

export class ConsumersModel {
  snapshot = $state.raw<RelaySnapshot | null>(null);
  /** Sorted consumers of the latest poll, with their msgs/s out since the poll before. */
  consumers = $state.raw<RelayConsumer[]>([]);
  rates = $state.raw<Map<number, number | null>>(new Map());
  polledAt = $state(0);
  loadError = $state('');
  disconnecting = $state<number | null>(null);
  consumerNotice = $state<Notice>(null);

  /** The live link's state; polling covers every state but 'live'. */
  feed = $state<FeedState>('off');
  /** Consumers that left while the page was open, newest first. */
  departures = $state.raw<Departure[]>([]);

  keys = $state.raw<ConsumerKey[]>([]);
  keysLoaded = $state(false);
  keysError = $state('');
  form = $state<KeyForm>({ name: '', allow: '', maxConns: '' });
  formError = $state<{ field: KeyField | null; message: string } | null>(null);
  creating = $state(false);
  /** The new key, shown once (m.shown.dismiss() forgets it). */
  readonly shown: ShownOnce<CreatedConsumerKey>;
  revoking = $state<number | null>(null);
  keyNotice = $state<Notice>(null);

  private prev: SentSample | null = null;
  private stopTimer: (() => void) | null = null;
  private timerMs = 0;
  private polling = false;
  private link: LiveFeed | null = null;
  private keysLoading = false;
  private keysAgain = false;

  constructor(
    private readonly api: ConsumersApi,
    private readonly confirmer: Confirmer,
    clipboard: ClipboardLike | null = null,
    private readonly now: () => number = () => Date.now(),
    private readonly ticker: Ticker = browserTicker,
    private readonly live: LiveFeedFactory | null = null,
  ) {
    this.shown = new ShownOnce(clipboard, (k) => k.key);
  }

  /**
   * Loads everything, then follows the live link's events (polling every
   * REFRESH_MS while it is not live), until stop().
   */
  start(): void {
    this.stop();
    void this.poll();
    void this.loadKeys();
    if (this.live) {
      this.feed = 'connecting';
      this.link = this.live({ onMessage: (d) => this.onFrame(d), onState: (i) => this.onFeedState(i.state) });
      this.link.start();
    }
    this.schedule();
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = null;
    this.timerMs = 0;
    this.link?.stop();
    this.link = null;
    if (this.live) this.feed = 'off';
  }

  get running(): boolean {
    return this.stopTimer !== null;
  }

  /** Whether the list follows the live events (else it is polled). */
  get isLive(): boolean {
    return this.feed === 'live';
  }

  /** One line on how current the list is; honest when the socket is down. */
  get freshness(): { live: boolean; text: string } {
    switch (this.feed) {
      case 'off':
        return { live: false, text: `Refreshed every ${REFRESH_MS / 1000} s.` };
      case 'live':
        return { live: true, text: 'Live.' };
      case 'connecting':
        return { live: false, text: `Connecting live updates… refreshing every ${REFRESH_MS / 1000} s meanwhile.` };
      case 'reconnecting':
        return { live: false, text: `Live updates paused — reconnecting. Refreshing every ${REFRESH_MS / 1000} s meanwhile.` };
      case 'closed':
        return { live: false, text: `Live updates stopped. Refreshing every ${REFRESH_MS / 1000} s.` };
    }
  }

  /** (Re)arms the REST timer for the link's state. */
  private schedule(): void {
    const ms = this.isLive ? LIVE_REFRESH_MS : REFRESH_MS;
    if (this.stopTimer && this.timerMs === ms) return;
    this.stopTimer?.();
    this.timerMs = ms;
    this.stopTimer = this.ticker.every(ms, () => void this.poll());
  }

  onFeedState(state: LinkState): void {
    if (!this.link) return; // stopped
    const was = this.feed;
    this.feed = state;
    this.schedule();
    // Lost the socket: poll at once rather than show a list that stopped.
    if (was === 'live' && state !== 'live') void this.poll();
  }

  /** Feed every raw /admin-ws frame; only snapshots and consumer events do anything. */
  onFrame(data: string): void {
    // A (re)connected or resynced session may have missed events: reload.
    if (isSnapshotFrame(data)) {
      void this.poll();
      return;
    }
    const evs = consumerEventsIn(data);
    if (evs.length === 0) return;
    const at = this.now();
    let keysChanged = false;
    for (const ev of evs) {
      if (ev.event === 'consumers') {
        const { at: _, ...snap } = ev.data;
        this.apply(snap, at);
        continue;
      }
      keysChanged = true;
      const c = ev.data.consumer;
      if (ev.event === 'consumer_connected') {
        this.consumers = upsertConsumer(this.consumers, c);
        continue;
      }
      this.consumers = this.consumers.filter((x) => x.id !== c.id);
      this.departures = [departureOf(ev.data, at), ...this.departures.filter((d) => d.id !== c.id)].slice(0, MAX_DEPARTURES);
    }
    // The keys' "connected" counts moved.
    if (keysChanged) void this.refreshKeys();
  }

  async poll(): Promise<void> {
    // A slow answer must not pile up requests behind it.
    if (this.polling) return;
    this.polling = true;
    const r = await this.api.consumers();
    this.polling = false;
    if (!r.ok) {
      this.loadError = r.message;
      return;
    }
    this.apply(r.data, this.now());
    this.loadError = '';
  }

  /** Shows a relay document (a poll's answer or a consumers event) received at `at`. */
  private apply(doc: RelaySnapshot, at: number): void {
    const list = sortConsumers(doc.consumers ?? []);
    const rates = new Map<number, number | null>();
    // Rates between arrivals: a poll and an event share the page's clock.
    for (const c of list) rates.set(c.id, sentRate(this.prev, c, at));
    this.prev = sampleOf(list, at);
    this.snapshot = doc;
    this.consumers = list;
    this.rates = rates;
    this.polledAt = at;
  }

  async disconnect(c: RelayConsumer): Promise<void> {
    if (this.disconnecting !== null) return;
    if (!(await this.confirmer.ask(disconnectQuestion(c)))) return;
    this.disconnecting = c.id;
    this.consumerNotice = null;
    const r = await this.api.disconnectConsumer(c.id);
    this.disconnecting = null;
    const who = c.name || `connection ${c.id}`;
    this.consumerNotice = r.ok ? { ok: true, message: `Disconnected ${who} (${c.remote}).` } : { ok: false, message: r.message };
    await this.poll();
  }

  /** loadKeys, at most one at a time: events arriving meanwhile ask for one more after it. */
  async refreshKeys(): Promise<void> {
    if (this.keysLoading) {
      this.keysAgain = true;
      return;
    }
    this.keysLoading = true;
    do {
      this.keysAgain = false;
      await this.loadKeys();
    } while (this.keysAgain && this.link);
    this.keysLoading = false;
  }

  async loadKeys(): Promise<void> {
    const r = await this.api.listConsumerKeys();
    if (r.ok) {
      this.keys = r.data.keys ?? [];
      this.keysLoaded = true;
      this.keysError = '';
    } else {
      this.keysError = r.message;
    }
  }

  async create(): Promise<boolean> {
    if (this.creating) return false;
    const b = buildKeyBody(this.form);
    if (!b.ok) {
      this.formError = { field: b.field, message: b.message };
      return false;
    }
    this.formError = null;
    this.keyNotice = null;
    this.creating = true;
    const r = await this.api.createConsumerKey(b.body);
    this.creating = false;
    if (!r.ok) {
      this.formError = { field: fieldOfKeyError(r.error), message: r.message };
      return false;
    }
    this.shown.show(r.data);
    this.form = { name: '', allow: '', maxConns: '' };
    await this.loadKeys();
    return true;
  }

  async revoke(k: ConsumerKey): Promise<void> {
    if (this.revoking !== null) return;
    if (!(await this.confirmer.ask(revokeKeyQuestion(k)))) return;
    this.revoking = k.id;
    this.keyNotice = null;
    const r = await this.api.revokeConsumerKey(k.id);
    this.revoking = null;
    if (!r.ok) {
      this.keyNotice = { ok: false, message: r.message };
      return;
    }
    const closed = r.data.disconnected > 0 ? ` ${r.data.disconnected} ${r.data.disconnected === 1 ? 'connection' : 'connections'} closed.` : '';
    this.keyNotice = { ok: true, message: `Revoked ${k.prefix}… (${k.name}).${closed}` };
    await Promise.all([this.loadKeys(), this.poll()]);
  }
}
