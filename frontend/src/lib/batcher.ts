// Applies incoming events at most once per animation frame: frames from the
// socket are folded into a PendingBatch and one flush per frame hands the
// batch to the model, so 5,000 ticks/s cost 60 DOM updates per second per
// row at most, not 5,000.

import { parseFrame, PendingBatch, type Batch } from './coalesce';
import type { ServerEvent } from './types';

export interface Scheduler {
  request: (cb: () => void) => unknown;
  cancel: (handle: unknown) => void;
}

export const animationFrames = (): Scheduler => ({
  request: (cb) => requestAnimationFrame(() => cb()),
  cancel: (h) => cancelAnimationFrame(h as number),
});

export interface BatcherHooks {
  /** A frame stamped with the server's clock arrived (server Unix s, our ms): for the clock offset. */
  onServerTime?: (serverTimeSec: number, arrivedMs: number) => void;
  now?: () => number;
}

export class FrameBatcher {
  private readonly pending: PendingBatch;
  private handle: unknown = null;
  private disposed = false;
  private readonly now: () => number;

  constructor(
    private readonly onFlush: (b: Batch) => void,
    private readonly scheduler: Scheduler = animationFrames(),
    recentCap = 50,
    private readonly hooks: BatcherHooks = {},
  ) {
    this.pending = new PendingBatch(recentCap);
    this.now = hooks.now ?? Date.now;
  }

  /** Parses and queues one raw socket frame. */
  pushFrame(data: string): void {
    this.push(parseFrame(data));
  }

  /**
   * Queues events for the next animation frame. A status change does not
   * wait for it: it is applied at once, with whatever is pending before it,
   * so a dead connection shows as dead within the frame it arrived in.
   */
  push(events: readonly ServerEvent[]): void {
    if (this.disposed || events.length === 0) return;
    let urgent = false;
    const onTime = this.hooks.onServerTime;
    for (const e of events) {
      this.pending.add(e);
      if (e.event === 'connection_status_update') urgent = true;
      else if (onTime && e.event === 'metrics_update' && e.data.server_time) onTime(e.data.server_time, this.now());
      else if (onTime && e.event === 'snapshot' && e.data.status.server_time) onTime(e.data.status.server_time, this.now());
    }
    if (urgent) {
      if (this.handle !== null) this.scheduler.cancel(this.handle);
      this.flush();
      return;
    }
    if (this.handle === null) this.handle = this.scheduler.request(() => this.flush());
  }

  /** Applies whatever is pending now (also used by tests and on teardown). */
  flush(): void {
    this.handle = null;
    if (this.disposed || this.pending.size === 0) return;
    this.onFlush(this.pending.take());
  }

  dispose(): void {
    this.disposed = true;
    if (this.handle !== null) this.scheduler.cancel(this.handle);
    this.handle = null;
  }
}
