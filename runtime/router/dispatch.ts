/**
 * Choosing a replica and counting an ask into it: the routing policy (core/routing) applied to a
 * fresh, consistent read of the registry, committed with a conditional update. Used by the router
 * for new asks and by a draining replica to hand its queued asks back to the pool.
 */
import { chooseReplica, estimateWaitMs, isHealthy, retryAfterSeconds, type RouteReason } from "../core/routing";
import { PoolUnavailableError } from "../core/errors";
import type { ReplicaRegistry, ReplicaRow } from "../aws/replica-registry";
import { backend } from "./backend";

export interface DispatcherDeps {
  registry: ReplicaRegistry;
  now: () => number;
  random: () => number;
  heartbeatStaleMs: number;
  /** Deployment → its A/B share of new threads (`trafficWeight`); absent deployments weigh 1. */
  weights?: Record<string, number>;
  /** How long one answer of the deployment takes on a replica, as observed lately (for the 503). */
  answerMs?: (deployment: string) => number | undefined;
  /** Answers a replica of the deployment works on at once (default 1). */
  maxConcurrency?: (deployment: string) => number;
  /** Reuse an endpoint's registry rows read less than this long ago (0, the default: always read). */
  snapshotMaxAgeMs?: number;
}

interface Snapshot {
  rows: ReplicaRow[];
  /** performance.now() of the read: a copy's age is wall time, whatever clock routing uses. */
  readAt: number;
}

/** Retry-After when nothing is running (a worker starting or restarting takes seconds). */
const RETRY_WHEN_OFFLINE_S = 5;
/** Retry-After when every replica is full but no answer time has been observed yet. */
const RETRY_WHEN_UNKNOWN_S = 2;

/**
 * Guarded choices (no deeper than the router saw the replica) before the guard is dropped. After
 * that, each refusal means the replica really cannot take the ask now (full, draining, gone) and
 * its fresh row shows it, so unguarded choices go on until the snapshot has no eligible replica:
 * a 503 then says the pool is full, never that routers raced.
 */
const GUARDED_ATTEMPTS = 6;
/** Bounds the unguarded choices per replica (depths can move between a refusal and the next try). */
const UNGUARDED_ATTEMPTS_PER_REPLICA = 3;

export class Dispatcher {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly reads = new Map<string, Promise<ReplicaRow[]>>();

  constructor(private readonly deps: DispatcherDeps) {}

  /**
   * Chooses a replica for an ask of `endpoint` (sticky to `affinity` when it can, within the
   * thread's `deployment` while that deployment can take it) and counts the ask into it. Throws
   * PoolUnavailableError (503) when no replica can take it, with Retry-After from the least busy
   * replica's depth × its deployment's observed answer time / its concurrency.
   *
   * One consistent Query (or this instance's copy of it, kept up to date by its own count-ins and
   * count-outs, while younger than `snapshotMaxAgeMs`), then conditional updates: a refused update
   * returns the replica's row as it is now, which replaces it in the snapshot before choosing
   * again, so a burst of routers contending for the same replicas costs one extra write per lost
   * race, not another read. A copy never decides a 503: the rows are read again first.
   */
  async acquire(
    endpoint: string,
    affinity: string | undefined,
    exclude?: ReadonlySet<string>,
    deployment?: string,
  ): Promise<{ replica: ReplicaRow; reason: RouteReason }> {
    const { registry, now, random, heartbeatStaleMs, weights } = this.deps;
    let { rows: all, copy } = await this.snapshot(endpoint, false);
    let replicas = exclude ? all.filter((r) => !exclude.has(r.agentId)) : all;
    const attempts = GUARDED_ATTEMPTS + UNGUARDED_ATTEMPTS_PER_REPLICA * Math.max(1, replicas.length);
    for (let attempt = 0; attempt < attempts; attempt++) {
      const decision = chooseReplica({ replicas, affinity, deployment, weights, now: now(), staleAfterMs: heartbeatStaleMs, random });
      if (decision.kind === "reject" && copy) {
        ({ rows: all, copy } = await this.snapshot(endpoint, true));
        replicas = exclude ? all.filter((r) => !exclude.has(r.agentId)) : all;
        attempt -= 1;
        continue;
      }
      if (decision.kind === "reject") throw this.unavailable(endpoint, replicas, decision.eligible, decision.minDepth);
      const { replica, reason } = decision;
      // Guard against piling onto a replica that looked emptiest to many routers at once.
      const guarded = attempt < GUARDED_ATTEMPTS;
      const limit = reason === "available" && guarded ? replica.availableDepth : replica.overflowDepth;
      const seen = reason === "sticky" || !guarded ? undefined : replica.depth;
      // Counted into the kept copy before the write, so this instance's concurrent asks see it.
      this.countedIn(endpoint, replica.agentId);
      const result = await backend("the replica registry", () => registry.tryAcquire(endpoint, replica.agentId, limit, seen)).catch((err) => {
        this.countedOut(endpoint, replica.agentId);
        throw err;
      });
      if (result === true) return { replica, reason };
      const current = result.refused;
      this.remember(endpoint, replica.agentId, () => current);
      replicas = replicas.flatMap((r) => (r.agentId !== replica.agentId ? [r] : current ? [current] : []));
    }
    throw new PoolUnavailableError(endpoint, 1, { reason: "too many routers contending for the same replicas" });
  }

  /** An ask counted into `agentId` by this router: the kept copy of its row follows. */
  countedIn(endpoint: string, agentId: string): void {
    this.remember(endpoint, agentId, (r) => ({ ...r, depth: r.depth + 1 }));
  }

  /** An ask counted out of `agentId` by this router: the kept copy of its row follows. */
  countedOut(endpoint: string, agentId: string): void {
    this.remember(endpoint, agentId, (r) => ({ ...r, depth: Math.max(0, r.depth - 1) }));
  }

  /** The kept copy while young enough (unless `fresh`), else a read: one at a time per endpoint, shared by the asks waiting for it. */
  private async snapshot(endpoint: string, fresh: boolean): Promise<{ rows: ReplicaRow[]; copy: boolean }> {
    const maxAge = this.deps.snapshotMaxAgeMs ?? 0;
    const kept = this.snapshots.get(endpoint);
    if (!fresh && kept && performance.now() - kept.readAt < maxAge) return { rows: kept.rows, copy: true };
    let read = this.reads.get(endpoint);
    if (!read) {
      const readAt = performance.now();
      read = backend("the replica registry", () => this.deps.registry.listEndpoint(endpoint))
        .then((rows) => {
          if (maxAge > 0) this.snapshots.set(endpoint, { rows, readAt });
          return rows;
        })
        .finally(() => this.reads.delete(endpoint));
      if (maxAge > 0) this.reads.set(endpoint, read);
    }
    // Each ask chooses on its own array: the kept copy is replaced row by row, never mutated.
    return { rows: await read, copy: false };
  }

  /** Replaces (or drops, when `update` gives undefined) one row of the kept copy. */
  private remember(endpoint: string, agentId: string, update: (row: ReplicaRow) => ReplicaRow | undefined): void {
    const kept = this.snapshots.get(endpoint);
    if (!kept) return;
    kept.rows = kept.rows.flatMap((r) => {
      if (r.agentId !== agentId) return [r];
      const next = update(r);
      return next ? [next] : [];
    });
  }

  private unavailable(endpoint: string, replicas: readonly ReplicaRow[], eligible: number, minDepth: number | null): PoolUnavailableError {
    const { now, heartbeatStaleMs, answerMs, maxConcurrency } = this.deps;
    const at = now();
    const healthy = replicas.filter((r) => isHealthy(r, at, heartbeatStaleMs));
    const waitMs = eligible === 0 ? undefined : estimateWaitMs(healthy, answerMs ?? (() => undefined), maxConcurrency ?? (() => 1));
    const retryAfter = eligible === 0 ? RETRY_WHEN_OFFLINE_S : retryAfterSeconds(waitMs, RETRY_WHEN_UNKNOWN_S);
    return new PoolUnavailableError(endpoint, retryAfter, {
      healthy_replicas: eligible,
      min_queue_depth: minDepth,
      estimated_wait_seconds: waitMs === undefined ? null : Math.round(waitMs / 100) / 10,
    });
  }
}
