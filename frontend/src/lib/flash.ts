// How much of a ticker table may flash at once. At market open nearly every
// visible row moves every frame; if all of them flash, the flash says
// nothing. The gate lets through at most `share` of the visible rows (and at
// least `min`) per window, first come first served, so a flash stays rare
// enough to draw the eye to the rows that move.

export class FlashGate {
  private windowStart = -Infinity;
  private used = 0;

  constructor(
    private readonly share = 0.15,
    private readonly windowMs = 500,
    private readonly min = 2,
  ) {}

  /** Whether a row may flash now, given how many rows are visible. */
  allow(nowMs: number, visibleRows: number): boolean {
    if (nowMs - this.windowStart >= this.windowMs) {
      this.windowStart = nowMs;
      this.used = 0;
    }
    const cap = Math.max(this.min, Math.ceil(visibleRows * this.share));
    if (this.used >= cap) return false;
    this.used++;
    return true;
  }
}
