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

/** Times the registry is re-read when a counter update loses a race. */
const ACQUIRE_ATTEMPTS = 5;

export class Dispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /**
   * Chooses a replica for an ask of `endpoint` (sticky to `affinity` when it can) and counts the
   * ask into it. Throws PoolUnavailableError (503) when no replica can take it.
   */
  async acquire(endpoint: string, affinity: string | undefined, exclude?: ReadonlySet<string>): Promise<{ replica: ReplicaRow; reason: RouteReason }> {
    const { registry, now, random, heartbeatStaleMs } = this.deps;
    let lastReject: { eligible: number; minDepth: number | null } = { eligible: 0, minDepth: null };
    for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
      const all = await backend("the replica registry", () => registry.listEndpoint(endpoint));
      const replicas = exclude ? all.filter((r) => !exclude.has(r.agentId)) : all;
      const decision = chooseReplica({ replicas, affinity, now: now(), staleAfterMs: heartbeatStaleMs, random });
      if (decision.kind === "reject") {
        lastReject = decision;
        break;
      }
      const { replica, reason } = decision;
      // Guard against piling onto a replica that looked emptiest to many routers at once. The last
      // attempt keeps only the hard limit, so losing races under load never turns into a 503.
      const last = attempt === ACQUIRE_ATTEMPTS - 1;
      const limit = reason === "available" && !last ? replica.availableDepth : replica.overflowDepth;
      const seen = reason === "sticky" || last ? undefined : replica.depth;
      if (await backend("the replica registry", () => registry.tryAcquire(endpoint, replica.agentId, limit, seen))) {
        return { replica, reason };
      }
    }
    const retryAfter = lastReject.eligible === 0 ? 5 : 2;
    throw new PoolUnavailableError(endpoint, retryAfter, { healthy_replicas: lastReject.eligible, min_queue_depth: lastReject.minDepth });
  }
}
