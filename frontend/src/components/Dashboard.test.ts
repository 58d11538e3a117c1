// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Api, type FetchLike } from '../lib/api';
import { PendingBatch } from '../lib/coalesce';
import { connDoc, demoSnapshot, sinkDoc, snapshotOf } from '../lib/fixtures';
import { DashboardModel } from '../lib/model.svelte';
import type { Me, ServerEvent } from '../lib/types';
import Dashboard from './Dashboard.svelte';

afterEach(() => cleanup());

// jsdom lays nothing out: give every ticker board's scroll box the height of
// 20 rows (480 px), so the windowed board has a viewport to fill.
const clientHeight = Object.getOwnPropertyDescriptor(Element.prototype, 'clientHeight')!;
beforeAll(() => {
  Object.defineProperty(Element.prototype, 'clientHeight', {
    configurable: true,
    get(this: Element) {
      return this.classList.contains('scroll') ? 480 : clientHeight.get!.call(this);
    },
  });
});
afterAll(() => Object.defineProperty(Element.prototype, 'clientHeight', clientHeight));

const noFetch: FetchLike = async () => new Response('{}', { status: 200 });

function mount(role: Me['role'], model: DashboardModel, fetchImpl: FetchLike = noFetch) {
  return render(Dashboard, {
    props: { api: new Api({}, fetchImpl), user: { username: role, role }, onLogout: () => {}, model, connect: false },
  });
}

function column(id: number): HTMLElement {
  const el = document.querySelector<HTMLElement>(`section[data-connection="connection_${id}"]`);
  if (!el) throw new Error(`column ${id} missing`);
  return el;
}

const rowOf = (id: number, sym: string) => column(id).querySelector<HTMLElement>(`tr[data-symbol="${sym}"]`)!;

function apply(model: DashboardModel, ...evs: ServerEvent[]) {
  const p = new PendingBatch();
  for (const e of evs) p.add(e);
  model.applyBatch(p.take());
  flushSync();
}

describe('Dashboard', () => {
  it('shows the server version from /healthz in the footer', async () => {
    const seen: string[] = [];
    const fetchImpl: FetchLike = async (url) => {
      seen.push(url);
      return new Response(JSON.stringify({ status: 'ok', version: 'v1.2.3-test', uptime_seconds: 1 }), { status: 200 });
    };
    mount('viewer', new DashboardModel(), fetchImpl);
    expect(await screen.findByText('v1.2.3-test')).toBeTruthy();
    expect(seen).toContain('/healthz');
  });

  it('shows no footer when the version is unknown', async () => {
    mount('viewer', new DashboardModel());
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
    expect(document.querySelector('footer.foot')).toBeNull();
  });

  it('shows a loading state until the first snapshot', () => {
    mount('admin', new DashboardModel());
    expect(screen.getByText('Loading connections…')).toBeTruthy();
  });

  it('renders one column per slot, each windowed over every ticker, names and the simulated marker', async () => {
    const model = new DashboardModel();
    model.applySnapshot(demoSnapshot(3, 150));
    mount('admin', model);
    expect(document.querySelectorAll('section[data-connection]')).toHaveLength(3);
    for (const id of [1, 2, 3]) {
      // 20 visible rows plus an overscan of 4: the DOM does not grow with the ticker count.
      const rows = [...column(id).querySelectorAll<HTMLElement>('tbody tr[data-symbol]')];
      expect(rows).toHaveLength(24);
      expect(rows.map((r) => r.dataset.symbol)).toEqual(Array.from({ length: 24 }, (_, i) => `T${id}X${String(i).padStart(3, '0')}`));
      expect(rows.map((r) => r.getAttribute('aria-rowindex'))).toEqual(Array.from({ length: 24 }, (_, i) => String(i + 2)));
      expect(column(id).querySelector('table')!.getAttribute('aria-rowcount')).toBe('151');
      // The spacer below stands for the 126 rows not rendered, at 24 px each.
      expect(column(id).querySelector<HTMLElement>('tbody tr.pad:last-child')!.style.height).toBe(`${126 * 24}px`);
    }
    expect(within(column(2)).getByRole('heading', { level: 2 }).textContent).toContain('secondary');
    expect(screen.getByText('Simulated data')).toBeTruthy();
    expect(rowOf(1, 'T1X010').querySelector('td.price')!.textContent).toContain('20.00');
    // Every ticker is still there: the last one, filtered for, is rendered.
    await fireEvent.input(column(1).querySelector('#filter-1')!, { target: { value: 'T1X149' } });
    expect(rowOf(1, 'T1X149').getAttribute('aria-rowindex')).toBe('2');
  });

  it('updates exactly the row a tick is for', () => {
    const model = new DashboardModel();
    model.applySnapshot(demoSnapshot(2, 20));
    mount('viewer', model);
    const before = [...document.querySelectorAll('tbody tr[data-symbol]')].map((tr) => tr.textContent);
    apply(model, { event: 'tick_update', data: { connection_id: 'connection_2', symbol: 'T2X005', price: 99.5, size: 7, timestamp: 1000, change_pct: 1.25 } });
    const after = [...document.querySelectorAll('tbody tr[data-symbol]')].map((tr) => tr.textContent);
    const changed = after.map((t, i) => (t !== before[i] ? i : -1)).filter((i) => i >= 0);
    expect(changed).toHaveLength(1);
    const row = rowOf(2, 'T2X005');
    expect(row.textContent).toContain('99.50');
    expect(row.textContent).toContain('+1.25%');
    expect(row.dataset.flash, 'a short flash on the moved row').toBe('up');
  });

  it('shows status changes with a text label and keeps other columns as they were', () => {
    const model = new DashboardModel();
    model.applySnapshot(demoSnapshot(3, 3));
    mount('viewer', model);
    apply(model, {
      event: 'connection_status_update',
      data: { connection_id: 'connection_2', status: 'error', previous: 'connected', reason: 'auth_failed: bad key', timestamp: 1000 },
    });
    expect(column(2).dataset.status).toBe('error');
    expect(within(column(2)).getByRole('status').textContent).toContain('Error');
    expect(column(2).textContent).toContain('auth_failed: bad key');
    expect(column(1).dataset.status).toBe('connected');
  });

  it('hides every action from a viewer', () => {
    const model = new DashboardModel();
    model.applySnapshot(demoSnapshot(3, 3));
    mount('viewer', model);
    for (const name of ['Reconnect', 'Disable', 'Enable', 'Add', 'Reset to configured']) expect(screen.queryAllByRole('button', { name })).toHaveLength(0);
    expect(document.querySelectorAll('form.add')).toHaveLength(0);
  });

  it('gives an admin the actions, and a disabled slot its enable hint', () => {
    const model = new DashboardModel();
    model.applySnapshot(
      snapshotOf([
        connDoc(1),
        connDoc(2, {
          enabled: false,
          connected: false,
          status: 'disconnected',
          config: { ticker_count: 0, universe_key: '', tickers: [] },
          enable_hint: 'set WEBSOCKET_CONNECTION_2_ENABLED=true (and USE_MULTI_CONNECTION=true)',
        }),
      ]),
    );
    mount('admin', model);
    expect(within(column(1)).getAllByRole('button', { name: /Reconnect/ })).toHaveLength(1);
    expect(within(column(2)).getByRole('button', { name: /Enable/ })).toBeTruthy();
    expect(column(2).dataset.status).toBe('disabled');
    expect(column(2).textContent).toContain('WEBSOCKET_CONNECTION_2_ENABLED=true');
  });

  it('marks runtime changes and resets a connection to its configuration after confirming', async () => {
    const at = 1796119200; // 2026-12-01
    const model = new DashboardModel();
    model.applySnapshot(
      snapshotOf([
        connDoc(1, {
          config: { ticker_count: 3, universe_key: '', tickers: ['AAPL', 'MSFT', 'TSLA'] },
          overrides: { added: [{ symbol: 'TSLA', by: 'admin', at }], removed: [{ symbol: 'NVDA', by: 'ops', at }], enabled: null },
        }),
        connDoc(2),
      ]),
    );
    const calls: string[] = [];
    mount('admin', model, async (url, init) => {
      // The footer's version request is not an action.
      if (String(url) !== '/healthz') calls.push(`${init?.method} ${url}`);
      return new Response(JSON.stringify({ ok: true, connection_id: 'connection_1', status: 'connected', added: ['NVDA'], removed: ['TSLA'], skipped: [] }), { status: 200 });
    });
    expect(column(1).textContent).toContain('1 added, 1 removed at runtime');
    const details = column(1).querySelector('details')!;
    details.open = true;
    details.dispatchEvent(new Event('toggle'));
    flushSync();
    const mark = column(1).querySelector('.chip.runtime .rtmark')!;
    expect(mark.getAttribute('title')).toBe('added at runtime by admin, 2026-12-01');
    expect(column(1).querySelectorAll('.chip.runtime')).toHaveLength(1);
    expect(column(1).querySelector('[title="removed at runtime by ops, 2026-12-01"]')!.textContent).toBe('NVDA');

    // Only a connection with runtime changes offers the reset.
    expect(within(column(2)).queryAllByRole('button', { name: /Reset to configured/ })).toHaveLength(0);
    await fireEvent.click(within(column(1)).getByRole('button', { name: /Reset to configured/ }));
    expect(calls).toEqual([]); // nothing before the confirmation
    const dialog = document.querySelector('dialog')!;
    expect(dialog.textContent).toContain('Reset primary to its configuration?');
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Reset to configured' }));
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
    expect(calls).toEqual(['POST /api/admin/connections/1/reset']);
    expect(column(1).querySelector('.actions .result')!.textContent).toContain('Reset · 1 added back, 1 removed');
  });

  it('validates added tickers inline before asking the server', async () => {
    const model = new DashboardModel();
    model.applySnapshot(demoSnapshot(2, 3));
    const calls: string[] = [];
    mount('admin', model, async (url) => {
      calls.push(url);
      return new Response('{}', { status: 200 });
    });
    const input = column(2).querySelector<HTMLInputElement>('#add-2')!;
    await fireEvent.input(input, { target: { value: 'A$B, T1X000' } });
    const fb = column(2).querySelector('.feedback')!;
    expect(fb.textContent).toContain('"A$B" is not a valid symbol');
    expect(fb.textContent).toContain('T1X000 is already on connection_1');
    await fireEvent.submit(input.form!);
    // Only the footer's version lookup; nothing was sent to add tickers.
    expect(calls).toEqual(['/healthz']);
  });

  it('shows a server error inline next to the add form', async () => {
    const model = new DashboardModel();
    model.applySnapshot(demoSnapshot(2, 3));
    mount('admin', model, async () =>
      new Response(JSON.stringify({ error: 'ticker already assigned', detail: 'NEW1 is already on connection_9' }), { status: 409 }),
    );
    const input = column(1).querySelector<HTMLInputElement>('#add-1')!;
    await fireEvent.input(input, { target: { value: 'new1' } });
    await fireEvent.submit(input.form!);
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
    expect(column(1).querySelector('.feedback')!.textContent).toContain('NEW1 is already on connection_9');
  });

  it('filters and sorts the board', async () => {
    const model = new DashboardModel();
    model.applySnapshot(demoSnapshot(1, 12));
    mount('viewer', model);
    const syms = () => [...column(1).querySelectorAll<HTMLElement>('tbody tr[data-symbol]')].map((r) => r.dataset.symbol);
    await fireEvent.input(column(1).querySelector('#filter-1')!, { target: { value: 'x01' } });
    expect(syms()).toEqual(['T1X010', 'T1X011']);
    await fireEvent.input(column(1).querySelector('#filter-1')!, { target: { value: '' } });
    await fireEvent.click(within(column(1)).getByRole('button', { name: /Most active/ }));
    // demo counts grow with the index: most active first
    expect(syms()[0]).toBe('T1X011');
    await fireEvent.click(within(column(1)).getByRole('button', { name: /Symbol/ }));
    expect(syms()[0]).toBe('T1X000');
    await fireEvent.click(within(column(1)).getByRole('button', { name: /Symbol/ }));
    expect(syms()[0]).toBe('T1X011');
  });

  it('keeps only the recent ticks in view in the DOM, and tells assistive tech how many there are', () => {
    const model = new DashboardModel();
    model.applySnapshot(demoSnapshot(1, 3));
    mount('viewer', model);
    const tick = (price: number): ServerEvent => ({ event: 'tick_update', data: { connection_id: 'connection_1', symbol: 'T1X001', price, size: 1, timestamp: 1000 } });
    apply(model, ...Array.from({ length: 60 }, (_, i) => tick(100 + i)));
    const items = [...column(1).querySelectorAll<HTMLElement>('.recent li[aria-posinset]')];
    // The list holds 50; its 200 px box shows 10 rows, plus an overscan of 3.
    expect(items).toHaveLength(13);
    expect(items[0]!.getAttribute('aria-setsize')).toBe('50');
    expect(items.map((li) => li.getAttribute('aria-posinset'))).toEqual(Array.from({ length: 13 }, (_, i) => String(i + 1)));
    expect(items[0]!.textContent).toContain('159.00');
    // One spacer below stands for the 37 rows not rendered, at 20 px each.
    expect(column(1).querySelector<HTMLElement>('.recent li.pad:last-child')!.style.height).toBe(`${37 * 20}px`);
  });

  it('pauses the recent stream and counts what it skipped', async () => {
    const model = new DashboardModel();
    model.applySnapshot(demoSnapshot(1, 3));
    mount('viewer', model);
    const tick = (price: number): ServerEvent => ({ event: 'tick_update', data: { connection_id: 'connection_1', symbol: 'T1X001', price, size: 1, timestamp: 1000 } });
    apply(model, tick(1));
    expect(column(1).querySelectorAll('.recent li')).toHaveLength(1);
    await fireEvent.click(within(column(1)).getByRole('button', { name: /Pause/ }));
    apply(model, tick(2));
    apply(model, tick(3));
    expect(column(1).querySelectorAll('.recent li')).toHaveLength(1);
    expect(column(1).textContent).toContain('2 skipped');
    await fireEvent.click(within(column(1)).getByRole('button', { name: /Resume/ }));
    expect(column(1).textContent).not.toContain('skipped');
  });
});

describe('Redis sink panel', () => {
  it('is hidden when no sink is configured', () => {
    const model = new DashboardModel();
    model.applySnapshot(demoSnapshot(1, 3));
    mount('viewer', model);
    expect(screen.queryByRole('region', { name: 'Tick sinks' })).toBeNull();
  });

  it('shows state in words, rate, drops, queue and the error, and follows sink_update', () => {
    const model = new DashboardModel();
    model.applySnapshot(snapshotOf([connDoc(1)], [], { sinks: [sinkDoc()] }));
    mount('viewer', model);
    const panel = screen.getByRole('region', { name: 'Tick sinks' });
    expect(panel.textContent).toContain('Redis');
    expect(panel.textContent).toContain('Connected');
    expect(panel.textContent).toContain('0 / 1,024');
    expect(panel.querySelector('details')).toBeNull();

    apply(model, { event: 'sink_update', data: sinkDoc({ state: 'down', last_error: 'dial tcp 127.0.0.1:6379: connection refused', dropped: 1520, published_per_second: 0 }) });
    expect(panel.textContent).toContain('Down');
    expect(panel.textContent).toContain('1,520');
    const status = within(panel).getByRole('status');
    expect(status.getAttribute('title')).toContain('connection refused');
    expect(panel.querySelector('details')?.textContent).toContain('connection refused');
  });
});
