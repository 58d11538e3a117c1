import { describe, expect, it } from 'vitest';
import { adminWsUrl, LiveLink, type LinkInfo, type SocketLike } from './liveLink';

class FakeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: string[] = [];
  closedWith: number | undefined | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(data);
  }
  close(code?: number) {
    this.closedWith = code;
  }
  // server side helpers
  open() {
    this.onopen?.({});
  }
  msg(data: unknown) {
    this.onmessage?.({ data });
  }
  drop(code = 1006) {
    this.onclose?.({ code });
  }
}

function harness(random = 0.5) {
  let clock = 1_000_000;
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; at: number; id: number }[] = [];
  let nextId = 1;
  const states: LinkInfo[] = [];
  const messages: string[] = [];
  const failed: LinkInfo[] = [];
  let ended = 0;
  const link = new LiveLink({
    onSessionEnded: () => ended++,
    url: 'ws://h/admin-ws',
    onMessage: (d) => messages.push(d),
    onState: (i) => states.push(i),
    onFailedAttempt: (i) => failed.push(i),
    deps: {
      createSocket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      setTimeout: (fn, ms) => {
        const t = { fn, at: clock + ms, id: nextId++ };
        timers.push(t);
        return t.id;
      },
      clearTimeout: (h) => {
        const i = timers.findIndex((t) => t.id === h);
        if (i >= 0) timers.splice(i, 1);
      },
      now: () => clock,
      random: () => random,
    },
  });
  const fire = () => {
    const t = timers.shift();
    if (!t) throw new Error('no timer pending');
    clock = t.at;
    t.fn();
    return t;
  };
  const last = () => sockets[sockets.length - 1]!;
  return { link, sockets, timers, states, messages, failed, fire, last, advance: (ms: number) => (clock += ms), ended: () => ended };
}

describe('adminWsUrl', () => {
  it('follows the page scheme', () => {
    expect(adminWsUrl({ protocol: 'http:', host: 'localhost:8080' })).toBe('ws://localhost:8080/admin-ws');
    expect(adminWsUrl({ protocol: 'https:', host: 'tw.example' })).toBe('wss://tw.example/admin-ws');
  });
});

describe('LiveLink', () => {
  it('connects, goes live on open and forwards string frames only', () => {
    const h = harness();
    h.link.start();
    expect(h.sockets).toHaveLength(1);
    expect(h.link.state.state).toBe('connecting');
    h.last().open();
    expect(h.link.state.state).toBe('live');
    h.last().msg('[{"event":"snapshot"}]');
    h.last().msg(new ArrayBuffer(2));
    expect(h.messages).toEqual(['[{"event":"snapshot"}]']);
    expect(h.link.state.lastMessageAt).toBe(1_000_000);
  });

  it('reconnects with growing full-jitter delays and reports the attempt', () => {
    const h = harness(0.5);
    h.link.start();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      h.last().drop(1006);
      expect(h.link.state.state).toBe('reconnecting');
      expect(h.link.state.attempt).toBe(i + 1);
      const t = h.timers[0]!;
      expect(h.link.state.retryAt).toBe(t.at);
      const before = h.fire();
      delays.push(before.at);
    }
    // random 0.5 -> half of 500 * 2^n, capped at 15000
    const gaps = delays.map((at, i) => (i === 0 ? at - 1_000_000 : at - delays[i - 1]!));
    expect(gaps).toEqual([250, 500, 1000, 2000, 4000, 7500, 7500]);
    expect(h.sockets).toHaveLength(8);
  });

  it('stops and reports when the server ends the login session (4001)', () => {
    const h = harness();
    h.link.start();
    h.last().open();
    h.last().msg('[]');
    h.last().drop(4001);
    expect(h.ended()).toBe(1);
    expect(h.link.state.state).toBe('closed');
    expect(h.link.state.lastCloseCode).toBe(4001);
    expect(h.timers).toHaveLength(0); // no reconnect: the cookie is no good any more
  });

  it('reports attempts that never opened (so the page can check its session)', () => {
    const h = harness();
    h.link.start();
    h.last().drop(1006);
    expect(h.failed).toHaveLength(1);
    h.fire();
    h.last().open();
    h.last().msg('[]');
    h.last().drop(1001);
    expect(h.failed).toHaveLength(1);
    expect(h.link.state.lastCloseCode).toBe(1001);
  });

  it('resets the backoff only after the server has sent something', () => {
    const h = harness(0.5);
    h.link.start();
    h.last().drop();
    h.fire();
    h.last().open(); // accepted, then hung up without a word
    h.last().drop();
    expect(h.link.state.attempt).toBe(2);
    h.fire();
    h.last().open();
    h.last().msg('[]');
    expect(h.link.state.attempt).toBe(0);
    h.last().drop();
    expect(h.link.state.attempt).toBe(1);
    expect(h.timers[0]!.at - h.link.state.retryAt!).toBe(0);
  });

  it('stop closes the socket, cancels the retry and stays closed', () => {
    const h = harness();
    h.link.start();
    h.last().drop();
    expect(h.timers).toHaveLength(1);
    h.link.stop();
    expect(h.timers).toHaveLength(0);
    expect(h.link.state.state).toBe('closed');

    const h2 = harness();
    h2.link.start();
    const s = h2.last();
    s.open();
    h2.link.stop();
    expect(s.closedWith).toBe(1000);
    s.drop(1000); // late close event after stop: handlers were detached
    expect(h2.timers).toHaveLength(0);
    expect(h2.link.state.state).toBe('closed');
  });

  it('send only works while live', () => {
    const h = harness();
    h.link.start();
    expect(h.link.send({ event: 'request_metrics' })).toBe(false);
    h.last().open();
    expect(h.link.send({ event: 'request_metrics' })).toBe(true);
    expect(h.last().sent).toEqual(['{"event":"request_metrics"}']);
  });

  it('reconnectNow replaces the socket at once and cancels a pending retry', () => {
    const h = harness();
    h.link.start();
    h.last().drop();
    expect(h.timers).toHaveLength(1);
    h.link.reconnectNow();
    expect(h.timers).toHaveLength(0);
    expect(h.sockets).toHaveLength(2);
    expect(h.link.state.state).toBe('reconnecting');
  });

  it('survives a constructor that throws', () => {
    const h = harness();
    let calls = 0;
    const link = new LiveLink({
      url: 'ws://x',
      onMessage: () => {},
      onState: () => {},
      deps: {
        createSocket: () => {
          calls++;
          throw new Error('SecurityError');
        },
        setTimeout: () => 1,
        clearTimeout: () => {},
        now: () => 0,
        random: () => 0,
      },
    });
    link.start();
    expect(calls).toBe(1);
    expect(link.state.state).toBe('reconnecting');
    expect(h.sockets).toHaveLength(0);
  });
});
