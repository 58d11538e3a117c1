import { describe, expect, it } from 'vitest';
import type { Result } from './api';
import { alertEventsIn, alertView, FADE_AFTER_MS, firingCount, HIDE_AFTER_MS, isSnapshotFrame, mergeAlert, stripViews, type Alert } from './alerts';
import { AlertsModel, type AlertsApi } from './alerts.svelte';

const NOW = Date.parse('2026-03-10T14:35:00Z');

function alert(over: Partial<Alert>): Alert {
  return {
    id: 1,
    key: 'ticker_silent:connection_1:AAPL',
    kind: 'ticker_silent',
    connection: 'connection_1',
    ticker: 'AAPL',
    state: 'firing',
    since: 1773153139,
    fired_at: 1773153259,
    value: 161,
    threshold: 120,
    unit: 'seconds',
    message: 'no event for 2m41s',
    ...over,
  };
}

function ok<T>(data: T): Result<T> {
  return { ok: true, data } as Result<T>;
}

describe('alertEventsIn', () => {
  it('finds alert events and skips tick frames without parsing them', () => {
    const frame = JSON.stringify([{ event: 'tick_update', data: {} }, { event: 'alert', data: { ...alert({}), type: 'firing' } }]);
    expect(alertEventsIn(frame).map((e) => [e.type, e.id])).toEqual([['firing', 1]]);
    expect(alertEventsIn('[{"event":"tick_update","data":{}}]')).toEqual([]);
    expect(alertEventsIn('[{"event":"alert" broken')).toEqual([]);
    expect(alertEventsIn('[{"event":"alert","data":{"id":"x"}}]')).toEqual([]);
  });
  it('recognises snapshots', () => {
    expect(isSnapshotFrame('[{"event":"snapshot","data":{}}]')).toBe(true);
    expect(isSnapshotFrame('[{"event":"tick_update","data":{}}]')).toBe(false);
  });
});

describe('mergeAlert and counts', () => {
  it('replaces by id, keeps newest first, drops the event type', () => {
    let list = mergeAlert([], alert({ id: 1 }));
    list = mergeAlert(list, { ...alert({ id: 2, kind: 'drops' }), type: 'firing' } as Alert);
    list = mergeAlert(list, alert({ id: 1, state: 'resolved', resolved_at: 1773153290 }));
    expect(list.map((a) => [a.id, a.state])).toEqual([
      [2, 'firing'],
      [1, 'resolved'],
    ]);
    expect('type' in list[0]!).toBe(false);
    expect(firingCount(list)).toBe(1);
  });
});

describe('alertView and the strip', () => {
  it('says what, where and for how long', () => {
    const v = alertView(alert({}), NOW);
    expect(v.title).toBe('Ticker silent: AAPL · connection_1');
    expect(v.when).toBe('for 2m 41s');
    expect(v.firing && !v.faded && !v.acked).toBe(true);
  });
  it("titles a connection's ticker_silent group without a ticker", () => {
    const group = alert({
      key: 'ticker_silent:connection_2:*',
      connection: 'connection_2',
      ticker: undefined,
      value: 312,
      threshold: 5,
      unit: 'tickers',
      message: '312 tickers silent while connection_2 keeps ticking: AAPL, MSFT, NVDA and 309 more (more than 5 at once: one incident until all recover)',
    });
    delete group.ticker; // the API omits it
    const v = alertView(group, NOW);
    expect(v.title).toBe('Tickers silent: connection_2');
    expect(v.detail).toBe(group.message);
  });
  it('fades resolved ones after a while, then hides them; firing ones come first', () => {
    const resolvedAt = (ms: number) => (NOW - ms) / 1000;
    const list = [
      alert({ id: 5, state: 'resolved', resolved_at: resolvedAt(1000) }),
      alert({ id: 4, state: 'resolved', resolved_at: resolvedAt(FADE_AFTER_MS + 1) }),
      alert({ id: 3, state: 'resolved', resolved_at: resolvedAt(HIDE_AFTER_MS + 1) }),
      alert({ id: 2, acked_by: 'admin' }),
      alert({ id: 1 }),
    ];
    const views = stripViews(list, NOW);
    expect(views.map((v) => [v.id, v.firing, v.faded])).toEqual([
      [1, true, false],
      [2, true, false],
      [5, false, false],
      [4, false, true],
    ]);
    expect(views[1]!.acked && views[1]!.ackedBy === 'admin').toBe(true);
    expect(views[2]!.when).toBe('resolved 1s ago');
  });
});

describe('AlertsModel', () => {
  function fakeApi(list: Alert[]): AlertsApi & { loads: number; acked: number[] } {
    const api = {
      loads: 0,
      acked: [] as number[],
      alerts: async () => {
        api.loads++;
        return ok({ alerts: list, firing: firingCount(list) });
      },
      ackAlert: async (id: number) => {
        api.acked.push(id);
        return ok({ ...list.find((a) => a.id === id)!, acked_by: 'admin', acked_at: 1773153300 });
      },
    };
    return api;
  }
  it('loads, follows events, reloads on a snapshot and acknowledges', async () => {
    const api = fakeApi([alert({ id: 1 })]);
    const m = new AlertsModel(api);
    await m.load();
    expect(m.firing).toBe(1);
    m.onFrame(JSON.stringify([{ event: 'alert', data: { ...alert({ id: 1, state: 'resolved', resolved_at: 1773153299 }), type: 'resolved' } }]));
    expect(m.firing).toBe(0);
    // A group's count changes in place: an "updated" event replaces it by id.
    const group = alert({ id: 2, key: 'ticker_silent:connection_2:*', connection: 'connection_2', ticker: undefined, value: 6, unit: 'tickers' });
    m.onFrame(JSON.stringify([{ event: 'alert', data: { ...group, type: 'firing' } }]));
    m.onFrame(JSON.stringify([{ event: 'alert', data: { ...group, value: 312, message: '312 tickers silent', type: 'updated' } }]));
    expect(m.list.filter((a) => a.id === 2).map((a) => [a.value, a.message, a.state])).toEqual([[312, '312 tickers silent', 'firing']]);
    expect(m.firing).toBe(1);
    m.onFrame('[{"event":"tick_update","data":{}}]');
    expect(api.loads).toBe(1);
    m.onFrame('[{"event":"snapshot","data":{}}]');
    await Promise.resolve();
    expect(api.loads).toBe(2);
    await m.ack(1);
    expect(api.acked).toEqual([1]);
    expect(m.list[0]!.acked_by).toBe('admin');
  });
});
