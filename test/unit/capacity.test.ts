/**
 * The capacity planner's queueing maths (runtime/core/capacity.ts) against textbook values, and
 * the properties a planner must never break: more replicas never lengthen the wait, more load
 * never shortens it.
 */
import fc from "fast-check";
import {
  blockingProbability,
  CapacityInputError,
  erlangB,
  erlangC,
  parseDuration,
  parseRate,
  planReplicas,
  poolFigures,
  rightSizeTable,
} from "../../runtime/core/capacity";

/** Erlang C straight from its textbook sum, for small c (independent of the Erlang B recursion). */
function erlangCBySum(a: number, c: number): number {
  let fact = 1;
  let sum = 0;
  for (let k = 0; k < c; k++) {
    if (k > 0) fact *= k;
    sum += a ** k / fact;
  }
  const top = (a ** c / (fact * c)) * (c / (c - a));
  return top / (sum + top);
}

describe("Erlang B and C match the textbook", () => {
  test("2 Erlangs on 3 servers: B = 4/19, C = 4/9, mean wait 4/9 of a service time", () => {
    expect(erlangB(2, 3)).toBeCloseTo(4 / 19, 12);
    expect(erlangC(2, 3)).toBeCloseTo(4 / 9, 12);
    const f = poolFigures({ ratePerS: 2, answerTimeS: 1 }, 3);
    expect(f.meanWaitS).toBeCloseTo(4 / 9, 12);
    expect(f.utilisation).toBeCloseTo(2 / 3, 12);
  });

  test("one server (M/M/1): the chance of waiting is the utilisation and the mean wait ρ/(μ−λ)", () => {
    const f = poolFigures({ ratePerS: 0.8, answerTimeS: 1 }, 1);
    expect(f.waitProbability).toBeCloseTo(0.8, 12);
    expect(f.meanWaitS).toBeCloseTo(0.8 / 0.2, 12);
    // P(W > t) = ρ e^{-(μ-λ)t}: the p95 is ln(0.8/0.05)/0.2
    expect(f.percentileWaitS).toBeCloseTo(Math.log(0.8 / 0.05) / 0.2, 9);
  });

  test("call-centre table: 10 Erlangs on 11 agents wait 68.2 % of the time", () => {
    expect(erlangC(10, 11)).toBeCloseTo(0.6821, 4);
  });

  test("the recursion agrees with the direct sum across loads", () => {
    for (const c of [1, 2, 5, 10, 20]) {
      for (const rho of [0.1, 0.5, 0.8, 0.95]) expect(erlangC(rho * c, c)).toBeCloseTo(erlangCBySum(rho * c, c), 10);
    }
  });

  test("at or above full load every ask waits and the wait is unbounded", () => {
    expect(erlangC(3, 3)).toBe(1);
    const f = poolFigures({ ratePerS: 4, answerTimeS: 1 }, 3);
    expect(f.stable).toBe(false);
    expect(f.meanWaitS).toBe(Infinity);
  });
});

describe("503 rate is M/M/c/K's blocking probability", () => {
  test("M/M/1/K: (1−ρ)ρ^K / (1−ρ^(K+1))", () => {
    const rho = 0.9;
    const K = 10;
    expect(blockingProbability(rho, 1, K)).toBeCloseTo(((1 - rho) * rho ** K) / (1 - rho ** (K + 1)), 12);
  });

  test("with no room to queue (K = c) it is Erlang B", () => {
    expect(blockingProbability(2, 3, 3)).toBeCloseTo(4 / 19, 12);
    expect(blockingProbability(40, 45, 45)).toBeCloseTo(erlangB(40, 45), 12);
  });

  test("large pools do not overflow: 400 Erlangs on 420 replicas × 10", () => {
    const p = blockingProbability(400, 420, 4200);
    expect(Number.isFinite(p)).toBe(true);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(1e-6);
  });

  test("overload turns the excess into 503s: 2× the capacity refuses about half", () => {
    expect(poolFigures({ ratePerS: 6, answerTimeS: 1, overflowDepth: 10 }, 3).rejectRate).toBeCloseTo(0.5, 2);
  });
});

describe("the plan", () => {
  test("5 asks/s at 8 s answers within a 2 s p95 wait needs 47 replicas", () => {
    const plan = planReplicas({ ratePerS: 5, answerTimeS: 8, maxWaitS: 2 });
    expect(plan.replicas).toBe(47);
    expect(plan.percentileWaitS).toBeLessThanOrEqual(2);
    expect(poolFigures({ ratePerS: 5, answerTimeS: 8 }, 46).percentileWaitS).toBeGreaterThan(2);
  });

  test("is the fewest replicas that meet both the wait and the 503 limits", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 20, noNaN: true }), fc.double({ min: 0.1, max: 20, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true }), (rate, answer, maxWait) => {
        const plan = planReplicas({ ratePerS: rate, answerTimeS: answer, maxWaitS: maxWait });
        expect(plan.percentileWaitS).toBeLessThanOrEqual(maxWait);
        expect(plan.rejectRate).toBeLessThanOrEqual(0.001);
        if (plan.replicas > 1) {
          const fewer = poolFigures({ ratePerS: rate, answerTimeS: answer }, plan.replicas - 1);
          expect(fewer.percentileWaitS > maxWait || fewer.rejectRate > 0.001).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  test("the right-size table grows with the load", () => {
    const rows = rightSizeTable([1, 5, 10, 25], { answerTimeS: 8, maxWaitS: 2 });
    expect(rows.map((r) => r.replicas)).toEqual([...rows.map((r) => r.replicas)].sort((a, b) => a - b));
    expect(rows[0]!.replicas).toBeGreaterThan(8);
  });
});

describe("monotonicity", () => {
  const load = fc.record({ rate: fc.double({ min: 0.01, max: 50, noNaN: true }), answer: fc.double({ min: 0.05, max: 30, noNaN: true }), c: fc.integer({ min: 1, max: 300 }) });

  test("one more replica never raises the wait, the chance of waiting or the 503 rate", () => {
    fc.assert(
      fc.property(load, ({ rate, answer, c }) => {
        const now = poolFigures({ ratePerS: rate, answerTimeS: answer }, c);
        const more = poolFigures({ ratePerS: rate, answerTimeS: answer }, c + 1);
        expect(more.meanWaitS).toBeLessThanOrEqual(now.meanWaitS * (1 + 1e-9));
        expect(more.percentileWaitS).toBeLessThanOrEqual(now.percentileWaitS * (1 + 1e-9));
        expect(more.waitProbability).toBeLessThanOrEqual(now.waitProbability + 1e-12);
        expect(more.rejectRate).toBeLessThanOrEqual(now.rejectRate + 1e-12);
      }),
      { numRuns: 300 },
    );
  });

  test("more load never lowers the wait or the 503 rate", () => {
    fc.assert(
      fc.property(load, fc.double({ min: 1, max: 3, noNaN: true }), ({ rate, answer, c }, factor) => {
        const now = poolFigures({ ratePerS: rate, answerTimeS: answer }, c);
        const busier = poolFigures({ ratePerS: rate * factor, answerTimeS: answer }, c);
        expect(busier.meanWaitS).toBeGreaterThanOrEqual(now.meanWaitS * (1 - 1e-9));
        expect(busier.percentileWaitS).toBeGreaterThanOrEqual(now.percentileWaitS * (1 - 1e-9));
        expect(busier.rejectRate).toBeGreaterThanOrEqual(now.rejectRate - 1e-12);
      }),
      { numRuns: 300 },
    );
  });

  test("more load never needs fewer replicas", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 20, noNaN: true }), fc.double({ min: 1, max: 3, noNaN: true }), (rate, factor) => {
        const base = { answerTimeS: 5, maxWaitS: 1 };
        expect(planReplicas({ ...base, ratePerS: rate * factor }).replicas).toBeGreaterThanOrEqual(planReplicas({ ...base, ratePerS: rate }).replicas);
      }),
      { numRuns: 100 },
    );
  });
});

describe("units", () => {
  test("rates per second, minute and hour", () => {
    expect(parseRate("5/s")).toBe(5);
    expect(parseRate("300/min")).toBe(5);
    expect(parseRate("18000/h")).toBe(5);
    expect(parseRate(" 2.5 / sec ")).toBe(2.5);
  });

  test("durations in ms, s and min", () => {
    expect(parseDuration("8s")).toBe(8);
    expect(parseDuration("800ms")).toBeCloseTo(0.8, 12);
    expect(parseDuration("1.5s")).toBe(1.5);
    expect(parseDuration("2min")).toBe(120);
  });

  test.each([
    ["5", /asks per unit of time/],
    ["5/fortnight", /asks per unit of time/],
    ["five/s", /asks per unit of time/],
    ["-5/s", /asks per unit of time/],
    ["0/s", /above 0/],
  ])("refuses the rate %s with a message that shows the form", (text, message) => {
    expect(() => parseRate(text, "--rate")).toThrow(CapacityInputError);
    expect(() => parseRate(text, "--rate")).toThrow(message);
  });

  test.each(["8", "8 parsecs", "", "s"])("refuses the duration %j and asks for a unit", (text) => {
    expect(() => parseDuration(text, "--answer-time")).toThrow(/--answer-time .*with its unit, e.g. 8s/);
  });

  test("refuses impossible inputs instead of planning nonsense", () => {
    expect(() => planReplicas({ ratePerS: 5, answerTimeS: 0, maxWaitS: 2 })).toThrow(/answer time must be above 0/);
    expect(() => planReplicas({ ratePerS: 5, answerTimeS: 8, maxWaitS: -1 })).toThrow(/max wait/);
    expect(() => poolFigures({ ratePerS: 5, answerTimeS: 8, overflowDepth: 0 }, 3)).toThrow(/overflow depth/);
  });
});
