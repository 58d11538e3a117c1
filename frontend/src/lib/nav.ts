// The top bar's page links. One list, so a new admin page is one entry here.

import { AUDIT_PATH, CONSUMERS_PATH, DASHBOARD_PATH, SESSIONS_PATH, TOKENS_PATH } from './routes';
import type { Role } from './types';

export interface NavLink {
  path: string;
  label: string;
}

export function navLinks(role: Role): NavLink[] {
  const links: NavLink[] = [{ path: DASHBOARD_PATH, label: 'Connections' }];
  if (role === 'admin') links.push({ path: SESSIONS_PATH, label: 'Sessions' }, { path: AUDIT_PATH, label: 'Audit' }, { path: TOKENS_PATH, label: 'API tokens' }, { path: CONSUMERS_PATH, label: 'Consumers' });
  return links;
}

/**
 * Whether a click on a link should be left to the browser (new tab, download,
 * modified click) instead of being routed in the page.
 */
export function leaveToBrowser(e: Pick<MouseEvent, 'button' | 'metaKey' | 'ctrlKey' | 'shiftKey' | 'altKey' | 'defaultPrevented'>): boolean {
  return e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey;
}
