/**
 * Asks/s of the local pool as users run it (`startLocalPool`, what `agentpool start` runs): the
 * emulators, the gateway and the router in this process, each replica's worker in its own Node
 * child process, so the work spreads over more than one core. Closed loop over HTTP at c=32 with a
 * 0 ms simulator after a warm-up; any non-200 is an error. Beside the figure, CPU per ask of this
 * process (its JS thread apart) and of the worker processes, read from /proc, to show which side
 * is the bottleneck.
 *
 * Limits: the pool's dev key allows 6,000 asks/min (runtime/local/pool.ts), which a fast machine
 * passes within a phase, so the phase asks with a key of its own made through the same API-key
 * store (createApiKey) with a limit no run reaches; the deployment sets rateLimitPerMinute, since
 * the router's default of 50/min per replica would refuse most asks. Both limiters still do their
 * work (batch reservations) on every ask.
 *
 * `npx tsx bench/local-pool-throughput.ts [--json]` runs it alone; `npm run bench` runs it as part
 * of the suite.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
import { Agent } from "node:http";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parsePoolSpec } from "../runtime/core/spec";
import { tableNames } from "../runtime/core/naming";
import { createAwsClients, destroyAwsClients } from "../runtime/aws/clients";
import { ApiKeyStore } from "../runtime/aws/api-key-store";
import { createApiKey } from "../runtime/aws/api-keys";
import { LOCAL_OWNER, startLocalPool, type LocalPool } from "../runtime/local/pool";
import { postJson, round, runFor, sleep, summarize, type Summary } from "./lib";

const STACK = "bench-local-tp";
const REPLICAS = 4;
/** The spec's maximum: 4 × 16 answers at once, more than the 32 callers. */
const MAX_CONCURRENCY = 16;
/** Even if every caller's ask sat on one replica (and count-outs lag the answers), none is refused. */
const AVAILABLE_DEPTH = 16;
const OVERFLOW_DEPTH = 64;
/** Per replica (the spec's maximum); the router's default is 50/min. */
const AGENT_RATE_LIMIT_PER_MINUTE = 100_000;
/** For the bench's own key: far above what one machine can send in a minute. */
const KEY_RATE_LIMIT_PER_MINUTE = 1_000_000;
/** How long the idle pool's CPU is sampled before the warm-up. */
const IDLE_SAMPLE_MS = 2_000;

export interface LocalPoolThroughputOptions {
  concurrency?: number;
  durationMs?: number;
  warmupMs?: number;
}

export interface LocalPoolThroughputReport {
  replicas: number;
  max_concurrency: number;
  concurrency: number;
  duration_ms: number;
  asks: number;
  errors: number;
  error_samples: string[];
  asks_per_s: number;
  ask_ms: Summary;
  /** This process: router, gateway, pool monitor and both emulators. */
  main_process_cpu_ms_per_ask: number;
  /** Of which its JS thread (the one thread all of the above share). */
  main_js_thread_cpu_ms_per_ask: number;
  /** Share of the phase's wall time the main JS thread was on a CPU (1 = saturated). */
  main_js_thread_busy: number;
  /** The worker processes together. */
  workers_cpu_ms_per_ask: number;
  /** Busy share of the busiest worker process. */
  busiest_worker_busy: number;
  /** CPU-seconds per wall-second of this process and the workers together. */
  cores_used: number;
  /** CPU-seconds per wall-second of the whole machine (/proc/stat): above this run's, other load. */
  machine_cores_busy: number;
  startup_ms: number;
  /**
   * The pool with no asks (heartbeats, the workers' empty long polls, the monitor), CPU ms per
   * second of wall time: a fixed cost inside the per-ask figures above.
   */
  idle_main_process_cpu_ms_per_s: number;
  idle_workers_cpu_ms_per_s: number;
}

const clockTick = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime (ms) of a process or a thread from its /proc stat line; 0 when it is gone. */
function cpuMs(statPath: string): number {
  try {
    const stat = readFileSync(statPath, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After "pid (comm) ", field 3 (state) is index 0: utime is field 14, stime 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTick;
  } catch {
    return 0;
  }
}

/** Busy CPU time (ms) of the whole machine since boot, all cores (/proc/stat's first line). */
function machineBusyMs(): number {
  try {
    const [, ...f] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = f.map(Number);
    return ((user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * 1000) / clockTick;
  } catch {
    return NaN;
  }
}

/** The main JS thread is the task whose id is the pid. */
const mainThreadMs = () => cpuMs(`/proc/${process.pid}/task/${process.pid}/stat`);
const processMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function workerCpu(pool: LocalPool): Record<number, number> {
  const out: Record<number, number> = {};
  for (const pid of Object.values(pool.workerPids())) if (pid) out[pid] = cpuMs(`/proc/${pid}/stat`);
  return out;
}

export async function runLocalPoolThroughput(opts: LocalPoolThroughputOptions = {}): Promise<LocalPoolThroughputReport> {
  const concurrency = opts.concurrency ?? 32;
  const durationMs = opts.durationMs ?? 8_000;
  const warmupMs = opts.warmupMs ?? 2_000;
  const spec = parsePoolSpec({
    providers: [{ name: "sim", kind: "simulator", latencyMs: 0 }],
    agentTypes: [{ name: "B", slug: "bench", endpointSlug: "bench", systemPrompt: "You answer.", provider: "sim", model: "sim" }],
    teams: [
      {
        name: "T",
        slug: "team",
        deployments: [
          {
            agentType: "bench",
            desiredReplicas: REPLICAS,
            maxConcurrency: MAX_CONCURRENCY,
            availableDepth: AVAILABLE_DEPTH,
            overflowDepth: OVERFLOW_DEPTH,
            rateLimitPerMinute: AGENT_RATE_LIMIT_PER_MINUTE,
          },
        ],
      },
    ],
  });
  const started = performance.now();
  const pool = await startLocalPool({ stack: STACK, spec, port: 0, onLog: () => undefined });
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const setup = createAwsClients({ dynamodbEndpoint: pool.dynamodbEndpoint, sqsEndpoint: pool.sqsEndpoint });
  try {
    const { apiKey } = await createApiKey(
      new ApiKeyStore(setup, tableNames(STACK).apiKeys),
      { name: "bench throughput", owner: LOCAL_OWNER, rateLimitPerMinute: KEY_RATE_LIMIT_PER_MINUTE },
      Date.now(),
    );
    const port = Number(new URL(pool.url).port);
    const ask = (body: object) => postJson(agent, port, "/api/v1/ask/bench", body, { "x-api-key": apiKey });

    // Until every worker has a heartbeat in and answers (one ask at a time, up to 30 s).
    for (const until = performance.now() + 30_000; performance.now() < until; ) {
      const res = await ask({ content: "ready?" }).catch(() => undefined);
      if (res?.status === 200) break;
      await sleep(100);
    }
    const startupMs = performance.now() - started;

    await sleep(500); // the ready ask's own work settles
    const idle0 = { proc: processMs(), workers: workerCpu(pool), at: performance.now() };
    await sleep(IDLE_SAMPLE_MS);
    const idleWall = performance.now() - idle0.at;
    const idleProc = processMs() - idle0.proc;
    const idleWorkers = Object.entries(workerCpu(pool)).reduce((sum, [pid, ms]) => sum + ms - (idle0.workers[Number(pid)] ?? ms), 0);

    let errors = 0;
    const errorSamples: string[] = [];
    const task = async (i: number) => {
      const res = await ask({ content: `fast ${i}` }).catch((err: Error) => ({ status: 0, body: String(err.message) }));
      if (res.status !== 200) {
        errors++;
        if (errorSamples.length < 3) errorSamples.push(`${res.status} ${res.body.slice(0, 200)}`);
      }
    };
    await runFor(warmupMs, concurrency, task);
    errors = 0;
    errorSamples.length = 0;

    const proc0 = processMs();
    const thread0 = mainThreadMs();
    const workers0 = workerCpu(pool);
    const machine0 = machineBusyMs();
    const run = await runFor(durationMs, concurrency, task);
    const proc = processMs() - proc0;
    const thread = mainThreadMs() - thread0;
    const workers1 = workerCpu(pool);
    const machine = machineBusyMs() - machine0;
    const perWorker = Object.entries(workers1).map(([pid, ms]) => ms - (workers0[Number(pid)] ?? ms));
    const workersMs = perWorker.reduce((s, x) => s + x, 0);

    const ask_ms = summarize(run.durations);
    return {
      replicas: REPLICAS,
      max_concurrency: MAX_CONCURRENCY,
      concurrency,
      duration_ms: durationMs,
      asks: run.done,
      errors,
      error_samples: errorSamples,
      asks_per_s: round(run.done / (run.wallMs / 1000), 1),
      ask_ms: { n: ask_ms.n, p50: round(ask_ms.p50), p99: round(ask_ms.p99), mean: round(ask_ms.mean) },
      main_process_cpu_ms_per_ask: round(proc / run.done, 3),
      main_js_thread_cpu_ms_per_ask: round(thread / run.done, 3),
      main_js_thread_busy: round(thread / run.wallMs),
      workers_cpu_ms_per_ask: round(workersMs / run.done, 3),
      busiest_worker_busy: round(Math.max(0, ...perWorker) / run.wallMs),
      cores_used: round((proc + workersMs) / run.wallMs),
      machine_cores_busy: round(machine / run.wallMs),
      startup_ms: round(startupMs),
      idle_main_process_cpu_ms_per_s: round((idleProc * 1000) / idleWall, 1),
      idle_workers_cpu_ms_per_s: round((idleWorkers * 1000) / idleWall, 1),
    };
  } finally {
    agent.destroy();
    destroyAwsClients(setup);
    await pool.stop();
  }
}

async function main() {
  const out = await runLocalPoolThroughput();
  if (process.argv.includes("--json")) return void process.stdout.write(JSON.stringify(out) + "\n");
  console.log(JSON.stringify(out, null, 2));
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
