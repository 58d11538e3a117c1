// Asks the server for slower tick frames when this page cannot keep up, and
// for faster ones again once it has kept up for a while (never silently
// falling behind until a resync). The signal is the delay of each
// metrics_update (sent once a second, stamped with the server's clock) from
// the server to the moment the page applied it: it grows with every queue on
// the way, including our own busy main thread.

export const PACES_MS = [0, 250, 500, 1000] as const; // 0: the server's own interval

export interface PaceOptions {
  /** Applied later than this (s) counts as behind. */
  behindS: number;
  /** Applied sooner than this (s) counts as keeping up. */
  keptUpS: number;
  /** Consecutive behind samples before slowing down. */
  slowAfter: number;
  /** Consecutive kept-up samples before speeding up again. */
  fastAfter: number;
}

export const DEFAULT_PACE: PaceOptions = { behindS: 1, keptUpS: 0.3, slowAfter: 2, fastAfter: 30 };

export class PaceGovernor {
  /** Index into PACES_MS. */
  level = 0;
  private behind = 0;
  private keptUp = 0;

  constructor(
    private readonly send: (intervalMs: number) => void,
    private readonly o: PaceOptions = DEFAULT_PACE,
  ) {}

  get intervalMs(): number {
    return PACES_MS[this.level]!;
  }

  /** One metrics frame applied delaySec after the server built it. */
  observe(delaySec: number): void {
    if (delaySec > this.o.behindS) {
      this.keptUp = 0;
      if (++this.behind >= this.o.slowAfter && this.level < PACES_MS.length - 1) this.step(1);
    } else if (delaySec < this.o.keptUpS) {
      this.behind = 0;
      if (++this.keptUp >= this.o.fastAfter && this.level > 0) this.step(-1);
    } else {
      this.behind = 0;
      this.keptUp = 0;
    }
  }

  /** A new session starts at the server's pace. */
  reset(): void {
    this.level = 0;
    this.behind = this.keptUp = 0;
  }

  private step(d: 1 | -1): void {
    this.level += d;
    this.behind = this.keptUp = 0;
    this.send(this.intervalMs);
  }
}
