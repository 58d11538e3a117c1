import { describe, expect, it } from 'vitest';
import { Confirmer } from './actions.svelte';
import type { ApiError, Result } from './api';
import { leaveToBrowser, navLinks } from './nav';
import { buildCreateBody, canRevoke, fieldOfError, formatWhen, revokeQuestion, stateLabel, stateTone, suggestedUsers, type ApiToken, type CreatedToken, type CreateTokenBody, type TokenForm, type TokenList } from './tokens';
import { TokensModel, type TokensApi } from './tokensModel.svelte';

const NOW = new Date(2030, 0, 15, 12, 0, 0); // local time, as the date input means it

const form = (o: Partial<TokenForm> = {}): TokenForm => ({ user: 'admin', name: 'grafana', expiry: '90d', date: '', ...o });

describe('buildCreateBody', () => {
  it.each<[string, Partial<TokenForm>, CreateTokenBody]>([
    ['preset expiry', {}, { user: 'admin', name: 'grafana', expires_in: '90d' }],
    ['never', { expiry: 'never' }, { user: 'admin', name: 'grafana' }],
    ['trimmed, user left to the server', { user: '  ', name: '  cron  ', expiry: '7d' }, { name: 'cron', expires_in: '7d' }],
    ['a date is the end of that day', { expiry: 'date', date: '2030-02-01' }, { user: 'admin', name: 'grafana', expires_at: new Date(2030, 1, 1, 23, 59, 59).toISOString() }],
    ['today still counts', { expiry: 'date', date: '2030-01-15' }, { user: 'admin', name: 'grafana', expires_at: new Date(2030, 0, 15, 23, 59, 59).toISOString() }],
  ])('%s', (_, f, body) => expect(buildCreateBody(form(f), NOW)).toEqual({ ok: true, body }));

  it.each<[string, Partial<TokenForm>, string, RegExp]>([
    ['no name', { name: ' ' }, 'name', /Name the token/],
    ['long name', { name: 'n'.repeat(129) }, 'name', /128/],
    ['control character', { name: 'a\tb' }, 'name', /control/],
    ['no date', { expiry: 'date', date: '' }, 'date', /Pick the day/],
    ['not a date', { expiry: 'date', date: '2030-02-30' }, 'date', /valid date/],
    ['past', { expiry: 'date', date: '2030-01-14' }, 'date', /today or later/],
    ['too far', { expiry: 'date', date: '2041-01-01' }, 'date', /3650 days/],
  ])('refuses %s', (_, f, field, msg) => {
    const r = buildCreateBody(form(f), NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe(field);
      expect(r.message).toMatch(msg);
    }
  });
});

describe('token presentation', () => {
  const tok = (o: Partial<ApiToken> = {}): ApiToken => ({
    id: 1, user: 'viewer', role: 'viewer', name: 'grafana', prefix: 'twt_Ab3xK9_q', created_at: 1893553445, state: 'active', ...o,
  });

  it('formats times in UTC, one fixed form', () => {
    // Unix seconds, as the server sends every time: 2030-01-02T03:04:05.5Z.
    expect(formatWhen(1893553445.5)).toBe('2030-01-02 03:04 UTC');
    expect(formatWhen(1893553445 - 2 * 3600)).toBe('2030-01-02 01:04 UTC');
    expect(formatWhen(undefined, 'never')).toBe('never');
    expect(formatWhen(0, 'never')).toBe('never');
    expect(formatWhen(Number.NaN)).toBe('—');
  });

  it('labels and tones states, unknown ones as they are', () => {
    expect([stateLabel('active'), stateLabel('user_removed'), stateLabel('weird')]).toEqual(['Active', 'User removed', 'weird']);
    expect([stateTone('active'), stateTone('expired'), stateTone('revoked'), stateTone('user_removed')]).toEqual(['ok', 'warn', 'off', 'bad']);
    expect([canRevoke(tok()), canRevoke(tok({ state: 'expired' })), canRevoke(tok({ state: 'revoked' }))]).toEqual([true, true, false]);
  });

  it('suggests the admin first, then each owner once', () => {
    expect(suggestedUsers('admin', [tok(), tok({ id: 2 }), tok({ id: 3, user: 'admin' }), tok({ id: 4, user: 'ops' })])).toEqual(['admin', 'viewer', 'ops']);
  });

  it('asks before revoking, naming the token and its user', () => {
    const q = revokeQuestion(tok());
    expect(q.danger).toBe(true);
    expect(q.title).toContain('grafana');
    expect(q.body).toContain('twt_Ab3xK9_q');
    expect(q.body).toContain('viewer');
  });

  it('maps server 400s to the form field', () => {
    expect([fieldOfError('invalid user'), fieldOfError('invalid name'), fieldOfError('invalid expires_at'), fieldOfError('invalid expiry'), fieldOfError('x')]).toEqual([
      'user', 'name', 'date', 'date', null,
    ]);
  });
});

describe('nav', () => {
  it('shows the admin pages (sessions, audit, tokens, consumers) to admins only', () => {
    expect(navLinks('admin').map((l) => l.path)).toEqual(['/admin/websockets', '/admin/sessions', '/admin/audit', '/admin/tokens', '/admin/consumers']);
    expect(navLinks('viewer').map((l) => l.path)).toEqual(['/admin/websockets']);
  });
  it('leaves modified clicks to the browser', () => {
    const click = { button: 0, metaKey: false, ctrlKey: false, shiftKey: false, altKey: false, defaultPrevented: false };
    expect(leaveToBrowser(click)).toBe(false);
    expect(leaveToBrowser({ ...click, ctrlKey: true })).toBe(true);
    expect(leaveToBrowser({ ...click, button: 1 })).toBe(true);
  });
});

const fail = (status: number, error: string, message: string): ApiError => ({ ok: false, kind: 'bad_request', status, message, error, detail: message, retryAfter: null });

/** An in-memory TokensApi that records what it was asked. */
class FakeTokens implements TokensApi {
  tokens: ApiToken[] = [];
  created: CreateTokenBody[] = [];
  revoked: number[] = [];
  next: Result<CreatedToken> | null = null;
  async listTokens(): Promise<Result<TokenList>> {
    return { ok: true, status: 200, data: { tokens: [...this.tokens] } };
  }
  async createToken(body: CreateTokenBody): Promise<Result<CreatedToken>> {
    this.created.push(body);
    if (this.next) return this.next;
    const t: ApiToken = { id: this.tokens.length + 1, user: body.user ?? 'admin', role: 'viewer', name: body.name, prefix: 'twt_12345678', created_at: 1894705200, state: 'active' };
    this.tokens.unshift(t);
    return { ok: true, status: 201, data: { ...t, token: 'twt_12345678secret' } };
  }
  async revokeToken(id: number): Promise<Result<{ ok: boolean; id: number }>> {
    this.revoked.push(id);
    this.tokens = this.tokens.map((t) => (t.id === id ? { ...t, state: 'revoked' } : t));
    return { ok: true, status: 200, data: { ok: true, id } };
  }
}

describe('TokensModel', () => {
  function setup(clip: { writeText(t: string): Promise<void> } | null = null) {
    const api = new FakeTokens();
    const confirmer = new Confirmer();
    const m = new TokensModel(api, confirmer, 'admin', clip, () => NOW);
    return { api, confirmer, m };
  }

  it('creates, shows the token once, reloads the list and forgets the token on dismiss', async () => {
    const copied: string[] = [];
    const { api, m } = setup({ writeText: async (t) => void copied.push(t) });
    await m.load();
    expect(m.loaded).toBe(true);
    m.form.name = 'grafana';
    m.form.user = 'viewer';
    expect(await m.create()).toBe(true);
    expect(api.created).toEqual([{ user: 'viewer', name: 'grafana', expires_in: '90d' }]);
    expect(m.created?.token).toBe('twt_12345678secret');
    expect(m.tokens).toHaveLength(1);
    expect(m.form.name).toBe('');
    await m.copyToken();
    expect(copied).toEqual(['twt_12345678secret']);
    expect(m.copy).toBe('copied');
    m.dismiss();
    expect(m.created).toBeNull();
    expect(JSON.stringify(m.tokens)).not.toContain('secret');
  });

  it('says which field is wrong, before sending or from the server', async () => {
    const { api, m } = setup();
    m.form.name = '';
    expect(await m.create()).toBe(false);
    expect(m.formError?.field).toBe('name');
    expect(api.created).toHaveLength(0);

    m.form.name = 'x';
    m.form.user = 'mallory';
    api.next = fail(400, 'invalid user', 'user: "mallory" is not a configured user');
    expect(await m.create()).toBe(false);
    expect(m.formError).toEqual({ field: 'user', message: 'user: "mallory" is not a configured user' });
    expect(m.created).toBeNull();
  });

  it('reports a copy the browser refused', async () => {
    const { m } = setup({ writeText: () => Promise.reject(new Error('denied')) });
    m.form.name = 'x';
    await m.create();
    await m.copyToken();
    expect(m.copy).toBe('failed');
    const bare = setup(null).m;
    bare.form.name = 'x';
    await bare.create();
    await bare.copyToken();
    expect(bare.copy).toBe('failed');
  });

  it('revokes only after a yes', async () => {
    const { api, confirmer, m } = setup();
    m.form.name = 'x';
    await m.create();
    const t = m.tokens[0]!;

    const no = m.revoke(t);
    expect(confirmer.request?.confirmLabel).toBe('Revoke token');
    confirmer.answer(false);
    await no;
    expect(api.revoked).toEqual([]);

    const yes = m.revoke(t);
    confirmer.answer(true);
    await yes;
    expect(api.revoked).toEqual([t.id]);
    expect(m.notice?.ok).toBe(true);
    expect(m.tokens[0]!.state).toBe('revoked');
  });
});
