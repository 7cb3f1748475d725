/**
 * What the pool does when things break underneath it: DynamoDB and SQS unreachable for a while,
 * and asks that keep failing or cannot be read (dead-letter queue).
 */
import { createRouter } from "../../runtime/router/app";
import { routerConfigSchema } from "../../runtime/router/config";
import { buildWorker } from "../../runtime/agent/build";
import { workerConfigSchema } from "../../runtime/agent/config";
import { createAwsClients, destroyAwsClients } from "../../runtime/aws/clients";
import { ensureReplicaQueue, ReplicaQueue } from "../../runtime/aws/queues";
import { ReplicaRegistry } from "../../runtime/aws/replica-registry";
import { ApiKeyStore } from "../../runtime/aws/api-key-store";
import { ThreadStore } from "../../runtime/aws/thread-store";
import { hashApiKey } from "../../runtime/core/keys";
import { eventually } from "./api-harness";
import type { CompletionRequest, LlmProvider } from "../../runtime/llm";
import { startEmulatedAws, type EmulatedAws } from "../helpers/emulated-aws";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";

const KEY = "cust_faults_" + "f".repeat(24);
let aws: EmulatedAws;
let dynamoProxy: TcpProxy;
let sqsProxy: TcpProxy;

/** Answers after a short wait; `broken` makes it throw a programming error (not a provider error). */
class TestProvider implements LlmProvider {
  readonly name = "test";
  readonly kind = "simulator" as const;
  broken = false;
  calls = 0;
  /** Resolves when the first answer starts: the ask is then on the queue and in a worker's hands. */
  started: Promise<void>;
  private markStarted!: () => void;
  constructor() {
    this.started = new Promise((resolve) => (this.markStarted = resolve));
  }
  async complete(req: CompletionRequest): Promise<string> {
    this.calls += 1;
    this.markStarted();
    await new Promise((r) => setTimeout(r, 100));
    if (this.broken) throw new TypeError("cannot read properties of undefined");
    return `answer to ${req.messages.at(-1)?.content}`;
  }
}

beforeAll(async () => {
  aws = await startEmulatedAws();
  dynamoProxy = await startTcpProxy(aws.emulators.dynamodbEndpoint);
  sqsProxy = await startTcpProxy(aws.emulators.sqsEndpoint);
  await new ApiKeyStore(aws.clients, aws.tables.apiKeys).put({ keyHash: hashApiKey(KEY), prefix: "cust_fau", name: "t", owner: "o", createdAt: 1 });
});
afterAll(async () => {
  await dynamoProxy.close();
  await sqsProxy.close();
  await aws.close();
});

async function pool(endpoint: string, provider: LlmProvider, { maxReceiveCount = 5, deadlineMs = 8_000 } = {}) {
  const agentId = `faults-${endpoint}-1`;
  const { queueUrl, dlqUrl } = await ensureReplicaQueue(aws.clients, `${aws.tables.threads}-${endpoint}`, `${aws.tables.threads}-${endpoint}-dlq`, {
    visibilityTimeoutSeconds: 1,
    maxReceiveCount,
  });
  // Router and worker reach DynamoDB and SQS through the proxies, so the test can cut them off.
  const clients = createAwsClients({ dynamodbEndpoint: dynamoProxy.url, sqsEndpoint: sqsProxy.url });
  const config = workerConfigSchema.parse({
    stack: "it", tables: aws.tables, endpoint, team: "faults",
    agentType: { name: "A", slug: endpoint, endpointSlug: endpoint, systemPrompt: "You help.", provider: "test", model: "m" },
    provider: { name: "test", kind: "simulator" },
    slots: [{ agentId, slot: 1, queueUrl, dlqUrl }],
    waitSeconds: 1, heartbeatMs: 500, leaseMs: 30_000, heartbeatStaleMs: 30_000, visibilityTimeoutSeconds: 1, maxReceiveCount,
  });
  const worker = buildWorker(config, clients, { owner: `it-${endpoint}`, provider, log: () => undefined });
  await worker.start();
  const router = createRouter(routerConfigSchema.parse({ stack: "it", tables: aws.tables, endpoints: [endpoint], deadlineMs, heartbeatStaleMs: 30_000 }), { clients });
  const ask = async (content: string) => {
    const res = await router.handle({ method: "POST", path: `/api/v1/ask/${endpoint}`, headers: { "x-api-key": KEY }, body: JSON.stringify({ content }), requestId: "it" });
    return { status: res.status, body: JSON.parse(res.body) };
  };
  return {
    ask,
    agentId,
    dlq: new ReplicaQueue(aws.clients, dlqUrl),
    row: async () => (await new ReplicaRegistry(aws.clients, aws.tables.replicas).listEndpoint(endpoint))[0]!,
    stop: async () => {
      await worker.stop("finish");
      destroyAwsClients(clients);
    },
  };
}

test("with DynamoDB and SQS unreachable asks get 503 BACKEND_UNAVAILABLE, and the pool recovers by itself", async () => {
  const p = await pool("outage", new TestProvider());
  try {
    expect((await p.ask("before")).status).toBe(200);

    dynamoProxy.cut();
    sqsProxy.cut();
    const during = await p.ask("during");
    await new Promise((r) => setTimeout(r, 1_500));
    dynamoProxy.restore();
    sqsProxy.restore();
    const after = await p.ask("after");

    expect(during).toMatchObject({ status: 503, body: { error_code: "BACKEND_UNAVAILABLE" } });
    expect(after.status).toBe(200);
    expect(after.body.content).toBe("answer to after");
  } finally {
    dynamoProxy.restore();
    sqsProxy.restore();
    await p.stop();
  }
});

test("an ask in progress when the backend drops is still answered once it comes back", async () => {
  const provider = new TestProvider();
  const p = await pool("midway", provider);
  try {
    const pending = p.ask("survive this");
    await provider.started; // sent; the worker is answering
    dynamoProxy.cut();
    await new Promise((r) => setTimeout(r, 1_500));
    dynamoProxy.restore();
    const res = await pending;

    expect(res.status).toBe(200);
    expect(res.body.content).toBe("answer to survive this");
    const history = await new ThreadStore(aws.clients, aws.tables.threads).history(res.body.thread_id);
    expect(history.map((t) => t.content)).toEqual(["survive this", "answer to survive this"]);
  } finally {
    dynamoProxy.restore();
    await p.stop();
  }
});

test("an ask that keeps failing goes to the dead-letter queue after the receive limit, and its caller gets 502", async () => {
  const provider = new TestProvider();
  provider.broken = true;
  const p = await pool("poison", provider, { maxReceiveCount: 3 });
  try {
    const res = await p.ask("this breaks the agent");

    expect(res).toMatchObject({ status: 502, body: { error_code: "UPSTREAM_ERROR" } });
    expect(res.body.error).toContain("dead-letter queue");
    expect(provider.calls).toBe(3);
    const dead = await p.dlq.receive(1);
    expect(JSON.parse(dead!.Body!)).toMatchObject({ content: "this breaks the agent" });
    expect(await p.row()).toMatchObject({ deadLetters: 1, depth: 0 });
  } finally {
    await p.stop();
  }
});

test("a message nobody can read is moved to the dead-letter queue and counted, not dropped silently", async () => {
  const p = await pool("garbage", new TestProvider());
  try {
    const row = await p.row();
    await new ReplicaQueue(aws.clients, row.queueUrl).send("{not an ask");

    let dead;
    for (let i = 0; i < 10 && !dead; i++) dead = await p.dlq.receive(1);

    expect(dead?.Body).toBe("{not an ask");
    // Counted on the row right after the copy reaches the dead-letter queue.
    await eventually(async () => (await p.row()).deadLetters === 1);
  } finally {
    await p.stop();
  }
});
