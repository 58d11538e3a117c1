// The page's own link to /admin-ws: one WebSocket, reconnected with
// exponential backoff and full jitter after any drop. It knows nothing about
// events; it hands raw frames to onMessage and reports its state.

import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';

export type LinkState = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface LinkInfo {
  state: LinkState;
  /** Failed attempts since the last good session (0 while live). */
  attempt: number;
  /** When the next connection attempt starts (ms epoch), while reconnecting. */
  retryAt: number | null;
  /** When the last frame arrived (ms epoch), null before the first. */
  lastMessageAt: number | null;
  /** Close code of the last drop, null before any. */
  lastCloseCode: number | null;
}

/** The slice of the browser WebSocket that the link uses (so tests can fake it). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface LinkDeps {
  createSocket: (url: string) => SocketLike;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  now: () => number;
  random: () => number;
}

export interface LinkOptions {
  url: string;
  onMessage: (data: string) => void;
  onState: (info: LinkInfo) => void;
  /** Called when a connection attempt failed before it ever opened (e.g. 401 at upgrade). */
  onFailedAttempt?: (info: LinkInfo) => void;
  /**
   * Called when the server closed the socket because the login session ended
   * (4001: logout elsewhere, revoked by an admin, the account changed). The link
   * stops: reconnecting with the same cookie cannot succeed.
   */
  onSessionEnded?: () => void;
  backoff?: BackoffOptions;
  deps?: Partial<LinkDeps>;
}

/** Close code of a socket whose login session ended (server: live.CloseSessionEnded). */
export const CLOSE_SESSION_ENDED = 4001;

export function adminWsUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/admin-ws`;
}

const browserDeps = (): LinkDeps => ({
  createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
  random: Math.random,
});

export class LiveLink {
  private readonly o: LinkOptions;
  private readonly d: LinkDeps;
  private socket: SocketLike | null = null;
  private timer: unknown = null;
  private stopped = true;
  private opened = false;
  private gotMessage = false;
  private info: LinkInfo = { state: 'closed', attempt: 0, retryAt: null, lastMessageAt: null, lastCloseCode: null };

  constructor(o: LinkOptions) {
    this.o = o;
    this.d = { ...browserDeps(), ...o.deps };
  }

  get state(): LinkInfo {
    return this.info;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.info = { ...this.info, attempt: 0 };
    this.connect('connecting');
  }

  stop(): void {
    this.stopped = true;
    this.dropSocket('page closed');
    this.set({ state: 'closed', retryAt: null });
  }

  /** Cancels a pending retry and closes the current socket, if any, without reacting to its close. */
  private dropSocket(reason: string): void {
    if (this.timer !== null) this.d.clearTimeout(this.timer);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    if (!s) return;
    this.detach(s);
    try {
      s.close(1000, reason);
    } catch {
      // Already closing; nothing to do.
    }
  }

  /** Sends a JSON message if the socket is open; returns whether it was handed over. */
  send(msg: unknown): boolean {
    if (!this.socket || this.info.state !== 'live') return false;
    try {
      this.socket.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  /** Drops the current socket and connects again at once (manual "retry now"). */
  reconnectNow(): void {
    if (this.stopped) return;
    this.dropSocket('reconnect');
    this.connect('reconnecting');
  }

  private set(patch: Partial<LinkInfo>): void {
    this.info = { ...this.info, ...patch };
    this.o.onState(this.info);
  }

  private detach(s: SocketLike): void {
    s.onopen = s.onmessage = s.onclose = s.onerror = null;
  }

  private connect(state: 'connecting' | 'reconnecting'): void {
    this.timer = null;
    this.opened = false;
    this.gotMessage = false;
    let s: SocketLike;
    try {
      s = this.d.createSocket(this.o.url);
    } catch {
      this.set({ state, retryAt: null });
      this.scheduleRetry(null);
      return;
    }
    this.socket = s;
    this.set({ state, retryAt: null });
    s.onopen = () => {
      this.opened = true;
      this.set({ state: 'live', retryAt: null });
    };
    s.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      // A session only counts as good once the server has said something:
      // an endpoint that accepts and then hangs up must still back off.
      if (!this.gotMessage) {
        this.gotMessage = true;
        this.info = { ...this.info, attempt: 0 };
      }
      this.info = { ...this.info, lastMessageAt: this.d.now() };
      this.o.onMessage(ev.data);
    };
    s.onerror = () => {
      // onclose always follows; it does the bookkeeping.
    };
    s.onclose = (ev) => {
      this.detach(s);
      if (this.socket === s) this.socket = null;
      if (ev.code === CLOSE_SESSION_ENDED && !this.stopped) {
        this.stopped = true;
        this.set({ state: 'closed', retryAt: null, lastCloseCode: ev.code });
        this.o.onSessionEnded?.();
        return;
      }
      this.scheduleRetry(ev.code);
    };
  }

  private scheduleRetry(code: number | null): void {
    if (this.stopped) return;
    const attempt = this.info.attempt;
    const delay = backoffDelay(attempt, this.d.random, this.o.backoff ?? DEFAULT_BACKOFF);
    const failedBeforeOpen = !this.opened;
    this.set({ state: 'reconnecting', attempt: attempt + 1, retryAt: this.d.now() + delay, lastCloseCode: code });
    if (failedBeforeOpen) this.o.onFailedAttempt?.(this.info);
    this.timer = this.d.setTimeout(() => this.connect('reconnecting'), delay);
  }
}
