/**
 * Fixed one-minute windows for rate limits (pure arithmetic; the counts live in DynamoDB, see
 * aws/rate-limit-store.ts). A fixed window is shared by every router through one conditional
 * update per reserved batch; its known cost is that a client may get up to twice its limit across
 * a window boundary (the end of one minute and the start of the next).
 *
 *   window:   |──── 12:00:00 … 12:00:59 ────|──── 12:01:00 … ────
 *   count:      1 2 3 … 60  429 429 …         1 2 …
 *   reset:                                   ↑ X-RateLimit-Reset (epoch s)
 */
export const WINDOW_MS = 60_000;

/**
 * Lease sizing. A router instance does not count every ask in DynamoDB: it reserves a batch of a
 * window's allowance at once and spends it locally. The batch starts at 1 and doubles while a
 * batch is spent within LEASE_TARGET_MS (halves when it lasts far longer), capped at
 * LEASE_MAX_SHARE of the limit: a quiet key is counted exactly, a busy one costs about one
 * conditional update a second, and an instance can strand at most that share of a window.
 */
export const LEASE_TARGET_MS = 1_000;
export const LEASE_MAX_SHARE = 0.02;

export function maxLeaseSize(limit: number): number {
  return Math.max(1, Math.floor(limit * LEASE_MAX_SHARE));
}

/** The next batch to reserve, from the last one's size and how long it lasted. */
export function nextLeaseSize(last: { size: number; leasedAt: number } | undefined, now: number, limit: number): number {
  if (!last) return 1;
  const lasted = now - last.leasedAt;
  const size = lasted < LEASE_TARGET_MS ? last.size * 2 : lasted > 4 * LEASE_TARGET_MS ? Math.floor(last.size / 2) : last.size;
  return Math.min(maxLeaseSize(limit), Math.max(1, size));
}

export const DEFAULT_KEY_LIMIT_PER_MINUTE = 60;
export const DEFAULT_AGENT_LIMIT_PER_MINUTE = 50;

export interface Window {
  /** Epoch ms at which the window began. */
  start: number;
  /** Epoch ms at which the next window begins. */
  end: number;
}

export function windowAt(now: number): Window {
  const start = Math.floor(now / WINDOW_MS) * WINDOW_MS;
  return { start, end: start + WINDOW_MS };
}

export interface RateLimitState {
  limit: number;
  /** Asks counted in this window, including the one just admitted. */
  count: number;
  /** Epoch ms at which the window resets. */
  resetAt: number;
}

/** The three headers every authenticated response carries. */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(state.limit),
    "X-RateLimit-Remaining": String(Math.max(0, state.limit - state.count)),
    "X-RateLimit-Reset": String(Math.ceil(state.resetAt / 1000)),
  };
}

/** Whole seconds until the window resets, at least 1 (a `Retry-After` of 0 invites a busy loop). */
export function retryAfterSeconds(state: RateLimitState, now: number): number {
  return Math.max(1, Math.ceil((state.resetAt - now) / 1000));
}
