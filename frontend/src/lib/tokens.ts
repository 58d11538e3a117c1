// API tokens: wire types and the pure rules of the Tokens view (what the
// create form sends, how a token's state and times read). The page's state
// lives in tokensModel.svelte.ts.

import type { Role } from './types';

export type TokenState = 'active' | 'expired' | 'revoked' | 'user_removed';

/** One token as GET /api/admin/tokens lists it: never the token itself. Times are RFC 3339. */
export interface ApiToken {
  id: number;
  user: string;
  role: Role | string;
  name: string;
  prefix: string;
  created_at: string;
  expires_at?: string;
  last_used_at?: string;
  revoked_at?: string;
  state: TokenState | string;
}

export interface TokenList {
  tokens: ApiToken[];
}

/** The 201 answer of POST /api/admin/tokens: the only time the token is shown. */
export interface CreatedToken extends ApiToken {
  token: string;
}

export interface CreateTokenBody {
  user?: string;
  name: string;
  expires_in?: string;
  expires_at?: string;
}

export type ExpiryChoice = 'never' | '7d' | '30d' | '90d' | '365d' | 'date';

export const EXPIRY_CHOICES: { value: ExpiryChoice; label: string }[] = [
  { value: '7d', label: '7 days' },
  { value: '30d', label: '30 days' },
  { value: '90d', label: '90 days' },
  { value: '365d', label: '1 year' },
  { value: 'date', label: 'On a date…' },
  { value: 'never', label: 'Never' },
];

export interface TokenForm {
  user: string;
  name: string;
  expiry: ExpiryChoice;
  /** yyyy-mm-dd from <input type="date">, used when expiry is 'date'. */
  date: string;
}

export type FormField = 'user' | 'name' | 'date';

export type BuildResult = { ok: true; body: CreateTokenBody } | { ok: false; field: FormField; message: string };

/** The server's limits, checked here too so the form can say so before sending. */
export const MAX_NAME = 128;
export const MAX_DAYS = 3650;
const DAY_MS = 86_400_000;

/**
 * The request body for the form, or which field is wrong and why. A date
 * means the end of that day in the admin's own time zone.
 */
export function buildCreateBody(form: TokenForm, now: Date): BuildResult {
  const user = form.user.trim();
  const name = form.name.trim();
  if (!name) return { ok: false, field: 'name', message: 'Name the token after what will use it, e.g. "grafana".' };
  if ([...name].length > MAX_NAME) return { ok: false, field: 'name', message: `At most ${MAX_NAME} characters.` };
  // Control characters are refused by the server too; say so before sending.
  if (/[\u0000-\u001f\u007f]/.test(name)) return { ok: false, field: 'name', message: 'No control characters.' };
  const body: CreateTokenBody = { name };
  if (user) body.user = user;
  if (form.expiry === 'never') return { ok: true, body };
  if (form.expiry !== 'date') {
    body.expires_in = form.expiry;
    return { ok: true, body };
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(form.date.trim());
  if (!m) return { ok: false, field: 'date', message: 'Pick the day the token stops working.' };
  const end = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59);
  if (Number.isNaN(end.getTime()) || end.getDate() !== Number(m[3])) return { ok: false, field: 'date', message: 'Not a valid date.' };
  if (end.getTime() <= now.getTime()) return { ok: false, field: 'date', message: 'The date must be today or later.' };
  if (end.getTime() - now.getTime() > MAX_DAYS * DAY_MS) return { ok: false, field: 'date', message: `At most ${MAX_DAYS} days ahead.` };
  body.expires_at = end.toISOString();
  return { ok: true, body };
}

/** The field a server 400 is about, from its error ("invalid expires_at"), for highlighting. */
export function fieldOfError(error: string): FormField | null {
  if (error === 'invalid user') return 'user';
  if (error === 'invalid name') return 'name';
  if (error === 'invalid expires_at' || error === 'invalid expires_in' || error === 'invalid expiry') return 'date';
  return null;
}

const STATE_LABELS: Record<TokenState, string> = {
  active: 'Active',
  expired: 'Expired',
  revoked: 'Revoked',
  user_removed: 'User removed',
};

export function stateLabel(state: string): string {
  return (STATE_LABELS as Record<string, string>)[state] ?? state;
}

export function stateTone(state: string): 'ok' | 'warn' | 'bad' | 'off' {
  switch (state) {
    case 'active':
      return 'ok';
    case 'expired':
      return 'warn';
    case 'revoked':
      return 'off';
    default:
      return 'bad';
  }
}

/** Whether revoking still means something (an expired token may still be revoked for the record). */
export function canRevoke(t: ApiToken): boolean {
  return t.state !== 'revoked';
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * "2030-01-31 14:05 UTC": one fixed, locale-independent form, in UTC so two
 * admins in different places read the same; `empty` when absent.
 */
export function formatWhen(iso: string | undefined | null, empty = '—'): string {
  if (!iso) return empty;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return empty;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** Usernames to suggest in the form: the admin first, then every owner seen in the list. */
export function suggestedUsers(me: string, tokens: ApiToken[]): string[] {
  const out = [me];
  for (const t of tokens) if (!out.includes(t.user)) out.push(t.user);
  return out;
}

/** What the revoke confirmation says. */
export function revokeQuestion(t: ApiToken): { title: string; body: string; confirmLabel: string; danger: true } {
  return {
    title: `Revoke “${t.name}”?`,
    body: `Token ${t.prefix}… of ${t.user} stops working at once: anything using it gets 401. This cannot be undone; a new token would have to be created and handed out.`,
    confirmLabel: 'Revoke token',
    danger: true,
  };
}
