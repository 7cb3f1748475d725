/**
 * A/B on the emulators (issue 8): the router built from test/fixtures/Pulumi.ab.yaml, two
 * deployments of one team on /api/v1/ask/support (support-gpt4o weight 3, support-mini weight 1),
 * four in-process workers. New threads split 3:1; a follow-up stays with its thread's deployment
 * even when its agent stops, and moves to the other model only when its own has no agent left.
 * Then a full endpoint: 503 POOL_UNAVAILABLE whose Retry-After grows with depth × answer time.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { createRouter, type Router } from "../../runtime/router/app";
import { routerApiSettings, routerConfigSchema } from "../../runtime/router/config";
import { buildWorker } from "../../runtime/agent/build";
import { workerConfigSchema } from "../../runtime/agent/config";
import type { AgentWorker } from "../../runtime/agent/worker";
import { ensureReplicaQueue } from "../../runtime/aws/queues";
import { ReplicaRegistry } from "../../runtime/aws/replica-registry";
import { ApiKeyStore } from "../../runtime/aws/api-key-store";
import { ThreadStore } from "../../runtime/aws/thread-store";
import { hashApiKey } from "../../runtime/core/keys";
import { resolveDeployments } from "../../runtime/core/naming";
import { declarationFromConfig, parsePoolSpec, type PoolSpec } from "../../runtime/core/spec";
import type { CompletionRequest, LlmProvider } from "../../runtime/llm";
import { startEmulatedAws, type EmulatedAws } from "../helpers/emulated-aws";
import { seededRandom } from "../../runtime/core/seeded-random";

const KEY = "cust_ab_" + "a".repeat(24);
const GPT4O = "support-team/support-gpt4o";
const MINI = "support-team/support-mini";

/** Answers after `delayMs`, naming the model, so a reply says which deployment wrote it. */
class ModelProvider implements LlmProvider {
  readonly name = "test";
  readonly kind = "simulator" as const;
  constructor(
    private readonly model: string,
    public delayMs = 0,
  ) {}
  async complete(req: CompletionRequest): Promise<string> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    return `[${this.model}] after ${req.messages.length - 2} earlier turns`;
  }
}

let aws: EmulatedAws;
let registry: ReplicaRegistry;
let threads: ThreadStore;

beforeAll(async () => {
  aws = await startEmulatedAws();
  registry = new ReplicaRegistry(aws.clients, aws.tables.replicas);
  threads = new ThreadStore(aws.clients, aws.tables.threads);
  await new ApiKeyStore(aws.clients, aws.tables.apiKeys).put({
    keyHash: hashApiKey(KEY),
    prefix: "cust_ab_",
    name: "t",
    owner: "o",
    createdAt: 1,
    rateLimitPerMinute: 100_000,
  });
});
afterAll(() => aws.close());

/** One worker per replica slot of the spec's deployments, each on its own queue. */
async function startWorkers(spec: PoolSpec, delayMs = 0): Promise<Map<string, AgentWorker>> {
  const workers = new Map<string, AgentWorker>();
  for (const d of resolveDeployments(spec, "ab")) {
    for (const r of d.replicas) {
      const { queueUrl } = await ensureReplicaQueue(aws.clients, `${aws.tables.threads}-${r.agentId}`, `${aws.tables.threads}-${r.agentId}-dlq`, {
        visibilityTimeoutSeconds: 5,
        maxReceiveCount: 5,
      });
      const config = workerConfigSchema.parse({
        stack: "it",
        tables: aws.tables,
        endpoint: d.agentType.endpointSlug,
        team: d.team.slug,
        agentType: d.agentType,
        provider: { name: "test", kind: "simulator" },
        availableDepth: d.deployment.availableDepth,
        overflowDepth: d.deployment.overflowDepth,
        slots: [{ agentId: r.agentId, slot: r.slot, queueUrl }],
        waitSeconds: 1,
        heartbeatMs: 60_000,
        leaseMs: 120_000,
      });
      const worker = buildWorker(config, aws.clients, { owner: `it-${r.agentId}`, provider: new ModelProvider(d.agentType.model, delayMs), log: () => undefined });
      await worker.start();
      workers.set(r.agentId, worker);
    }
  }
  return workers;
}

function routerFor(spec: PoolSpec, seed: number): Router {
  const settings = routerApiSettings(spec);
  const config = routerConfigSchema.parse({
    stack: "it",
    tables: aws.tables,
    endpoints: [...new Set(spec.agentTypes.map((a) => a.endpointSlug))],
    deadlineMs: 10_000,
    ...settings,
    rateLimits: { ...settings.rateLimits, perAgentPerMinute: 100_000 },
  });
  return createRouter(config, { clients: aws.clients, random: seededRandom(seed) });
}

async function ask(router: Router, endpoint: string, body: Record<string, unknown>) {
  const res = await router.handle({ method: "POST", path: `/api/v1/ask/${endpoint}`, headers: { "x-api-key": KEY }, body: JSON.stringify(body), requestId: "it" });
  return { status: res.status, headers: res.headers ?? {}, body: JSON.parse(res.body) };
}

/** `support-team-support-mini-2` → `support-team/support-mini`. */
const deploymentOf = (agentId: string) => (agentId.startsWith("support-team-support-mini-") ? MINI : GPT4O);

describe("A/B deployments on one endpoint (Pulumi.ab.yaml: gpt-4o weight 3, mini weight 1)", () => {
  let spec: PoolSpec;
  let workers: Map<string, AgentWorker>;
  let router: Router;
  const started: { threadId: string; agentId: string }[] = [];

  beforeAll(async () => {
    const config = parse(readFileSync(join(__dirname, "..", "fixtures", "Pulumi.ab.yaml"), "utf8")).config;
    spec = parsePoolSpec(declarationFromConfig(config), "Pulumi.ab.yaml");
    workers = await startWorkers(spec);
    router = routerFor(spec, 8);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([...workers.values()].map((w) => w.stop("finish")));
  });

  test("splits 120 new threads about 3:1 between the two deployments, and each reply comes from its deployment's model", async () => {
    const n = 120;
    for (let i = 0; i < n; i += 8) {
      const batch = await Promise.all(Array.from({ length: 8 }, (_, j) => ask(router, "support", { content: `new thread ${i + j}` })));
      for (const res of batch) {
        expect(res.status).toBe(200);
        expect(res.body.content).toMatch(deploymentOf(res.body.agent_id) === MINI ? /^\[gpt-4o-mini\]/ : /^\[gpt-4o\]/);
        started.push({ threadId: res.body.thread_id, agentId: res.body.agent_id });
      }
    }

    const share = started.filter((s) => deploymentOf(s.agentId) === GPT4O).length / n;

    // 3:1 is a share of 0.75; ±0.12 is about three standard deviations of 120 draws.
    expect(share).toBeGreaterThan(0.63);
    expect(share).toBeLessThan(0.87);
    expect(new Set(started.map((s) => s.agentId)).size).toBe(4);
  }, 60_000);

  test("the thread remembers the deployment it started on", async () => {
    const { threadId, agentId } = started[0]!;

    const meta = await threads.getMeta(threadId);

    expect(meta).toMatchObject({ deployment: deploymentOf(agentId) });
  });

  test("follow-ups stay with their thread's deployment, on another agent of it when their agent stops", async () => {
    const stopped = "support-team-support-gpt4o-1";
    await workers.get(stopped)!.stop("finish");
    const sample = [...started.filter((s) => s.agentId === stopped).slice(0, 6), ...started.filter((s) => deploymentOf(s.agentId) === MINI).slice(0, 6)];

    const followUps = await Promise.all(sample.map((s) => ask(router, "support", { content: "and then?", thread_id: s.threadId })));

    followUps.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(deploymentOf(res.body.agent_id)).toBe(deploymentOf(sample[i]!.agentId));
      expect(res.body.content).toMatch(/after 2 earlier turns$/);
    });
    expect(followUps.filter((_, i) => sample[i]!.agentId === stopped).map((r) => r.body.agent_id)).toEqual(
      expect.arrayContaining(["support-team-support-gpt4o-2"]),
    );
    expect(followUps.map((r) => r.body.agent_id)).not.toContain(stopped);
  }, 30_000);

  test("a follow-up moves to the other model, rather than 503, only when its own deployment has no agent left", async () => {
    await workers.get("support-team-support-gpt4o-2")!.stop("finish");
    const thread = started.find((s) => deploymentOf(s.agentId) === GPT4O)!;

    const res = await ask(router, "support", { content: "still there?", thread_id: thread.threadId });

    expect(res.status).toBe(200);
    expect(deploymentOf(res.body.agent_id)).toBe(MINI);
    expect((await threads.getMeta(thread.threadId))?.deployment).toBe(GPT4O);
  }, 30_000);
});

describe("503 POOL_UNAVAILABLE says how long to wait", () => {
  /** One agent on its own endpoint that takes `overflowDepth` asks at a time and answers in `answerMs`. */
  async function fullPool(endpoint: string, overflowDepth: number, answerMs: number) {
    const raw = parse(readFileSync(join(__dirname, "..", "fixtures", "Pulumi.ab.yaml"), "utf8")).config;
    const decl = declarationFromConfig(raw) as any;
    decl.agentTypes = [{ ...decl.agentTypes[0], slug: endpoint, endpointSlug: endpoint }];
    decl.teams = [{ name: "Lab", slug: "lab", deployments: [{ agentType: endpoint, desiredReplicas: 1, availableDepth: 1, overflowDepth }] }];
    const spec = parsePoolSpec(decl, "test");
    const workers = await startWorkers(spec, answerMs);
    const router = routerFor(spec, 1);
    return { workers, router };
  }

  /** Three answers teach the router the answer time; then the agent is filled and one more ask is refused. */
  async function refusal(endpoint: string, overflowDepth: number, answerMs: number) {
    const { workers, router } = await fullPool(endpoint, overflowDepth, answerMs);
    try {
      for (let i = 0; i < 3; i++) expect((await ask(router, endpoint, { content: `warm ${i}` })).status).toBe(200);
      const filling = Array.from({ length: overflowDepth }, (_, i) => ask(router, endpoint, { content: `fill ${i}` }));
      await waitFor(async () => (await registry.listEndpoint(endpoint))[0]!.depth === overflowDepth);

      const refused = await ask(router, endpoint, { content: "one too many" });

      await Promise.all(filling);
      return refused;
    } finally {
      await Promise.all([...workers.values()].map((w) => w.stop("finish")));
    }
  }

  test("Retry-After and details.estimated_wait_seconds grow with depth × answer time", async () => {
    const short = await refusal("quick", 1, 300);
    const long = await refusal("slow", 3, 900);

    for (const res of [short, long]) {
      expect(res.status).toBe(503);
      expect(res.body.error_code).toBe("POOL_UNAVAILABLE");
      expect(Number(res.headers["Retry-After"])).toBe(res.body.details.retry_after_seconds);
      expect(res.body.error).toContain(`estimated wait ${res.body.details.estimated_wait_seconds} s`);
    }
    // depth 1 × ~0.3 s → about 0.3 s (Retry-After 1); depth 3 × ~0.9 s → about 2.7 s (Retry-After 3).
    expect(short.body.details.estimated_wait_seconds).toBeGreaterThanOrEqual(0.2);
    expect(short.body.details.estimated_wait_seconds).toBeLessThan(1);
    expect(long.body.details.estimated_wait_seconds).toBeGreaterThanOrEqual(2.4);
    expect(long.body.details.estimated_wait_seconds).toBeLessThan(4);
    expect(Number(short.headers["Retry-After"])).toBe(1);
    expect(Number(long.headers["Retry-After"])).toBeGreaterThanOrEqual(3);
    expect(Number(long.headers["Retry-After"])).toBeLessThanOrEqual(4);
  }, 60_000);
});

async function waitFor(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("condition not reached in time");
}
