// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, type FetchLike } from '../lib/api';
import type { ApiToken } from '../lib/tokens';
import Tokens from './Tokens.svelte';

afterEach(() => cleanup());

const listed: ApiToken = {
  id: 1, user: 'viewer', role: 'viewer', name: 'grafana', prefix: 'twt_Ab3xK9_q', created_at: '2030-01-02T03:04:05Z', last_used_at: '2030-01-03T00:00:00Z', state: 'active',
};

/** A server that lists one token, creates one and revokes by id, recording the calls. */
function server() {
  const calls: string[] = [];
  let tokens = [listed];
  const fetchImpl: FetchLike = async (url, init) => {
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url}${init?.body ? ' ' + String(init.body) : ''}`);
    if (method === 'GET') return new Response(JSON.stringify({ tokens }), { status: 200 });
    if (method === 'POST') {
      const made = { ...listed, id: 2, name: 'cron', user: 'admin', role: 'admin', prefix: 'twt_Zz9yX8_w', last_used_at: undefined };
      tokens = [made, ...tokens];
      return new Response(JSON.stringify({ ...made, token: 'twt_Zz9yX8_wTHE-SECRET' }), { status: 201 });
    }
    tokens = tokens.map((t) => (url.endsWith(`/${t.id}`) ? { ...t, state: 'revoked', revoked_at: '2030-01-04T00:00:00Z' } : t));
    return new Response(JSON.stringify({ ok: true }), { status: 200 });
  };
  return { calls, fetchImpl };
}

function mount(fetchImpl: FetchLike, clipboard = { writeText: vi.fn(async (_: string) => {}) }) {
  render(Tokens, { props: { api: new Api({}, fetchImpl), user: { username: 'admin', role: 'admin' }, onLogout: () => {}, clipboard } });
  return clipboard;
}

describe('Tokens', () => {
  it('lists tokens by prefix, never more', async () => {
    const s = server();
    mount(s.fetchImpl);
    await vi.waitFor(() => expect(screen.getByText('grafana')).toBeTruthy());
    expect(screen.getByText('twt_Ab3xK9_q…')).toBeTruthy();
    expect(screen.getByText('2030-01-03 00:00 UTC')).toBeTruthy();
    expect(screen.getByText('Active')).toBeTruthy();
  });

  it('shows a new token once, with a copy button and the warning, until dismissed', async () => {
    const s = server();
    const clip = mount(s.fetchImpl);
    await vi.waitFor(() => screen.getByText('grafana'));
    await fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'cron' } });
    await fireEvent.submit(document.querySelector('form')!);
    await vi.waitFor(() => expect(screen.getByTestId('new-token').textContent).toBe('twt_Zz9yX8_wTHE-SECRET'));
    expect(s.calls).toContain('POST /api/admin/tokens {"name":"cron","user":"admin","expires_in":"90d"}');
    expect(document.body.textContent).toContain('you will not see it again');
    await fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    await vi.waitFor(() => expect(clip.writeText).toHaveBeenCalledWith('twt_Zz9yX8_wTHE-SECRET'));
    expect(screen.getByRole('button', { name: 'Copied' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'I have copied it' }));
    expect(document.body.textContent).not.toContain('THE-SECRET');
  });

  it('revokes after the confirmation, not before', async () => {
    const s = server();
    mount(s.fetchImpl);
    await vi.waitFor(() => screen.getByText('grafana'));
    await fireEvent.click(screen.getByRole('button', { name: 'Revoke' }));
    expect(document.querySelector('dialog')!.textContent).toContain('twt_Ab3xK9_q');
    expect(s.calls.some((c) => c.startsWith('DELETE'))).toBe(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Revoke token' }));
    await vi.waitFor(() => expect(screen.getByText('Revoked')).toBeTruthy());
    expect(s.calls).toContain('DELETE /api/admin/tokens/1');
  });

  it('shows the server refusal beside the form', async () => {
    const fetchImpl: FetchLike = async (_url, init) =>
      init?.method === 'POST'
        ? new Response(JSON.stringify({ error: 'invalid user', detail: 'user: "mallory" is not a configured user' }), { status: 400 })
        : new Response(JSON.stringify({ tokens: [] }), { status: 200 });
    mount(fetchImpl);
    await vi.waitFor(() => screen.getByText('No tokens yet.'));
    await fireEvent.input(screen.getByLabelText('User'), { target: { value: 'mallory' } });
    await fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'x' } });
    await fireEvent.submit(document.querySelector('form')!);
    await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toContain('not a configured user'));
    expect(screen.getByLabelText('User').getAttribute('aria-invalid')).toBe('true');
  });
});
