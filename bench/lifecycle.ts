/**
 * `npm run bench:lifecycle [-- --json]`: how fast a local pool grows and how much an idle replica costs.
 *   scale-up to first answer: from the scale call to the first answer by a new replica, under a
 *     steady trickle of asks (median of several rounds), beside the time to start one bare Node
 *     process (the baseline no worker can beat)
 *   idle replica memory: RSS of each worker process 3 s after start (still settling: start-up
 *     garbage not yet collected) and after IDLE_MS with no asks (idle: what a replica that waits
 *     for work costs, the goal's figure), beside a bare Node process
 * Issue 8's goals: first answer ≤ 2 s, ≤ 60 MB per idle replica. `npm run bench` runs the same
 * measurement (runLifecycle) as part of the suite.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parsePoolSpec } from "../runtime/core/spec";
import { startLocalPool, type LocalPool } from "../runtime/local/pool";
import { mark, round, summarize } from "./lib";

const ROUNDS = 5;
/** Issue 8's goals. */
export const GOAL_SCALE_UP_MS = 2_000;
export const GOAL_IDLE_RSS_MB = 60;
/** How long the replicas wait without asks before their idle memory is read. */
const IDLE_MS = 20_000;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

export interface LifecycleReport {
  scale_up_to_first_answer_ms_p50: number;
  scale_up_to_first_answer_ms_max: number;
  bare_node_start_ms: number;
  /** After IDLE_MS without asks. */
  idle_replica_rss_mb: number;
  /** 3 s after start. */
  started_replica_rss_mb: number;
  bare_node_rss_mb: number;
  rounds: number;
}

/** Starts a real local pool (worker child processes), scales it `rounds` times, measures, stops it. */
export async function runLifecycle(opts: { rounds?: number } = {}): Promise<LifecycleReport> {
  const rounds = opts.rounds ?? ROUNDS;
  const spec = parsePoolSpec({
    providers: [{ name: "sim", kind: "simulator", latencyMs: 50 }],
    agentTypes: [{ name: "B", slug: "bench", endpointSlug: "bench", systemPrompt: "You answer.", provider: "sim", model: "sim" }],
    teams: [{ name: "T", slug: "team", deployments: [{ agentType: "bench", desiredReplicas: 1 }] }],
  });
  const pool = await startLocalPool({ stack: "bench-lifecycle", spec, port: 0, onLog: () => undefined });
  try {
    return await measure(pool, rounds);
  } finally {
    await pool.stop();
  }
}

async function measure(pool: LocalPool, rounds: number): Promise<LifecycleReport> {
  const ask = async () => {
    const res = await fetch(`${pool.url}/api/v1/ask/bench`, {
      method: "POST",
      headers: { "x-api-key": pool.apiKey, "content-type": "application/json" },
      body: JSON.stringify({ content: "hi" }),
    });
    return (await res.json()) as { agent_id?: string };
  };

  const bareStart = summarize(
    Array.from({ length: 5 }, () => {
      const t = performance.now();
      spawnSync(process.execPath, ["-e", "0"]);
      return performance.now() - t;
    }),
  );
  const bareRss = Number(execFileSync(process.execPath, ["-e", "console.log(process.memoryUsage().rss)"], { encoding: "utf8" })) / 1024 / 1024;

  const scaleUps: number[] = [];
  for (let round_ = 0; round_ < rounds; round_++) {
    const started = performance.now();
    const scaling = pool.scale("team/bench", 2);
    let firstAnswer: number | undefined;
    while (firstAnswer === undefined && performance.now() - started < 15_000) {
      const answers = await Promise.all([ask(), ask()]);
      if (answers.some((a) => a.agent_id === "team-bench-2")) firstAnswer = performance.now() - started;
    }
    await scaling;
    scaleUps.push(firstAnswer ?? NaN);
    await pool.scale("team/bench", 1);
    await new Promise((r) => setTimeout(r, 1_500)); // the drained replica stops
  }

  await pool.scale("team/bench", 4);
  await new Promise((r) => setTimeout(r, 3_000));
  const workerRss = () => Object.values(pool.workerPids()).filter((p): p is number => !!p).map(rssMb);
  const started = summarize(workerRss());
  await new Promise((r) => setTimeout(r, IDLE_MS - 3_000));
  const rss = workerRss();

  const up = summarize(scaleUps);
  const idle = summarize(rss);
  return {
    scale_up_to_first_answer_ms_p50: round(up.p50),
    scale_up_to_first_answer_ms_max: round(Math.max(...scaleUps)),
    bare_node_start_ms: round(bareStart.p50),
    idle_replica_rss_mb: round(idle.p50, 1),
    started_replica_rss_mb: round(started.p50, 1),
    bare_node_rss_mb: round(bareRss, 1),
    rounds,
  };
}

async function main() {
  const out = await runLifecycle();
  if (process.argv.includes("--json")) return void process.stdout.write(JSON.stringify(out) + "\n");
  console.log(`agentpool lifecycle bench: local pool, simulator 50 ms, ${out.rounds} scale-up rounds\n`);
  console.log(`${"scale 1 → 2, first answer by the new replica (p50 / max)".padEnd(60)} ${out.scale_up_to_first_answer_ms_p50} / ${out.scale_up_to_first_answer_ms_max} ms   ${round(out.scale_up_to_first_answer_ms_p50 / out.bare_node_start_ms)}× a bare node start (${out.bare_node_start_ms} ms)   [goal p50 ≤ ${GOAL_SCALE_UP_MS} ms: ${mark(out.scale_up_to_first_answer_ms_p50 <= GOAL_SCALE_UP_MS)}]`);
  console.log(`${"replica RSS 3 s after start (p50 of 4)".padEnd(60)} ${out.started_replica_rss_mb} MB`);
  console.log(`${"idle replica RSS, 20 s without asks (p50 of 4)".padEnd(60)} ${out.idle_replica_rss_mb} MB   ${round(out.idle_replica_rss_mb / out.bare_node_rss_mb)}× a bare node process (${out.bare_node_rss_mb} MB)   [goal ≤ ${GOAL_IDLE_RSS_MB} MB: ${mark(out.idle_replica_rss_mb <= GOAL_IDLE_RSS_MB)}]`);
}

if (require.main === module) {
  main().then(() => process.exit(0), (err) => {
    console.error(err);
    process.exit(1);
  });
}
