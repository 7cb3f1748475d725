/**
 * How many replicas a deployment needs: queueing theory for `agentpool plan` (issue 8), pure.
 *
 * The model is M/M/c: asks arrive as a Poisson stream (rate λ), each replica answers one at a time
 * (maxConcurrency 1) for an exponentially distributed time (mean 1/μ), and c replicas share the
 * load. With a = λ/μ (the offered load in Erlangs) and ρ = a/c (utilisation):
 *
 *   P(wait)        Erlang C(a, c), computed from Erlang B's recursion (stable for any c)
 *   mean wait      C / (cμ − λ)
 *   P(wait > t)    C · exp(−(cμ − λ) t)         so the p-th percentile is ln(C / (1−p)) / (cμ − λ)
 *
 * The router refuses an ask (503 POOL_UNAVAILABLE) when every replica holds `overflowDepth` asks,
 * so at most K = c × overflowDepth asks are in the pool: the 503 rate is the blocking probability
 * of M/M/c/K. The wait figures are Erlang C's (infinite queue), which slightly overstates the wait
 * when K is small and is undefined at ρ ≥ 1; there the plan says "unstable".
 *
 * What the model leaves out, on purpose: our router keeps a queue per replica and picks the least
 * deep (close to, not exactly, one shared queue: bench/balance.ts measures the gap); LLM answer
 * times are closer to lognormal than exponential (for the same mean, M/M/c is a fair first cut;
 * the wait scales roughly with (1 + cv²)/2, Allen–Cunneen); sticky follow-ups can pile onto one
 * replica up to `overflowDepth`.
 */

/** A bad value on the command line or in an input: the message says what to write instead. */
export class CapacityInputError extends Error {
  override name = "CapacityInputError";
}

const RATE_UNITS: Record<string, number> = { s: 1, sec: 1, second: 1, min: 60, m: 60, minute: 60, h: 3600, hr: 3600, hour: 3600, d: 86_400, day: 86_400 };
const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600 };

/** `5/s`, `300/min`, `18000/h`, `2.5/sec` → asks per second. */
export function parseRate(text: string, what = "rate"): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*\/\s*([a-z]+)\s*$/i.exec(String(text));
  const unit = m?.[2]?.toLowerCase();
  if (!m || unit === undefined || !(unit in RATE_UNITS)) {
    throw new CapacityInputError(`${what} "${text}": write a number of asks per unit of time, e.g. 5/s, 300/min or 18000/h`);
  }
  const perUnit = Number(m[1]);
  if (!(perUnit > 0)) throw new CapacityInputError(`${what} "${text}" must be above 0`);
  return perUnit / RATE_UNITS[unit]!;
}

/** `8s`, `800ms`, `1.5s`, `2min` → seconds. A bare number is refused: 8 what? */
export function parseDuration(text: string, what = "duration"): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)\s*$/i.exec(String(text));
  const unit = m?.[2]?.toLowerCase();
  if (!m || unit === undefined || !(unit in DURATION_UNITS)) {
    throw new CapacityInputError(`${what} "${text}": write a duration with its unit, e.g. 8s, 800ms or 2min`);
  }
  return Number(m[1]) * DURATION_UNITS[unit]!;
}

function checkLoad(a: number, c: number): void {
  if (!(a >= 0) || !Number.isFinite(a)) throw new CapacityInputError(`offered load must be a finite number ≥ 0 (got ${a})`);
  if (!Number.isInteger(c) || c < 0) throw new CapacityInputError(`replicas must be a whole number ≥ 0 (got ${c})`);
}

/** Erlang B: the share of asks lost by c servers with no queue at offered load a. */
export function erlangB(a: number, c: number): number {
  checkLoad(a, c);
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return b;
}

/** Erlang C: the share of asks that wait at all (1 when a ≥ c: the queue grows without bound). */
export function erlangC(a: number, c: number): number {
  checkLoad(a, c);
  if (a === 0) return 0;
  if (a >= c) return 1;
  const b = erlangB(a, c);
  return (c * b) / (c - a * (1 - b));
}

/**
 * M/M/c/K: the share of asks refused because K asks are already in the system (c serving,
 * K − c waiting). Summed in log space so large pools do not overflow.
 */
export function blockingProbability(a: number, c: number, capacity: number): number {
  checkLoad(a, c);
  if (!Number.isInteger(capacity) || capacity < c) throw new CapacityInputError(`system capacity K must be a whole number ≥ replicas (got K=${capacity}, c=${c})`);
  if (c === 0) return 1;
  if (a === 0) return 0;
  const logTerms: number[] = [0];
  for (let n = 1; n <= capacity; n++) logTerms.push(logTerms[n - 1]! + Math.log(a / Math.min(n, c)));
  const max = Math.max(...logTerms);
  const total = logTerms.reduce((s, t) => s + Math.exp(t - max), 0);
  return Math.exp(logTerms[capacity]! - max) / total;
}

export interface PoolFigures {
  replicas: number;
  /** λ/μ: replicas' worth of work arriving (Erlangs). */
  offeredLoad: number;
  /** ρ = λ / (c μ). */
  utilisation: number;
  /** ρ < 1: the wait has a steady state. */
  stable: boolean;
  /** Share of asks that queue at all (Erlang C). */
  waitProbability: number;
  /** Seconds; Infinity when unstable. */
  meanWaitS: number;
  /** Seconds; the `waitPercentile` of the queueing wait (0 when fewer asks than that wait at all). */
  percentileWaitS: number;
  waitPercentile: number;
  /** Share of asks answered 503 POOL_UNAVAILABLE (M/M/c/K, K = c × overflowDepth). */
  rejectRate: number;
}

export interface PoolInput {
  /** Asks per second. */
  ratePerS: number;
  /** Mean answer time of one ask on one replica, seconds. */
  answerTimeS: number;
  /** A replica takes new asks while its depth is below this (DESIGN §3; default 10). */
  overflowDepth?: number;
  /** Default 0.95. */
  waitPercentile?: number;
}

function checkInput(input: PoolInput): Required<PoolInput> {
  const { ratePerS, answerTimeS, overflowDepth = 10, waitPercentile = 0.95 } = input;
  if (!(ratePerS > 0) || !Number.isFinite(ratePerS)) throw new CapacityInputError(`rate must be above 0 asks/s (got ${ratePerS})`);
  if (!(answerTimeS > 0) || !Number.isFinite(answerTimeS)) throw new CapacityInputError(`answer time must be above 0 s (got ${answerTimeS})`);
  if (!Number.isInteger(overflowDepth) || overflowDepth < 1) throw new CapacityInputError(`overflow depth must be a whole number ≥ 1 (got ${overflowDepth})`);
  if (!(waitPercentile > 0 && waitPercentile < 1)) throw new CapacityInputError(`wait percentile must be between 0 and 1 (got ${waitPercentile})`);
  return { ratePerS, answerTimeS, overflowDepth, waitPercentile };
}

/** The figures of a pool of `replicas` under the given load. */
export function poolFigures(input: PoolInput, replicas: number): PoolFigures {
  const { ratePerS, answerTimeS, overflowDepth, waitPercentile } = checkInput(input);
  const mu = 1 / answerTimeS;
  const a = ratePerS * answerTimeS;
  const c = replicas;
  const stable = a < c;
  const pWait = erlangC(a, c);
  const drain = c * mu - ratePerS; // rate at which the queue's excess drains
  const meanWaitS = stable ? pWait / drain : Infinity;
  const tail = 1 - waitPercentile;
  const percentileWaitS = !stable ? Infinity : pWait <= tail ? 0 : Math.log(pWait / tail) / drain;
  return {
    replicas: c,
    offeredLoad: a,
    utilisation: c === 0 ? Infinity : a / c,
    stable,
    waitProbability: pWait,
    meanWaitS,
    percentileWaitS,
    waitPercentile,
    rejectRate: blockingProbability(a, c, c * overflowDepth),
  };
}

export interface PlanInput extends PoolInput {
  /** The `waitPercentile` wait must not exceed this (seconds). */
  maxWaitS: number;
  /** The 503 rate must not exceed this share (default 0.001). */
  maxRejectRate?: number;
  /** Give up above this many replicas (default 10,000). */
  searchLimit?: number;
}

export interface Plan extends PoolFigures {
  maxWaitS: number;
  maxRejectRate: number;
}

/** The fewest replicas whose percentile wait is within `maxWaitS` and whose 503 rate is within `maxRejectRate`. */
export function planReplicas(input: PlanInput): Plan {
  checkInput(input);
  const { maxWaitS, maxRejectRate = 0.001, searchLimit = 10_000 } = input;
  if (!(maxWaitS >= 0) || !Number.isFinite(maxWaitS)) throw new CapacityInputError(`max wait must be 0 s or more (got ${maxWaitS})`);
  if (!(maxRejectRate >= 0 && maxRejectRate < 1)) throw new CapacityInputError(`max 503 rate must be between 0 and 1 (got ${maxRejectRate})`);
  // Stability needs c > a; start there rather than at 1.
  const first = Math.max(1, Math.floor(input.ratePerS * input.answerTimeS) + 1);
  for (let c = first; c <= searchLimit; c++) {
    const f = poolFigures(input, c);
    if (f.percentileWaitS <= maxWaitS && f.rejectRate <= maxRejectRate) return { ...f, maxWaitS, maxRejectRate };
  }
  throw new CapacityInputError(`no pool of up to ${searchLimit} replicas meets that; check the rate and answer time`);
}

/** Standard loads for the right-size table (asks per second). */
export const STANDARD_LOADS_PER_S = [1, 5, 10, 25] as const;

export function rightSizeTable(loadsPerS: readonly number[], base: Omit<PlanInput, "ratePerS">): Plan[] {
  return loadsPerS.map((ratePerS) => planReplicas({ ...base, ratePerS }));
}
