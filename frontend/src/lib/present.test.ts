import { describe, expect, it } from 'vitest';
import type { LinkInfo } from './liveLink';
import { sinkDoc } from './fixtures';
import { connectionColour, CONNECTION_COLOURS, isStale, linkView, sinkView, statusView } from './present';

describe('statusView', () => {
  it.each<[string, boolean, string, string]>([
    ['connected', true, 'ok', 'Connected'],
    ['connecting', true, 'warn', 'Connecting'],
    ['disconnected', true, 'bad', 'Disconnected'],
    ['error', true, 'bad', 'Error'],
    ['connected', false, 'off', 'Disabled'],
    ['authenticating', true, 'warn', 'Authenticating'],
    ['', true, 'warn', 'Unknown'],
  ])('%s enabled=%s', (s, en, tone, label) => {
    const v = statusView(s, en);
    expect([v.tone, v.label]).toEqual([tone, label]);
  });
  it('uses a distinct glyph per state', () => {
    const glyphs = ['connected', 'connecting', 'disconnected', 'error'].map((s) => statusView(s, true).glyph);
    glyphs.push(statusView('connected', false).glyph);
    expect(new Set(glyphs).size).toBe(5);
  });
});

describe('linkView', () => {
  const base: LinkInfo = { state: 'live', attempt: 0, retryAt: null, lastMessageAt: 10_000, lastCloseCode: null };
  it('is live while messages flow', () => expect(linkView(base, 12_000)).toMatchObject({ tone: 'ok', label: 'Live' }));
  it('says stale for N s when an open link goes quiet', () =>
    expect(linkView(base, 22_500)).toMatchObject({ tone: 'warn', label: 'Stale for 12s' }));
  it.each([
    { name: 'live within 1.5 s', fresh: { lag: 1.2, tone: 'ok' as const }, pace: 0, want: { tone: 'ok', label: 'Live', detail: '' } },
    { name: 'behind, amber', fresh: { lag: 12.4, tone: 'warn' as const }, pace: 0, want: { tone: 'warn', label: 'Behind 12s', detail: 'updates arrive late' } },
    { name: 'behind, red', fresh: { lag: 75, tone: 'bad' as const }, pace: 0, want: { tone: 'bad', label: 'Behind 1m 15s' } },
    { name: 'behind and slowed', fresh: { lag: 3, tone: 'warn' as const }, pace: 500, want: { label: 'Behind 3s', detail: 'updates slowed to every 500 ms to keep up' } },
    { name: 'live and slowed', fresh: { lag: 0.2, tone: 'ok' as const }, pace: 1000, want: { label: 'Live', detail: 'updates slowed to every 1 s to keep up' } },
    { name: 'nothing shown yet', fresh: { lag: null, tone: 'ok' as const }, pace: 0, want: { label: 'Live' } },
  ])('freshness: $name', ({ fresh, pace, want }) => expect(linkView(base, 12_000, 5000, fresh, pace)).toMatchObject(want));
  it('says behind, not stale, when an open link goes quiet and its data ages', () =>
    expect(linkView(base, 22_500, 5000, { lag: 12.5, tone: 'bad' })).toEqual({ tone: 'bad', label: 'Behind 12s', detail: 'connected, but no updates arrive' }));
  it('shows attempt, countdown and data age while reconnecting', () =>
    expect(linkView({ ...base, state: 'reconnecting', attempt: 3, retryAt: 14_100 }, 12_000)).toEqual({
      tone: 'bad',
      label: 'Reconnecting',
      detail: 'attempt 3 · retry in 3s · data 2s old',
    }));
  it('says retrying now when the timer is due', () =>
    expect(linkView({ ...base, state: 'reconnecting', attempt: 1, retryAt: 11_000, lastMessageAt: null }, 12_000).detail).toBe(
      'attempt 1 · retrying now',
    ));
  it('covers connecting and closed', () => {
    expect(linkView({ ...base, state: 'connecting', lastMessageAt: null }, 0).label).toBe('Connecting…');
    expect(linkView({ ...base, state: 'closed' }, 0).tone).toBe('off');
  });
});

describe('connectionColour', () => {
  it('cycles through the palette by id', () => {
    expect(connectionColour(1)).toBe(CONNECTION_COLOURS[0]);
    expect(connectionColour(2)).toBe(CONNECTION_COLOURS[1]);
    expect(connectionColour(CONNECTION_COLOURS.length + 1)).toBe(CONNECTION_COLOURS[0]);
    expect(connectionColour(0)).toBe(CONNECTION_COLOURS[CONNECTION_COLOURS.length - 1]);
  });
});

describe('isStale', () => {
  it.each<[number, number, boolean, boolean, boolean]>([
    [100, 105, true, true, false],
    [100, 111, true, true, true],
    [100, 500, false, false, false],
    [0, 500, true, true, true],
    [0, 500, true, false, false],
  ])('last=%d now=%d enabled=%s connected=%s -> %s', (l, n, e, c, want) => expect(isStale(l, n, e, c)).toBe(want));
});

describe('sinkView', () => {
  it.each<[string, string, string]>([
    ['connected', 'ok', 'Connected'],
    ['connecting', 'warn', 'Connecting'],
    ['reconnecting', 'warn', 'Reconnecting'],
    ['down', 'bad', 'Down'],
    ['paused', 'warn', 'Paused'],
  ])('%s', (state, tone, label) => expect(sinkView(sinkDoc({ state }))).toMatchObject({ title: 'Redis', tone, label }));
  it('uses a distinct glyph per state, so colour is not the only signal', () => {
    const glyphs = ['connected', 'connecting', 'reconnecting', 'down'].map((state) => sinkView(sinkDoc({ state })).glyph);
    expect(new Set(glyphs).size).toBe(4);
  });
  it('carries the error and the queue fill', () => {
    const v = sinkView(sinkDoc({ state: 'down', last_error: 'dial tcp: connection refused', queue_depth: 900, queue_capacity: 1024 }));
    expect(v).toMatchObject({ error: 'dial tcp: connection refused', queue: '900 / 1,024', queueHigh: true });
    expect(sinkView(sinkDoc({ queue_depth: 3 }))).toMatchObject({ error: '', queue: '3 / 1,024', queueHigh: false });
  });
});
