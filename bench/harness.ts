/**
 * The in-process pool the benches drive: tables and queues of one stack on the emulators, in-process
 * workers (`buildWorker`) answering with the simulator, and the router behind the local gateway
 * (`startGateway(lambdaHandler(createRouter))`), all in this process. The router and the workers
 * have their own AWS clients, so their DynamoDB and SQS calls are counted apart
 * (`createAwsClients().calls`). Several harnesses (different stacks) can share one pair of emulators.
 */
import { Agent } from "node:http";
import { EventEmitter, setMaxListeners } from "node:events";
import type { Emulators } from "../runtime/local/emulators";
import { startGateway } from "../runtime/local/gateway";
import { createAwsClients, destroyAwsClients, type AwsClients } from "../runtime/aws/clients";
import { ensureTables } from "../runtime/aws/tables";
import { ensureReplicaQueue } from "../runtime/aws/queues";
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
import type { CompletionRequest, LlmProvider } from "../runtime/llm/provider";
import { SimulatorProvider } from "../runtime/llm/simulator";
import { postJson, round, type HttpResult } from "./lib";

export interface HarnessOptions {
  /** Names the tables and queues, so harnesses on the same emulators do not meet. */
  stack: string;
  replicas: number;
  /** Each worker's maxConcurrency (answers at once); availableDepth defaults to it. */
  perReplica: number;
  availableDepth?: number;
  overflowDepth: number;
  /** Simulated answer time: fixed, or uniform in [min, max] (ms). */
  providerMs: number | [number, number];
  deadlineMs?: number;
}

export interface Harness {
  /** The endpoint's `POST /api/v1/ask/bench` through the gateway. */
  ask(body: object): Promise<HttpResult>;
  routerClients: AwsClients;
  workerClients: AwsClients;
  /** For the benches' own setup and baselines (not counted as router or worker work). */
  setup: AwsClients;
  provider: TunableSimulator;
  options: HarnessOptions;
  close(): Promise<void>;
}

/** The simulator with an answer time that can change between phases (the same workers serve them all). */
export class TunableSimulator implements LlmProvider {
  readonly name = "sim";
  readonly kind = "simulator" as const;
  private inner: SimulatorProvider;
  constructor(latencyMs: number | [number, number]) {
    this.inner = new SimulatorProvider({ name: "sim", latencyMs });
  }
  setLatency(latencyMs: number | [number, number]): void {
    this.inner = new SimulatorProvider({ name: "sim", latencyMs });
  }
  complete(request: CompletionRequest, signal?: AbortSignal): Promise<string> {
    return this.inner.complete(request, signal);
  }
}

export async function startHarness(emulators: Emulators, opts: HarnessOptions): Promise<Harness> {
  // Each of a worker's maxConcurrency loops hands the worker's one AbortSignal to its SQS long poll:
  // above 10 loops Node warns of a listener leak that is not one. Raised for signals made from here on.
  setMaxListeners(Math.max(EventEmitter.defaultMaxListeners, 2 * opts.perReplica + 8));
  const aws = { dynamodbEndpoint: emulators.dynamodbEndpoint, sqsEndpoint: emulators.sqsEndpoint };
  const routerClients = createAwsClients(aws);
  const workerClients = createAwsClients(aws);
  const setup = createAwsClients(aws);
  const tables = tableNames(opts.stack);
  await ensureTables(setup, tables);
  const registry = new ReplicaRegistry(setup, tables.replicas);
  const provider = new TunableSimulator(opts.providerMs);
  const agentType = { name: "Bench", slug: "bench", endpointSlug: "bench", systemPrompt: "You answer.", provider: "sim", model: "sim" };
  const availableDepth = opts.availableDepth ?? opts.perReplica;

  const workers: AgentWorker[] = [];
  for (let n = 1; n <= opts.replicas; n++) {
    const agentId = `bench-bench-${n}`;
    const { queueUrl } = await ensureReplicaQueue(setup, `agentpool-${opts.stack}-${agentId}`, `agentpool-${opts.stack}-${agentId}-dlq`);
    await registry.put({
      endpoint: "bench", agentId, deployment: "bench/bench", team: "bench", agentType: "bench", slot: n, state: "starting",
      depth: 0, heartbeatAt: 0, queueUrl, availableDepth, overflowDepth: opts.overflowDepth,
    });
    const config = workerConfigSchema.parse({
      stack: opts.stack, tables, endpoint: "bench", team: "bench", agentType, provider: { name: "sim", kind: "simulator" },
      maxConcurrency: opts.perReplica, availableDepth, overflowDepth: opts.overflowDepth, slots: [{ agentId, slot: n, queueUrl }],
      waitSeconds: 1, heartbeatMs: 2_000, aws,
    });
    const w = buildWorker(config, workerClients, { owner: `${opts.stack}-${n}`, provider, log: () => undefined });
    await w.start();
    workers.push(w);
  }
  const apiKey = generateApiKey();
  // Limits far above what a run sends: the rate limiter still does its work on every ask.
  await new ApiKeyStore(setup, tables.apiKeys).put({ keyHash: hashApiKey(apiKey), prefix: opts.stack, name: opts.stack, owner: "bench", createdAt: Date.now(), rateLimitPerMinute: 1_000_000 });
  const config = routerConfigSchema.parse({
    stack: opts.stack, tables, endpoints: ["bench"], deadlineMs: opts.deadlineMs ?? 25_000, aws,
    rateLimits: { perAgentPerMinute: 1_000_000 },
    routing: { perDeployment: { "bench/bench": { maxConcurrency: opts.perReplica } } },
  });
  const gateway = await startGateway(lambdaHandler(() => createRouter(config, { clients: routerClients })), 0);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });

  return {
    ask: (body) => postJson(agent, gateway.port, "/api/v1/ask/bench", body, { "x-api-key": apiKey }),
    routerClients,
    workerClients,
    setup,
    provider,
    options: opts,
    close: async () => {
      await gateway.close();
      await Promise.all(workers.map((w) => w.stop("finish")));
      agent.destroy();
      for (const c of [routerClients, workerClients, setup]) destroyAwsClients(c);
    },
  };
}

/** DynamoDB + SQS calls per ask of one phase, router and worker apart, and by operation. */
export interface CallFigures {
  router: number;
  worker: number;
  total: number;
  /** Router calls that were DynamoDB ones, plus the worker's (for the emulator ceiling). */
  dynamodb: number;
  byOperation: Record<string, number>;
}

export function resetCalls(h: Harness): void {
  h.routerClients.calls.reset();
  h.workerClients.calls.reset();
}

/**
 * Calls per ask since the last reset. Empty long polls of idle worker loops are not work done for
 * an ask: only receives that got a message (one per delete) are counted.
 */
export function callsPerAsk(h: Harness, asks: number): CallFigures {
  const r = h.routerClients.calls;
  const w = h.workerClients.calls;
  const receives = w.byOperation.get("sqs:ReceiveMessageCommand") ?? 0;
  const deletes = w.byOperation.get("sqs:DeleteMessageCommand") ?? 0;
  const idle = Math.max(0, receives - deletes);
  const byOperation: Record<string, number> = {};
  for (const [k, v] of r.byOperation) byOperation[`router ${k}`] = round(v / asks);
  for (const [k, v] of w.byOperation) byOperation[`worker ${k}`] = round((k === "sqs:ReceiveMessageCommand" ? v - idle : v) / asks);
  const dynamo = [...r.byOperation, ...w.byOperation].filter(([k]) => k.startsWith("dynamodb:")).reduce((s, [, v]) => s + v, 0);
  const router = r.total / asks;
  const worker = (w.total - idle) / asks;
  return { router: round(router), worker: round(worker), total: round(router + worker), dynamodb: round(dynamo / asks), byOperation };
}
