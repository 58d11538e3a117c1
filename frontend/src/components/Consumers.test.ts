// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, type FetchLike } from '../lib/api';
import type { ConsumerKey, RelayConsumer } from '../lib/consumers';
import { REFRESH_MS, type LiveFeedFactory } from '../lib/consumersModel.svelte';
import type { LinkInfo } from '../lib/liveLink';
import Consumers from './Consumers.svelte';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const risk: RelayConsumer = {
  id: 4, name: 'risk monitor', key_prefix: 'twc_Ab3xK9', key_id: 1, remote: '10.0.0.5:51234', since: 1893553445,
  authenticated: true, subscriptions: 12, queue_depth: 3, sent: 1500, dropped: 0, slow: false,
};
const riskKey: ConsumerKey = {
  id: 1, name: 'risk monitor', prefix: 'twc_Ab3xK9', allow_list: ['AAPL', 'MSFT'], max_conns: 2, created_by: 'admin',
  created_at: 1893456000, last_used_at: 1893553445, state: 'active', connected: 1,
};

/** A relay with one consumer and one key, recording the calls. */
function server() {
  const calls: string[] = [];
  let consumers = [risk];
  /** Events the relay writes to each consumer between two polls. */
  const step = 200;
  let keys = [riskKey];
  const fetchImpl: FetchLike = async (url, init) => {
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url}${init?.body ? ' ' + String(init.body) : ''}`);
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
    if (url === '/api/admin/consumers' && method === 'GET') {
      consumers = consumers.map((c) => ({ ...c, sent: c.sent + step }));
      return json({ consumers, connections_total: 9, slow_disconnects: 0, auth_failures: 1, max_conn_refusals: 0, events_in: 10, events_out: 20 });
    }
    if (url === '/api/admin/consumer-keys' && method === 'GET') return json({ keys });
    if (url === '/api/admin/consumer-keys' && method === 'POST') {
      const made = { ...riskKey, id: 2, name: 'backtest', prefix: 'twc_Zz9yX8', allow_list: [], max_conns: 0, connected: 0, last_used_at: undefined };
      keys = [made, ...keys];
      return json({ ...made, key: 'twc_Zz9yX8THE-SECRET' }, 201);
    }
    if (url.startsWith('/api/admin/consumers/') && method === 'DELETE') {
      consumers = consumers.filter((c) => !url.endsWith(`/${c.id}`));
      return json({ ok: true, id: 4 });
    }
    return json({ error: 'unexpected', detail: `${method} ${url}` }, 500);
  };
  return { calls, fetchImpl };
}

function mount(fetchImpl: FetchLike, clipboard = { writeText: vi.fn(async (_: string) => {}) }, live: LiveFeedFactory | null = null) {
  render(Consumers, { props: { api: new Api({}, fetchImpl), user: { username: 'admin', role: 'admin' }, onLogout: () => {}, clipboard, live } });
  return clipboard;
}

const polls = (calls: string[]) => calls.filter((c) => c === 'GET /api/admin/consumers').length;

describe('Consumers', () => {
  it('lists connected consumers and the keys, by prefix only', async () => {
    const s = server();
    mount(s.fetchImpl);
    await vi.waitFor(() => expect(screen.getByText('10.0.0.5:51234')).toBeTruthy());
    expect(screen.getAllByText('twc_Ab3xK9…')).toHaveLength(2); // the consumer's key and the key's row
    expect(screen.getByText('AAPL, MSFT')).toBeTruthy();
    expect(screen.getByText('1,700')).toBeTruthy();
    expect(document.body.textContent).toContain('9 connections since start');
  });

  it('disconnects after the confirmation', async () => {
    const s = server();
    mount(s.fetchImpl);
    await vi.waitFor(() => screen.getByText('10.0.0.5:51234'));
    await fireEvent.click(screen.getByRole('button', { name: 'Disconnect' }));
    const dialog = document.querySelector('dialog')!;
    expect(dialog.textContent).toContain('Disconnect “risk monitor”?');
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Disconnect' }));
    await vi.waitFor(() => expect(screen.getByText('No consumer is connected.')).toBeTruthy());
    expect(s.calls).toContain('DELETE /api/admin/consumers/4');
  });

  it('shows a new key once, with Copy and the warning', async () => {
    const s = server();
    const clip = mount(s.fetchImpl);
    await vi.waitFor(() => screen.getByText('AAPL, MSFT'));
    await fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'backtest' } });
    await fireEvent.submit(document.querySelector('form')!);
    await vi.waitFor(() => expect(screen.getByTestId('new-key').textContent).toBe('twc_Zz9yX8THE-SECRET'));
    expect(s.calls).toContain('POST /api/admin/consumer-keys {"name":"backtest"}');
    expect(document.body.textContent).toContain('you will not see it again');
    await fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    await vi.waitFor(() => expect(clip.writeText).toHaveBeenCalledWith('twc_Zz9yX8THE-SECRET'));
    await fireEvent.click(screen.getByRole('button', { name: 'I have copied it' }));
    expect(screen.queryByTestId('new-key')).toBeNull();
    expect(document.body.textContent).not.toContain('THE-SECRET');
  });

  it('refreshes every REFRESH_MS and stops when the page is left', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const s = server();
    mount(s.fetchImpl);
    await vi.waitFor(() => screen.getByText('10.0.0.5:51234')); // the first poll answered
    expect(polls(s.calls)).toBe(1);
    vi.advanceTimersByTime(REFRESH_MS);
    await vi.waitFor(() => expect(screen.getByText('1,900')).toBeTruthy()); // the second poll answered
    expect(polls(s.calls)).toBe(2);
    cleanup();
    vi.advanceTimersByTime(REFRESH_MS * 3);
    await new Promise((r) => setTimeout(r, 0));
    expect(polls(s.calls)).toBe(2);
  });

  it('follows the live events and says when they pause', async () => {
    const s = server();
    let h: { onMessage: (d: string) => void; onState: (i: LinkInfo) => void } | null = null;
    let stopped = false;
    const live: LiveFeedFactory = (o) => {
      h = o;
      return { start: () => {}, stop: () => void (stopped = true) };
    };
    mount(s.fetchImpl, undefined, live);
    await vi.waitFor(() => screen.getByText('10.0.0.5:51234'));
    const state = (st: LinkInfo['state']) => h!.onState({ state: st, attempt: 0, retryAt: null, lastMessageAt: null, lastCloseCode: null });
    const feed = () => screen.getByTestId('consumers-feed').textContent;
    state('live');
    await vi.waitFor(() => expect(feed()).toBe('Live.'));

    const nb = { ...risk, id: 8, name: 'notebook', remote: '10.0.0.9:40000', since: risk.since + 5 };
    h!.onMessage(JSON.stringify([{ event: 'consumer_connected', data: { at: 1893553450, consumer: nb } }]));
    await vi.waitFor(() => screen.getByText('10.0.0.9:40000'));
    h!.onMessage(JSON.stringify([{ event: 'consumer_disconnected', data: { at: 1893553460, reason: 'slow_consumer', consumer: nb } }]));
    await vi.waitFor(() => expect(screen.queryByRole('cell', { name: '10.0.0.9:40000' })).toBeNull());
    expect(screen.getByText('cut off as a slow consumer')).toBeTruthy();

    state('reconnecting');
    await vi.waitFor(() => expect(feed()).toBe('Live updates paused — reconnecting. Refreshing every 2 s meanwhile.'));
    cleanup();
    expect(stopped).toBe(true);
  });
});
