// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, type FetchLike } from '../lib/api';
import Login from './Login.svelte';

afterEach(() => cleanup());

async function submitWith(fetchImpl: FetchLike, onLoggedIn = vi.fn()) {
  render(Login, { props: { api: new Api({}, fetchImpl), next: '/admin/websockets?x=1', onLoggedIn } });
  await fireEvent.input(screen.getByLabelText('Username'), { target: { value: 'admin' } });
  await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'pw' } });
  await fireEvent.submit(document.querySelector('form')!);
  await vi.waitFor(() => expect(document.querySelector('button[type="submit"]')!.textContent).not.toContain('Signing in'));
  return onLoggedIn;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): FetchLike => async () =>
  new Response(JSON.stringify(body), { status, headers });

describe('Login', () => {
  it('goes on to next after a good login', async () => {
    const done = await submitWith(json(200, { username: 'admin', role: 'admin' }));
    expect(done).toHaveBeenCalledWith({ username: 'admin', role: 'admin' }, '/admin/websockets?x=1');
  });

  it('says the credentials are wrong on 401', async () => {
    await submitWith(json(401, { error: 'invalid credentials' }));
    expect(screen.getByRole('alert').textContent).toContain('Wrong username or password.');
  });

  it('shows the wait time on 429 and blocks the button', async () => {
    await submitWith(json(429, { error: 'too many attempts', retry_after: 37 }, { 'Retry-After': '37' }));
    expect(screen.getByRole('alert').textContent).toContain('Too many attempts.');
    expect(screen.getByRole('alert').textContent).toMatch(/Try again in 3[67] s/);
    expect((document.querySelector('button[type="submit"]') as HTMLButtonElement).disabled).toBe(true);
  });

  it('says the server is unreachable on a network error', async () => {
    await submitWith(async () => {
      throw new TypeError('Failed to fetch');
    });
    expect(screen.getByRole('alert').textContent).toContain('server is unreachable');
  });

  it('asks for both fields before calling the server', async () => {
    const f = vi.fn<FetchLike>();
    render(Login, { props: { api: new Api({}, f), next: '/', onLoggedIn: vi.fn() } });
    await fireEvent.submit(document.querySelector('form')!);
    expect(screen.getByRole('alert').textContent).toContain('Enter your username and password.');
    expect(f).not.toHaveBeenCalled();
  });
});
