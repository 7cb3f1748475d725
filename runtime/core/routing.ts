/**
 * The routing policy of DESIGN §3, as a pure function of a snapshot of the replica registry.
 *
 *   sticky     the thread's affine replica, if eligible and depth < overflow
 *   available  least depth among replicas with depth < available (ties: random, so load spreads)
 *   overflow   least depth among replicas with depth < overflow
 *   reject     nothing eligible → 503 POOL_UNAVAILABLE
 *
 * Eligible = state `running` and a heartbeat younger than `staleAfterMs`.
 */
export type ReplicaState = "starting" | "running" | "draining" | "stopped";

export interface ReplicaView {
  agentId: string;
  state: ReplicaState;
  /** Asks routed to the replica and not yet answered (queued + in progress). */
  depth: number;
  heartbeatAt: number;
  availableDepth: number;
  overflowDepth: number;
}

export type RouteReason = "sticky" | "available" | "overflow";

export type RouteDecision<R extends ReplicaView = ReplicaView> =
  | { kind: "route"; replica: R; reason: RouteReason }
  | { kind: "reject"; eligible: number; minDepth: number | null };

export interface RouteInput<R extends ReplicaView> {
  replicas: readonly R[];
  /** The replica that last answered the thread, if any. */
  affinity?: string;
  now: number;
  staleAfterMs: number;
  /** Uniform in [0, 1); injected so tests are reproducible. */
  random: () => number;
  /** Replicas to leave out (e.g. ones whose counter just refused this ask). */
  exclude?: ReadonlySet<string>;
}

export function isHealthy(r: ReplicaView, now: number, staleAfterMs: number): boolean {
  return r.state === "running" && now - r.heartbeatAt <= staleAfterMs;
}

export function chooseReplica<R extends ReplicaView>(input: RouteInput<R>): RouteDecision<R> {
  const eligible = input.replicas.filter(
    (r) => isHealthy(r, input.now, input.staleAfterMs) && !input.exclude?.has(r.agentId),
  );

  if (input.affinity) {
    const affine = eligible.find((r) => r.agentId === input.affinity);
    if (affine && affine.depth < affine.overflowDepth) return { kind: "route", replica: affine, reason: "sticky" };
  }

  const available = leastDepth(eligible.filter((r) => r.depth < r.availableDepth), input.random);
  if (available) return { kind: "route", replica: available, reason: "available" };

  const overflow = leastDepth(eligible.filter((r) => r.depth < r.overflowDepth), input.random);
  if (overflow) return { kind: "route", replica: overflow, reason: "overflow" };

  const minDepth = eligible.length ? Math.min(...eligible.map((r) => r.depth)) : null;
  return { kind: "reject", eligible: eligible.length, minDepth };
}

/** Least depth; among equals a uniformly random one, so equal replicas share new threads. */
function leastDepth<R extends ReplicaView>(candidates: readonly R[], random: () => number): R | undefined {
  if (candidates.length === 0) return undefined;
  const min = Math.min(...candidates.map((r) => r.depth));
  const ties = candidates.filter((r) => r.depth === min);
  return ties[Math.min(ties.length - 1, Math.floor(random() * ties.length))];
}
