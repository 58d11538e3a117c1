import { describe, expect, it } from 'vitest';
import { Api, parseRetryAfter, type FetchLike } from './api';

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function fake(status: number, body?: unknown, headers: Record<string, string> = {}) {
  const calls: Call[] = [];
  const f: FetchLike = async (url, init) => {
    calls.push({ url, init });
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status, headers });
  };
  return { f, calls };
}

function hooked(status: number, body?: unknown, headers?: Record<string, string>) {
  const seen = { unauthorized: 0, forbidden: 0 };
  const { f, calls } = fake(status, body, headers);
  const api = new Api({ onUnauthorized: () => seen.unauthorized++, onForbidden: () => seen.forbidden++ }, f);
  return { api, seen, calls };
}

describe('Api success paths', () => {
  it('GETs JSON with same-origin credentials', async () => {
    const { api, calls } = hooked(200, { username: 'admin', role: 'admin' });
    const r = await api.me();
    expect(r).toEqual({ ok: true, status: 200, data: { username: 'admin', role: 'admin' } });
    expect(calls[0]!.url).toBe('/api/auth/me');
    expect(calls[0]!.init!.credentials).toBe('same-origin');
    expect(calls[0]!.init!.method).toBe('GET');
  });

  it('POSTs JSON bodies with a content type', async () => {
    const { api, calls } = hooked(200, { added: [{ symbol: 'AAPL', connection_id: 'connection_2' }] });
    const r = await api.addTickers(['AAPL'], 2);
    expect(r.ok && r.data.added[0]!.connection_id).toBe('connection_2');
    const init = calls[0]!.init!;
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(JSON.parse(init.body as string)).toEqual({ tickers: ['AAPL'], connection_id: 2 });
  });

  it('omits connection_id when not given and encodes path segments', async () => {
    const { api, calls } = hooked(200, {});
    await api.addTickers(['MSFT']);
    expect(JSON.parse(calls[0]!.init!.body as string)).toEqual({ tickers: ['MSFT'] });
    await api.removeTicker('BRK.B');
    await api.ticker('A/B');
    expect(calls.map((c) => `${c.init!.method} ${c.url}`)).toEqual([
      'POST /api/admin/subscriptions',
      'DELETE /api/admin/subscriptions/BRK.B',
      'GET /api/admin/tickers/A%2FB',
    ]);
  });

  it('handles 204 without a body', async () => {
    const { api } = hooked(204);
    expect(await api.logout()).toEqual({ ok: true, status: 204, data: null });
  });

  it('builds connection action URLs', async () => {
    const { api, calls } = hooked(200, { ok: true, connection_id: 'connection_2', status: 'connecting' });
    await api.connectionAction(2, 'reconnect');
    await api.connectionAction(3, 'disable');
    expect(calls.map((c) => c.url)).toEqual(['/api/admin/connections/2/reconnect', '/api/admin/connections/3/disable']);
  });
});

describe('Api error paths', () => {
  it('401 routes to login', async () => {
    const { api, seen } = hooked(401, { error: 'unauthorized' });
    const r = await api.status();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.kind).toBe('unauthorized');
    expect(seen.unauthorized).toBe(1);
  });

  it('401 on login is the form’s business', async () => {
    const { api, seen } = hooked(401, { error: 'invalid credentials' });
    const r = await api.login('a', 'b');
    expect(!r.ok && r.message).toBe('invalid credentials');
    expect(seen.unauthorized).toBe(0);
  });

  it('403 on a read routes to the not-allowed view', async () => {
    const { api, seen } = hooked(403, { error: 'forbidden' });
    const r = await api.status();
    expect(!r.ok && r.kind).toBe('forbidden');
    expect(seen.forbidden).toBe(1);
  });

  it('403 on an action is reported beside the action', async () => {
    const { api, seen } = hooked(403, { error: 'forbidden', detail: 'admin role required' });
    const r = await api.connectionAction(1, 'reconnect');
    expect(!r.ok && r.kind).toBe('forbidden');
    expect(!r.ok && r.message).toBe('admin role required');
    expect(seen.forbidden).toBe(0);
  });

  it('health reads /healthz and never routes, whatever it answers', async () => {
    const ok = hooked(200, { status: 'ok', version: 'v1.2.3', uptime_seconds: 4.5 });
    const r = await ok.api.health();
    expect(r.ok && r.data.version).toBe('v1.2.3');
    expect(ok.calls[0]!.url).toBe('/healthz');
    for (const status of [401, 403]) {
      const { api, seen } = hooked(status, { error: 'x' });
      expect((await api.health()).ok).toBe(false);
      expect(seen).toEqual({ unauthorized: 0, forbidden: 0 });
    }
  });

  it('me(false) does not redirect on 401', async () => {
    const { api, seen } = hooked(401, { error: 'unauthorized' });
    await api.me(false);
    expect(seen.unauthorized).toBe(0);
    await api.me();
    expect(seen.unauthorized).toBe(1);
  });

  it('429 reports retry_after from the body', async () => {
    const { api } = hooked(429, { error: 'too many attempts', retry_after: 37 }, { 'Retry-After': '40' });
    const r = await api.login('a', 'b');
    expect(!r.ok && r.kind).toBe('rate_limited');
    expect(!r.ok && r.retryAfter).toBe(37);
    expect(!r.ok && r.message).toBe('too many attempts: try again in 37 s.');
  });

  it('429 falls back to the Retry-After header', async () => {
    const { api } = hooked(429, 'slow down', { 'Retry-After': '12' });
    const r = await api.status();
    expect(!r.ok && r.retryAfter).toBe(12);
  });

  it.each<[number, string, unknown, string]>([
    [404, 'not_found', { error: 'ticker not assigned', detail: 'AAPL is not assigned to any connection' }, 'AAPL is not assigned to any connection'],
    [409, 'conflict', { error: 'ticker already assigned', detail: 'AAPL is already on connection_1' }, 'AAPL is already on connection_1'],
    [400, 'bad_request', { error: 'invalid symbol' }, 'invalid symbol'],
    [500, 'server', 'Internal Server Error', 'The server failed to handle the request.'],
    [502, 'server', undefined, 'The server failed to handle the request.'],
  ])('%i -> %s', async (status, kind, body, message) => {
    const { api, seen } = hooked(status, body);
    const r = await api.ticker('AAPL');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe(kind);
      expect(r.message).toBe(message);
    }
    expect(seen).toEqual({ unauthorized: 0, forbidden: 0 });
  });

  it('a network failure is a result, not a throw', async () => {
    const api = new Api({}, async () => {
      throw new TypeError('Failed to fetch');
    });
    const r = await api.me();
    expect(!r.ok && r.kind).toBe('network');
    expect(!r.ok && r.message).toMatch(/unreachable/);
  });
});

describe('parseRetryAfter', () => {
  it.each<[Parameters<typeof parseRetryAfter>[0], string | null, number | null]>([
    [{ retry_after: 3.2 }, null, 4],
    [{ retry_after: -1 }, null, 0],
    [null, '7', 7],
    [null, ' 7 ', 7],
    [null, 'soon', null],
    [null, null, null],
    [null, new Date(10_000 + 5_000).toUTCString(), 5],
  ])('%j %j -> %j', (body, header, want) => expect(parseRetryAfter(body, header, 10_000)).toBe(want));
});
