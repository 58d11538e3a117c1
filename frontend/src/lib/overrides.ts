// How a connection's saved runtime changes are shown: "added at runtime by
// admin, 2026-12-01". Pure, so the wording is tested without a component.

import type { EnabledChangeDoc, OverridesDoc, TickerChangeDoc } from './types';

export function emptyOverrides(): OverridesDoc {
  return { added: [], removed: [], enabled: null };
}

/** The calendar day of a Unix-seconds time, as YYYY-MM-DD in UTC (the server's clock). */
export function day(at: number): string {
  if (!Number.isFinite(at) || at <= 0) return '—';
  return new Date(at * 1000).toISOString().slice(0, 10);
}

export function tickerNote(c: TickerChangeDoc, verb: 'added' | 'removed'): string {
  return `${verb} at runtime by ${c.by || 'unknown'}, ${day(c.at)}`;
}

export function enabledNote(e: EnabledChangeDoc): string {
  return `${e.enabled ? 'enabled' : 'disabled'} at runtime by ${e.by || 'unknown'}, ${day(e.at)}`;
}

/** Symbol -> tooltip for each runtime-added ticker. */
export function addedNotes(o: OverridesDoc): Map<string, string> {
  return new Map(o.added.map((c) => [c.symbol, tickerNote(c, 'added')]));
}

/** Whether the connection differs from its configuration (so "Reset to configured" has work to do). */
export function hasOverrides(o: OverridesDoc): boolean {
  return o.added.length > 0 || o.removed.length > 0 || o.enabled !== null;
}

/** One line for the column: "2 added, 1 removed, disabled at runtime". */
export function overridesSummary(o: OverridesDoc): string {
  const parts: string[] = [];
  if (o.added.length) parts.push(`${o.added.length} added`);
  if (o.removed.length) parts.push(`${o.removed.length} removed`);
  if (o.enabled) parts.push(o.enabled.enabled ? 'enabled' : 'disabled');
  return parts.length ? `${parts.join(', ')} at runtime` : '';
}
