// Honest freshness: how far the server's clock is from ours, and how old
// what the page shows is.
//
// The offset comes from frames that carry the server's clock (snapshot's
// status.server_time, and every metrics_update's server_time, once a second)
// against our clock when the frame ARRIVED. A frame that waited anywhere (a
// server queue, the network, our busy main thread) makes server_time - arrival
// smaller than the true offset, never larger; so the best estimate is the
// largest observation of a recent window. A late snapshot therefore cannot
// drag the offset (and every Age cell) back by its own delay.

export interface ClockSample {
  /** server_time - arrival, seconds. */
  offset: number;
  /** Arrival on our clock, ms. */
  at: number;
}

export class ServerClock {
  private samples: ClockSample[] = [];
  /** Server clock minus ours, seconds (0 before any sample). */
  offset = 0;

  /** Window of samples kept (ms): long enough to hold a prompt frame, short enough to follow clock steps. */
  constructor(private readonly windowMs = 30_000) {}

  observe(serverTimeSec: number, arrivedMs: number): void {
    if (!Number.isFinite(serverTimeSec) || serverTimeSec <= 0) return;
    this.samples.push({ offset: serverTimeSec - arrivedMs / 1000, at: arrivedMs });
    const cut = arrivedMs - this.windowMs;
    while (this.samples.length > 1 && this.samples[0]!.at < cut) this.samples.shift();
    let best = -Infinity;
    for (const s of this.samples) if (s.offset > best) best = s.offset;
    this.offset = best;
  }

  /** The server's time now, Unix seconds, given our clock in ms. */
  serverNow(nowMs: number): number {
    return nowMs / 1000 + this.offset;
  }
}

/** How far behind "Live" may be (seconds): metrics frames come once a second. */
export const LIVE_WITHIN_S = 1.5;
/** Behind by more than this (seconds) is red, not amber. */
export const BEHIND_BAD_S = 10;

export interface Freshness {
  /** Seconds between the server's now and the newest thing shown; null before any. */
  lag: number | null;
  tone: 'ok' | 'warn' | 'bad';
}

export function freshness(serverNowSec: number, newestShownSec: number): Freshness {
  if (!newestShownSec) return { lag: null, tone: 'ok' };
  const lag = Math.max(0, serverNowSec - newestShownSec);
  return { lag, tone: lag <= LIVE_WITHIN_S ? 'ok' : lag <= BEHIND_BAD_S ? 'warn' : 'bad' };
}
