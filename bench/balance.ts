/**
 * `npm run bench:balance [-- --json] [-- --asks N --seed S --follow-ups 0.5]`: how well the
 * routing policy spreads load (issue 8, item 1's balancing experiment).
 *
 * A discrete-event simulation in this process, no I/O: one arrival trace (Poisson at 80 %
 * utilisation into 3 replicas of maxConcurrency 1, lognormal answer times, median 5 s, σ 0.8),
 * replayed through each policy with the same answer time per ask:
 *
 *   ours            the real pure `chooseReplica` (runtime/core/routing.ts) on the exact depths
 *                   (queued + in service), seeded random; availableDepth 3, overflowDepth 10
 *   ours + threads  the same, where a share of asks are follow-ups of a thread started 1–10 min
 *                   earlier: sticky to the replica that last answered the thread (DESIGN §3)
 *   round robin     replica i mod 3, whatever it holds
 *   JSQ             ideal join-shortest-queue: least depth, ties random, no limits
 *   shared queue    one FCFS queue feeding all 3 (M/G/3): the lower bound no per-replica router beats
 *
 * Queueing delay = start of the answer − arrival. Each replica answers in FIFO order, so a
 * replica's next start is max(arrival, its last departure): no event heap is needed.
 * Asks a policy refuses (503: every replica at overflowDepth) are counted, not timed.
 */
import { chooseReplica, type ReplicaView } from "../runtime/core/routing";
import { round, summarize, type Summary } from "./lib";
import { seededRandom } from "../runtime/core/seeded-random";

const REPLICAS = 3;
const UTILISATION = 0.8;
const MEDIAN_ANSWER_S = 5;
const SIGMA = 0.8;
const MEAN_ANSWER_S = MEDIAN_ANSWER_S * Math.exp((SIGMA * SIGMA) / 2);
const ARRIVAL_RATE = (UTILISATION * REPLICAS) / MEAN_ANSWER_S;
const AVAILABLE_DEPTH = 3;
const OVERFLOW_DEPTH = 10;
/** A follow-up continues a thread whose last ask arrived this long ago (a person reading and typing). */
const FOLLOW_UP_AFTER_S: [number, number] = [60, 600];
/** The first asks fill the queues from empty; they are routed but not timed. */
const WARM_UP_SHARE = 0.02;
/** Issue 8's goals at 80 % utilisation. */
const GOAL_VS_JSQ = 1.2;
const GOAL_VS_RR = 0.5;


export interface Ask {
  at: number;
  answerS: number;
  thread: number;
}

/** The arrival trace: Poisson arrivals, lognormal answers, and which thread each ask belongs to. */
export function makeTrace(asks: number, seed: number, followUpShare: number): Ask[] {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const trace: Ask[] = [];
  let at = 0;
  let threads = 0;
  let windowStart = 0; // first ask that arrived at least FOLLOW_UP_AFTER_S[1] ago
  let windowEnd = 0; // first ask that arrived less than FOLLOW_UP_AFTER_S[0] ago
  for (let i = 0; i < asks; i++) {
    at += -Math.log(1 - random()) / ARRIVAL_RATE;
    const answerS = MEDIAN_ANSWER_S * Math.exp(SIGMA * normal());
    while (windowStart < trace.length && trace[windowStart]!.at < at - FOLLOW_UP_AFTER_S[1]) windowStart++;
    while (windowEnd < trace.length && trace[windowEnd]!.at <= at - FOLLOW_UP_AFTER_S[0]) windowEnd++;
    const u = random();
    const thread = u < followUpShare && windowEnd > windowStart ? trace[windowStart + Math.floor(random() * (windowEnd - windowStart))]!.thread : threads++;
    trace.push({ at, answerS, thread });
  }
  return trace;
}

type Router = (ask: Ask, depths: readonly number[], affinity: number | undefined) => number | null;

export interface PolicyResult {
  policy: string;
  timed: number;
  rejected: number;
  /** Follow-ups routed to the replica that last answered their thread (only for the policy that looks). */
  sticky: number | null;
  delay_s: Summary;
}

/** Replays the trace through one policy; each replica answers its asks in arrival order. */
export function simulate(policy: string, trace: readonly Ask[], route: Router, usesThreads = false): PolicyResult {
  const lastDeparture = new Array<number>(REPLICAS).fill(0);
  const inSystem: number[][] = Array.from({ length: REPLICAS }, () => []); // departure times, ascending
  const heads = new Array<number>(REPLICAS).fill(0);
  const answered = new Map<number, { departure: number; replica: number }[]>(); // thread → its answers
  const delays: number[] = [];
  const warmUp = Math.floor(trace.length * WARM_UP_SHARE);
  let rejected = 0;
  let sticky = 0;
  trace.forEach((ask, i) => {
    const depths = inSystem.map((deps, r) => {
      while (heads[r]! < deps.length && deps[heads[r]!]! <= ask.at) heads[r]!++;
      return deps.length - heads[r]!;
    });
    const affinity = lastAnswerer(answered.get(ask.thread), ask.at);
    const r = route(ask, depths, affinity);
    if (r === null) {
      if (i >= warmUp) rejected++;
      return;
    }
    if (affinity !== undefined && r === affinity && i >= warmUp) sticky++;
    const start = Math.max(ask.at, lastDeparture[r]!);
    const departure = start + ask.answerS;
    lastDeparture[r] = departure;
    inSystem[r]!.push(departure);
    const list = answered.get(ask.thread) ?? [];
    list.push({ departure, replica: r });
    answered.set(ask.thread, list);
    if (i >= warmUp) delays.push(start - ask.at);
  });
  return { policy, timed: delays.length, rejected, sticky: usesThreads ? sticky : null, delay_s: summarize(delays) };
}

/** The replica that last answered the thread before `now` (affinity is set on answer, DESIGN §3). */
function lastAnswerer(list: { departure: number; replica: number }[] | undefined, now: number): number | undefined {
  let best: { departure: number; replica: number } | undefined;
  for (const a of list ?? []) if (a.departure <= now && (!best || a.departure > best.departure)) best = a;
  return best?.replica;
}

/** Our policy: the real `chooseReplica` on a snapshot of the exact depths. */
function ours(seed: number, sticky: boolean): Router {
  const random = seededRandom(seed);
  const ids = Array.from({ length: REPLICAS }, (_, r) => `sim-agent-${r + 1}`);
  return (ask, depths, affinity) => {
    const replicas: ReplicaView[] = depths.map((depth, r) => ({ agentId: ids[r]!, state: "running", depth, heartbeatAt: ask.at, availableDepth: AVAILABLE_DEPTH, overflowDepth: OVERFLOW_DEPTH }));
    const decision = chooseReplica({ replicas, affinity: sticky && affinity !== undefined ? ids[affinity] : undefined, now: ask.at, staleAfterMs: Infinity, random });
    return decision.kind === "route" ? ids.indexOf(decision.replica.agentId) : null;
  };
}

function roundRobin(): Router {
  let next = 0;
  return () => next++ % REPLICAS;
}

function joinShortestQueue(seed: number): Router {
  const random = seededRandom(seed);
  return (_ask, depths) => {
    const min = Math.min(...depths);
    const ties = depths.flatMap((d, r) => (d === min ? [r] : []));
    return ties[Math.floor(random() * ties.length)]!;
  };
}

/** One FCFS queue for all replicas: each ask starts when the earliest replica frees up. */
function sharedQueue(policy: string, trace: readonly Ask[]): PolicyResult {
  const free = new Array<number>(REPLICAS).fill(0);
  const delays: number[] = [];
  const warmUp = Math.floor(trace.length * WARM_UP_SHARE);
  trace.forEach((ask, i) => {
    let r = 0;
    for (let k = 1; k < REPLICAS; k++) if (free[k]! < free[r]!) r = k;
    const start = Math.max(ask.at, free[r]!);
    free[r] = start + ask.answerS;
    if (i >= warmUp) delays.push(start - ask.at);
  });
  return { policy, timed: delays.length, rejected: 0, sticky: null, delay_s: summarize(delays) };
}

export interface BalanceReport {
  setup: Record<string, number | string>;
  policies: PolicyResult[];
  ratios: { policy: string; p99_vs_jsq: number; p99_vs_round_robin: number; p50_vs_jsq: number | null; p50_vs_round_robin: number | null; meets_jsq_goal: boolean; meets_round_robin_goal: boolean }[];
  goals: { p99_vs_jsq_at_most: number; p99_vs_round_robin_at_most: number };
  wall_ms: number;
}

export function runBalance(opts: { asks: number; seed: number; followUpShare: number }): BalanceReport {
  const started = performance.now();
  const trace = makeTrace(opts.asks, opts.seed, opts.followUpShare);
  const noThreads = trace.map((a, i) => ({ ...a, thread: -1 - i }));
  // Every policy sees the same trace; the ones that do not look at threads get it too (they ignore it).
  const policySeed = opts.seed ^ 0x5bd1e995;
  const results = [
    simulate("ours (new threads only)", noThreads, ours(policySeed, false)),
    simulate(`ours (${Math.round(opts.followUpShare * 100)} % sticky follow-ups)`, trace, ours(policySeed, true), true),
    simulate("round robin", trace, roundRobin()),
    simulate("join-shortest-queue (ideal)", trace, joinShortestQueue(policySeed)),
    sharedQueue("shared FCFS queue (M/G/3 bound)", trace),
  ];
  const rr = results[2]!.delay_s;
  const jsq = results[3]!.delay_s;
  const ratio = (a: number, b: number) => (b > 0 ? round(a / b, 3) : null);
  // JSQ and the shared queue are listed too: what the round-robin goal asks of any router on this trace.
  const ratios = results.filter((_, i) => i !== 2).map((r) => {
    const vsJsq = round(r.delay_s.p99 / jsq.p99, 3);
    const vsRr = round(r.delay_s.p99 / rr.p99, 3);
    return {
      policy: r.policy,
      p99_vs_jsq: vsJsq,
      p99_vs_round_robin: vsRr,
      p50_vs_jsq: ratio(r.delay_s.p50, jsq.p50),
      p50_vs_round_robin: ratio(r.delay_s.p50, rr.p50),
      meets_jsq_goal: vsJsq <= GOAL_VS_JSQ,
      meets_round_robin_goal: vsRr <= GOAL_VS_RR,
    };
  });
  return {
    setup: {
      replicas: REPLICAS,
      utilisation: UTILISATION,
      answer_time: `lognormal, median ${MEDIAN_ANSWER_S} s, sigma ${SIGMA} (mean ${round(MEAN_ANSWER_S)} s)`,
      arrival_rate_per_s: round(ARRIVAL_RATE, 4),
      asks: opts.asks,
      warm_up_asks: Math.floor(opts.asks * WARM_UP_SHARE),
      follow_up_share: opts.followUpShare,
      seed: opts.seed,
      available_depth: AVAILABLE_DEPTH,
      overflow_depth: OVERFLOW_DEPTH,
    },
    policies: results.map((r) => ({ ...r, delay_s: { n: r.delay_s.n, p50: round(r.delay_s.p50, 3), p99: round(r.delay_s.p99, 3), mean: round(r.delay_s.mean, 3) } })),
    ratios,
    goals: { p99_vs_jsq_at_most: GOAL_VS_JSQ, p99_vs_round_robin_at_most: GOAL_VS_RR },
    wall_ms: Math.round(performance.now() - started),
  };
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function main(): void {
  const args = process.argv.slice(2);
  const asks = Number(argValue(args, "--asks") ?? 200_000);
  const seed = Number(argValue(args, "--seed") ?? 1);
  const followUpShare = Number(argValue(args, "--follow-ups") ?? 0.5);
  if (!(Number.isInteger(asks) && asks >= 1000) || !Number.isInteger(seed) || !(followUpShare >= 0 && followUpShare <= 1)) {
    process.stderr.write("usage: npm run bench:balance [-- --json] [--asks N≥1000] [--seed INT] [--follow-ups 0..1]\n");
    process.exit(2);
  }
  const report = runBalance({ asks, seed, followUpShare });
  if (args.includes("--json")) {
    process.stdout.write(JSON.stringify(report) + "\n");
    return;
  }
  const s = report.setup;
  console.log(`agentpool bench:balance: ${s.replicas} replicas (maxConcurrency 1) at ${Number(s.utilisation) * 100} % utilisation, ${s.answer_time},`);
  console.log(`Poisson arrivals ${s.arrival_rate_per_s}/s, ${s.asks} asks (first ${s.warm_up_asks} untimed), seed ${s.seed}; one trace for every policy\n`);
  console.log(`${"policy".padEnd(40)} ${"p50 wait".padStart(9)} ${"p99 wait".padStart(9)} ${"mean".padStart(8)} ${"503s".padStart(6)} ${"sticky".padStart(7)}`);
  for (const r of report.policies) {
    console.log(`${r.policy.padEnd(40)} ${`${r.delay_s.p50} s`.padStart(9)} ${`${r.delay_s.p99} s`.padStart(9)} ${`${r.delay_s.mean} s`.padStart(8)} ${String(r.rejected).padStart(6)} ${String(r.sticky ?? "—").padStart(7)}`);
  }
  console.log(`\nqueueing delay ratios (issue 8 goals: p99 ≤ ${GOAL_VS_JSQ}× JSQ and ≤ ${GOAL_VS_RR}× round robin):`);
  for (const r of report.ratios) {
    const mark = (ok: boolean) => (ok ? "met" : "NOT met");
    console.log(`  ${r.policy.padEnd(38)} p99 ${r.p99_vs_jsq}× JSQ (${mark(r.meets_jsq_goal)}), ${r.p99_vs_round_robin}× RR (${mark(r.meets_round_robin_goal)}); p50 ${r.p50_vs_jsq ?? "—"}× JSQ, ${r.p50_vs_round_robin ?? "—"}× RR`);
  }
  console.log("  (JSQ and the shared queue are references: what any router could reach on this trace)");
  console.log("Asks our policy refuses (503 at overflow depth 10 everywhere) are counted, not timed.");
  console.log(`\n(simulated in ${report.wall_ms} ms)`);
}

if (require.main === module) main();
