import { describe, expect, it } from 'vitest';
import { Confirmer } from './actions.svelte';
import type { ApiError, Result } from './api';
import {
  buildKeyBody,
  consumerEventsIn,
  consumerRowView,
  departureOf,
  disconnectQuestion,
  fieldOfKeyError,
  formatStamp,
  parseAllowList,
  reasonText,
  relayLine,
  revokeKeyQuestion,
  sampleOf,
  sentRate,
  sortConsumers,
  upsertConsumer,
  type ConsumerKey,
  type ConsumerKeyList,
  type CreateKeyBody,
  type CreatedConsumerKey,
  type KeyForm,
  type RelayConsumer,
  type RelaySnapshot,
} from './consumers';
import { ConsumersModel, LIVE_REFRESH_MS, MAX_DEPARTURES, REFRESH_MS, type ConsumersApi, type LiveFeedFactory, type Ticker } from './consumersModel.svelte';
import type { LinkInfo, LinkState } from './liveLink';
import type { RelayPair } from './types';

const form = (o: Partial<KeyForm> = {}): KeyForm => ({ name: 'risk monitor', allow: '', maxConns: '', ...o });

describe('buildKeyBody', () => {
  it.each<[string, Partial<KeyForm>, CreateKeyBody]>([
    ['name only: any ticker, no cap', {}, { name: 'risk monitor' }],
    ['trimmed', { name: '  risk  ' }, { name: 'risk' }],
    ['allow-list upper-cased, split on commas and spaces, once each', { allow: 'aapl, MSFT  brk.b,aapl' }, { name: 'risk monitor', allow_list: ['AAPL', 'MSFT', 'BRK.B'] }],
    ['max connections', { maxConns: 2 }, { name: 'risk monitor', max_conns: 2 }],
    ['max connections as typed text', { maxConns: ' 3 ' }, { name: 'risk monitor', max_conns: 3 }],
    ['0 means no cap and is left out', { maxConns: 0 }, { name: 'risk monitor' }],
    ['empty number input', { maxConns: null }, { name: 'risk monitor' }],
  ])('%s', (_, f, body) => expect(buildKeyBody(form(f))).toEqual({ ok: true, body }));

  it.each<[string, Partial<KeyForm>, string, RegExp]>([
    ['no name', { name: ' ' }, 'name', /Name the key/],
    ['long name', { name: 'n'.repeat(129) }, 'name', /128/],
    ['control character', { name: 'a\u0007b' }, 'name', /control/],
    ['bad ticker', { allow: 'AAPL, A$B' }, 'allow', /"A\$B" is not a ticker/],
    ['too long ticker', { allow: 'ABCDEFGHIJK' }, 'allow', /not a ticker/],
    ['negative', { maxConns: -1 }, 'maxConns', /0 \(no cap\) to 10000/],
    ['fraction', { maxConns: 1.5 }, 'maxConns', /whole number/],
    ['too many', { maxConns: 10001 }, 'maxConns', /10000/],
    ['not a number', { maxConns: 'two' }, 'maxConns', /whole number/],
  ])('refuses %s', (_, f, field, msg) => {
    const r = buildKeyBody(form(f));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe(field);
      expect(r.message).toMatch(msg);
    }
  });

  it('parses an empty allow-list as none', () => expect(parseAllowList(' , ;\n')).toEqual([]));

  it('maps server 400s to the form field', () => {
    expect(fieldOfKeyError('invalid name')).toBe('name');
    expect(fieldOfKeyError('invalid allow_list')).toBe('allow');
    expect(fieldOfKeyError('invalid max_conns')).toBe('maxConns');
    expect(fieldOfKeyError('consumer key store unavailable')).toBeNull();
  });
});

const T0 = 1894708800 * 1000;

const consumer = (o: Partial<RelayConsumer> = {}): RelayConsumer => ({
  id: 1,
  name: 'risk monitor',
  key_prefix: 'twc_abcd1234',
  key_id: 7,
  remote: '10.0.0.5:51234',
  since: 1894708620,
  authenticated: true,
  subscriptions: 12,
  queue_depth: 0,
  sent: 1000,
  dropped: 0,
  slow: false,
  ...o,
});

describe('consumer rows', () => {
  it('reads a healthy consumer', () => {
    expect(consumerRowView(consumer(), 12.5, T0)).toEqual({
      id: 1,
      name: 'risk monitor',
      key: 'twc_abcd1234…',
      remote: '10.0.0.5:51234',
      since: '3m',
      sinceTitle: '2030-01-15T11:57:00.000Z',
      subscriptions: '12',
      rate: '12.5',
      sent: '1,000',
      queue: '0',
      drops: '0',
      tone: 'ok',
      state: 'OK',
    });
  });

  it.each<[string, Partial<RelayConsumer>, string, string]>([
    ['slow', { slow: true, queue_depth: 500 }, 'bad', 'Slow: cutting off'],
    ['dropped before', { dropped: 3 }, 'warn', 'Dropped events'],
    ['a backlog', { queue_depth: 4 }, 'warn', 'OK'],
    ['not signed in yet', { authenticated: false, name: '', key_prefix: '', key_id: 0 }, 'off', 'Authenticating'],
  ])('marks %s', (_, o, tone, state) => {
    const v = consumerRowView(consumer(o), null, T0);
    expect(v.tone).toBe(tone);
    expect(v.state).toBe(state);
  });

  it('shows unknowns as dashes', () => {
    const v = consumerRowView(consumer({ authenticated: false, name: '', key_prefix: '', since: 0, remote: '' }), null, T0);
    expect([v.name, v.key, v.remote, v.since, v.rate]).toEqual(['(not signed in)', '—', '—', '—', '—']);
  });

  it('computes msgs/s out between two polls, unknown for new or reset counters', () => {
    const prev = sampleOf([consumer({ id: 1, sent: 1000 }), consumer({ id: 2, sent: 50 })], T0);
    expect(sentRate(prev, consumer({ id: 1, sent: 1200 }), T0 + 2000)).toBe(100);
    expect(sentRate(prev, consumer({ id: 3, sent: 10 }), T0 + 2000)).toBeNull();
    expect(sentRate(prev, consumer({ id: 2, sent: 10 }), T0 + 2000)).toBeNull();
    expect(sentRate(prev, consumer({ id: 1, sent: 1200 }), T0)).toBeNull();
    expect(sentRate(null, consumer(), T0)).toBeNull();
  });

  it('lists the oldest connection first', () => {
    const list = [consumer({ id: 3, since: 1894708740 }), consumer({ id: 2, since: 1894708200 }), consumer({ id: 1, since: 1894708740 })];
    expect(sortConsumers(list).map((c) => c.id)).toEqual([2, 1, 3]);
  });

  it('asks before disconnecting, naming the consumer and where it is', () => {
    const q = disconnectQuestion(consumer());
    expect(q.title).toBe('Disconnect “risk monitor”?');
    expect(q.body).toContain('10.0.0.5:51234');
    expect(q.body).toContain('revoke the key');
    expect(q.danger).toBe(true);
    expect(disconnectQuestion(consumer({ authenticated: false, name: '', id: 9 })).title).toBe('Disconnect connection 9?');
  });
});

const key = (o: Partial<ConsumerKey> = {}): ConsumerKey => ({
  id: 7,
  name: 'risk monitor',
  prefix: 'twc_abcd1234',
  allow_list: [],
  max_conns: 0,
  created_by: 'admin',
  created_at: 1894705200,
  state: 'active',
  connected: 0,
  ...o,
});

describe('consumer keys', () => {
  it('formats wire times (Unix seconds) like the tokens page, 0 or missing as absent', () => {
    expect(formatStamp(1896098709)).toBe('2030-01-31 14:05 UTC');
    expect(formatStamp(1896098709.5)).toBe('2030-01-31 14:05 UTC');
    expect(formatStamp(undefined, 'never')).toBe('never');
    expect(formatStamp(0)).toBe('—');
    expect(formatStamp(Number.NaN)).toBe('—');
  });

  it('says how many open connections a revoke closes', () => {
    expect(revokeKeyQuestion(key()).body).not.toContain('closed');
    expect(revokeKeyQuestion(key({ connected: 1 })).body).toContain('Its open connection is closed at once.');
    expect(revokeKeyQuestion(key({ connected: 3 })).body).toContain('Its 3 open connections are closed at once.');
    expect(revokeKeyQuestion(key()).confirmLabel).toBe('Revoke key');
  });
});

describe('relayLine', () => {
  const pair = (ticker: string, configured = false, consumers = 1): RelayPair => ({ channel: 'T', ticker, consumers, configured });

  it('says nothing when every pair is configured or there are none', () => {
    expect(relayLine(undefined)).toBeNull();
    expect(relayLine([])).toBeNull();
    expect(relayLine([pair('AAPL', true, 2)])).toBeNull();
  });

  it('names the pairs carried only for consumers', () => {
    expect(relayLine([pair('AAPL', true), pair('XOM', false, 2)])).toEqual({ text: '1 ticker for consumers (T.XOM)', title: 'T.XOM: 2 consumers' });
    const many = relayLine([pair('A'), pair('B'), pair('C'), { channel: 'Q', ticker: 'D', consumers: 1, configured: false }]);
    expect(many?.text).toBe('4 tickers for consumers (T.A, T.B, T.C …)');
    expect(many?.title.split('\n')).toEqual(['T.A: 1 consumer', 'T.B: 1 consumer', 'T.C: 1 consumer', 'Q.D: 1 consumer']);
  });
});

const fail = (status: number, error: string, message: string): ApiError => ({ ok: false, kind: status === 404 ? 'not_found' : 'bad_request', status, message, error, detail: message, retryAfter: null });

/** An in-memory relay behind the ConsumersApi, recording what it was asked. */
class FakeRelay implements ConsumersApi {
  list: RelayConsumer[] = [];
  keys: ConsumerKey[] = [];
  polls = 0;
  keyLoads = 0;
  disconnected: number[] = [];
  created: CreateKeyBody[] = [];
  revoked: number[] = [];
  nextCreate: Result<CreatedConsumerKey> | null = null;
  failPoll: ApiError | null = null;
  async consumers(): Promise<Result<RelaySnapshot>> {
    this.polls++;
    if (this.failPoll) return this.failPoll;
    return { ok: true, status: 200, data: { consumers: this.list.map((c) => ({ ...c })), connections_total: 4, slow_disconnects: 1, auth_failures: 0, max_conn_refusals: 0, events_in: 10, events_out: 20 } };
  }
  async disconnectConsumer(id: number): Promise<Result<{ ok: boolean; id: number }>> {
    if (!this.list.some((c) => c.id === id)) return fail(404, 'unknown consumer', `no consumer connection with id ${id}`);
    this.disconnected.push(id);
    this.list = this.list.filter((c) => c.id !== id);
    return { ok: true, status: 200, data: { ok: true, id } };
  }
  async listConsumerKeys(): Promise<Result<ConsumerKeyList>> {
    this.keyLoads++;
    return { ok: true, status: 200, data: { keys: this.keys.map((k) => ({ ...k })) } };
  }
  async createConsumerKey(body: CreateKeyBody): Promise<Result<CreatedConsumerKey>> {
    this.created.push(body);
    if (this.nextCreate) return this.nextCreate;
    const k = key({ id: this.keys.length + 1, name: body.name, allow_list: body.allow_list ?? [], max_conns: body.max_conns ?? 0 });
    this.keys.unshift(k);
    return { ok: true, status: 201, data: { ...k, key: 'twc_abcd1234secret' } };
  }
  async revokeConsumerKey(id: number): Promise<Result<{ ok: boolean; id: number; disconnected: number }>> {
    this.revoked.push(id);
    const n = this.list.filter((c) => c.key_id === id).length;
    this.list = this.list.filter((c) => c.key_id !== id);
    this.keys = this.keys.map((k) => (k.id === id ? { ...k, state: 'revoked', revoked_at: 1894708800 } : k));
    return { ok: true, status: 200, data: { ok: true, id, disconnected: n } };
  }
}

/** A timer the test fires by hand: no waiting on the wall clock. */
class ManualTicker implements Ticker {
  fns: { ms: number; fn: () => void }[] = [];
  every(ms: number, fn: () => void): () => void {
    const e = { ms, fn };
    this.fns.push(e);
    return () => {
      this.fns = this.fns.filter((x) => x !== e);
    };
  }
  fire(): void {
    for (const e of this.fns) e.fn();
  }
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('ConsumersModel', () => {
  function setup(clip: { writeText(t: string): Promise<void> } | null = null) {
    const api = new FakeRelay();
    const confirmer = new Confirmer();
    const ticker = new ManualTicker();
    let now = T0;
    const m = new ConsumersModel(api, confirmer, clip, () => now, ticker);
    return { api, confirmer, ticker, m, advance: (ms: number) => (now += ms) };
  }

  it('polls every REFRESH_MS while started, with msgs/s from the poll before, and stops', async () => {
    const { api, ticker, m, advance } = setup();
    api.list = [consumer({ id: 1, sent: 100 })];
    m.start();
    await settle();
    expect(m.running).toBe(true);
    expect(ticker.fns.map((f) => f.ms)).toEqual([REFRESH_MS]);
    expect(m.consumers.map((c) => c.id)).toEqual([1]);
    expect(m.rates.get(1)).toBeNull();
    expect(m.keysLoaded).toBe(true);

    api.list = [consumer({ id: 1, sent: 300 }), consumer({ id: 2, sent: 5, since: 1894708799 })];
    advance(2000);
    ticker.fire();
    await settle();
    expect(m.rates.get(1)).toBe(100);
    expect(m.rates.get(2)).toBeNull();
    expect(m.snapshot?.connections_total).toBe(4);

    m.stop();
    expect(m.running).toBe(false);
    expect(ticker.fns).toHaveLength(0);
    const polls = api.polls;
    ticker.fire();
    await settle();
    expect(api.polls).toBe(polls);
  });

  it('keeps the last list and shows the error when a poll fails, clearing it on the next good one', async () => {
    const { api, m } = setup();
    api.list = [consumer()];
    await m.poll();
    api.failPoll = fail(503, 'relay unavailable', 'relay unavailable');
    await m.poll();
    expect(m.loadError).toBe('relay unavailable');
    expect(m.consumers).toHaveLength(1);
    api.failPoll = null;
    await m.poll();
    expect(m.loadError).toBe('');
  });

  it('disconnects only after a yes, then refreshes', async () => {
    const { api, confirmer, m } = setup();
    api.list = [consumer({ id: 1 }), consumer({ id: 2, name: 'backtest' })];
    await m.poll();

    const no = m.disconnect(m.consumers[1]!);
    expect(confirmer.request?.confirmLabel).toBe('Disconnect');
    confirmer.answer(false);
    await no;
    expect(api.disconnected).toEqual([]);

    const yes = m.disconnect(m.consumers[1]!);
    confirmer.answer(true);
    await yes;
    expect(api.disconnected).toEqual([2]);
    expect(m.consumerNotice).toEqual({ ok: true, message: 'Disconnected backtest (10.0.0.5:51234).' });
    expect(m.consumers.map((c) => c.id)).toEqual([1]);

    const gone = m.disconnect(consumer({ id: 9 }));
    confirmer.answer(true);
    await gone;
    expect(m.consumerNotice).toEqual({ ok: false, message: 'no consumer connection with id 9' });
  });

  it('creates a key, shows it once, and forgets it on dismiss', async () => {
    const copied: string[] = [];
    const { api, m } = setup({ writeText: async (t) => void copied.push(t) });
    m.form = { name: 'risk', allow: 'aapl msft', maxConns: 2 };
    expect(await m.create()).toBe(true);
    expect(api.created).toEqual([{ name: 'risk', allow_list: ['AAPL', 'MSFT'], max_conns: 2 }]);
    expect(m.shown.value?.key).toBe('twc_abcd1234secret');
    expect(m.keys).toHaveLength(1);
    expect(m.form).toEqual({ name: '', allow: '', maxConns: '' });
    await m.shown.copySecret();
    expect(copied).toEqual(['twc_abcd1234secret']);
    expect(m.shown.copy).toBe('copied');
    m.shown.dismiss();
    expect(m.shown.value).toBeNull();
    expect(JSON.stringify(m.keys)).not.toContain('secret');
  });

  it('says which field is wrong, before sending or from the server, and reports a refused copy', async () => {
    const { api, m } = setup({ writeText: () => Promise.reject(new Error('denied')) });
    m.form = { name: 'risk', allow: 'A$B', maxConns: '' };
    expect(await m.create()).toBe(false);
    expect(m.formError?.field).toBe('allow');
    expect(api.created).toHaveLength(0);

    m.form.allow = 'ZZZZ';
    api.nextCreate = fail(400, 'invalid allow_list', 'allow_list: "ZZZZ": not a ticker');
    expect(await m.create()).toBe(false);
    expect(m.formError).toEqual({ field: 'allow', message: 'allow_list: "ZZZZ": not a ticker' });
    expect(m.shown.value).toBeNull();

    api.nextCreate = null;
    expect(await m.create()).toBe(true);
    await m.shown.copySecret();
    expect(m.shown.copy).toBe('failed');
  });

  it('revokes a key only after a yes and reports the connections it closed', async () => {
    const { api, confirmer, m } = setup();
    api.keys = [key({ id: 7, connected: 2 })];
    api.list = [consumer({ id: 1, key_id: 7 }), consumer({ id: 2, key_id: 7 }), consumer({ id: 3, key_id: 8 })];
    await Promise.all([m.loadKeys(), m.poll()]);

    const no = m.revoke(m.keys[0]!);
    expect(confirmer.request?.body).toContain('Its 2 open connections are closed at once.');
    confirmer.answer(false);
    await no;
    expect(api.revoked).toEqual([]);

    const yes = m.revoke(m.keys[0]!);
    confirmer.answer(true);
    await yes;
    expect(api.revoked).toEqual([7]);
    expect(m.keyNotice).toEqual({ ok: true, message: 'Revoked twc_abcd1234… (risk monitor). 2 connections closed.' });
    expect(m.keys[0]!.state).toBe('revoked');
    expect(m.consumers.map((c) => c.id)).toEqual([3]);
  });
});

// The page live: the /admin-ws consumer events, and the model following
// them, falling back to polling while the socket is down.
const frame = (...evs: { event: string; data: unknown }[]) => JSON.stringify(evs);
const connected = (c: RelayConsumer, at = T0 / 1000) => ({ event: 'consumer_connected', data: { at, consumer: c } });
const disconnected = (c: RelayConsumer, reason: string, at = T0 / 1000) => ({ event: 'consumer_disconnected', data: { at, reason, consumer: c } });
const stats = (list: RelayConsumer[], at = T0 / 1000) => ({
  event: 'consumers',
  data: { at, consumers: list, connections_total: 9, slow_disconnects: 1, auth_failures: 2, max_conn_refusals: 0, events_in: 10, events_out: 20 },
});

describe('consumerEventsIn', () => {
  it('skips tick frames without parsing them, and anything malformed', () => {
    expect(consumerEventsIn('[{"event":"tick_update","data":{"symbol":"AAPL"}}]')).toEqual([]);
    expect(consumerEventsIn('[{"event":"consumer_connected", not json')).toEqual([]);
    expect(consumerEventsIn('{"event":"consumer_connected"}')).toEqual([]);
    expect(consumerEventsIn(frame({ event: 'consumer_connected', data: { at: 1 } }, { event: 'consumers', data: { consumers: [{ id: 'x' }] } }))).toEqual([]);
  });

  it('returns the consumer events of a frame in order, next to other events', () => {
    const c = consumer();
    const evs = consumerEventsIn(frame({ event: 'metrics_update', data: {} }, connected(c), stats([c]), disconnected(c, 'left')));
    expect(evs.map((e) => e.event)).toEqual(['consumer_connected', 'consumers', 'consumer_disconnected']);
    expect(evs[2]!.data).toEqual({ at: T0 / 1000, reason: 'left', consumer: c });
  });
});

describe('departures', () => {
  it.each([
    ['left', 'left', 'warn'],
    ['slow_consumer', 'cut off as a slow consumer', 'bad'],
    ['admin', 'disconnected by an admin', 'ok'],
    ['revoked', 'its key was revoked', 'ok'],
    ['shutdown', 'Tickwatch shut down', 'warn'],
    ['novel', 'disconnected (novel)', 'ok'],
  ])('%s reads "%s"', (reason, text, tone) => {
    const d = departureOf({ at: T0 / 1000 + 1.5, reason, consumer: consumer({ id: 3 }) }, 0);
    expect(d).toEqual({ id: 3, name: 'risk monitor', remote: '10.0.0.5:51234', reason: text, tone, atMs: T0 + 1500 });
  });

  it('names a nameless connection by id and has a word for no reason', () => {
    expect(reasonText(undefined)).toBe('disconnected');
    expect(departureOf({ at: 0, consumer: consumer({ id: 9, name: '' }) }, 42)).toMatchObject({ name: 'connection 9', atMs: 42 });
  });

  it('upserts a consumer, oldest connection first', () => {
    const a = consumer({ id: 1, since: 100 });
    const b = consumer({ id: 2, since: 50 });
    expect(upsertConsumer([a], b).map((c) => c.id)).toEqual([2, 1]);
    expect(upsertConsumer([a, b], { ...a, sent: 5 }).find((c) => c.id === 1)?.sent).toBe(5);
  });
});

/** The socket as the model sees it: the test says what it does. */
class FakeFeed {
  started = 0;
  stopped = 0;
  handlers: { onMessage: (d: string) => void; onState: (i: LinkInfo) => void } | null = null;
  factory: LiveFeedFactory = (o) => {
    this.handlers = o;
    return { start: () => void this.started++, stop: () => void this.stopped++ };
  };
  state(state: LinkState): void {
    this.handlers!.onState({ state, attempt: 0, retryAt: null, lastMessageAt: null, lastCloseCode: null });
  }
  send(data: string): void {
    this.handlers!.onMessage(data);
  }
}

describe('ConsumersModel live', () => {
  function setup() {
    const api = new FakeRelay();
    const ticker = new ManualTicker();
    const feed = new FakeFeed();
    let now = T0;
    const m = new ConsumersModel(api, new Confirmer(), null, () => now, ticker, feed.factory);
    return { api, ticker, feed, m, advance: (ms: number) => (now += ms) };
  }

  it('loads over REST on open, polls until the socket is live, then follows the events', async () => {
    const { api, ticker, feed, m, advance } = setup();
    api.list = [consumer({ id: 1, sent: 100 })];
    m.start();
    await settle();
    expect(feed.started).toBe(1);
    expect(api.polls).toBe(1);
    expect(m.feed).toBe('connecting');
    expect(m.freshness).toEqual({ live: false, text: 'Connecting live updates… refreshing every 2 s meanwhile.' });
    expect(ticker.fns.map((f) => f.ms)).toEqual([REFRESH_MS]);

    feed.state('live');
    expect(m.freshness).toEqual({ live: true, text: 'Live.' });
    expect(ticker.fns.map((f) => f.ms)).toEqual([LIVE_REFRESH_MS]);
    feed.send('[{"event":"snapshot","data":{"status":{},"ticks":[]}}]');
    await settle();
    expect(api.polls).toBe(2); // every snapshot reloads: events may have been missed

    // A consumer connects: its row appears at once, and the keys' counts are reloaded.
    const loads = api.keyLoads;
    const b = consumer({ id: 2, name: 'backtest', sent: 0, since: T0 / 1000 });
    feed.send(frame(connected(b)));
    expect(m.consumers.map((c) => c.id)).toEqual([1, 2]);
    expect(m.rates.get(2) ?? null).toBeNull();
    await settle();
    expect(api.keyLoads).toBe(loads + 1);

    // The per-second document: figures and msgs/s out from the one before.
    advance(1000);
    feed.send(frame(stats([consumer({ id: 1, sent: 150 }), { ...b, sent: 40, queue_depth: 3 }])));
    advance(1000);
    feed.send(frame(stats([consumer({ id: 1, sent: 250 }), { ...b, sent: 100, queue_depth: 3 }])));
    expect(m.rates.get(1)).toBe(100);
    expect(m.rates.get(2)).toBe(60);
    expect(m.consumers[1]!.queue_depth).toBe(3);
    expect(m.snapshot?.connections_total).toBe(9);
    expect(m.snapshot).not.toHaveProperty('at');

    // It is cut off: the row goes, and the page says why.
    feed.send(frame(disconnected({ ...b, sent: 100, dropped: 12 }, 'slow_consumer', T0 / 1000 + 2)));
    expect(m.consumers.map((c) => c.id)).toEqual([1]);
    expect(m.departures).toEqual([{ id: 2, name: 'backtest', remote: '10.0.0.5:51234', reason: 'cut off as a slow consumer', tone: 'bad', atMs: T0 + 2000 }]);
    expect(api.polls).toBe(2); // no REST while live

    m.stop();
    expect(feed.stopped).toBe(1);
    expect(ticker.fns).toHaveLength(0);
    expect(m.feed).toBe('off');
  });

  it('says so when the socket drops, polls every REFRESH_MS meanwhile, and goes back to live', async () => {
    const { api, ticker, feed, m } = setup();
    m.start();
    feed.state('live');
    await settle();
    const polls = api.polls;

    feed.state('reconnecting');
    expect(m.freshness).toEqual({ live: false, text: 'Live updates paused — reconnecting. Refreshing every 2 s meanwhile.' });
    await settle();
    expect(api.polls).toBe(polls + 1); // at once, not a stale list
    expect(ticker.fns.map((f) => f.ms)).toEqual([REFRESH_MS]);
    api.list = [consumer({ id: 5 })];
    ticker.fire();
    await settle();
    expect(api.polls).toBe(polls + 2);
    expect(m.consumers.map((c) => c.id)).toEqual([5]);

    feed.state('closed');
    expect(m.freshness.text).toBe('Live updates stopped. Refreshing every 2 s.');
    feed.state('live');
    expect(ticker.fns.map((f) => f.ms)).toEqual([LIVE_REFRESH_MS]);
  });

  it('keeps the last MAX_DEPARTURES departures, newest first, and ignores events after stop', async () => {
    const { feed, m } = setup();
    m.start();
    feed.state('live');
    for (let i = 1; i <= MAX_DEPARTURES + 2; i++) {
      feed.send(frame(connected(consumer({ id: i }))));
      feed.send(frame(disconnected(consumer({ id: i }), 'left')));
    }
    expect(m.departures.map((d) => d.id)).toEqual([7, 6, 5, 4, 3]);
    expect(m.consumers).toEqual([]);
    m.stop();
    feed.state('reconnecting'); // a late callback from a stopped link
    expect(m.feed).toBe('off');
  });

  it('without a live link, polls as before and says so', async () => {
    const api = new FakeRelay();
    const ticker = new ManualTicker();
    const m = new ConsumersModel(api, new Confirmer(), null, () => T0, ticker);
    m.start();
    await settle();
    expect(m.feed).toBe('off');
    expect(m.freshness).toEqual({ live: false, text: 'Refreshed every 2 s.' });
    expect(ticker.fns.map((f) => f.ms)).toEqual([REFRESH_MS]);
  });
});
