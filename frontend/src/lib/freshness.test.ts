import { describe, expect, it } from 'vitest';
import { freshness, ServerClock } from './freshness';

describe('ServerClock', () => {
  it('takes the largest recent offset: a delayed frame only lowers it', () => {
    const c = new ServerClock(30_000);
    c.observe(100.0, 95_000); // prompt: offset +5
    c.observe(101.0, 104_000); // arrived 8 s late: offset -3
    expect(c.offset).toBeCloseTo(5);
    expect(c.serverNow(110_000)).toBeCloseTo(115);
  });

  it('forgets samples older than its window, so it follows a clock step', () => {
    const c = new ServerClock(10_000);
    c.observe(100, 95_000); // +5
    c.observe(200, 200_000); // 0, and the +5 sample is now out of the window
    expect(c.offset).toBeCloseTo(0);
  });

  it.each([0, -1, Number.NaN])('ignores server_time %s', (v) => {
    const c = new ServerClock();
    c.observe(v, 1000);
    expect(c.offset).toBe(0);
  });
});

describe('freshness', () => {
  it.each([
    { now: 100, newest: 0, want: { lag: null, tone: 'ok' } },
    { now: 100, newest: 99.0, want: { lag: 1, tone: 'ok' } },
    { now: 100, newest: 98.4, want: { tone: 'warn' } },
    { now: 100, newest: 90, want: { lag: 10, tone: 'warn' } },
    { now: 100, newest: 80, want: { lag: 20, tone: 'bad' } },
    { now: 100, newest: 101, want: { lag: 0, tone: 'ok' } },
  ])('now $now, newest shown $newest', ({ now, newest, want }) => expect(freshness(now, newest)).toMatchObject(want));
});
