import { describe, expect, it } from 'vitest';
import { sparkline } from './sparkline';

describe('sparkline', () => {
  it('is empty without data', () => expect(sparkline([], 100, 20)).toEqual({ line: '', area: '', max: 0, last: 0 }));
  it('scales to the max and spans the width', () => {
    const g = sparkline([0, 5, 10], 100, 22, 1);
    expect(g.line).toBe('0,21 50,11 100,1');
    expect(g.area).toBe('0,21 0,21 50,11 100,1 100,21');
    expect(g.max).toBe(10);
    expect(g.last).toBe(10);
  });
  it('draws all-zero history on the baseline', () => expect(sparkline([0, 0], 10, 10, 0).line).toBe('0,10 10,10'));
  it('draws a single point as a flat line', () => expect(sparkline([3], 10, 10, 0).line).toBe('0,0 5,0'));
  it('ignores non-finite values and clamps negatives', () => {
    const g = sparkline([Number.NaN, -4, 2], 10, 10, 0);
    expect(g.line).toBe('0,10 10,0');
  });
});
