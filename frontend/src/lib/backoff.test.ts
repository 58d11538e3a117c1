import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay } from './backoff';

describe('backoffCeiling', () => {
  it.each<[number, number]>([
    [0, 500],
    [1, 1000],
    [2, 2000],
    [4, 8000],
    [5, 15000],
    [50, 15000],
    [5000, 15000],
    [-3, 500],
  ])('attempt %i -> %i ms', (a, want) => expect(backoffCeiling(a)).toBe(want));
});

describe('backoffDelay (full jitter)', () => {
  it('is zero at random 0', () => expect(backoffDelay(3, () => 0)).toBe(0));
  it('approaches the ceiling at random ~1', () => expect(backoffDelay(3, () => 0.9999)).toBe(3999));
  it('stays within [0, ceiling) for many draws', () => {
    for (let a = 0; a < 12; a++) {
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(a);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(backoffCeiling(a));
      }
    }
  });
  it('clamps a misbehaving random source', () => {
    expect(backoffDelay(1, () => 7)).toBe(1000);
    expect(backoffDelay(1, () => -1)).toBe(0);
  });
  it('honours custom options', () => expect(backoffDelay(10, () => 0.5, { baseMs: 100, capMs: 1000 })).toBe(500));
});
