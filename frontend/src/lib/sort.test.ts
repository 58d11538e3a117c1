import { describe, expect, it } from 'vitest';
import { defaultDir, filterRows, filterTerms, sortRows, type SortableRow } from './sort';

const rows: SortableRow[] = [
  { symbol: 'MSFT', count: 5, changePct: -0.5 },
  { symbol: 'AAPL', count: 9, changePct: 1.2 },
  { symbol: 'TSLA', count: 9, changePct: null },
  { symbol: 'AMZN', count: 1, changePct: 3.4 },
  { symbol: 'BRK.B', count: 0, changePct: null },
];
const syms = (r: SortableRow[]) => r.map((x) => x.symbol);

describe('sortRows', () => {
  it.each<[Parameters<typeof sortRows>[1], Parameters<typeof sortRows>[2], string[]]>([
    ['symbol', 'asc', ['AAPL', 'AMZN', 'BRK.B', 'MSFT', 'TSLA']],
    ['symbol', 'desc', ['TSLA', 'MSFT', 'BRK.B', 'AMZN', 'AAPL']],
    // ties (AAPL/TSLA at 9) break by symbol ascending
    ['active', 'desc', ['AAPL', 'TSLA', 'MSFT', 'AMZN', 'BRK.B']],
    ['active', 'asc', ['BRK.B', 'AMZN', 'MSFT', 'AAPL', 'TSLA']],
    // rows without a change sink in both directions
    ['change', 'desc', ['AMZN', 'AAPL', 'MSFT', 'BRK.B', 'TSLA']],
    ['change', 'asc', ['MSFT', 'AAPL', 'AMZN', 'BRK.B', 'TSLA']],
  ])('%s %s', (key, dir, want) => {
    expect(syms(sortRows(rows, key, dir))).toEqual(want);
  });

  it('does not mutate its input', () => {
    const before = syms(rows);
    sortRows(rows, 'symbol', 'asc');
    expect(syms(rows)).toEqual(before);
  });

  it('handles an empty board', () => expect(sortRows([], 'change', 'desc')).toEqual([]));
});

describe('defaultDir', () => {
  it('sorts symbols A-Z and numbers biggest first', () => {
    expect(defaultDir('symbol')).toBe('asc');
    expect(defaultDir('active')).toBe('desc');
    expect(defaultDir('change')).toBe('desc');
  });
});

describe('filterRows', () => {
  it.each<[string, string[]]>([
    ['', ['MSFT', 'AAPL', 'TSLA', 'AMZN', 'BRK.B']],
    ['   ', ['MSFT', 'AAPL', 'TSLA', 'AMZN', 'BRK.B']],
    ['a', ['AAPL', 'TSLA', 'AMZN']],
    ['AM', ['AMZN']],
    ['ms, ts', ['MSFT', 'TSLA']],
    ['.b', ['BRK.B']],
    ['zzz', []],
  ])('%j', (q, want) => expect(syms(filterRows(rows, q))).toEqual(want));

  it('normalises terms', () => expect(filterTerms(' aa, bb  cc ')).toEqual(['AA', 'BB', 'CC']));
});
