// Thin fetch wrappers for the REST API. Every call resolves to a Result
// (never throws), and the two answers that change where the user is are
// routed centrally: 401 -> login?next=..., 403 -> the "not allowed" view.

import type { Alert, AlertList } from './alerts';
import type { ConsumerKeyList, CreatedConsumerKey, CreateKeyBody, RelaySnapshot } from './consumers';
import type { CreatedToken, CreateTokenBody, TokenList } from './tokens';
import type { ActionOk, AddResult, ApiErrorBody, AuditPage, Health, Me, RemoveResult, ResetResult, SessionInfo, StatusDoc, TickerLookup } from './types';

export type ErrorKind = 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'bad_request' | 'rate_limited' | 'server' | 'network';

export interface ApiError {
  ok: false;
  kind: ErrorKind;
  status: number;
  /** One line for the user: the server's detail or error, or our own wording. */
  message: string;
  error: string;
  detail: string;
  /** Seconds to wait, for 429. */
  retryAfter: number | null;
}

export type Result<T> = { ok: true; status: number; data: T } | ApiError;

export interface ApiHooks {
  onUnauthorized?: () => void;
  onForbidden?: () => void;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

interface CallOptions {
  body?: unknown;
  /** The login form handles its own 401; everything else sends the user to log in. */
  redirectOn401?: boolean;
  /**
   * A 403 on a read means the account may not see the page at all; a 403 on an
   * action is shown beside the action. Defaults to true for GET only.
   */
  routeOn403?: boolean;
}

function kindOf(status: number): ErrorKind {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 429:
      return 'rate_limited';
    default:
      return status >= 400 && status < 500 ? 'bad_request' : 'server';
  }
}

/** Seconds from a body's retry_after, else the Retry-After header (seconds or HTTP date). */
export function parseRetryAfter(body: ApiErrorBody | null, header: string | null, nowMs = Date.now()): number | null {
  if (body && typeof body.retry_after === 'number' && Number.isFinite(body.retry_after)) return Math.max(0, Math.ceil(body.retry_after));
  if (!header) return null;
  const n = Number(header.trim());
  if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - nowMs) / 1000)) : null;
}

const FALLBACK: Record<ErrorKind, string> = {
  unauthorized: 'Your session has ended. Please sign in again.',
  forbidden: 'Your account is not allowed to do this.',
  not_found: 'Not found.',
  conflict: 'Conflict with the current state.',
  bad_request: 'The request was rejected.',
  rate_limited: 'Too many requests.',
  server: 'The server failed to handle the request.',
  network: 'The server is unreachable. Check that Tickwatch is running.',
};

export class Api {
  constructor(
    private readonly hooks: ApiHooks = {},
    private readonly fetchImpl: FetchLike = (i, init) => fetch(i, init),
  ) {}

  async call<T>(method: string, path: string, o: CallOptions = {}): Promise<Result<T>> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (o.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(o.body);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(path, init);
    } catch {
      return { ok: false, kind: 'network', status: 0, message: FALLBACK.network, error: 'network error', detail: '', retryAfter: null };
    }
    let body: unknown = null;
    if (res.status !== 204) {
      const text = await res.text().catch(() => '');
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          body = null;
        }
      }
    }
    if (res.ok) return { ok: true, status: res.status, data: body as T };

    const eb = body && typeof body === 'object' ? (body as ApiErrorBody) : null;
    const kind = kindOf(res.status);
    const error = typeof eb?.error === 'string' ? eb.error : '';
    const detail = typeof eb?.detail === 'string' ? eb.detail : '';
    const retryAfter = kind === 'rate_limited' ? parseRetryAfter(eb, res.headers.get('Retry-After')) : null;
    let message = detail || error || FALLBACK[kind];
    if (kind === 'rate_limited' && retryAfter !== null) message = `${error || 'Too many requests'}: try again in ${retryAfter} s.`;
    if (kind === 'unauthorized' && o.redirectOn401 !== false) this.hooks.onUnauthorized?.();
    if (kind === 'forbidden' && (o.routeOn403 ?? method === 'GET')) this.hooks.onForbidden?.();
    return { ok: false, kind, status: res.status, message, error, detail, retryAfter };
  }

  /** With redirect false a 401 is just an answer (the login page asks "am I already in?"). */
  me(redirect = true) {
    return this.call<Me>('GET', '/api/auth/me', { redirectOn401: redirect });
  }
  login(username: string, password: string) {
    return this.call<Me>('POST', '/api/auth/login', { body: { username, password }, redirectOn401: false });
  }
  logout() {
    return this.call<null>('POST', '/api/auth/logout', { redirectOn401: false });
  }
  status() {
    return this.call<StatusDoc>('GET', '/api/admin/websocket-status');
  }
  /** Public and informational (the footer's version): never routes anywhere. */
  health() {
    return this.call<Health>('GET', '/healthz', { redirectOn401: false, routeOn403: false });
  }
  ticker(symbol: string) {
    return this.call<TickerLookup>('GET', `/api/admin/tickers/${encodeURIComponent(symbol)}`);
  }
  connectionAction(id: number, action: 'reconnect' | 'enable' | 'disable') {
    return this.call<ActionOk>('POST', `/api/admin/connections/${id}/${action}`);
  }
  resetConnection(id: number) {
    return this.call<ResetResult>('POST', `/api/admin/connections/${id}/reset`);
  }
  /** path is built by auditPath (lib/audit.ts). */
  audit(path: string) {
    return this.call<AuditPage>('GET', path);
  }
  addTickers(tickers: string[], connectionId?: number) {
    const body: { tickers: string[]; connection_id?: number } = { tickers };
    if (connectionId !== undefined) body.connection_id = connectionId;
    return this.call<AddResult>('POST', '/api/admin/subscriptions', { body });
  }
  removeTicker(symbol: string) {
    return this.call<RemoveResult>('DELETE', `/api/admin/subscriptions/${encodeURIComponent(symbol)}`);
  }
  listTokens() {
    return this.call<TokenList>('GET', '/api/admin/tokens');
  }
  createToken(body: CreateTokenBody) {
    return this.call<CreatedToken>('POST', '/api/admin/tokens', { body });
  }
  revokeToken(id: number) {
    return this.call<{ ok: boolean; id: number }>('DELETE', `/api/admin/tokens/${id}`);
  }
  consumers() {
    return this.call<RelaySnapshot>('GET', '/api/admin/consumers');
  }
  disconnectConsumer(id: number) {
    return this.call<{ ok: boolean; id: number }>('DELETE', `/api/admin/consumers/${id}`);
  }
  listConsumerKeys() {
    return this.call<ConsumerKeyList>('GET', '/api/admin/consumer-keys');
  }
  createConsumerKey(body: CreateKeyBody) {
    return this.call<CreatedConsumerKey>('POST', '/api/admin/consumer-keys', { body });
  }
  revokeConsumerKey(id: number) {
    return this.call<{ ok: boolean; id: number; disconnected: number }>('DELETE', `/api/admin/consumer-keys/${id}`);
  }
  sessions() {
    return this.call<{ sessions: SessionInfo[] }>('GET', '/api/admin/sessions');
  }
  alerts() {
    return this.call<AlertList>('GET', '/api/admin/alerts');
  }
  ackAlert(id: number) {
    return this.call<Alert>('POST', `/api/admin/alerts/${id}/ack`);
  }
  revokeSession(id: string) {
    return this.call<null>('DELETE', `/api/admin/sessions/${encodeURIComponent(id)}`);
  }
}
