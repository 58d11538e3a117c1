// How a column's tickers are ordered and filtered, shared by the two views
// of them: the table (TickerBoard) lists the filtered rows, the overview
// (HeatGrid) draws every row in the same order. It also carries the
// overview's "show this ticker in the table" requests to the table, which
// owns the scrolling.

import { untrack } from 'svelte';
import type { ConnectionModel, TickerRow } from './model.svelte';
import { defaultDir, filterRows, sortRows, type SortDir, type SortKey } from './sort';

export interface RevealRequest {
  symbol: string;
  /** Distinguishes two requests for the same symbol (each one scrolls again). */
  seq: number;
}

export interface RevealResult {
  /** False when the column has no such ticker. */
  found: boolean;
  /** The filter hid the ticker and was cleared to show it. */
  clearedFilter: string;
  /** 0-based position in the table's (filtered) order after the reveal; -1 if not found. */
  index: number;
  /** Rows the table lists after the reveal. */
  of: number;
}

export const SORT_LABELS: Record<SortKey, string> = { symbol: 'Symbol', active: 'Most active', change: 'Change' };

export class BoardView {
  sortKey = $state<SortKey>('symbol');
  sortDir = $state<SortDir>('asc');
  filter = $state('');
  /** The latest reveal request; the table scrolls to it and highlights the row. */
  target = $state.raw<RevealRequest | null>(null);

  /**
   * conn: the column; version: read to say when the membership's values were
   * replaced (a snapshot); tick: read to say when value orders refresh (the
   * page's one-second clock). Value-based orders change once a second, not on
   * every tick: row values are read untracked, so a tick never re-sorts.
   */
  constructor(
    private readonly conn: ConnectionModel,
    private readonly version: () => unknown = () => 0,
    private readonly tick: () => unknown = () => 0,
  ) {}

  /** Every row of the column in the table's order (the overview draws these). */
  readonly sorted: TickerRow[] = $derived.by(() => {
    const tickers = this.conn.tickers;
    const key = this.sortKey;
    const dir = this.sortDir;
    void this.version();
    if (key !== 'symbol') void this.tick();
    return untrack(() => {
      const rows: TickerRow[] = [];
      for (const s of tickers) {
        const r = this.conn.rows.get(s);
        if (r) rows.push(r);
      }
      return sortRows(rows, key, dir);
    });
  });

  /** The rows the table lists: sorted, then filtered (filtering keeps the order). */
  readonly order: TickerRow[] = $derived(filterRows(this.sorted, this.filter));

  /** A sort button: the same key flips the direction, a new one starts in its natural direction. */
  choose(key: SortKey): void {
    if (this.sortKey === key) this.sortDir = this.sortDir === 'asc' ? 'desc' : 'asc';
    else {
      this.sortKey = key;
      this.sortDir = defaultDir(key);
    }
  }

  /** "Symbol ↑": the current order, for captions. */
  get orderLabel(): string {
    return `${SORT_LABELS[this.sortKey]} ${this.sortDir === 'asc' ? '↑' : '↓'}`;
  }

  /**
   * Asks the table to scroll to symbol and highlight it. A filter that hides
   * the symbol is cleared first (the result says so, for the announcement).
   */
  reveal(symbol: string): RevealResult {
    if (!this.conn.rows.has(symbol)) return { found: false, clearedFilter: '', index: -1, of: this.order.length };
    let cleared = '';
    if (!this.order.some((r) => r.symbol === symbol)) {
      cleared = this.filter;
      this.filter = '';
    }
    const order = this.order;
    this.target = { symbol, seq: (this.target?.seq ?? 0) + 1 };
    return { found: true, clearedFilter: cleared, index: order.findIndex((r) => r.symbol === symbol), of: order.length };
  }
}
