import { describe, expect, it } from 'vitest';
import { Api, type FetchLike } from './api';
import { auditPath, auditTime, emptyFilters } from './audit';
import { AuditList } from './audit.svelte';
import type { AuditEntry } from './types';

function entry(id: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return { id, time: 1796119200 + id, user: 'admin', role: 'admin', action: 'subscribe', target: 'connection_1', result: 'ok', detail: '', client_ip: '127.0.0.1', ...over };
}

/** A server that answers audit pages from a list, newest first, honouring limit/before/filters. */
function server(all: AuditEntry[], calls: string[]): FetchLike {
  return async (input) => {
    calls.push(input);
    const q = new URL(input, 'http://x').searchParams;
    if (q.get('user') === 'bad') return new Response(JSON.stringify({ error: 'invalid user', detail: 'nope' }), { status: 400 });
    const limit = Number(q.get('limit'));
    const before = q.get('before') ? Number(q.get('before')) : Infinity;
    const match = all
      .filter((e) => e.id < before)
      .filter((e) => !q.get('action') || e.action === q.get('action'))
      .filter((e) => !q.get('connection') || e.target === `connection_${q.get('connection')}`);
    const page = match.slice(0, limit);
    const next = match.length > limit ? page[page.length - 1]!.id : null;
    return new Response(JSON.stringify({ entries: page, next_before: next }), { status: 200 });
  };
}

describe('auditPath', () => {
  it('leaves out empty filters and trims the user', () => {
    expect(auditPath(emptyFilters())).toBe('/api/admin/audit?limit=50');
    expect(auditPath({ user: ' bob ', action: 'reset', connection: '2' }, 41, 10)).toBe('/api/admin/audit?limit=10&user=bob&action=reset&connection=2&before=41');
  });
  it('formats times in UTC', () => {
    expect(auditTime(1796119200.5)).toBe('2026-12-01 10:00:00');
    expect(auditTime(0)).toBe('—');
  });
});

describe('AuditList', () => {
  const all = Array.from({ length: 5 }, (_, i) => entry(5 - i, { action: i % 2 ? 'reset' : 'subscribe', target: `connection_${(i % 2) + 1}` }));

  it('pages with Older until the last page', async () => {
    const calls: string[] = [];
    const list = new AuditList(new Api({}, server(all, calls)), 2);
    await list.load(emptyFilters());
    expect(list.entries.map((e) => e.id)).toEqual([5, 4]);
    expect(list.hasOlder).toBe(true);
    await list.older();
    await list.older();
    expect(list.entries.map((e) => e.id)).toEqual([5, 4, 3, 2, 1]);
    expect(list.hasOlder).toBe(false);
    await list.older(); // nothing more to ask
    expect(calls).toEqual(['/api/admin/audit?limit=2', '/api/admin/audit?limit=2&before=4', '/api/admin/audit?limit=2&before=2']);
  });

  it('filters, and a new filter replaces the list', async () => {
    const list = new AuditList(new Api({}, server(all, [])), 10);
    await list.load(emptyFilters());
    await list.load({ user: '', action: 'reset', connection: '2' });
    expect(list.entries.map((e) => e.id)).toEqual([4, 2]);
    expect(list.hasOlder).toBe(false);
  });

  it('shows the server message on error and keeps the old entries', async () => {
    const list = new AuditList(new Api({}, server(all, [])), 10);
    await list.load(emptyFilters());
    await list.load({ user: 'bad', action: '', connection: '' });
    expect(list.error).toBe('nope');
    expect(list.entries).toHaveLength(5);
    expect(list.loading).toBe(false);
  });

  it('drops an answer for filters that changed meanwhile', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const inner = server(all, []);
    const slow: FetchLike = async (input, init) => {
      if (input.includes('action=subscribe')) await gate;
      return inner(input, init);
    };
    const list = new AuditList(new Api({}, slow), 10);
    const first = list.load({ user: '', action: 'subscribe', connection: '' });
    await list.load({ user: '', action: 'reset', connection: '' });
    release();
    await first;
    expect(list.entries.every((e) => e.action === 'reset')).toBe(true);
  });
});
