/**
 * The 503 rate at 120 % of capacity: an open-loop, seeded Poisson arrival run into a small pool
 * (so this one process is nowhere near CPU-bound and the pool, not the machine, is what saturates),
 * beside queueing theory for the same pool.
 *
 *   capacity     replicas × maxConcurrency ÷ mean answer time (answers per second)
 *   arrivals     Poisson at `load` × capacity (seeded: runtime/core/seeded-random.ts), each one sent
 *                at its time whatever came back before (open loop), for `durationS`; asks that
 *                arrive in the first `warmUpS` (queues filling from empty) are sent but not counted
 *   503 share    503 POOL_UNAVAILABLE among counted arrivals; every 503 must carry Retry-After
 *   theory       M/M/c/K loss: c = replicas × maxConcurrency servers, K = replicas × overflowDepth
 *                places (the router refuses when every replica holds overflowDepth asks, queued or
 *                in progress), offered load a = arrival rate × mean answer time; and the fluid
 *                bound 1 − 1/ρ (at ρ > 1 no pool of any size carries more than its capacity)
 *
 * The simulator's answers are uniform, not exponential (less variable: M/M/c/K overstates the
 * loss a little), and a replica's depth drops when the router has read the answer, a poll gap
 * after the answer lands (that lengthens the effective answer time: carried throughput is shown
 * beside the nominal capacity).
 */
import type { Emulators } from "../runtime/local/emulators";
import { blockingProbability } from "../runtime/core/capacity";
import { seededRandom } from "../runtime/core/seeded-random";
import { startHarness } from "./harness";
import { round, runConcurrent, sleep, summarize, type Summary } from "./lib";

export interface OverloadOptions {
  replicas: number;
  perReplica: number;
  overflowDepth: number;
  answerMs: [number, number];
  /** Arrival rate ÷ capacity. */
  load: number;
  durationS: number;
  warmUpS: number;
  seed: number;
}

export const DEFAULT_OVERLOAD: OverloadOptions = { replicas: 2, perReplica: 2, overflowDepth: 4, answerMs: [400, 1000], load: 1.2, durationS: 45, warmUpS: 8, seed: 120 };

export interface OverloadReport {
  setup: OverloadOptions & { servers_c: number; places_k: number; capacity_per_s: number; arrival_rate_per_s: number; offered_load_erlangs: number };
  arrivals: number;
  counted: number;
  rejected_503: number;
  reject_share: number;
  /** 503s without a Retry-After header (should be 0). */
  rejected_without_retry_after: number;
  retry_after_s_p50: number;
  /** Statuses other than 200 and 503 among all arrivals, warm-up included (should be none). */
  other_statuses: Record<string, number>;
  accepted_latency_ms: Summary;
  /** Asks answered per second in the counted window, beside the nominal capacity. */
  carried_per_s: number;
  theory_mmck_loss: number;
  theory_fluid_loss: number;
}

const roundSummary = (s: Summary): Summary => ({ n: s.n, p50: round(s.p50), p99: round(s.p99), mean: round(s.mean) });

export async function runOverload(emulators: Emulators, opts: OverloadOptions = DEFAULT_OVERLOAD): Promise<OverloadReport> {
  const meanAnswerS = (opts.answerMs[0] + opts.answerMs[1]) / 2 / 1000;
  const c = opts.replicas * opts.perReplica;
  const k = opts.replicas * opts.overflowDepth;
  const capacity = c / meanAnswerS;
  const rate = opts.load * capacity;
  const h = await startHarness(emulators, {
    stack: "bench-overload",
    replicas: opts.replicas,
    perReplica: opts.perReplica,
    overflowDepth: opts.overflowDepth,
    providerMs: opts.answerMs,
  });
  try {
    // Warm-up within capacity: JIT, sockets, and the router's observed answer time (for Retry-After).
    await runConcurrent(2 * c, c, async (i) => void (await h.ask({ content: `warm-up ${i}` })));

    const random = seededRandom(opts.seed);
    const arrivals: number[] = [];
    for (let at = -Math.log(1 - random()) / rate; at < opts.durationS; at += -Math.log(1 - random()) / rate) arrivals.push(at);
    const started = performance.now();
    const results = await Promise.all(
      arrivals.map(async (at, i) => {
        await sleep(started + at * 1000 - performance.now());
        const t = performance.now();
        const res = await h.ask({ content: `overload ${i}` });
        return { at, status: res.status, retryAfter: res.headers["retry-after"], latencyMs: performance.now() - t, doneAt: (performance.now() - started) / 1000 };
      }),
    );
    const counted = results.filter((r) => r.at >= opts.warmUpS);
    const rejected = counted.filter((r) => r.status === 503);
    const accepted = counted.filter((r) => r.status === 200);
    const other: Record<string, number> = {};
    for (const r of results) if (r.status !== 200 && r.status !== 503) other[r.status] = (other[r.status] ?? 0) + 1;
    const retryAfters = rejected.map((r) => Number(r.retryAfter)).filter((x) => Number.isFinite(x) && x >= 1);
    const window = opts.durationS - opts.warmUpS;
    return {
      setup: { ...opts, servers_c: c, places_k: k, capacity_per_s: round(capacity, 3), arrival_rate_per_s: round(rate, 3), offered_load_erlangs: round(rate * meanAnswerS, 3) },
      arrivals: arrivals.length,
      counted: counted.length,
      rejected_503: rejected.length,
      reject_share: round(rejected.length / Math.max(1, counted.length), 4),
      rejected_without_retry_after: rejected.length - retryAfters.length,
      retry_after_s_p50: summarize(retryAfters).p50,
      other_statuses: other,
      accepted_latency_ms: roundSummary(summarize(accepted.map((r) => r.latencyMs))),
      carried_per_s: round(results.filter((r) => r.status === 200 && r.doneAt >= opts.warmUpS && r.doneAt < opts.durationS).length / window, 3),
      theory_mmck_loss: round(blockingProbability(rate * meanAnswerS, c, k), 4),
      theory_fluid_loss: round(1 - 1 / opts.load, 4),
    };
  } finally {
    await h.close();
  }
}
