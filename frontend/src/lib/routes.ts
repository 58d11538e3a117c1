// Client-side routes. Pure: the router state lives in router.svelte.ts.

export type Route =
  | { name: 'login'; next: string }
  | { name: 'dashboard' }
  | { name: 'audit' }
  | { name: 'tokens' }
  | { name: 'sessions' }
  | { name: 'consumers' }
  | { name: 'redirect'; to: string }
  | { name: 'not-found'; path: string };

export const DASHBOARD_PATH = '/admin/websockets';
export const AUDIT_PATH = '/admin/audit';
export const TOKENS_PATH = '/admin/tokens';
export const SESSIONS_PATH = '/admin/sessions';
export const CONSUMERS_PATH = '/admin/consumers';

/** Where to go after login. Only same-origin absolute paths: never an open redirect. */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return DASHBOARD_PATH;
  if (next === '/login' || next.startsWith('/login?') || next.startsWith('/login/')) return DASHBOARD_PATH;
  // Control characters have no business in a path and some browsers strip them.
  if (/[\u0000-\u001f]/.test(next)) return DASHBOARD_PATH;
  return next;
}

export function loginHref(next: string): string {
  return `/login?next=${encodeURIComponent(safeNext(next))}`;
}

export function matchRoute(pathname: string, search: string): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  switch (path) {
    case '/':
    case '/admin':
      return { name: 'redirect', to: DASHBOARD_PATH };
    case '/login':
      return { name: 'login', next: safeNext(new URLSearchParams(search).get('next')) };
    case DASHBOARD_PATH:
      return { name: 'dashboard' };
    case AUDIT_PATH:
      return { name: 'audit' };
    case TOKENS_PATH:
      return { name: 'tokens' };
    case SESSIONS_PATH:
      return { name: 'sessions' };
    case CONSUMERS_PATH:
      return { name: 'consumers' };
    default:
      return { name: 'not-found', path: pathname };
  }
}
