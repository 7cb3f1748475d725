import { alertThresholds, evaluateAlerts, percentile, type AlertState, type DeploymentObservation } from "../../runtime/core/alerts";

const calm: DeploymentObservation = { deployment: "support-team/customer-support", desired: 3, healthy: 3, queueDepth: 0, asks: 20, errors: 0, p95LatencyMs: 300 };
const thresholds = alertThresholds({ queueDepth: 10, errorRate: 0.2, p95LatencyMs: 2_000 });

/** Runs the rules over a timeline of [ms since start, observation] with a clock the test controls. */
function timeline(steps: [number, Partial<DeploymentObservation>][]) {
  let state: AlertState = new Map();
  return steps.map(([at, change]) => {
    const out = evaluateAlerts(state, [{ ...calm, ...change }], () => thresholds, 1_000_000 + at);
    state = out.state;
    return { firing: out.firing.map((a) => a.rule), fired: out.fired.map((a) => a.rule), cleared: out.cleared.map((a) => a.rule) };
  });
}

test("agents offline fires only after fewer healthy than desired for 2 minutes, and clears when they are back", () => {
  const steps = timeline([
    [0, { healthy: 2 }],
    [119_000, { healthy: 2 }],
    [120_000, { healthy: 2 }],
    [130_000, { healthy: 2 }],
    [140_000, { healthy: 3 }],
  ]);

  expect(steps.map((s) => s.firing)).toEqual([[], [], ["agents_offline"], ["agents_offline"], []]);
  expect(steps[2]!.fired).toEqual(["agents_offline"]);
  expect(steps[3]!.fired).toEqual([]);
  expect(steps[4]!.cleared).toEqual(["agents_offline"]);
});

test("a replica that recovers within the 2 minutes never raises agents offline", () => {
  const steps = timeline([
    [0, { healthy: 2 }],
    [60_000, { healthy: 3 }],
    [90_000, { healthy: 2 }],
    [200_000, { healthy: 2 }],
  ]);

  expect(steps.map((s) => s.firing)).toEqual([[], [], [], []]);
});

test("queue depth above its threshold fires at once and clears when the queue drains", () => {
  const steps = timeline([
    [0, { queueDepth: 10 }],
    [1_000, { queueDepth: 11 }],
    [2_000, { queueDepth: 3 }],
  ]);

  expect(steps.map((s) => s.firing)).toEqual([[], ["queue_depth"], []]);
  expect(steps[2]!.cleared).toEqual(["queue_depth"]);
});

test("error rate fires above its threshold, but not on too few asks to mean anything", () => {
  const steps = timeline([
    [0, { asks: 2, errors: 2 }],
    [1_000, { asks: 10, errors: 3 }],
    [2_000, { asks: 10, errors: 1 }],
  ]);

  expect(steps.map((s) => s.firing)).toEqual([[], ["error_rate"], []]);
  expect(steps[2]!.cleared).toEqual(["error_rate"]);
});

test("p95 latency above its threshold fires and clears; no asks means no latency alert", () => {
  const steps = timeline([
    [0, { p95LatencyMs: 2_500 }],
    [1_000, { p95LatencyMs: undefined, asks: 0 }],
  ]);

  expect(steps.map((s) => s.firing)).toEqual([["p95_latency"], []]);
  expect(steps[1]!.cleared).toEqual(["p95_latency"]);
});

test("thresholds absent from the stack file take the defaults", () => {
  expect(alertThresholds({ queueDepth: 5 })).toMatchObject({ queueDepth: 5, offlineForSeconds: 120, errorRate: 0.1, p95LatencyMs: 10_000 });
});

test("percentile is the nearest rank", () => {
  expect(percentile([], 50)).toBeUndefined();
  expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
  expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
});
