// The recent-ticks feed of one connection: newest first, at most `cap`
// entries. While paused nothing is buffered; only the number of skipped ticks
// grows, so a paused feed costs no memory however long it stays paused.

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

  constructor(readonly cap = 50) {}

  /** ticks in arrival order (oldest first); total counts ticks folded away upstream too. */
  push(ticks: readonly LiveTick[], total = ticks.length): void {
    if (total <= 0) return;
    if (this.paused) {
      this.skipped += total;
      return;
    }
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
    const keep = this.cap - fresh.length;
    this.items = keep > 0 ? fresh.concat(this.items.slice(0, keep)) : fresh;
  }

  pause(): void {
    this.paused = true;
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
