/**
 * The asks a router instance may admit without a round trip: batches reserved from the window's
 * shared count (aws/rate-limit-store.ts) and spent here, one batch per scope at a time. The batch
 * size comes from core/rate-limit.ts (1 for a quiet key, so its count stays exact; up to 2 % of
 * the limit for a busy one, about one conditional update a second).
 */
import { nextLeaseSize, windowAt, type RateLimitState } from "../core/rate-limit";
import type { RateLimitScope, RateLimitStore } from "../aws/rate-limit-store";

interface Lease {
  windowStart: number;
  /** Reserved in the shared count and not spent here yet. */
  unspent: number;
  /** The window's shared count after this instance's last reservation. */
  shared: number;
  /** The window has no asks left (a count never falls within its window). */
  full: boolean;
  last?: { size: number; leasedAt: number };
  refilling?: Promise<void>;
}

/** Scopes tracked before the ones of past windows are dropped. */
const PRUNE_ABOVE = 10_000;

export class RateAllowances {
  private readonly leases = new Map<string, Lease>();

  constructor(private readonly store: RateLimitStore) {}

  /** Admits one ask of `scope` if its window has room; the state to report either way. */
  async take(scope: RateLimitScope, limit: number, now: number): Promise<RateLimitState & { allowed: boolean }> {
    const window = windowAt(now);
    for (;;) {
      const lease = this.current(scope, window.start);
      if (lease.unspent > 0) {
        lease.unspent -= 1;
        return { allowed: true, limit, count: lease.shared - lease.unspent, resetAt: window.end };
      }
      if (lease.full) return { allowed: false, limit, count: limit, resetAt: window.end };
      lease.refilling ??= this.refill(scope, lease, limit, now).finally(() => (lease.refilling = undefined));
      await lease.refilling;
    }
  }

  /** The window's count without counting: the shared count less what this instance holds unspent. */
  async peek(scope: RateLimitScope, limit: number, now: number): Promise<RateLimitState> {
    const state = await this.store.peek(scope, limit, now);
    const lease = this.leases.get(scopeKey(scope));
    const unspent = lease?.windowStart === windowAt(now).start ? lease.unspent : 0;
    return { ...state, count: Math.max(0, state.count - unspent) };
  }

  private current(scope: RateLimitScope, windowStart: number): Lease {
    const key = scopeKey(scope);
    const lease = this.leases.get(key);
    if (lease?.windowStart === windowStart) return lease;
    if (this.leases.size > PRUNE_ABOVE) {
      for (const [k, l] of this.leases) if (l.windowStart < windowStart) this.leases.delete(k);
    }
    const fresh: Lease = { windowStart, unspent: 0, shared: 0, full: false, last: lease?.last };
    this.leases.set(key, fresh);
    return fresh;
  }

  private async refill(scope: RateLimitScope, lease: Lease, limit: number, now: number): Promise<void> {
    const size = nextLeaseSize(lease.last, now, limit);
    const reserved = await this.store.reserve(scope, limit, size, now);
    lease.unspent += reserved.granted;
    lease.shared = reserved.count;
    lease.full = reserved.granted === 0;
    lease.last = { size, leasedAt: now };
  }
}

function scopeKey(scope: RateLimitScope): string {
  return scope.kind === "key" ? `key#${scope.keyHash}` : `agent#${scope.agentId}`;
}
