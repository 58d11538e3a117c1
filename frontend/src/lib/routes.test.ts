import { describe, expect, it } from 'vitest';
import { loginHref, matchRoute, safeNext } from './routes';

describe('matchRoute', () => {
  it.each<[string, string, ReturnType<typeof matchRoute>]>([
    ['/', '', { name: 'redirect', to: '/admin/websockets' }],
    ['/admin', '', { name: 'redirect', to: '/admin/websockets' }],
    ['/admin/websockets', '', { name: 'dashboard' }],
    ['/admin/websockets/', '', { name: 'dashboard' }],
    ['/admin/audit', '', { name: 'audit' }],
    ['/admin/tokens', '', { name: 'tokens' }],
    ['/admin/consumers', '', { name: 'consumers' }],
    ['/admin/consumers/', '', { name: 'consumers' }],
    ['/admin/sessions', '', { name: 'sessions' }],
    ['/login', '', { name: 'login', next: '/admin/websockets' }],
    ['/login', '?next=%2Fadmin%2Fwebsockets%3Fx%3D1', { name: 'login', next: '/admin/websockets?x=1' }],
    ['/login', '?next=https://evil.example', { name: 'login', next: '/admin/websockets' }],
    ['/nope', '', { name: 'not-found', path: '/nope' }],
    ['/admin/websocketsx', '', { name: 'not-found', path: '/admin/websocketsx' }],
  ])('%s%s', (p, s, want) => expect(matchRoute(p, s)).toEqual(want));
});

describe('safeNext', () => {
  it.each<[string | null, string]>([
    [null, '/admin/websockets'],
    ['', '/admin/websockets'],
    ['/admin/websockets', '/admin/websockets'],
    ['/x?y=1#z', '/x?y=1#z'],
    ['//evil.example/x', '/admin/websockets'],
    ['/\\evil.example', '/admin/websockets'],
    ['https://evil.example', '/admin/websockets'],
    ['javascript:alert(1)', '/admin/websockets'],
    ['/login?next=/login', '/admin/websockets'],
    ['/a\nb', '/admin/websockets'],
  ])('%j -> %s', (n, want) => expect(safeNext(n)).toBe(want));
});

describe('loginHref', () => {
  it('encodes next', () => expect(loginHref('/admin/websockets?a=b')).toBe('/login?next=%2Fadmin%2Fwebsockets%3Fa%3Db'));
});
