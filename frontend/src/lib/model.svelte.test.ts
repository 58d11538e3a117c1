// @vitest-environment jsdom
// (jsdom: the client build of Svelte, whose effects this tests)
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import { TickerRow } from './model.svelte';

const tick = (price: number, timestamp = 1000) => ({ connection_id: 'connection_1', symbol: 'AAPL', price, size: 1, timestamp });

/** An effect that reads the row's price, as a table cell does; returns what it saw and a stop. */
function observe(row: TickerRow) {
  const seen: (number | null)[] = [];
  const stop = $effect.root(() => {
    $effect(() => {
      seen.push(row.price);
    });
  });
  flushSync();
  return { seen, stop };
}

describe('TickerRow reactivity', () => {
  it('re-runs a reader on every change while a view watches the row', () => {
    const row = new TickerRow('AAPL');
    const release = row.watch();
    const { seen, stop } = observe(row);
    try {
      row.apply(tick(10));
      flushSync();
      row.apply(tick(11));
      flushSync();
      row.seed(tick(12));
      flushSync();
      expect(seen).toEqual([null, 10, 11, 12]);
    } finally {
      stop();
      release();
    }
  });

  it('changes no signal while nobody watches, yet reads stay current', () => {
    const row = new TickerRow('AAPL');
    const { seen, stop } = observe(row);
    try {
      row.apply(tick(10));
      row.apply(tick(9, 1001), 4);
      flushSync();
      expect(seen, 'an unwatched row wakes no reader').toEqual([null]);
      expect([row.price, row.dir, row.flash, row.count, row.ts]).toEqual([9, -1, 1, 5, 1001]);
      // A view that starts watching reads the current values, then follows.
      const release = row.watch();
      row.apply(tick(8));
      flushSync();
      expect(seen).toEqual([null, 8]);
      release();
    } finally {
      stop();
    }
  });

  it('counts nested watches and ignores a second release', () => {
    const row = new TickerRow('AAPL');
    const a = row.watch();
    const b = row.watch();
    a();
    a();
    expect(row.watched, 'b still holds it').toBe(true);
    const { seen, stop } = observe(row);
    try {
      row.apply(tick(10));
      flushSync();
      expect(seen).toEqual([null, 10]);
      b();
      expect(row.watched).toBe(false);
      row.apply(tick(11));
      flushSync();
      expect(seen).toEqual([null, 10]);
    } finally {
      stop();
    }
  });
});
