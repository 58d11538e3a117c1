// A secret shown once (a new API token, a new consumer key): the record
// the server answered with, Copy to the clipboard, and forgetting it. Kept
// in one place so every "you will not see it again" behaves the same.

export interface ClipboardLike {
  writeText(text: string): Promise<void>;
}

export type CopyState = 'idle' | 'copied' | 'failed';

export class ShownOnce<T> {
  /** The record with its plaintext; null once dismissed and never kept anywhere else. */
  value = $state<T | null>(null);
  copy = $state<CopyState>('idle');

  constructor(
    private readonly clipboard: ClipboardLike | null,
    private readonly secretOf: (v: T) => string,
  ) {}

  show(v: T): void {
    this.value = v;
    this.copy = 'idle';
  }

  async copySecret(): Promise<void> {
    if (this.value === null) return;
    if (!this.clipboard) {
      this.copy = 'failed';
      return;
    }
    try {
      await this.clipboard.writeText(this.secretOf(this.value));
      this.copy = 'copied';
    } catch {
      this.copy = 'failed';
    }
  }

  /** Forgets the plaintext: after this nobody can see it again. */
  dismiss(): void {
    this.value = null;
    this.copy = 'idle';
  }
}
