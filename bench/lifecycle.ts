/**
 * `npm run bench:lifecycle [-- --json]`: how fast a local pool grows and how much an idle replica costs.
 *   scale-up to first answer: from the scale call to the first answer by a new replica, under a
 *     steady trickle of asks (median of several rounds), beside the time to start one bare Node
 *     process (the baseline no worker can beat)
 *   idle replica memory: RSS of each worker process after start, beside a bare Node process
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parsePoolSpec } from "../runtime/core/spec";
import { startLocalPool } from "../runtime/local/pool";
import { round, summarize } from "./lib";

const json = process.argv.includes("--json");
const ROUNDS = 5;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

async function main() {
  const spec = parsePoolSpec({
    providers: [{ name: "sim", kind: "simulator", latencyMs: 50 }],
    agentTypes: [{ name: "B", slug: "bench", endpointSlug: "bench", systemPrompt: "You answer.", provider: "sim", model: "sim" }],
    teams: [{ name: "T", slug: "team", deployments: [{ agentType: "bench", desiredReplicas: 1 }] }],
  });
  const pool = await startLocalPool({ stack: "bench-lifecycle", spec, port: 0, onLog: () => undefined });
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
  for (let round_ = 0; round_ < ROUNDS; round_++) {
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
  const rss = Object.values(pool.workerPids()).filter((p): p is number => !!p).map(rssMb);
  await pool.stop();

  const up = summarize(scaleUps);
  const idle = summarize(rss);
  const out = {
    scale_up_to_first_answer_ms_p50: round(up.p50),
    scale_up_to_first_answer_ms_max: round(Math.max(...scaleUps)),
    bare_node_start_ms: round(bareStart.p50),
    idle_replica_rss_mb: round(idle.p50, 1),
    bare_node_rss_mb: round(bareRss, 1),
  };
  if (json) return void process.stdout.write(JSON.stringify(out) + "\n");
  console.log(`agentpool lifecycle bench: local pool, simulator 50 ms, ${ROUNDS} scale-up rounds\n`);
  console.log(`${"scale 1 → 2, first answer by the new replica (p50 / max)".padEnd(60)} ${out.scale_up_to_first_answer_ms_p50} / ${out.scale_up_to_first_answer_ms_max} ms   ${round(out.scale_up_to_first_answer_ms_p50 / out.bare_node_start_ms)}× a bare node start (${out.bare_node_start_ms} ms)`);
  console.log(`${"idle replica RSS (p50 of 4)".padEnd(60)} ${out.idle_replica_rss_mb} MB   ${round(out.idle_replica_rss_mb / out.bare_node_rss_mb)}× a bare node process (${out.bare_node_rss_mb} MB)`);
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
