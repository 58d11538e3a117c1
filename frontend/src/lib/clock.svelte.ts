// One shared, coarse clock for relative times: every "12s ago" on the page
// re-renders once per second off this single source instead of each row
// running its own timer.

export class Clock {
  now = $state(Date.now());
  private handle: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly read: () => number = Date.now) {
    this.now = read();
  }

  start(intervalMs = 1000): void {
    if (this.handle !== null) return;
    this.handle = setInterval(() => this.tick(), intervalMs);
  }

  tick(): void {
    this.now = this.read();
  }

  stop(): void {
    if (this.handle !== null) clearInterval(this.handle);
    this.handle = null;
  }
}
