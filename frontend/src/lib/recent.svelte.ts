// The recent-ticks feed of one connection: newest first, at most `cap`
// entries. While paused nothing is buffered; only the number of skipped ticks
// grows, so a paused feed costs no memory however long it stays paused.
//
// At market-open load every animation frame brings a whole new list, and
// re-creating 50 rows per column 60 times a second was one of the page's
// biggest costs for a list nobody can read at that speed. With everyMs > 0
// the shown list changes at most that often; ticks in between are merged
// (newest kept) and the last of them is shown when the interval ends.

import type { LiveTick } from './coalesce';

export interface RecentItem {
  key: number;
  symbol: string;
  price: number;
  size: number;
  timestamp: number;
  changePct: number | null;
}

export class RecentStream {
  items = $state.raw<RecentItem[]>([]);
  paused = $state(false);
  skipped = $state(0);
  private seq = 0;
  /** Ticks waiting for the next release, oldest first; references, no copies (see push). */
  private held: LiveTick[] = [];
  private shownAt = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly cap = 50,
    private readonly everyMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  /** ticks in arrival order (oldest first); total counts ticks folded away upstream too. */
  push(ticks: readonly LiveTick[], total = ticks.length): void {
    if (total <= 0) return;
    if (this.paused) {
      this.skipped += total;
      return;
    }
    if (this.everyMs <= 0) {
      this.show(this.freshItems(ticks));
      return;
    }
    // Display items are built only when a list is shown: at market-open load
    // a frame brings ~50 ticks per column, 60 times a second, and building
    // (then concatenating and trimming) 50 items for each of them was garbage
    // for the collector, since only the last set before a release is seen.
    // The held ticks are trimmed in chunks so a flood costs amortised O(1).
    for (const t of ticks) this.held.push(t);
    if (this.held.length >= this.cap * 2) this.held = this.held.slice(-this.cap);
    const wait = this.shownAt + this.everyMs - this.now();
    if (wait <= 0) this.release();
    else this.timer ??= setTimeout(() => this.release(), wait);
  }

  private release(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.shownAt = this.now();
    const held = this.held;
    this.held = [];
    if (!this.paused && held.length > 0) this.show(this.freshItems(held));
  }

  private show(fresh: RecentItem[]): void {
    const keep = this.cap - fresh.length;
    this.items = keep > 0 ? fresh.concat(this.items.slice(0, keep)) : fresh;
  }

  private freshItems(ticks: readonly LiveTick[]): RecentItem[] {
    const fresh: RecentItem[] = [];
    for (let i = ticks.length - 1; i >= 0 && fresh.length < this.cap; i--) {
      const t = ticks[i]!;
      fresh.push({
        key: ++this.seq,
        symbol: t.symbol,
        price: t.price,
        size: t.size,
        timestamp: t.timestamp,
        changePct: t.change_pct ?? null,
      });
    }
    return fresh;
  }

  pause(): void {
    this.paused = true;
    this.held = [];
  }

  resume(): void {
    this.paused = false;
    this.skipped = 0;
  }

  toggle(): void {
    if (this.paused) this.resume();
    else this.pause();
  }

  clear(): void {
    this.items = [];
    this.skipped = 0;
  }
}
