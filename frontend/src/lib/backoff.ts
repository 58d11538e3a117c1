// Exponential backoff with full jitter (AWS architecture blog): the delay is
// uniform in [0, min(cap, base * 2^attempt)), which spreads a crowd of
// reconnecting dashboards instead of having them retry in lock-step.

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 15_000 };

/** Upper bound of the delay before retry number `attempt` (0-based). */
export function backoffCeiling(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF): number {
  // 2^attempt overflows to Infinity for huge attempts; min() keeps it at the cap.
  const exp = o.baseMs * Math.pow(2, Math.max(0, attempt));
  return Math.min(o.capMs, exp);
}

/** The delay before retry number `attempt`; `random` returns [0, 1). */
export function backoffDelay(attempt: number, random: () => number = Math.random, o: BackoffOptions = DEFAULT_BACKOFF): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * backoffCeiling(attempt, o));
}
