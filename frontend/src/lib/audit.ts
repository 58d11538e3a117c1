// The audit view's query building and wording. Pure; the paging state is
// in audit.svelte.ts.

import type { AuditEntry } from './types';

export interface AuditFilters {
  user: string;
  action: string;
  /** "" for all, else a connection number ("2"). */
  connection: string;
}

export const AUDIT_ACTIONS = ['subscribe', 'unsubscribe', 'enable', 'disable', 'reset', 'reconnect'] as const;

export const AUDIT_PAGE = 50;

export function emptyFilters(): AuditFilters {
  return { user: '', action: '', connection: '' };
}

/** GET path for one page: filters (trimmed, empty ones left out), then the cursor. */
export function auditPath(f: AuditFilters, before: number | null = null, limit = AUDIT_PAGE): string {
  const q = new URLSearchParams();
  q.set('limit', String(limit));
  const user = f.user.trim();
  if (user) q.set('user', user);
  if (f.action) q.set('action', f.action);
  if (f.connection) q.set('connection', f.connection);
  if (before !== null) q.set('before', String(before));
  return `/api/admin/audit?${q.toString()}`;
}

/** The time of an entry as "2026-12-01 10:00:00" (UTC, as the server stamps it). */
export function auditTime(t: number): string {
  if (!Number.isFinite(t) || t <= 0) return '—';
  return new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

export function isFailure(e: AuditEntry): boolean {
  return e.result !== 'ok';
}
