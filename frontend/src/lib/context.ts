import { getContext, setContext } from 'svelte';
import type { Confirmer } from './actions.svelte';
import type { Api } from './api';
import type { Clock } from './clock.svelte';
import type { DashboardModel } from './model.svelte';

export interface DashCtx {
  api: Api;
  model: DashboardModel;
  clock: Clock;
  confirmer: Confirmer;
  readonly isAdmin: boolean;
}

const KEY = Symbol('tickwatch.dashboard');

export function setDash(ctx: DashCtx): DashCtx {
  return setContext(KEY, ctx);
}

export function getDash(): DashCtx {
  const ctx = getContext<DashCtx | undefined>(KEY);
  if (!ctx) throw new Error('dashboard context missing');
  return ctx;
}
