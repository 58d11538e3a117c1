// The Sessions page's logic: load the login sessions, present them, and
// revoke one after a confirmation. Plain TypeScript with injected
// dependencies so vitest drives it; the component only renders.

import type { Result } from './api';
import type { ConfirmRequest } from './actions.svelte';
import { formatAge } from './format';
import type { SessionInfo } from './types';

/** The two calls the page makes (the real Api has them). */
export interface SessionsApi {
  sessions(): Promise<Result<{ sessions: SessionInfo[] }>>;
  revokeSession(id: string): Promise<Result<null>>;
}

export interface SessionRowView {
  id: string;
  user: string;
  role: SessionInfo['role'];
  current: boolean;
  /** "3h", "12s": ages, with the exact time for a tooltip. */
  created: string;
  createdTitle: string;
  lastSeen: string;
  lastSeenTitle: string;
  client: string;
  agent: string;
  sockets: string;
}

function age(iso: string, nowMs: number): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? formatAge((nowMs - t) / 1000) : '—';
}

/** Your own session first, then the most recently seen. */
export function sortSessions(list: readonly SessionInfo[]): SessionInfo[] {
  return [...list].sort((a, b) => {
    if (a.current !== b.current) return a.current ? -1 : 1;
    return Date.parse(b.last_seen) - Date.parse(a.last_seen) || a.id.localeCompare(b.id);
  });
}

export function sessionRowView(s: SessionInfo, nowMs: number): SessionRowView {
  return {
    id: s.id,
    user: s.user,
    role: s.role,
    current: s.current,
    created: age(s.created, nowMs),
    createdTitle: s.created,
    lastSeen: age(s.last_seen, nowMs),
    lastSeenTitle: s.last_seen,
    client: s.client_addr || '—',
    agent: s.user_agent || '—',
    sockets: s.sockets === 0 ? 'none' : s.sockets === 1 ? '1 open' : `${s.sockets} open`,
  };
}

/** The question asked before revoking: destructive, so the dialog starts on Cancel. */
export function revokeRequest(s: SessionInfo): ConfirmRequest {
  const where = s.client_addr ? ` from ${s.client_addr}` : '';
  const sockets = s.sockets > 0 ? ` Its ${s.sockets === 1 ? 'open dashboard is' : `${s.sockets} open dashboards are`} closed at once.` : '';
  return s.current
    ? {
        title: 'Revoke your own session?',
        body: `This is the session you are using now: you will be signed out.${sockets}`,
        confirmLabel: 'Revoke and sign out',
        danger: true,
      }
    : {
        title: `Revoke ${s.user}'s session?`,
        body: `${s.user} (${s.role})${where} is signed out and must sign in again.${sockets}`,
        confirmLabel: 'Revoke session',
        danger: true,
      };
}

export interface SessionsDeps {
  api: SessionsApi;
  /** Asks the user; resolves true to go ahead. */
  confirm: (req: ConfirmRequest) => Promise<boolean>;
  /** The caller revoked their own session: the app goes to the login page. */
  onSignedOut: () => void;
}

export class SessionsPage {
  sessions = $state<SessionInfo[]>([]);
  loaded = $state(false);
  loading = $state(false);
  error = $state('');
  /** The session being revoked, while its request runs. */
  revoking = $state<string | null>(null);
  /** One line after a revocation (or its failure). */
  notice = $state('');

  constructor(private readonly d: SessionsDeps) {}

  async load(): Promise<void> {
    this.loading = true;
    const r = await this.d.api.sessions();
    this.loading = false;
    if (!r.ok) {
      this.error = r.message;
      return;
    }
    this.error = '';
    this.sessions = sortSessions(r.data.sessions ?? []);
    this.loaded = true;
  }

  async revoke(s: SessionInfo): Promise<void> {
    if (this.revoking) return;
    if (!(await this.d.confirm(revokeRequest(s)))) return;
    this.revoking = s.id;
    const r = await this.d.api.revokeSession(s.id);
    this.revoking = null;
    if (!r.ok && r.kind !== 'not_found') {
      this.notice = `Could not revoke ${s.user}'s session: ${r.message}`;
      return;
    }
    if (s.current) {
      this.d.onSignedOut();
      return;
    }
    // Gone already (404) or revoked now: either way it is over.
    this.sessions = this.sessions.filter((x) => x.id !== s.id);
    this.notice = r.ok ? `${s.user}'s session was revoked.` : `${s.user}'s session had already ended.`;
  }
}
