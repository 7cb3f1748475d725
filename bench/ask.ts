/**
 * `npm run bench [-- --json]`: what the router adds to an ask.
 *
 * Everything runs in this process on the emulators (the router behind the local gateway, the
 * workers, dynalite, local-aws-sqs), so each figure stands beside baselines measured in the same
 * run: a direct provider call (what an ask would cost with no pool at all) and one bare SQS
 * send → receive round trip (the emulator floor).
 *
 *   overhead = ask latency (HTTP, through gateway + router + queue + worker) − provider latency
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
import { Agent, request } from "node:http";
import { startEmulators } from "../runtime/local/emulators";
import { startGateway } from "../runtime/local/gateway";
import { createAwsClients, type AwsClients } from "../runtime/aws/clients";
import { ensureTables } from "../runtime/aws/tables";
import { ensureReplicaQueue, ReplicaQueue } from "../runtime/aws/queues";
import { ReplicaRegistry } from "../runtime/aws/replica-registry";
import { ApiKeyStore } from "../runtime/aws/api-key-store";
import { tableNames } from "../runtime/core/naming";
import { generateApiKey, hashApiKey } from "../runtime/core/keys";
import { routerConfigSchema } from "../runtime/router/config";
import { createRouter } from "../runtime/router/app";
import { lambdaHandler } from "../runtime/router/lambda";
import type { AgentWorker } from "../runtime/agent/worker";
import { buildWorker } from "../runtime/agent/build";
import { workerConfigSchema } from "../runtime/agent/config";
import { SimulatorProvider } from "../runtime/llm/simulator";
import { round, runConcurrent, summarize } from "./lib";

const json = process.argv.includes("--json");
const PROVIDER_MS = 100;
const REPLICAS = 4;
const PER_REPLICA = 4;

async function main() {
  const emulators = await startEmulators();
  const aws = { dynamodbEndpoint: emulators.dynamodbEndpoint, sqsEndpoint: emulators.sqsEndpoint };
  const routerClients = createAwsClients(aws);
  const workerClients = createAwsClients(aws);
  const setup = createAwsClients(aws);
  const tables = tableNames("bench");
  await ensureTables(setup, tables);
  const registry = new ReplicaRegistry(setup, tables.replicas);
  const provider = new SimulatorProvider({ name: "sim", latencyMs: PROVIDER_MS });
  const agentType = { name: "Bench", slug: "bench", endpointSlug: "bench", systemPrompt: "You answer.", provider: "sim", model: "sim" };

  const workers: AgentWorker[] = [];
  for (let n = 1; n <= REPLICAS; n++) {
    const agentId = `bench-bench-${n}`;
    const { queueUrl } = await ensureReplicaQueue(setup, `agentpool-bench-${agentId}`, `agentpool-bench-${agentId}-dlq`);
    await registry.put({
      endpoint: "bench", agentId, deployment: "bench/bench", team: "bench", agentType: "bench", slot: n, state: "starting",
      depth: 0, heartbeatAt: 0, queueUrl, availableDepth: PER_REPLICA, overflowDepth: 10,
    });
    const config = workerConfigSchema.parse({
      stack: "bench", tables, endpoint: "bench", team: "bench", agentType, provider: { name: "sim", kind: "simulator" },
      maxConcurrency: PER_REPLICA, availableDepth: PER_REPLICA, overflowDepth: 10, slots: [{ agentId, slot: n, queueUrl }],
      waitSeconds: 1, heartbeatMs: 2_000, aws,
    });
    const w = buildWorker(config, workerClients, { owner: `bench-${n}`, provider, log: () => undefined });
    await w.start();
    workers.push(w);
  }
  const apiKey = generateApiKey();
  // Limits far above what the run sends: the rate limiter still does its work on every ask.
  await new ApiKeyStore(setup, tables.apiKeys).put({ keyHash: hashApiKey(apiKey), prefix: "bench", name: "bench", owner: "bench", createdAt: Date.now(), rateLimitPerMinute: 1_000_000 });
  const config = routerConfigSchema.parse({
    stack: "bench", tables, endpoints: ["bench"], deadlineMs: 25_000, aws,
    rateLimits: { perAgentPerMinute: 1_000_000 },
  });
  const gateway = await startGateway(lambdaHandler(() => createRouter(config, { clients: routerClients })), 0);

  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const ask = (body: object) => post(agent, gateway.port, "/api/v1/ask/bench", apiKey, body);

  // Baselines, same process, same moment.
  const providerOnly = await runConcurrent(40, 1, async () => {
    await provider.complete({ model: "sim", agentId: "x", messages: [{ role: "user", content: "hi" }] });
  });
  const floorQueue = new ReplicaQueue(setup, (await ensureReplicaQueue(setup, "agentpool-bench-floor", "agentpool-bench-floor-dlq")).queueUrl);
  const floor = await runConcurrent(40, 1, async () => {
    await floorQueue.send("x");
    const m = await floorQueue.receive(1);
    await floorQueue.delete(m!.ReceiptHandle!);
  });

  await runConcurrent(20, 4, async (i) => void (await ask({ content: `warm-up ${i}` }))); // JIT, sockets, tables
  const results: Record<number, { ask: ReturnType<typeof summarize>; asksPerS: number; routerCalls: number; workerCalls: number; byOp: Record<string, number> }> = {};
  for (const concurrency of [1, 16]) {
    routerClients.calls.reset();
    workerClients.calls.reset();
    const total = concurrency === 1 ? 60 : 320;
    const errors: string[] = [];
    const run = await runConcurrent(total, concurrency, async (i) => {
      const res = await ask({ content: `question ${i}` });
      if (res.status !== 200) errors.push(`${res.status} ${res.body}`);
    });
    if (errors.length) throw new Error(`${errors.length} asks failed at concurrency ${concurrency}:\n${errors.slice(0, 5).join("\n")}`);
    results[concurrency] = {
      ask: summarize(run.durations),
      asksPerS: total / (run.wallMs / 1000),
      routerCalls: routerClients.calls.total / total,
      workerCalls: (workerClients.calls.total - receivesWhileIdle(workerClients)) / total,
      byOp: Object.fromEntries([...routerClients.calls.byOperation, ...[...workerClients.calls.byOperation].map(([k, v]) => [`worker ${k}`, v] as const)].map(([k, v]) => [k, round(v / total)])),
    };
  }

  const provider50 = summarize(providerOnly.durations).p50;
  const c1 = results[1]!;
  const c16 = results[16]!;
  const out = {
    provider_latency_ms: round(provider50),
    emulator_floor_ms: round(summarize(floor.durations).p50),
    overhead_p50_ms: round(c1.ask.p50 - provider50),
    overhead_p99_ms: round(c1.ask.p99 - provider50),
    overhead_p50_ms_c16: round(c16.ask.p50 - provider50),
    overhead_p99_ms_c16: round(c16.ask.p99 - provider50),
    asks_per_s: round(c16.asksPerS, 1),
    ideal_asks_per_s: round(Math.min(16, REPLICAS * PER_REPLICA) * (1000 / provider50), 1),
    aws_calls_per_ask: round(c1.routerCalls + c1.workerCalls),
    router_aws_calls_per_ask: round(c1.routerCalls),
    worker_aws_calls_per_ask: round(c1.workerCalls),
    calls_by_operation_c1: c1.byOp,
    calls_by_operation_c16: c16.byOp,
  };

  if (json) {
    process.stdout.write(JSON.stringify(out) + "\n");
  } else {
    const floorMs = out.emulator_floor_ms;
    const rows: [string, string, string][] = [
      ["provider call alone (baseline)", `${out.provider_latency_ms} ms`, "1.00×"],
      ["SQS send→receive floor (baseline)", `${floorMs} ms`, "1.00×"],
      ["ask p50, concurrency 1", `${round(c1.ask.p50)} ms`, `${round(c1.ask.p50 / provider50)}× provider`],
      ["router overhead p50 / p99, c=1", `${out.overhead_p50_ms} / ${out.overhead_p99_ms} ms`, `${round(out.overhead_p50_ms / floorMs)}× / ${round(out.overhead_p99_ms / floorMs)}× floor`],
      ["router overhead p50 / p99, c=16", `${out.overhead_p50_ms_c16} / ${out.overhead_p99_ms_c16} ms`, `${round(out.overhead_p50_ms_c16 / floorMs)}× / ${round(out.overhead_p99_ms_c16 / floorMs)}× floor`],
      ["asks/s at concurrency 16", `${out.asks_per_s}`, `${round(out.asks_per_s / out.ideal_asks_per_s)}× ideal (${out.ideal_asks_per_s})`],
      ["DynamoDB+SQS calls per ask (router + worker)", `${out.aws_calls_per_ask}`, `${out.router_aws_calls_per_ask} + ${out.worker_aws_calls_per_ask}`],
    ];
    console.log(`agentpool bench: ${REPLICAS} replicas × ${PER_REPLICA} concurrent, simulator ${PROVIDER_MS} ms, all in one process\n`);
    for (const [what, value, ratio] of rows) console.log(`${what.padEnd(46)} ${value.padStart(18)}   ${ratio}`);
    console.log("\ncalls per ask by operation (c=1):");
    for (const [op, n] of Object.entries(out.calls_by_operation_c1)) console.log(`  ${op.padEnd(44)} ${n}`);
  }

  await gateway.close();
  await Promise.all(workers.map((w) => w.stop("finish")));
  agent.destroy();
  await emulators.close();
  process.exit(0);
}

/** Empty long polls of idle loops are not work done for an ask; count only receives that got one. */
function receivesWhileIdle(clients: AwsClients): number {
  const receives = clients.calls.byOperation.get("sqs:ReceiveMessageCommand") ?? 0;
  const deletes = clients.calls.byOperation.get("sqs:DeleteMessageCommand") ?? 0;
  return Math.max(0, receives - deletes);
}

function post(agent: Agent, port: number, path: string, apiKey: string, body: object): Promise<{ status: number; body: string }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: "POST", agent, headers: { "content-type": "application/json", "x-api-key": apiKey, "content-length": Buffer.byteLength(data) } },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
