/**
 * The router's rate limits: per key (asks/min, the key's own or the default) and per replica
 * (asks/min, its deployment's or the default), counted in DynamoDB so every router instance
 * shares them, in batches reserved ahead (./rate-allowance.ts). The key's window is what the
 * `X-RateLimit-*` headers report.
 */
import { RateLimitExceededError } from "../core/errors";
import { rateLimitHeaders, retryAfterSeconds, type RateLimitState } from "../core/rate-limit";
import type { RateLimitStore } from "../aws/rate-limit-store";
import { RateAllowances } from "./rate-allowance";
import type { RouterConfig } from "./config";
import type { Principal } from "./auth";
import { backend } from "./backend";

export class RateLimiter {
  private readonly allowances: RateAllowances;

  constructor(
    store: RateLimitStore,
    private readonly limits: RouterConfig["rateLimits"],
    private readonly now: () => number,
  ) {
    this.allowances = new RateAllowances(store);
  }

  keyLimit(principal: Principal): number {
    return principal.rateLimitPerMinute ?? this.limits.perKeyPerMinute;
  }

  agentLimit(deployment: string): number {
    return this.limits.perDeployment[deployment] ?? this.limits.perAgentPerMinute;
  }

  /** Counts an ask against the key; the headers to send, or a 429 that carries them. */
  async consumeKey(principal: Principal): Promise<Record<string, string>> {
    const now = this.now();
    const limit = this.keyLimit(principal);
    const result = await backend("the rate-limit store", () => this.allowances.take({ kind: "key", keyHash: principal.keyHash }, limit, now));
    const headers = rateLimitHeaders(result);
    if (!result.allowed) throw new RateLimitExceededError("key", limit, retryAfterSeconds(result, now), headers);
    return headers;
  }

  /** The key's headers without counting (responses that are not asks). */
  async peekKey(principal: Principal): Promise<Record<string, string>> {
    const state = await backend("the rate-limit store", () =>
      this.allowances.peek({ kind: "key", keyHash: principal.keyHash }, this.keyLimit(principal), this.now()),
    );
    return rateLimitHeaders(state);
  }

  /** Counts an ask against a replica; the state, with `allowed` false when it is at its limit. */
  async consumeAgent(agentId: string, deployment: string): Promise<RateLimitState & { allowed: boolean }> {
    return backend("the rate-limit store", () => this.allowances.take({ kind: "agent", agentId }, this.agentLimit(deployment), this.now()));
  }

  /** The 429 for a replica (or every replica of an endpoint) at its limit; the key's headers are added by the app. */
  agentExceeded(state: RateLimitState, details: Record<string, unknown>): RateLimitExceededError {
    return new RateLimitExceededError("agent", state.limit, retryAfterSeconds(state, this.now()), {}, details);
  }
}
