/**
 * The routing policy of DESIGN §3, as a pure function of a snapshot of the replica registry.
 *
 *   deployment the thread's own deployment (a follow-up), or a weighted draw among the deployments
 *              that serve the endpoint (a new thread: A/B by `trafficWeight`); the others, in a
 *              weighted order, only when it has no replica that can take the ask
 *   sticky     the thread's affine replica, if eligible, depth < overflow and in that deployment
 *   available  least depth among replicas with depth < available (ties: random, so load spreads)
 *   overflow   least depth among replicas with depth < overflow
 *   reject     nothing eligible in any deployment → 503 POOL_UNAVAILABLE
 *
 * Eligible = state `running` and a heartbeat younger than `staleAfterMs`. With one deployment per
 * endpoint (the common case) the first step is a no-op and draws no random number.
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
  /** `team/agent-type`; replicas without one form a single deployment. */
  deployment?: string;
}

export type RouteReason = "sticky" | "available" | "overflow";

export type RouteDecision<R extends ReplicaView = ReplicaView> =
  | { kind: "route"; replica: R; reason: RouteReason }
  | { kind: "reject"; eligible: number; minDepth: number | null };

export interface RouteInput<R extends ReplicaView> {
  replicas: readonly R[];
  /** The replica that last answered the thread, if any. */
  affinity?: string;
  /**
   * The deployment the thread belongs to (a follow-up). Absent: the affine replica's deployment if
   * it is in the snapshot, else the thread is treated as new and draws a deployment by weight.
   */
  deployment?: string;
  /** Deployment → relative share of new threads (`trafficWeight`); an absent deployment weighs 1. */
  weights?: Readonly<Record<string, number>>;
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

const deploymentOf = (r: ReplicaView): string => r.deployment ?? "";

export function chooseReplica<R extends ReplicaView>(input: RouteInput<R>): RouteDecision<R> {
  const eligible = input.replicas.filter(
    (r) => isHealthy(r, input.now, input.staleAfterMs) && !input.exclude?.has(r.agentId),
  );
  const home = threadDeployment(input);

  if (input.affinity) {
    const affine = eligible.find((r) => r.agentId === input.affinity);
    if (affine && affine.depth < affine.overflowDepth && (home === undefined || deploymentOf(affine) === home)) {
      return { kind: "route", replica: affine, reason: "sticky" };
    }
  }

  for (const deployment of deploymentOrder(eligible, home, input.weights, input.random)) {
    const mine = eligible.filter((r) => deploymentOf(r) === deployment);
    const available = leastDepth(mine.filter((r) => r.depth < r.availableDepth), input.random);
    if (available) return { kind: "route", replica: available, reason: "available" };
    const overflow = leastDepth(mine.filter((r) => r.depth < r.overflowDepth), input.random);
    if (overflow) return { kind: "route", replica: overflow, reason: "overflow" };
  }

  const minDepth = eligible.length ? Math.min(...eligible.map((r) => r.depth)) : null;
  return { kind: "reject", eligible: eligible.length, minDepth };
}

/** The deployment a follow-up stays with: the one stored with the thread, else its last agent's. */
export function threadDeployment(input: Pick<RouteInput<ReplicaView>, "replicas" | "affinity" | "deployment">): string | undefined {
  if (input.deployment !== undefined) return input.deployment;
  if (input.affinity === undefined) return undefined;
  const affine = input.replicas.find((r) => r.agentId === input.affinity);
  return affine ? deploymentOf(affine) : undefined;
}

/**
 * The deployments to try, in order: the thread's own first (a follow-up), else one drawn by weight;
 * then the rest by weighted draws without replacement, weight-0 deployments last. A deployment
 * with no eligible replica is left out, so a draw never lands where nothing can answer.
 */
export function deploymentOrder(
  eligible: readonly ReplicaView[],
  home: string | undefined,
  weights: Readonly<Record<string, number>> | undefined,
  random: () => number,
): string[] {
  const present = [...new Set(eligible.map(deploymentOf))];
  if (present.length <= 1) return present;
  const order: string[] = [];
  let rest = present;
  if (home !== undefined && rest.includes(home)) {
    order.push(home);
    rest = rest.filter((d) => d !== home);
  }
  const weightOf = (d: string) => Math.max(0, weights?.[d] ?? 1);
  while (rest.length > 1) {
    const total = rest.reduce((sum, d) => sum + weightOf(d), 0);
    if (total <= 0) break;
    let point = random() * total;
    let pick = "";
    for (const d of rest) {
      if (weightOf(d) <= 0) continue;
      pick = d; // random() at or next to 1 may overshoot by a rounding error: the last weighted one
      if (point < weightOf(d)) break;
      point -= weightOf(d);
    }
    order.push(pick);
    rest = rest.filter((d) => d !== pick);
  }
  return [...order, ...rest];
}

/**
 * How long an ask would wait before the least busy eligible replica could start it: its depth ×
 * the deployment's typical answer time / the answers it works on at once. Undefined when nothing
 * is eligible or no answer time is known for any eligible replica's deployment.
 */
export function estimateWaitMs<R extends ReplicaView>(
  eligible: readonly R[],
  answerMs: (deployment: string) => number | undefined,
  maxConcurrency: (deployment: string) => number,
): number | undefined {
  let best: number | undefined;
  for (const r of eligible) {
    const t = answerMs(deploymentOf(r));
    if (t === undefined) continue;
    const wait = (r.depth * t) / Math.max(1, maxConcurrency(deploymentOf(r)));
    if (best === undefined || wait < best) best = wait;
  }
  return best;
}

/** Retry-After in whole seconds: the estimated wait clamped to [1, 60]; unknown → `fallback`. */
export function retryAfterSeconds(waitMs: number | undefined, fallback: number): number {
  if (waitMs === undefined || !Number.isFinite(waitMs)) return fallback;
  return Math.min(60, Math.max(1, Math.ceil(waitMs / 1000)));
}

/** Least depth; among equals a uniformly random one, so equal replicas share new threads. */
function leastDepth<R extends ReplicaView>(candidates: readonly R[], random: () => number): R | undefined {
  if (candidates.length === 0) return undefined;
  const min = Math.min(...candidates.map((r) => r.depth));
  const ties = candidates.filter((r) => r.depth === min);
  return ties[Math.min(ties.length - 1, Math.floor(random() * ties.length))];
}
