/**
 * `agentpool plan --rate 5/s --answer-time 8s --max-wait 2s [--overflow 10] [--json]`: how many
 * replicas a deployment needs (runtime/core/capacity.ts: Erlang C for the wait, M/M/c/K for the
 * 503s), and a right-size table of standard loads from the same model.
 *
 * `--stack NAME` takes each deployment's observed rate and answer time from the running local
 * pool (GET /admin/v1/status: answered asks and p50 latency per agent over the monitor's last
 * 5 minutes); `--rate` / `--answer-time` override what was observed.
 */
import type { Command } from "commander";
import {
  CapacityInputError,
  parseDuration,
  parseRate,
  planReplicas,
  rightSizeTable,
  STANDARD_LOADS_PER_S,
  type Plan,
  type PlanInput,
} from "../core/capacity";
import { deploymentKey } from "../core/naming";
import { loadStackFile, stackFilePath } from "../local/stack-file";
import { adminFilePath, readAdminFile } from "../local/admin-file";
import { adminGet } from "./pool-client";
import { fail, out, paint } from "./output";

export interface PlanOptions {
  rate?: string;
  answerTime?: string;
  maxWait: string;
  maxReject: string;
  overflow?: string;
  stack?: string;
  deployment?: string;
  dataDir: string;
  json?: boolean;
}

/** What the local pool's monitor keeps (runtime/local/monitor.ts): 5 min of asks, a chart point every 2 s, 120 points. */
const MONITOR_KEEP_S = 300;
const MONITOR_SERIES_POINTS = 120;
const MONITOR_EVERY_S = 2;

interface StatusAgent { answered: number; p50_latency_ms: number | null }
interface StatusDeployment { deployment: string; desired: number; agents: StatusAgent[]; series?: { at: number }[] }
interface StatusView { stack: string; generated_at: string; teams: { deployments: StatusDeployment[] }[] }

export interface Observed {
  deployment: string;
  desired: number;
  answered: number;
  windowS: number;
  ratePerS: number;
  /** Median gateway latency of answered asks, weighted by each agent's answers (includes queueing). */
  answerTimeS: number | null;
}

/** A deployment's rate and answer time from the status view (answered over the kept window). */
export function observedFromStatus(d: StatusDeployment, generatedAt: number): Observed {
  const answered = d.agents.reduce((n, a) => n + a.answered, 0);
  const series = d.series ?? [];
  // The window is the monitor's 5 minutes, or the pool's age when it is younger (read from its chart).
  const windowS = series.length > 0 && series.length < MONITOR_SERIES_POINTS ? Math.min(MONITOR_KEEP_S, (generatedAt - series[0]!.at) / 1000 + MONITOR_EVERY_S) : MONITOR_KEEP_S;
  const timed = d.agents.filter((a) => a.p50_latency_ms !== null && a.answered > 0);
  const weight = timed.reduce((n, a) => n + a.answered, 0);
  const answerTimeS = weight > 0 ? timed.reduce((s, a) => s + a.p50_latency_ms! * a.answered, 0) / weight / 1000 : null;
  return { deployment: d.deployment, desired: d.desired, answered, windowS, ratePerS: answered / windowS, answerTimeS };
}

interface PlanRow extends Plan {
  deployment?: string;
  source: "given" | "observed";
  ratePerS: number;
  answerTimeS: number;
  overflowDepth: number;
  desired?: number;
  observed?: Observed;
}

export async function planCommand(opts: PlanOptions): Promise<void> {
  let base: { maxWaitS: number; maxRejectRate: number; overflow?: number; rate?: number; answerTime?: number };
  try {
    base = {
      maxWaitS: parseDuration(opts.maxWait, "--max-wait"),
      maxRejectRate: parsePercent(opts.maxReject, "--max-reject"),
      overflow: opts.overflow === undefined ? undefined : parseWhole(opts.overflow, "--overflow"),
      rate: opts.rate === undefined ? undefined : parseRate(opts.rate, "--rate"),
      answerTime: opts.answerTime === undefined ? undefined : parseDuration(opts.answerTime, "--answer-time"),
    };
  } catch (err) {
    return fail((err as Error).message, 2);
  }

  const rows: PlanRow[] = [];
  try {
    if (opts.stack === undefined) {
      if (base.rate === undefined || base.answerTime === undefined) return fail("give --rate and --answer-time (e.g. --rate 5/s --answer-time 8s), or --stack NAME to read them from the running local pool", 2);
      const overflowDepth = base.overflow ?? 10;
      rows.push({ source: "given", ratePerS: base.rate, answerTimeS: base.answerTime, overflowDepth, ...planReplicas(input(base.rate, base.answerTime, overflowDepth, base)) });
    } else {
      for (const o of await observe(opts)) {
        const ratePerS = base.rate ?? o.ratePerS;
        const answerTimeS = base.answerTime ?? o.answerTimeS;
        if (!(ratePerS > 0) || answerTimeS === null) {
          return fail(`${o.deployment}: no answered asks in the last ${Math.round(o.windowS)} s of the running pool to measure from; send some traffic, or give --rate and --answer-time`, 1);
        }
        const overflowDepth = base.overflow ?? overflowOf(opts.stack, o.deployment) ?? 10;
        rows.push({ deployment: o.deployment, source: "observed", ratePerS, answerTimeS, overflowDepth, desired: o.desired, observed: o, ...planReplicas(input(ratePerS, answerTimeS, overflowDepth, base)) });
      }
    }
  } catch (err) {
    if (err instanceof CapacityInputError) return fail(err.message, 2);
    throw err;
  }

  const first = rows[0]!;
  const table = rightSizeTable(STANDARD_LOADS_PER_S, { answerTimeS: first.answerTimeS, maxWaitS: base.maxWaitS, maxRejectRate: base.maxRejectRate, overflowDepth: first.overflowDepth });
  if (opts.json) {
    return out(
      JSON.stringify({
        model: "M/M/c (Erlang C) for the wait; M/M/c/K, K = replicas × overflow depth, for the 503 rate",
        plans: rows.map(jsonRow),
        right_size: { computed: true, note: "the product spec's right-size table is not in the repository; this one is computed from the same model", rows: table.map((p) => jsonRow({ ...p, source: "given", ratePerS: p.offeredLoad / first.answerTimeS, answerTimeS: first.answerTimeS, overflowDepth: first.overflowDepth })) },
      }),
    );
  }

  for (const r of rows) printPlan(r);
  out();
  out(paint.bold(`right-size table at ${fmtS(first.answerTimeS)} answers, p95 wait ≤ ${fmtS(base.maxWaitS)}, 503 rate ≤ ${pct(base.maxRejectRate)}`));
  out(paint.dim("(the product spec's own table is not in the repository: these rows are computed from the same model)"));
  printTable(
    ["asks/s", "replicas", "utilisation", "mean wait", "p95 wait", "503 rate"],
    table.map((p) => [fmtNum(p.offeredLoad / first.answerTimeS), String(p.replicas), pct(p.utilisation), fmtS(p.meanWaitS), fmtS(p.percentileWaitS), pct(p.rejectRate, 3)]),
  );
}

function input(ratePerS: number, answerTimeS: number, overflowDepth: number, base: { maxWaitS: number; maxRejectRate: number }): PlanInput {
  return { ratePerS, answerTimeS, overflowDepth, maxWaitS: base.maxWaitS, maxRejectRate: base.maxRejectRate };
}

async function observe(opts: PlanOptions): Promise<Observed[]> {
  const stack = opts.stack!;
  try {
    readAdminFile(adminFilePath(opts.dataDir, stack));
  } catch (err) {
    return fail(`--stack ${stack}: ${(err as Error).message}; or give --rate and --answer-time instead of --stack`, 1);
  }
  const status = await adminGet<StatusView>({ stack, dataDir: opts.dataDir }, "/admin/v1/status");
  const generatedAt = Date.parse(status.generated_at);
  const deployments = status.teams.flatMap((t) => t.deployments);
  const chosen = opts.deployment === undefined ? deployments : deployments.filter((d) => d.deployment === opts.deployment);
  if (chosen.length === 0) {
    return fail(`stack ${stack} has no deployment "${opts.deployment}"; use one of ${deployments.map((d) => d.deployment).join(", ") || "(none)"}`, 2);
  }
  return chosen.map((d) => observedFromStatus(d, generatedAt));
}

/** The deployment's overflowDepth from its stack file, when that file is where `--stack` says. */
function overflowOf(stack: string, key: string): number | undefined {
  try {
    const { spec } = loadStackFile(stackFilePath(stack));
    for (const team of spec.teams) for (const d of team.deployments) if (deploymentKey(team.slug, d.agentType) === key) return d.overflowDepth;
  } catch {
    /* a pool started with --config elsewhere: the default applies */
  }
  return undefined;
}

function printPlan(r: PlanRow): void {
  out(paint.bold(r.deployment ? `${r.deployment} (observed over ${Math.round(r.observed!.windowS)} s: ${r.observed!.answered} answered)` : "plan"));
  out(`  load          ${fmtNum(r.ratePerS)} asks/s × ${fmtS(r.answerTimeS)} answers = ${fmtNum(r.offeredLoad)} replicas' worth of work`);
  const verdict = r.desired === undefined ? "" : r.desired >= r.replicas ? paint.green(`  (${r.desired} desired now: enough)`) : paint.yellow(`  (${r.desired} desired now: too few)`);
  out(`  ${paint.bold("replicas")}      ${paint.bold(String(r.replicas))}  for p95 wait ≤ ${fmtS(r.maxWaitS)} and 503 rate ≤ ${pct(r.maxRejectRate)}${verdict}`);
  if (r.replicas > 50) out(paint.yellow(`                a deployment runs at most 50 replicas: split this load across ${Math.ceil(r.replicas / 50)} deployments of the team`));
  out(`  utilisation   ${pct(r.utilisation)}`);
  out(`  queueing      ${pct(r.waitProbability)} of asks wait; mean ${fmtS(r.meanWaitS)}, p95 ${fmtS(r.percentileWaitS)}`);
  out(`  503 rate      ${pct(r.rejectRate, 3)} (K = ${r.replicas} × overflow depth ${r.overflowDepth} asks in the pool)`);
  out(paint.dim("  model: Poisson arrivals, exponential answer times, one answer at a time per replica (M/M/c, Erlang C); 503s from M/M/c/K"));
  if (r.source === "observed") out(paint.dim("  the observed answer time is the gateway's p50 latency, queueing included: with a queue, it overstates the answer time"));
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => "  " + cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  out(line(head));
  for (const r of rows) out(line(r));
}

function jsonRow(r: PlanRow) {
  return {
    ...(r.deployment ? { deployment: r.deployment, desired: r.desired, observed: r.observed && { answered: r.observed.answered, window_s: round(r.observed.windowS), rate_per_s: round(r.observed.ratePerS), answer_time_s: r.observed.answerTimeS === null ? null : round(r.observed.answerTimeS) } } : {}),
    source: r.source,
    rate_per_s: round(r.ratePerS),
    answer_time_s: round(r.answerTimeS),
    overflow_depth: r.overflowDepth,
    max_wait_s: r.maxWaitS,
    max_reject_rate: r.maxRejectRate,
    replicas: r.replicas,
    offered_load: round(r.offeredLoad),
    utilisation: round(r.utilisation),
    wait_probability: round(r.waitProbability),
    mean_wait_s: round(r.meanWaitS),
    p95_wait_s: round(r.percentileWaitS),
    reject_rate: r.rejectRate,
  };
}

function parsePercent(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%?)\s*$/.exec(text);
  const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(v >= 0 && v < 1)) throw new CapacityInputError(`${what} "${text}": write a share below 100 %, e.g. 0.1% or 0.001`);
  return v;
}

function parseWhole(text: string, what: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 1) throw new CapacityInputError(`${what} "${text}": write a whole number ≥ 1, e.g. 10`);
  return Number(text);
}

const round = (v: number) => (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : v);
const fmtNum = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1));
const fmtS = (s: number) => (!Number.isFinite(s) ? "∞" : s === 0 ? "0 s" : s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(s < 10 ? 2 : 1)} s`);
const pct = (v: number, digits = 1) => (!Number.isFinite(v) ? "∞" : `${(v * 100).toFixed(digits)} %`);

export function register(program: Command): void {
  program
    .command("plan")
    .description("replicas a deployment needs for a load (Erlang C), its wait and 503 rate, and a right-size table")
    .option("-r, --rate <rate>", "asks arriving, e.g. 5/s or 300/min")
    .option("-a, --answer-time <duration>", "mean time one replica takes to answer, e.g. 8s or 800ms")
    .option("-w, --max-wait <duration>", "p95 queueing wait allowed", "2s")
    .option("--max-reject <share>", "503 POOL_UNAVAILABLE share allowed", "0.1%")
    .option("-o, --overflow <depth>", "overflowDepth: asks a replica holds before the router refuses (default 10, or the stack file's)")
    .option("-s, --stack <name>", "read each deployment's observed rate and answer time from this running local pool")
    .option("-d, --deployment <key>", "with --stack: only this deployment (TEAM/AGENT-TYPE)")
    .option("--data-dir <dir>", "the running pool's --data-dir", ".agentpool")
    .option("--json", "print the plan as JSON")
    .action(planCommand);
}
