/**
 * A/B routing (issue 8): several deployments serve one endpoint; new threads split by
 * `trafficWeight`, a follow-up stays with its thread's deployment, and a 503 says how long to wait.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import {
  chooseReplica,
  estimateWaitMs,
  retryAfterSeconds,
  type ReplicaState,
  type ReplicaView,
  type RouteInput,
} from "../../runtime/core/routing";
import { declarationFromConfig, parsePoolSpec } from "../../runtime/core/spec";
import { resolveDeployments } from "../../runtime/core/naming";
import { exampleDeclaration, problemsOf } from "../support/pool-spec";
import { seededRandom } from "../../runtime/core/seeded-random";

const NOW = 1_700_000_000_000;
const STALE_AFTER_MS = 6_000;
const A = "team/model-a";
const B = "team/model-b";
const C = "team/model-c";

function replica(agentId: string, deployment: string, overrides: Partial<ReplicaView> = {}): ReplicaView {
  return { agentId, deployment, state: "running", depth: 0, heartbeatAt: NOW, availableDepth: 3, overflowDepth: 10, ...overrides };
}

function route(replicas: ReplicaView[], extra: Partial<RouteInput<ReplicaView>> = {}) {
  return chooseReplica({ replicas, now: NOW, staleAfterMs: STALE_AFTER_MS, random: seededRandom(1), ...extra });
}

const isEligible = (r: ReplicaView) => r.state === "running" && NOW - r.heartbeatAt <= STALE_AFTER_MS;

/** A replica of one of three deployments, in any state and depth. */
const replicaArb = (agentId: string): fc.Arbitrary<ReplicaView> =>
  fc
    .record({
      deployment: fc.constantFrom(A, B, C),
      state: fc.constantFrom<ReplicaState>("running", "running", "running", "starting", "draining", "stopped"),
      overflowDepth: fc.integer({ min: 1, max: 12 }),
      availableFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      depth: fc.integer({ min: 0, max: 14 }),
      stale: fc.boolean(),
    })
    .map(({ deployment, state, overflowDepth, availableFraction, depth, stale }) => ({
      agentId,
      deployment,
      state,
      depth,
      heartbeatAt: stale ? NOW - STALE_AFTER_MS - 1 : NOW,
      overflowDepth,
      availableDepth: Math.max(1, Math.round(availableFraction * overflowDepth)),
    }));

type Snapshot = { replicas: ReplicaView[]; affinity?: string; deployment?: string; weights: Record<string, number>; seed: number };

const snapshotArb: fc.Arbitrary<Snapshot> = fc
  .integer({ min: 0, max: 9 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => replicaArb(`agent-${i + 1}`))))
  .chain((replicas) =>
    fc.record({
      replicas: fc.constant(replicas as ReplicaView[]),
      affinity: fc.option(fc.constantFrom("agent-1", "agent-2", "agent-3", "gone-1"), { nil: undefined }),
      deployment: fc.option(fc.constantFrom(A, B, C), { nil: undefined }),
      weights: fc.record({ [A]: fc.integer({ min: 0, max: 5 }), [B]: fc.integer({ min: 0, max: 5 }), [C]: fc.integer({ min: 0, max: 5 }) }),
      seed: fc.integer(),
    }),
  );

const decide = (s: Snapshot) =>
  route(s.replicas, { affinity: s.affinity, deployment: s.deployment, weights: s.weights, random: seededRandom(s.seed) });

describe("A/B routing (properties)", () => {
  test("a follow-up never leaves its deployment while that deployment has a replica below its overflow limit", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        fc.pre(s.deployment !== undefined);
        const home = s.replicas.filter((r) => isEligible(r) && r.deployment === s.deployment && r.depth < r.overflowDepth);
        fc.pre(home.length > 0);

        const decision = decide(s);

        expect(decision).toMatchObject({ kind: "route", replica: { deployment: s.deployment } });
      }),
    );
  });

  test("a follow-up without a stored deployment stays with the deployment of the agent that last answered it", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const affine = s.replicas.find((r) => r.agentId === s.affinity);
        fc.pre(affine !== undefined);
        const home = s.replicas.filter((r) => isEligible(r) && r.deployment === affine!.deployment && r.depth < r.overflowDepth);
        fc.pre(home.length > 0);

        const decision = decide({ ...s, deployment: undefined });

        expect(decision).toMatchObject({ kind: "route", replica: { deployment: affine!.deployment } });
      }),
    );
  });

  test("within the deployment it routes to, the choice follows DESIGN §3 (sticky, else least depth below available, else overflow)", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const decision = decide(s);
        fc.pre(decision.kind === "route");
        if (decision.kind !== "route") return;
        const mine = s.replicas.filter((r) => isEligible(r) && r.deployment === decision.replica.deployment);
        const available = mine.filter((r) => r.depth < r.availableDepth);

        if (decision.reason === "sticky") expect(decision.replica.agentId).toBe(s.affinity);
        if (decision.reason === "available") expect(decision.replica.depth).toBe(Math.min(...available.map((r) => r.depth)));
        if (decision.reason === "overflow") {
          expect(available).toEqual([]);
          expect(decision.replica.depth).toBe(Math.min(...mine.filter((r) => r.depth < r.overflowDepth).map((r) => r.depth)));
        }
      }),
    );
  });

  test("falls back to another deployment rather than reject: rejects exactly when no eligible replica of any deployment is below its overflow limit", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const decision = decide(s);
        const eligible = s.replicas.filter(isEligible);

        expect(decision.kind === "reject").toBe(eligible.every((r) => r.depth >= r.overflowDepth));
        if (decision.kind === "route") {
          expect(isEligible(decision.replica)).toBe(true);
          expect(decision.replica.depth).toBeLessThan(decision.replica.overflowDepth);
        }
      }),
    );
  });

  test("a weight-0 deployment gets a new thread only when no weighted deployment can take it", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const decision = decide({ ...s, affinity: undefined, deployment: undefined });
        fc.pre(decision.kind === "route" && s.weights[decision.replica.deployment!] === 0);

        const weightedOpen = s.replicas.filter((r) => isEligible(r) && s.weights[r.deployment!]! > 0 && r.depth < r.overflowDepth);
        expect(weightedOpen).toEqual([]);
      }),
    );
  });

  test("new threads split across deployments by weight (seeded, within 3 points of the target share)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 4 }), fc.integer(), (wa, wb, wc, seed) => {
        const replicas = [replica("a-1", A), replica("a-2", A), replica("b-1", B), replica("c-1", C), replica("c-2", C), replica("c-3", C)];
        const weights = { [A]: wa, [B]: wb, [C]: wc };
        const random = seededRandom(seed);
        const counts: Record<string, number> = { [A]: 0, [B]: 0, [C]: 0 };
        const n = 4_000;

        for (let i = 0; i < n; i++) {
          const decision = route(replicas, { weights, random });
          if (decision.kind === "route") counts[decision.replica.deployment!]! += 1;
        }

        const total = wa + wb + wc;
        for (const [d, w] of Object.entries(weights)) expect(Math.abs(counts[d]! / n - w / total)).toBeLessThan(0.03);
      }),
      { numRuns: 30 },
    );
  });

  test("one deployment per endpoint draws no extra random number (routing is as before A/B)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer(), (n, seed) => {
        const replicas = Array.from({ length: n }, (_, i) => replica(`a-${i + 1}`, A));
        const plain = replicas.map(({ deployment: _d, ...r }) => r);

        const withDeployment = route(replicas, { weights: { [A]: 3 }, random: seededRandom(seed) });
        const without = route(plain, { random: seededRandom(seed) });

        expect(withDeployment.kind === "route" && withDeployment.replica.agentId).toBe(without.kind === "route" && without.replica.agentId);
      }),
    );
  });
});

describe("A/B routing (examples)", () => {
  test("keeps a follow-up on its deployment's busier replica rather than an idle one of the other model", () => {
    const replicas = [replica("a-1", A, { depth: 5 }), replica("b-1", B)];

    const decision = route(replicas, { affinity: "gone-7", deployment: A, weights: { [A]: 1, [B]: 1 } });

    expect(decision).toMatchObject({ kind: "route", reason: "overflow", replica: { agentId: "a-1" } });
  });

  test("does not stick to the last agent when it belongs to another deployment than the thread", () => {
    const replicas = [replica("a-1", A, { depth: 1 }), replica("b-1", B)];

    const decision = route(replicas, { affinity: "b-1", deployment: A });

    expect(decision).toMatchObject({ kind: "route", reason: "available", replica: { agentId: "a-1" } });
  });

  test("moves a follow-up to the other deployment when its own has no replica that can take it", () => {
    const replicas = [replica("a-1", A, { depth: 10 }), replica("a-2", A, { state: "draining" }), replica("b-1", B, { depth: 2 })];

    const decision = route(replicas, { affinity: "a-1", deployment: A });

    expect(decision).toMatchObject({ kind: "route", replica: { agentId: "b-1" } });
  });

  test("a new thread drawn for a deployment with every replica full goes to the other one", () => {
    const replicas = [replica("a-1", A, { depth: 10 }), replica("b-1", B, { depth: 9 })];

    const decision = route(replicas, { weights: { [A]: 1_000, [B]: 1 } });

    expect(decision).toMatchObject({ kind: "route", reason: "overflow", replica: { agentId: "b-1" } });
  });
});

describe("estimated wait and Retry-After", () => {
  const answerMs = (d: string) => ({ [A]: 4_000, [B]: 1_000 })[d];

  test("is the least busy replica's depth × its deployment's answer time / its concurrency", () => {
    const replicas = [replica("a-1", A, { depth: 10 }), replica("b-1", B, { depth: 10 }), replica("b-2", B, { depth: 12 })];

    const wait = estimateWaitMs(replicas, answerMs, (d) => (d === B ? 2 : 1));

    expect(wait).toBe(5_000);
  });

  test("grows with depth and with answer time", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 100, max: 30_000 }), (d1, d2, t) => {
        const wait = (depth: number, ms: number) => estimateWaitMs([replica("a-1", A, { depth })], () => ms, () => 1)!;

        expect(wait(Math.min(d1, d2), t)).toBeLessThanOrEqual(wait(Math.max(d1, d2), t));
        expect(wait(d1, t)).toBeLessThanOrEqual(wait(d1, t * 2));
      }),
    );
  });

  test("is unknown without an answer time, and Retry-After then takes the fallback", () => {
    const wait = estimateWaitMs([replica("c-1", C, { depth: 10 })], answerMs, () => 1);

    expect(wait).toBeUndefined();
    expect(retryAfterSeconds(wait, 2)).toBe(2);
  });

  test("Retry-After is whole seconds within [1, 60]", () => {
    expect(retryAfterSeconds(0, 2)).toBe(1);
    expect(retryAfterSeconds(1_200, 2)).toBe(2);
    expect(retryAfterSeconds(3_600_000, 2)).toBe(60);
  });
});

describe("trafficWeight in the stack file", () => {


  function abDeclaration(weights: [number | undefined, number | undefined]): any {
    const raw = exampleDeclaration();
    raw.agentTypes.push({ ...raw.agentTypes[0], name: "Support Mini", slug: "support-mini", model: "gpt-4o-mini" });
    raw.teams[0].deployments = [
      { agentType: "customer-support", desiredReplicas: 2, ...(weights[0] === undefined ? {} : { trafficWeight: weights[0] }) },
      { agentType: "support-mini", desiredReplicas: 1, ...(weights[1] === undefined ? {} : { trafficWeight: weights[1] }) },
    ];
    return raw;
  }

  test("the A/B fixture declares two deployments of one team on the same endpoint, 3:1", () => {
    const config = parse(readFileSync(join(__dirname, "..", "fixtures", "Pulumi.ab.yaml"), "utf8")).config;

    const spec = parsePoolSpec(declarationFromConfig(config), "Pulumi.ab.yaml");
    const deployments = resolveDeployments(spec, "ab");

    expect(deployments.map((d) => [d.key, d.agentType.endpointSlug, d.deployment.trafficWeight])).toEqual([
      ["support-team/support-gpt4o", "support", 3],
      ["support-team/support-mini", "support", 1],
    ]);
  });

  test("accepts weights on two deployments serving one endpoint, and leaves an absent weight absent (it counts as 1)", () => {
    const spec = parsePoolSpec(abDeclaration([3, undefined]), "test");

    expect(spec.teams[0]!.deployments.map((d) => d.trafficWeight)).toEqual([3, undefined]);
  });

  test("rejects a negative weight with its path", () => {
    expect(problemsOf(abDeclaration([-1, 1]))).toEqual([expect.stringMatching(/^teams\[0\]\.deployments\[0\]\.trafficWeight: /)]);
  });

  test("rejects an endpoint whose every deployment has weight 0", () => {
    expect(problemsOf(abDeclaration([0, 0]))).toEqual([
      'teams[0].deployments[0].trafficWeight: every deployment serving "support" has trafficWeight 0; give at least one a positive weight',
    ]);
  });
});
