// @vitest-environment jsdom
// (jsdom: the client build of Svelte, whose effects and cached deriveds this tests)
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import { BoardView } from './boardView.svelte';
import { Clock } from './clock.svelte';
import { connDoc, snapshotOf } from './fixtures';
import { DashboardModel } from './model.svelte';
import type { Tick } from './types';

/** One column of four tickers with known changes; a clock the test moves by hand. */
function setup() {
  const model = new DashboardModel();
  const tickers = ['MSFT', 'AAPL', 'NVDA', 'AMZN'];
  const change: Record<string, number> = { MSFT: 0.5, AAPL: -1, NVDA: 3, AMZN: 0 };
  const ticks: Tick[] = tickers.map((symbol) => ({ connection_id: 'connection_1', symbol, price: 100, size: 1, timestamp: 1000, change_pct: change[symbol]! }));
  model.applySnapshot(snapshotOf([connDoc(1, { config: { ticker_count: 4, universe_key: 'x', tickers } })], ticks), 0);
  const conn = model.connection('connection_1')!;
  let now = 0;
  const clock = new Clock(() => now);
  const view = new BoardView(conn, () => model.snapshotSeq, () => clock.now);
  const second = () => {
    now += 1000;
    clock.tick();
  };
  return { model, conn, view, second };
}

const symbols = (rows: { symbol: string }[]) => rows.map((r) => r.symbol);

describe('BoardView', () => {
  it('orders every row for the overview and the filtered ones for the table, in the same order', () => {
    const { view } = setup();
    expect(symbols(view.sorted)).toEqual(['AAPL', 'AMZN', 'MSFT', 'NVDA']);
    view.filter = 'aapl, amzn';
    expect(symbols(view.order)).toEqual(['AAPL', 'AMZN']);
    expect(symbols(view.sorted), 'the overview keeps every ticker').toHaveLength(4);
    view.choose('symbol');
    expect(symbols(view.order)).toEqual(['AMZN', 'AAPL']);
    expect(view.orderLabel).toBe('Symbol ↓');
  });

  it('re-sorts a value order on the clock, not on every tick', () => {
    const { model, view, second } = setup();
    // As on the page: the order is read by an effect (a derived read by no
    // effect is recomputed on every read, which would hide what this tests).
    let seen: string[] = [];
    let runs = 0;
    const stop = $effect.root(() => {
      $effect(() => {
        seen = symbols(view.sorted);
        runs++;
      });
    });
    try {
      flushSync();
      view.choose('change');
      flushSync();
      expect([view.sortDir, view.orderLabel]).toEqual(['desc', 'Change ↓']);
      expect(seen).toEqual(['NVDA', 'MSFT', 'AMZN', 'AAPL']);
      const before = runs;
      model.applyTick({ connection_id: 'connection_1', symbol: 'AAPL', price: 120, size: 1, timestamp: 1001, change_pct: 9 });
      flushSync();
      expect(runs, 'a tick alone does not re-sort').toBe(before);
      second();
      flushSync();
      expect(seen).toEqual(['AAPL', 'NVDA', 'MSFT', 'AMZN']);
      // by symbol, the clock does not re-sort either
      view.choose('symbol');
      flushSync();
      const bySymbol = runs;
      second();
      flushSync();
      expect(runs).toBe(bySymbol);
    } finally {
      stop();
    }
  });

  it('reveals a ticker the table lists, by its position there', () => {
    const { view } = setup();
    view.filter = 'N';
    const r = view.reveal('NVDA');
    expect(r).toEqual({ found: true, clearedFilter: '', index: 1, of: 2 });
    expect(view.filter).toBe('N');
    expect(view.target).toEqual({ symbol: 'NVDA', seq: 1 });
    expect(view.reveal('NVDA').found && view.target?.seq, 'asking again scrolls again').toBe(2);
  });

  it('clears a filter that hides the ticker, and says which', () => {
    const { view } = setup();
    view.filter = 'MS';
    expect(view.reveal('NVDA')).toEqual({ found: true, clearedFilter: 'MS', index: 3, of: 4 });
    expect(view.filter).toBe('');
    expect(symbols(view.order)).toHaveLength(4);
  });

  it('does nothing for a ticker the column does not have', () => {
    const { view } = setup();
    view.filter = 'MS';
    expect(view.reveal('TSLA')).toEqual({ found: false, clearedFilter: '', index: -1, of: 1 });
    expect([view.filter, view.target]).toEqual(['MS', null]);
  });
});

describe('value watchers', () => {
  const batch = (...ticks: [string, number][]) => ({
    snapshot: null,
    statuses: [],
    ticks: new Map(ticks.map(([symbol, price]) => [`connection_1\u0000${symbol}`, { connection_id: 'connection_1', symbol, price, size: 1, timestamp: 1002, n: 1 }])),
    recent: new Map(),
    metrics: new Map(),
    sinks: new Map(),
    events: ticks.length,
  });

  it('hear which rows a batch changed, all of them after a snapshot, and nothing after the cleanup', () => {
    const { model, conn } = setup();
    conn.valuesChanged(); // the setup's snapshot, told to nobody
    const heard: (string[] | null)[] = [];
    const stop = conn.watchValues((changed) => heard.push(changed === null ? null : changed.map((r) => r.symbol)));
    model.applyBatch(batch(['AAPL', 101], ['NVDA', 99]), 0);
    model.applyBatch(batch(), 0);
    model.applyBatch(batch(['TSLA', 5]), 0); // not this column's: nothing to tell
    model.applySnapshot(snapshotOf([connDoc(1, { config: { ticker_count: 4, universe_key: 'x', tickers: ['MSFT', 'AAPL', 'NVDA', 'AMZN'] } })]), 0);
    model.applyBatch(batch(['MSFT', 1]), 0);
    expect(heard, 'after a snapshot: all rows, whatever the ticks').toEqual([['AAPL', 'NVDA'], null]);
    model.applyBatch(batch(['MSFT', 2]), 0);
    expect(heard.at(-1)).toEqual(['MSFT']);
    model.applyBatch({ ...batch(['AMZN', 2]), snapshot: snapshotOf([connDoc(1, { config: { ticker_count: 1, universe_key: 'x', tickers: ['AMZN'] } })]) }, 0);
    expect(heard.at(-1), 'a batch with a snapshot: everything').toBeNull();
    stop();
    model.applyBatch(batch(['AMZN', 3]), 0);
    expect(heard).toHaveLength(4);
  });

  it('keep the list bounded when nobody asks: past one entry per row it becomes "all"', () => {
    const { model, conn } = setup();
    for (let i = 0; i < 10; i++) model.applyTick({ connection_id: 'connection_1', symbol: 'AAPL', price: 100 + i, size: 1, timestamp: 1003 });
    let heard: readonly unknown[] | null | undefined;
    conn.watchValues((changed) => (heard = changed));
    conn.valuesChanged();
    expect(heard).toBeNull();
  });
});
