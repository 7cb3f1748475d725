/**
 * Fixed one-minute windows for rate limits (pure arithmetic; the counts live in DynamoDB, see
 * aws/rate-limit-store.ts). A fixed window costs one conditional update per ask and is shared by
 * every router; its known cost is that a client may get up to twice its limit across a window
 * boundary (the end of one minute and the start of the next).
 *
 *   window:   |──── 12:00:00 … 12:00:59 ────|──── 12:01:00 … ────
 *   count:      1 2 3 … 60  429 429 …         1 2 …
 *   reset:                                   ↑ X-RateLimit-Reset (epoch s)
 */
export const WINDOW_MS = 60_000;

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
