import { describe, expect, it } from 'vitest';
import type { Result } from './api';
import { ActionRunner, Confirmer } from './actions.svelte';
import { Clock } from './clock.svelte';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const p = new Promise<T>((r) => (resolve = r));
  return { p, resolve };
}

describe('ActionRunner', () => {
  it('shows progress then the success message', async () => {
    const a = new ActionRunner(() => 42);
    const d = deferred<Result<{ status: string }>>();
    const run = a.run('Reconnecting', () => d.p, (x) => `now ${x.status}`);
    expect(a.pending).toBe('Reconnecting');
    expect(a.busy).toBe(true);
    d.resolve({ ok: true, status: 200, data: { status: 'connecting' } });
    await run;
    expect(a.pending).toBeNull();
    expect(a.result).toEqual({ ok: true, message: 'now connecting', at: 42 });
  });

  it('shows the server message on failure', async () => {
    const a = new ActionRunner(() => 1);
    await a.run(
      'Adding',
      async () => ({ ok: false, kind: 'conflict', status: 409, message: 'AAPL is already on connection_1', error: '', detail: '', retryAfter: null }),
      () => 'ok',
    );
    expect(a.result).toEqual({ ok: false, message: 'AAPL is already on connection_1', at: 1 });
  });

  it('refuses a second action while one runs, and survives a throw', async () => {
    const a = new ActionRunner();
    const d = deferred<Result<null>>();
    const first = a.run('one', () => d.p, () => 'done');
    expect(await a.run('two', async () => ({ ok: true, status: 200, data: null }), () => 'x')).toBeNull();
    d.resolve({ ok: true, status: 200, data: null });
    await first;
    await a.run('boom', () => Promise.reject(new Error('kaput')), () => '');
    expect(a.result?.message).toBe('kaput');
    expect(a.pending).toBeNull();
    a.clear();
    expect(a.result).toBeNull();
  });
});

describe('Confirmer', () => {
  it('resolves with the answer and clears the request', async () => {
    const c = new Confirmer();
    const p = c.ask({ title: 'Disable?', body: 'b', confirmLabel: 'Disable', danger: true });
    expect(c.request?.title).toBe('Disable?');
    c.answer(true);
    expect(await p).toBe(true);
    expect(c.request).toBeNull();
  });
  it('a new question cancels the previous one', async () => {
    const c = new Confirmer();
    const p1 = c.ask({ title: '1', body: '', confirmLabel: 'y' });
    const p2 = c.ask({ title: '2', body: '', confirmLabel: 'y' });
    expect(await p1).toBe(false);
    c.answer(false);
    expect(await p2).toBe(false);
  });
});

describe('Clock', () => {
  it('reads time on tick', () => {
    let t = 5;
    const c = new Clock(() => t);
    expect(c.now).toBe(5);
    t = 9;
    c.tick();
    expect(c.now).toBe(9);
    c.start(1000);
    c.start(1000);
    c.stop();
    c.stop();
  });
});
