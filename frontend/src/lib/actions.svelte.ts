// Progress and result of one user action (reconnect, enable, add tickers...),
// so every button can show "working…" and then what happened.

import type { Result } from './api';

export interface ActionResult {
  ok: boolean;
  message: string;
  at: number;
}

export class ActionRunner {
  /** Label of the action in flight, null when idle. */
  pending = $state<string | null>(null);
  result = $state<ActionResult | null>(null);

  constructor(private readonly now: () => number = Date.now) {}

  get busy(): boolean {
    return this.pending !== null;
  }

  /**
   * Runs fn unless another action of this runner is in flight. The success
   * text is built from the response; failures show the server's message.
   */
  async run<T>(label: string, fn: () => Promise<Result<T>>, success: (data: T) => string): Promise<Result<T> | null> {
    if (this.pending !== null) return null;
    this.pending = label;
    this.result = null;
    try {
      const r = await fn();
      this.result = r.ok ? { ok: true, message: success(r.data), at: this.now() } : { ok: false, message: r.message, at: this.now() };
      return r;
    } catch (e) {
      this.result = { ok: false, message: e instanceof Error ? e.message : String(e), at: this.now() };
      return null;
    } finally {
      this.pending = null;
    }
  }

  clear(): void {
    this.result = null;
  }
}

export interface ConfirmRequest {
  title: string;
  body: string;
  confirmLabel: string;
  danger?: boolean;
}

/** A promise-returning confirmation prompt; a dialog component renders `request`. */
export class Confirmer {
  request = $state<ConfirmRequest | null>(null);
  private resolve: ((yes: boolean) => void) | null = null;

  ask(req: ConfirmRequest): Promise<boolean> {
    // A new question cancels an unanswered one.
    this.resolve?.(false);
    this.request = req;
    return new Promise<boolean>((res) => {
      this.resolve = res;
    });
  }

  answer(yes: boolean): void {
    const r = this.resolve;
    this.resolve = null;
    this.request = null;
    r?.(yes);
  }
}
