import { describe, expect, it } from 'vitest';
import { isValidSymbol, parseSymbols, symbolError } from './symbols';

describe('isValidSymbol', () => {
  it.each([
    ['AAPL', true],
    ['A', true],
    ['BRK.B', true],
    ['BF-B', true],
    ['X1', true],
    ['ABCDEFGHIJ', true],
    ['ABCDEFGHIJK', false],
    ['', false],
    ['aapl', false],
    ['A$B', false],
    ['A B', false],
    ['ÄPL', false],
  ])('%s -> %s', (s, want) => {
    expect(isValidSymbol(s)).toBe(want);
  });
});

describe('symbolError', () => {
  it('uses the server wording', () => {
    expect(symbolError('A$B')).toBe(`"A$B" is not a valid symbol: 1-10 of A-Z, 0-9, '.', '-'`);
  });
});

describe('parseSymbols', () => {
  it('splits on commas, spaces and semicolons, upper-cases and de-duplicates', () => {
    expect(parseSymbols(' aapl, MSFT;tsla  aapl ,,')).toEqual({ symbols: ['AAPL', 'MSFT', 'TSLA'], errors: [] });
  });
  it('reports each invalid entry once with its original spelling', () => {
    const r = parseSymbols('AAPL a$b TOOLONGSYMBOL a$b');
    expect(r.symbols).toEqual(['AAPL']);
    expect(r.errors).toEqual([symbolError('a$b'), symbolError('TOOLONGSYMBOL')]);
  });
  it('returns nothing for blank input', () => {
    expect(parseSymbols('   ')).toEqual({ symbols: [], errors: [] });
  });
});
