// Ordering and filtering of ticker-board rows. Pure functions over plain
// snapshots of row values, so the board can re-sort on its own schedule
// instead of on every tick.

export type SortKey = 'symbol' | 'active' | 'change';
export type SortDir = 'asc' | 'desc';

export interface SortableRow {
  symbol: string;
  count: number;
  changePct: number | null;
}

/** The direction a key starts in when first chosen: what an operator wants to see first. */
export function defaultDir(key: SortKey): SortDir {
  return key === 'symbol' ? 'asc' : 'desc';
}

function bySymbol(a: SortableRow, b: SortableRow): number {
  return a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0;
}

/**
 * Returns a new array ordered by key/dir. Rows without a change value always
 * sink to the bottom whatever the direction (nothing to compare), and ties
 * break by symbol ascending so the order is stable between re-sorts.
 */
export function sortRows<T extends SortableRow>(rows: readonly T[], key: SortKey, dir: SortDir): T[] {
  const sign = dir === 'asc' ? 1 : -1;
  const out = rows.slice();
  switch (key) {
    case 'symbol':
      out.sort((a, b) => sign * bySymbol(a, b));
      break;
    case 'active':
      out.sort((a, b) => sign * (a.count - b.count) || bySymbol(a, b));
      break;
    case 'change':
      out.sort((a, b) => {
        const x = a.changePct;
        const y = b.changePct;
        if (x == null || y == null) {
          if (x == null && y == null) return bySymbol(a, b);
          return x == null ? 1 : -1;
        }
        return sign * (x - y) || bySymbol(a, b);
      });
      break;
  }
  return out;
}

/** Normalises a search box value into the terms filterRows matches. */
export function filterTerms(query: string): string[] {
  return query
    .toUpperCase()
    .split(/[\s,]+/)
    .filter((t) => t !== '');
}

/** Keeps rows whose symbol contains any of the terms (case-insensitive); no terms keeps all. */
export function filterRows<T extends { symbol: string }>(rows: readonly T[], query: string): T[] {
  const terms = filterTerms(query);
  if (terms.length === 0) return rows.slice();
  return rows.filter((r) => terms.some((t) => r.symbol.includes(t)));
}
