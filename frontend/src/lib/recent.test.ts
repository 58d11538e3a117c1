import { describe, expect, it, vi } from 'vitest';
import type { LiveTick } from './coalesce';
import { RecentStream } from './recent.svelte';

const t = (symbol: string, price: number): LiveTick => ({ connection_id: 'connection_1', symbol, price, size: 1, timestamp: price });
const syms = (r: RecentStream) => r.items.map((i) => `${i.symbol}@${i.price}`);

describe('RecentStream', () => {
  it('shows newest first', () => {
    const r = new RecentStream(5);
    r.push([t('A', 1), t('B', 2)]);
    r.push([t('C', 3)]);
    expect(syms(r)).toEqual(['C@3', 'B@2', 'A@1']);
  });

  it('never holds more than cap', () => {
    const r = new RecentStream(3);
    r.push([t('A', 1), t('B', 2)]);
    r.push([t('C', 3), t('D', 4)]);
    expect(syms(r)).toEqual(['D@4', 'C@3', 'B@2']);
    r.push(Array.from({ length: 10 }, (_, i) => t('X', 10 + i)));
    expect(syms(r)).toEqual(['X@19', 'X@18', 'X@17']);
  });

  it('gives every entry a unique key', () => {
    const r = new RecentStream(50);
    for (let i = 0; i < 30; i++) r.push([t('A', i), t('A', i)]);
    const keys = r.items.map((i) => i.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('counts skipped ticks while paused instead of buffering them', () => {
    const r = new RecentStream(3);
    r.push([t('A', 1)]);
    r.pause();
    r.push([t('B', 2), t('C', 3)], 7);
    r.push([t('D', 4)]);
    expect(r.skipped).toBe(8);
    expect(syms(r)).toEqual(['A@1']);
    r.resume();
    expect(r.skipped).toBe(0);
    r.push([t('E', 5)]);
    expect(syms(r)).toEqual(['E@5', 'A@1']);
  });

  it('toggle flips pause; clear empties', () => {
    const r = new RecentStream(3);
    r.toggle();
    expect(r.paused).toBe(true);
    r.push([t('A', 1)]);
    r.toggle();
    expect(r.paused).toBe(false);
    expect(r.skipped).toBe(0);
    r.push([t('B', 2)]);
    r.clear();
    expect(r.items).toEqual([]);
  });

  it('ignores empty pushes', () => {
    const r = new RecentStream(3);
    r.pause();
    r.push([]);
    expect(r.skipped).toBe(0);
  });

  it('carries change_pct and defaults it to null', () => {
    const r = new RecentStream(3);
    r.push([{ ...t('A', 1), change_pct: 1.5 }, t('B', 2)]);
    expect(r.items.map((i) => i.changePct)).toEqual([null, 1.5]);
  });
});

describe('RecentStream at most every N ms', () => {
  it('shows the first batch at once, holds later ones, and shows the newest when the interval ends', () => {
    vi.useFakeTimers();
    try {
      let now = 1000;
      const r = new RecentStream(3, 250, () => now);
      r.push([t('A', 1)]);
      expect(r.items.map((i) => i.symbol)).toEqual(['A']);
      now = 1100;
      r.push([t('B', 1), t('C', 1)]);
      now = 1200;
      r.push([t('D', 1)]);
      expect(r.items.map((i) => i.symbol), 'held within the interval').toEqual(['A']);
      now = 1250;
      vi.advanceTimersByTime(150);
      expect(r.items.map((i) => i.symbol)).toEqual(['D', 'C', 'B']);
    } finally {
      vi.useRealTimers();
    }
  });
});
