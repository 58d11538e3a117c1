import { describe, expect, it } from 'vitest';
import { FlashGate } from './flash';

describe('FlashGate', () => {
  it.each([
    { visible: 40, want: 6 }, // 15 % of 40
    { visible: 5, want: 2 }, // never fewer than 2
    { visible: 0, want: 2 },
  ])('lets $want of $visible visible rows flash per window', ({ visible, want }) => {
    const g = new FlashGate();
    let n = 0;
    for (let i = 0; i < 100; i++) if (g.allow(1000 + i, visible)) n++;
    expect(n).toBe(want);
  });

  it('opens again in the next window', () => {
    const g = new FlashGate(0.15, 500, 2);
    expect([g.allow(0, 0), g.allow(1, 0), g.allow(2, 0)]).toEqual([true, true, false]);
    expect(g.allow(499, 0)).toBe(false);
    expect(g.allow(500, 0)).toBe(true);
  });
});
