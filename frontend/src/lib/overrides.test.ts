import { describe, expect, it } from 'vitest';
import { addedNotes, day, emptyOverrides, enabledNote, hasOverrides, overridesSummary, tickerNote } from './overrides';

// 2026-12-01T10:00:00.5Z
const at = 1796119200.5;

describe('overrides', () => {
  it('words a runtime change with who and the day', () => {
    expect(tickerNote({ symbol: 'TSLA', by: 'admin', at }, 'added')).toBe('added at runtime by admin, 2026-12-01');
    expect(tickerNote({ symbol: 'GOOGL', by: '', at }, 'removed')).toBe('removed at runtime by unknown, 2026-12-01');
    expect(enabledNote({ enabled: false, by: 'ops', at })).toBe('disabled at runtime by ops, 2026-12-01');
  });

  it('gives no date for a missing time', () => {
    expect(day(0)).toBe('—');
    expect(day(Number.NaN)).toBe('—');
  });

  it('maps added symbols to their tooltip', () => {
    const m = addedNotes({ added: [{ symbol: 'TSLA', by: 'admin', at }], removed: [{ symbol: 'X', by: 'a', at }], enabled: null });
    expect([...m.entries()]).toEqual([['TSLA', 'added at runtime by admin, 2026-12-01']]);
  });

  it('summarises and detects changes', () => {
    expect(hasOverrides(emptyOverrides())).toBe(false);
    expect(overridesSummary(emptyOverrides())).toBe('');
    const o = { added: [{ symbol: 'A', by: 'x', at }, { symbol: 'B', by: 'x', at }], removed: [{ symbol: 'C', by: 'x', at }], enabled: { enabled: false, by: 'x', at } };
    expect(hasOverrides(o)).toBe(true);
    expect(overridesSummary(o)).toBe('2 added, 1 removed, disabled at runtime');
    expect(hasOverrides({ ...emptyOverrides(), enabled: { enabled: true, by: 'x', at } })).toBe(true);
  });
});
