/**
 * Router and agent worker in one process, on the emulators: what happens to an ask when answers
 * are late, providers fail, messages come twice, or the backend is gone.
 */
import { createRouter } from "../../runtime/router/app";
import { routerConfigSchema } from "../../runtime/router/config";
import { buildWorker } from "../../runtime/agent/build";
import { workerConfigSchema } from "../../runtime/agent/config";
import { ThreadStore } from "../../runtime/aws/thread-store";
import { ReplicaRegistry } from "../../runtime/aws/replica-registry";
import { ApiKeyStore } from "../../runtime/aws/api-key-store";
import { ensureReplicaQueue, ReplicaQueue } from "../../runtime/aws/queues";
import { createAwsClients } from "../../runtime/aws/clients";
import { hashApiKey } from "../../runtime/core/keys";
import { ProviderError, type CompletionRequest, type LlmProvider } from "../../runtime/llm";
import { freePort } from "../../runtime/local/emulators";
import { startEmulatedAws, type EmulatedAws } from "../helpers/emulated-aws";

const KEY = "cust_flow_" + "f".repeat(24);
const AGENT = "flow-agent-1";

/** A provider whose answers the test scripts: a delay, or a failure, and a count of calls. */
class ScriptedProvider implements LlmProvider {
  readonly name = "scripted";
  readonly kind = "simulator" as const;
  calls = 0;
  delayMs = 0;
  fail = false;
  async complete(req: CompletionRequest): Promise<string> {
    this.calls += 1;
    await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.fail) throw new ProviderError(this.name, "scripted failure", 500);
    return `answer ${this.calls} after ${req.messages.length - 2} earlier turns`;
  }
}

let aws: EmulatedAws;
let queue: ReplicaQueue;
let provider: ScriptedProvider;
let threads: ThreadStore;
let registry: ReplicaRegistry;

beforeAll(async () => {
  aws = await startEmulatedAws();
  const { queueUrl } = await ensureReplicaQueue(aws.clients, `${aws.tables.threads}-q`, `${aws.tables.threads}-dlq`, {
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 5,
  });
  queue = new ReplicaQueue(aws.clients, queueUrl);
  threads = new ThreadStore(aws.clients, aws.tables.threads);
  registry = new ReplicaRegistry(aws.clients, aws.tables.replicas);
  await new ApiKeyStore(aws.clients, aws.tables.apiKeys).put({ keyHash: hashApiKey(KEY), prefix: "cust_flow", name: "t", owner: "owner-1", createdAt: 1 });
});
afterAll(() => aws.close());

beforeEach(async () => {
  provider = new ScriptedProvider();
  await registry.put({
    endpoint: "ep",
    agentId: AGENT,
    deployment: "flow/agent",
    team: "flow",
    agentType: "agent",
    slot: 1,
    state: "running",
    depth: 0,
    heartbeatAt: Date.now() + 3_600_000,
    queueUrl: queue.url,
    availableDepth: 3,
    overflowDepth: 10,
  });
});

function router(deadlineMs = 2_000, clients = aws.clients) {
  const config = routerConfigSchema.parse({ stack: "it", tables: aws.tables, endpoints: ["ep"], deadlineMs });
  return createRouter(config, { clients });
}

function worker() {
  const config = workerConfigSchema.parse({
    stack: "it",
    tables: aws.tables,
    endpoint: "ep",
    team: "flow",
    agentType: { name: "A", slug: "agent", endpointSlug: "ep", systemPrompt: "You help.", provider: "scripted", model: "m" },
    provider: { name: "scripted", kind: "simulator" },
    slots: [{ agentId: AGENT, slot: 1, queueUrl: queue.url }],
    waitSeconds: 1,
    heartbeatMs: 60_000,
    visibilityTimeoutSeconds: 1,
  });
  return buildWorker(config, aws.clients, { owner: `test-${Math.random()}`, provider, log: () => undefined });
}

const ask = (r: ReturnType<typeof router>, body: unknown) =>
  r.handle({ method: "POST", path: "/api/v1/ask/ep", headers: { "x-api-key": KEY }, body: JSON.stringify(body), requestId: "it" });
const depth = async () => (await registry.listEndpoint("ep"))[0]!.depth;
const eventually = async (check: () => Promise<boolean>, ms = 5_000) => {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not reached in time");
};

test("a follow-up reads the thread's history; an ask answered by another replica than routed moves the affinity there", async () => {
  const w = worker();
  await w.start();
  try {
    const r = router();
    const first = JSON.parse((await ask(r, { content: "one" })).body);
    const second = JSON.parse((await ask(r, { content: "two", thread_id: first.thread_id })).body);
    expect(first.content).toBe("answer 1 after 0 earlier turns");
    expect(second.content).toBe("answer 2 after 2 earlier turns");
    expect((await threads.getMeta(first.thread_id))!.agentId).toBe(AGENT);

    // As after a hand-back: routed while the thread pointed at another replica, answered here.
    await threads.setAffinity(first.thread_id, "flow-agent-9", Date.now());
    const third = JSON.parse((await ask(r, { content: "three", thread_id: first.thread_id })).body);
    expect(third.agent_id).toBe(AGENT);
    expect((await threads.getMeta(first.thread_id))!.agentId).toBe(AGENT);
  } finally {
    await w.stop("finish");
  }
});

test("an async ask (nobody waits for it) is counted out by its worker as soon as its answer is stored", async () => {
  const w = worker();
  await w.start();
  try {
    await registry.tryAcquire("ep", AGENT, 10);
    const threadId = "th_counted_out_by_worker";
    await threads.createMeta({ threadId, owner: "owner-1", endpoint: "ep", createdAt: Date.now() });
    const now = Date.now();
    await queue.send(JSON.stringify({ v: 1, response_id: "rs_1", thread_id: threadId, owner: "owner-1", endpoint: "ep", agent_id: AGENT, content: "nobody waits", accepted_at: now, deadline_at: now + 2_000, callback_id: "cb_counted_out" }));

    await eventually(async () => (await threads.getReply(threadId, "rs_1"))?.status === "answered");
    await eventually(async () => (await depth()) === 0);
  } finally {
    await w.stop("finish");
  }
});

test("a late answer after a TIMEOUT is stored once in the thread, and the depth counter returns to 0", async () => {
  provider.delayMs = 800;
  const w = worker();
  await w.start();
  try {
    const res = await ask(router(300), { content: "slow question" });
    const body = JSON.parse(res.body);

    expect(res.status).toBe(504);
    expect(body.error_code).toBe("TIMEOUT");
    // The 504 names the thread before its first answer exists: a follow-up may use it at once.
    const followUp = await ask(router(300), { content: "still there?", thread_id: body.details.thread_id });
    expect(JSON.parse(followUp.body).error_code).not.toBe("THREAD_NOT_FOUND");
    // Its own turns, whenever the follow-up's land (SQS does not promise which is answered first).
    const own = async () => (await threads.history(body.details.thread_id)).filter((t) => t.responseId === body.details.response_id);
    await eventually(async () => (await own()).length === 2);
    expect((await own()).map((t) => t.content)).toEqual(["slow question", expect.stringMatching(/^answer \d after 0 earlier turns$/)]);
    await eventually(async () => (await depth()) === 0);
  } finally {
    await w.stop("finish");
  }
});

test("a provider failure answers 502 UPSTREAM_ERROR, stores no turns and leaves depth at 0", async () => {
  provider.fail = true;
  const w = worker();
  await w.start();
  try {
    const res = await ask(router(), { content: "will fail" });
    const body = JSON.parse(res.body);

    expect(res.status).toBe(502);
    expect(body.error_code).toBe("UPSTREAM_ERROR");
    expect(await threads.history(body.details.thread_id)).toEqual([]);
    expect(await depth()).toBe(0);
    provider.fail = false;
    const retry = await ask(router(), { content: "try again", thread_id: body.details.thread_id });
    expect([retry.status, JSON.parse(retry.body).thread_id]).toEqual([200, body.details.thread_id]);
    expect(await depth()).toBe(0);
  } finally {
    await w.stop("finish");
  }
});

test("a message delivered again after its worker died before deleting it is answered once, with no duplicate turns", async () => {
  const r = router(5_000);
  const w = worker();
  await w.claimSlot();
  const pending = ask(r, { content: "once please" });

  // First delivery: everything is written, then the "crash" (the delete fails: bad receipt).
  const first = await receiveSoon();
  await expect(w.handle({ ...first, ReceiptHandle: "not-a-receipt" })).rejects.toThrow();
  const res = await pending;
  // Second delivery, after the visibility timeout.
  const second = await receiveSoon();
  await w.handle(second);

  const body = JSON.parse(res.body);
  expect(res.status).toBe(200);
  expect(Number(second.Attributes?.ApproximateReceiveCount)).toBeGreaterThan(1);
  expect(provider.calls).toBe(1);
  expect((await threads.history(body.thread_id)).map((t) => t.content)).toEqual(["once please", body.content]);
  expect(await depth()).toBe(0);
  expect(await queue.receive(0)).toBeUndefined();
});

test("a router whose DynamoDB is unreachable answers 503 BACKEND_UNAVAILABLE, not a 500", async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const clients = createAwsClients({ dynamodbEndpoint: dead, sqsEndpoint: dead });

  const res = await ask(router(1_000, clients), { content: "anyone?" });

  expect(res.status).toBe(503);
  expect(JSON.parse(res.body).error_code).toBe("BACKEND_UNAVAILABLE");
  expect(res.headers["Retry-After"]).toBe("1");
});

async function receiveSoon() {
  for (let i = 0; i < 40; i++) {
    const m = await queue.receive(1);
    if (m) return m;
  }
  throw new Error("no message arrived");
}
