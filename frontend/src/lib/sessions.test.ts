import { describe, expect, it } from 'vitest';
import type { Result } from './api';
import type { ConfirmRequest } from './actions.svelte';
import { revokeRequest, sessionRowView, SessionsPage, sortSessions, type SessionsApi } from './sessions.svelte';
import type { SessionInfo } from './types';

function session(over: Partial<SessionInfo>): SessionInfo {
  return {
    id: 'id-1',
    user: 'alice',
    role: 'viewer',
    created: '2025-03-14T09:00:00Z',
    last_seen: '2025-03-14T09:30:00Z',
    expires: '2025-03-14T21:00:00Z',
    client_addr: '192.0.2.7',
    user_agent: 'Mozilla/5.0',
    current: false,
    sockets: 0,
    ...over,
  };
}

const NOW = Date.parse('2025-03-14T09:30:12Z');

describe('sortSessions', () => {
  it('puts your own first, then the most recently seen', () => {
    const list = [
      session({ id: 'old', last_seen: '2025-03-14T09:00:00Z' }),
      session({ id: 'mine', current: true, last_seen: '2025-03-14T08:00:00Z' }),
      session({ id: 'new', last_seen: '2025-03-14T09:29:00Z' }),
    ];
    expect(sortSessions(list).map((s) => s.id)).toEqual(['mine', 'new', 'old']);
  });
});

describe('sessionRowView', () => {
  it('shows ages, the client and the sockets', () => {
    const v = sessionRowView(session({ sockets: 2 }), NOW);
    expect(v).toMatchObject({ created: '30m', lastSeen: '12s', client: '192.0.2.7', agent: 'Mozilla/5.0', sockets: '2 open' });
    expect(v.createdTitle).toBe('2025-03-14T09:00:00Z');
  });
  it.each<[number, string]>([
    [0, 'none'],
    [1, '1 open'],
  ])('%d sockets -> %s', (n, want) => expect(sessionRowView(session({ sockets: n }), NOW).sockets).toBe(want));
  it('copes with missing fields', () => {
    const v = sessionRowView(session({ client_addr: '', user_agent: '', created: 'nonsense' }), NOW);
    expect(v).toMatchObject({ client: '—', agent: '—', created: '—' });
  });
});

describe('revokeRequest', () => {
  it('names the user, the address and the sockets, and is destructive', () => {
    const r = revokeRequest(session({ sockets: 1 }));
    expect(r.title).toBe("Revoke alice's session?");
    expect(r.body).toContain('from 192.0.2.7');
    expect(r.body).toContain('open dashboard is closed');
    expect(r.danger).toBe(true);
  });
  it('warns that revoking your own session signs you out', () => {
    const r = revokeRequest(session({ current: true }));
    expect(r.body).toContain('you will be signed out');
    expect(r.confirmLabel).toBe('Revoke and sign out');
  });
});

function fakeApi(list: SessionInfo[], revokeAnswer: Result<null> = { ok: true, status: 204, data: null }) {
  const revoked: string[] = [];
  const api: SessionsApi = {
    sessions: async () => ({ ok: true, status: 200, data: { sessions: list } }),
    revokeSession: async (id) => {
      revoked.push(id);
      return revokeAnswer;
    },
  };
  return { api, revoked };
}

function page(api: SessionsApi, answer: boolean) {
  const asked: ConfirmRequest[] = [];
  let signedOut = 0;
  const p = new SessionsPage({
    api,
    confirm: async (req) => {
      asked.push(req);
      return answer;
    },
    onSignedOut: () => signedOut++,
  });
  return { p, asked, signedOut: () => signedOut };
}

describe('SessionsPage', () => {
  const other = session({ id: 'other', user: 'bob' });
  const mine = session({ id: 'mine', user: 'admin', role: 'admin', current: true });

  it('loads and sorts', async () => {
    const { api } = fakeApi([other, mine]);
    const { p } = page(api, true);
    await p.load();
    expect(p.loaded).toBe(true);
    expect(p.sessions.map((s) => s.id)).toEqual(['mine', 'other']);
  });

  it('revokes after a yes, and drops the row', async () => {
    const { api, revoked } = fakeApi([other, mine]);
    const { p, asked, signedOut } = page(api, true);
    await p.load();
    await p.revoke(other);
    expect(asked).toHaveLength(1);
    expect(revoked).toEqual(['other']);
    expect(p.sessions.map((s) => s.id)).toEqual(['mine']);
    expect(p.notice).toBe("bob's session was revoked.");
    expect(signedOut()).toBe(0);
  });

  it('does nothing after a no', async () => {
    const { api, revoked } = fakeApi([other]);
    const { p } = page(api, false);
    await p.load();
    await p.revoke(other);
    expect(revoked).toEqual([]);
    expect(p.sessions).toHaveLength(1);
  });

  it('signs out after revoking your own session', async () => {
    const { api } = fakeApi([mine]);
    const { p, signedOut } = page(api, true);
    await p.load();
    await p.revoke(mine);
    expect(signedOut()).toBe(1);
  });

  it('treats an already-ended session as gone', async () => {
    const { api } = fakeApi([other], { ok: false, kind: 'not_found', status: 404, message: 'no such session', error: '', detail: '', retryAfter: null });
    const { p } = page(api, true);
    await p.load();
    await p.revoke(other);
    expect(p.sessions).toHaveLength(0);
    expect(p.notice).toContain('already ended');
  });

  it('keeps the row and says why when the server refuses', async () => {
    const { api } = fakeApi([other], { ok: false, kind: 'server', status: 500, message: 'boom', error: '', detail: '', retryAfter: null });
    const { p } = page(api, true);
    await p.load();
    await p.revoke(other);
    expect(p.sessions).toHaveLength(1);
    expect(p.notice).toBe("Could not revoke bob's session: boom");
  });

  it('shows a load error', async () => {
    const api: SessionsApi = {
      sessions: async () => ({ ok: false, kind: 'network', status: 0, message: 'unreachable', error: '', detail: '', retryAfter: null }),
      revokeSession: async () => ({ ok: true, status: 204, data: null }),
    };
    const { p } = page(api, true);
    await p.load();
    expect(p.error).toBe('unreachable');
    expect(p.loaded).toBe(false);
  });
});
