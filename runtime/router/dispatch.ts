/**
 * Choosing a replica and counting an ask into it: the routing policy (core/routing) applied to a
 * fresh, consistent read of the registry, committed with a conditional update. Used by the router
 * for new asks and by a draining replica to hand its queued asks back to the pool.
 */
import { chooseReplica, type RouteReason } from "../core/routing";
import { PoolUnavailableError } from "../core/errors";
import type { ReplicaRegistry, ReplicaRow } from "../aws/replica-registry";
import { backend } from "./backend";

export interface DispatcherDeps {
  registry: ReplicaRegistry;
  now: () => number;
  random: () => number;
  heartbeatStaleMs: number;
}

/** Choices made from one read of the registry before giving up (each refusal updates the read). */
const ACQUIRE_ATTEMPTS = 8;

export class Dispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /**
   * Chooses a replica for an ask of `endpoint` (sticky to `affinity` when it can) and counts the
   * ask into it. Throws PoolUnavailableError (503) when no replica can take it.
   *
   * One consistent Query, then conditional updates: a refused update returns the replica's row as
   * it is now, which replaces it in the snapshot before choosing again, so a burst of routers
   * contending for the same replicas costs one extra write per lost race, not another read.
   */
  async acquire(endpoint: string, affinity: string | undefined, exclude?: ReadonlySet<string>): Promise<{ replica: ReplicaRow; reason: RouteReason }> {
    const { registry, now, random, heartbeatStaleMs } = this.deps;
    const all = await backend("the replica registry", () => registry.listEndpoint(endpoint));
    let replicas = exclude ? all.filter((r) => !exclude.has(r.agentId)) : all;
    for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
      const decision = chooseReplica({ replicas, affinity, now: now(), staleAfterMs: heartbeatStaleMs, random });
      if (decision.kind === "reject") {
        const retryAfter = decision.eligible === 0 ? 5 : 2;
        throw new PoolUnavailableError(endpoint, retryAfter, { healthy_replicas: decision.eligible, min_queue_depth: decision.minDepth });
      }
      const { replica, reason } = decision;
      // Guard against piling onto a replica that looked emptiest to many routers at once. The last
      // attempts keep only the hard limit, so losing races under load never turns into a 503.
      const guarded = attempt < ACQUIRE_ATTEMPTS - 2;
      const limit = reason === "available" && guarded ? replica.availableDepth : replica.overflowDepth;
      const seen = reason === "sticky" || !guarded ? undefined : replica.depth;
      const result = await backend("the replica registry", () => registry.tryAcquire(endpoint, replica.agentId, limit, seen));
      if (result === true) return { replica, reason };
      const current = result.refused;
      replicas = replicas.flatMap((r) => (r.agentId !== replica.agentId ? [r] : current ? [current] : []));
    }
    throw new PoolUnavailableError(endpoint, 1, { reason: "too many routers contending for the same replicas" });
  }
}
