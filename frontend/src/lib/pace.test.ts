import { describe, expect, it } from 'vitest';
import { PaceGovernor } from './pace';

describe('PaceGovernor', () => {
  const opts = { behindS: 1, keptUpS: 0.3, slowAfter: 2, fastAfter: 3 };

  it('slows down one step per run of late frames, up to 1 s', () => {
    const sent: number[] = [];
    const g = new PaceGovernor((ms) => sent.push(ms), opts);
    for (const d of [2, 0.5, 2, 2, 3, 3, 3, 3, 3, 3]) g.observe(d);
    expect(sent).toEqual([250, 500, 1000]);
    expect(g.intervalMs).toBe(1000);
  });

  it('speeds up again only after keeping up for a while, and a reset goes back to the server pace', () => {
    const sent: number[] = [];
    const g = new PaceGovernor((ms) => sent.push(ms), opts);
    g.observe(2);
    g.observe(2); // 250
    g.observe(0.1);
    g.observe(0.1);
    g.observe(0.5); // in between: starts over
    g.observe(0.1);
    g.observe(0.1);
    expect(sent).toEqual([250]);
    g.observe(0.1);
    expect(sent).toEqual([250, 0]);
    g.observe(2);
    g.observe(2);
    g.reset();
    expect(g.intervalMs).toBe(0);
  });
});
