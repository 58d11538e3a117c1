// State of the Consumers page: the connected consumers, refreshed every
// few seconds while the page is open, disconnecting one behind a
// confirmation, and the consumer keys (create, shown once, revoke).
// Dependencies (API, confirmation, clipboard, clock, timer) are injected so
// tests drive it without a browser or a server.

import type { Confirmer } from './actions.svelte';
import type { Result } from './api';
import {
  buildKeyBody,
  disconnectQuestion,
  fieldOfKeyError,
  revokeKeyQuestion,
  sampleOf,
  sentRate,
  sortConsumers,
  type ConsumerKey,
  type ConsumerKeyList,
  type CreatedConsumerKey,
  type CreateKeyBody,
  type KeyField,
  type KeyForm,
  type RelayConsumer,
  type RelaySnapshot,
  type SentSample,
} from './consumers';
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

export const REFRESH_MS = 2000;

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
  private polling = false;

  constructor(
    private readonly api: ConsumersApi,
    private readonly confirmer: Confirmer,
    clipboard: ClipboardLike | null = null,
    private readonly now: () => number = () => Date.now(),
    private readonly ticker: Ticker = browserTicker,
  ) {
    this.shown = new ShownOnce(clipboard, (k) => k.key);
  }

  /** Loads everything and refreshes the consumers every REFRESH_MS until stop(). */
  start(): void {
    this.stop();
    void this.poll();
    void this.loadKeys();
    this.stopTimer = this.ticker.every(REFRESH_MS, () => void this.poll());
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = null;
  }

  get running(): boolean {
    return this.stopTimer !== null;
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
    const at = this.now();
    const list = sortConsumers(r.data.consumers ?? []);
    const rates = new Map<number, number | null>();
    for (const c of list) rates.set(c.id, sentRate(this.prev, c, at));
    this.prev = sampleOf(list, at);
    this.snapshot = r.data;
    this.consumers = list;
    this.rates = rates;
    this.polledAt = at;
    this.loadError = '';
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
