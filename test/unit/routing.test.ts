/**
 * The routing policy of DESIGN §3, checked as properties over arbitrary registry snapshots:
 * sticky → available (least depth) → overflow (least depth) → reject.
 */
import fc from "fast-check";
import { chooseReplica, type ReplicaState, type ReplicaView, type RouteInput } from "../../runtime/core/routing";
import { seededRandom } from "../../runtime/core/seeded-random";

const NOW = 1_700_000_000_000;
const STALE_AFTER_MS = 6_000;

function replica(agentId: string, overrides: Partial<ReplicaView> = {}): ReplicaView {
  return { agentId, state: "running", depth: 0, heartbeatAt: NOW, availableDepth: 3, overflowDepth: 10, ...overrides };
}

function route(replicas: ReplicaView[], extra: Partial<RouteInput<ReplicaView>> = {}) {
  return chooseReplica({ replicas, now: NOW, staleAfterMs: STALE_AFTER_MS, random: seededRandom(1), ...extra });
}

const isEligible = (r: ReplicaView) => r.state === "running" && NOW - r.heartbeatAt <= STALE_AFTER_MS;

/** A replica with per-deployment thresholds (availableDepth ≤ overflowDepth, as the spec enforces). */
const replicaArb = (agentId: string): fc.Arbitrary<ReplicaView> =>
  fc
    .record({
      state: fc.constantFrom<ReplicaState>("running", "running", "running", "starting", "draining", "stopped"),
      overflowDepth: fc.integer({ min: 1, max: 12 }),
      availableFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      depth: fc.integer({ min: 0, max: 14 }),
      heartbeatAge: fc.oneof(fc.integer({ min: 0, max: STALE_AFTER_MS }), fc.integer({ min: STALE_AFTER_MS + 1, max: 60_000 })),
    })
    .map(({ state, overflowDepth, availableFraction, depth, heartbeatAge }) => ({
      agentId,
      state,
      depth,
      heartbeatAt: NOW - heartbeatAge,
      overflowDepth,
      availableDepth: Math.max(1, Math.round(availableFraction * overflowDepth)),
    }));

/** A registry snapshot of 0..8 replicas with distinct ids, plus an optional affinity and exclusions. */
const snapshotArb: fc.Arbitrary<Snapshot> = fc
  .integer({ min: 0, max: 8 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => replicaArb(`team-agent-${i + 1}`))))
  .chain((replicas) =>
    fc.record({
      replicas: fc.constant(replicas as ReplicaView[]),
      affinity: fc.option(fc.constantFrom("team-agent-1", "team-agent-2", "team-agent-3", "elsewhere-1"), { nil: undefined }),
      exclude: fc.uniqueArray(fc.constantFrom(...["team-agent-1", "team-agent-2", "team-agent-9"]), { maxLength: 2 }),
      seed: fc.integer(),
    }),
  );

type Snapshot = { replicas: ReplicaView[]; affinity?: string; exclude: string[]; seed: number };

function decide(s: Snapshot) {
  return route(s.replicas, { affinity: s.affinity, exclude: new Set(s.exclude), random: seededRandom(s.seed) });
}

const candidates = (s: Snapshot) => s.replicas.filter((r) => isEligible(r) && !s.exclude.includes(r.agentId));

describe("routing policy (properties)", () => {
  test("never routes to a replica that is starting, draining, stopped or has a stale heartbeat", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const decision = decide(s);
        if (decision.kind === "route") {
          expect(decision.replica.state).toBe("running");
          expect(NOW - decision.replica.heartbeatAt).toBeLessThanOrEqual(STALE_AFTER_MS);
        }
      }),
    );
  });

  test("never routes to a replica the caller excluded", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const decision = decide(s);
        if (decision.kind === "route") expect(s.exclude).not.toContain(decision.replica.agentId);
      }),
    );
  });

  test("never routes to a replica whose depth has reached its overflow limit", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const decision = decide(s);
        if (decision.kind === "route") expect(decision.replica.depth).toBeLessThan(decision.replica.overflowDepth);
      }),
    );
  });

  test("sends a follow-up to the thread's agent whenever that agent is eligible and below its overflow limit", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const affine = candidates(s).find((r) => r.agentId === s.affinity);
        fc.pre(affine !== undefined && affine.depth < affine.overflowDepth);

        const decision = decide(s);

        expect(decision).toMatchObject({ kind: "route", reason: "sticky", replica: { agentId: s.affinity } });
      }),
    );
  });

  test("only says sticky when it routes to the thread's agent", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const decision = decide(s);
        if (decision.kind === "route" && decision.reason === "sticky") expect(decision.replica.agentId).toBe(s.affinity);
      }),
    );
  });

  test("a new thread goes to a least-loaded replica among those below their available limit", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const decision = decide({ ...s, affinity: undefined });
        const available = candidates(s).filter((r) => r.depth < r.availableDepth);
        fc.pre(available.length > 0);

        expect(decision.kind).toBe("route");
        if (decision.kind !== "route") return;
        expect(decision.reason).toBe("available");
        expect(decision.replica.depth).toBeLessThan(decision.replica.availableDepth);
        expect(decision.replica.depth).toBe(Math.min(...available.map((r) => r.depth)));
      }),
    );
  });

  test("overflows only when no eligible replica is below its available limit, and then to a least-loaded one", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const decision = decide(s);
        fc.pre(decision.kind === "route" && decision.reason === "overflow");
        if (decision.kind !== "route") return;

        expect(candidates(s).filter((r) => r.depth < r.availableDepth)).toEqual([]);
        const open = candidates(s).filter((r) => r.depth < r.overflowDepth);
        expect(decision.replica.depth).toBe(Math.min(...open.map((r) => r.depth)));
      }),
    );
  });

  test("rejects exactly when no eligible replica is below its overflow limit, reporting how many were eligible", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const decision = decide(s);
        const eligible = candidates(s);
        const open = eligible.filter((r) => r.depth < r.overflowDepth);

        expect(decision.kind === "reject").toBe(open.length === 0);
        if (decision.kind === "reject") {
          expect(decision.eligible).toBe(eligible.length);
          expect(decision.minDepth).toBe(eligible.length ? Math.min(...eligible.map((r) => r.depth)) : null);
        }
      }),
    );
  });

  test("routes to one of the replicas it was given, unchanged", () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const decision = decide(s);
        if (decision.kind === "route") expect(s.replicas).toContain(decision.replica);
      }),
    );
  });

  test("spreads new threads over every replica tied at the least depth", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 2 }), fc.integer(), (n, depth, seed) => {
        const replicas = Array.from({ length: n }, (_, i) => replica(`agent-${i + 1}`, { depth }));
        const random = seededRandom(seed);
        const chosen = new Set<string>();

        for (let i = 0; i < 60 * n; i++) {
          const decision = route(replicas, { random });
          if (decision.kind === "route") chosen.add(decision.replica.agentId);
        }

        expect([...chosen].sort()).toEqual(replicas.map((r) => r.agentId).sort());
      }),
      { numRuns: 50 },
    );
  });

  test("still picks a valid replica when random() returns values at or next to 1", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.constantFrom(1 - Number.EPSILON, 0.9999999999, 1), (n, value) => {
        const replicas = Array.from({ length: n }, (_, i) => replica(`agent-${i + 1}`));

        const decision = route(replicas, { random: () => value });

        expect(decision).toMatchObject({ kind: "route", replica: { agentId: `agent-${n}` } });
      }),
    );
  });
});

describe("routing policy (examples)", () => {
  test("sends a follow-up to the busy agent of its thread as long as it is below the overflow limit", () => {
    const replicas = [replica("a-1", { depth: 9 }), replica("a-2"), replica("a-3")];

    const decision = route(replicas, { affinity: "a-1" });

    expect(decision).toMatchObject({ kind: "route", reason: "sticky", replica: { agentId: "a-1" } });
  });

  test("moves a thread to another agent when its agent is at the overflow limit", () => {
    const replicas = [replica("a-1", { depth: 10 }), replica("a-2", { depth: 1 }), replica("a-3", { depth: 0 })];

    const decision = route(replicas, { affinity: "a-1" });

    expect(decision).toMatchObject({ kind: "route", reason: "available", replica: { agentId: "a-3" } });
  });

  test("moves a thread to another agent when its agent is draining", () => {
    const replicas = [replica("a-1", { state: "draining" }), replica("a-2", { depth: 2 })];

    const decision = route(replicas, { affinity: "a-1" });

    expect(decision).toMatchObject({ kind: "route", reason: "available", replica: { agentId: "a-2" } });
  });

  test("overflows to the least busy agent when every agent has 3 or more asks", () => {
    const replicas = [replica("a-1", { depth: 5 }), replica("a-2", { depth: 3 }), replica("a-3", { depth: 9 })];

    const decision = route(replicas);

    expect(decision).toMatchObject({ kind: "route", reason: "overflow", replica: { agentId: "a-2" } });
  });

  test("rejects when every agent has 10 asks", () => {
    const replicas = [replica("a-1", { depth: 10 }), replica("a-2", { depth: 10 })];

    const decision = route(replicas, { affinity: "a-1" });

    expect(decision).toEqual({ kind: "reject", eligible: 2, minDepth: 10 });
  });

  test("rejects when no agent is running", () => {
    const replicas = [replica("a-1", { state: "starting" }), replica("a-2", { state: "stopped" })];

    const decision = route(replicas);

    expect(decision).toEqual({ kind: "reject", eligible: 0, minDepth: null });
  });

  test("treats an agent whose heartbeat is older than the stale limit as offline", () => {
    const replicas = [replica("a-1", { heartbeatAt: NOW - STALE_AFTER_MS - 1 }), replica("a-2", { heartbeatAt: NOW - STALE_AFTER_MS, depth: 2 })];

    const decision = route(replicas);

    expect(decision).toMatchObject({ kind: "route", replica: { agentId: "a-2" } });
  });

  test("honours per-deployment thresholds", () => {
    const replicas = [replica("tiny-1", { depth: 1, availableDepth: 1, overflowDepth: 1 })];

    const decision = route(replicas);

    expect(decision).toEqual({ kind: "reject", eligible: 1, minDepth: 1 });
  });
});
