/**
 * The public API in one process on the emulators: a router (with a controllable clock and an
 * injected DNS resolver) in front of one real AgentWorker whose provider the test scripts, plus
 * API keys made the way `agentpool keys create` makes them.
 */
import { createRouter, type Router } from "../../runtime/router/app";
import { routerConfigSchema } from "../../runtime/router/config";
import { buildWorker } from "../../runtime/agent/build";
import { workerConfigSchema } from "../../runtime/agent/config";
import type { AgentWorker } from "../../runtime/agent/worker";
import { ThreadStore } from "../../runtime/aws/thread-store";
import { ReplicaRegistry } from "../../runtime/aws/replica-registry";
import { ApiKeyStore } from "../../runtime/aws/api-key-store";
import { ensureReplicaQueue } from "../../runtime/aws/queues";
import { createApiKey, type CreateApiKeyInput } from "../../runtime/aws/api-keys";
import { CallbackStore } from "../../runtime/aws/callback-store";
import { WebhookDelivery } from "../../runtime/webhooks";
import type { Resolver } from "../../runtime/webhooks/ssrf";
import type { CompletionRequest, LlmProvider } from "../../runtime/llm";
import type { HttpResponse } from "../../runtime/router/http";
import { startEmulatedAws, type EmulatedAws } from "../helpers/emulated-aws";

export const ENDPOINT = "ep";
export const AGENT = "api-agent-1";

/** Records what the model was given; answers after `delayMs`. */
export class ScriptedProvider implements LlmProvider {
  readonly name = "scripted";
  readonly kind = "simulator" as const;
  calls = 0;
  delayMs = 0;
  requests: CompletionRequest[] = [];
  async complete(req: CompletionRequest): Promise<string> {
    this.calls += 1;
    this.requests.push(req);
    await new Promise((r) => setTimeout(r, this.delayMs));
    return `answer ${this.calls}`;
  }
}

/** A clock the test moves: real time plus an offset, so waits inside the router still end. */
export class TestClock {
  offsetMs = 0;
  readonly now = () => Date.now() + this.offsetMs;
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** Test DNS: names map to the addresses the test says; anything else does not resolve. */
export function fakeResolver(table: Record<string, string[]>): Resolver {
  return async (host) => {
    const addresses = table[host];
    if (!addresses) throw new Error(`ENOTFOUND ${host}`);
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
}

export interface Harness {
  aws: EmulatedAws;
  clock: TestClock;
  provider: ScriptedProvider;
  keys: ApiKeyStore;
  threads: ThreadStore;
  registry: ReplicaRegistry;
  callbacks: CallbackStore;
  router(overrides?: Record<string, unknown>, resolver?: Resolver): Router;
  startWorker(options?: { webhookSleep?: (ms: number) => Promise<void>; systemPrompt?: string }): Promise<AgentWorker>;
  deliveries: WebhookDelivery[];
  newKey(input?: Partial<CreateApiKeyInput>): Promise<{ apiKey: string; webhookSecret: string; prefix: string; owner: string }>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const aws = await startEmulatedAws();
  const clock = new TestClock();
  const provider = new ScriptedProvider();
  const keys = new ApiKeyStore(aws.clients, aws.tables.apiKeys);
  const threads = new ThreadStore(aws.clients, aws.tables.threads);
  const registry = new ReplicaRegistry(aws.clients, aws.tables.replicas);
  const apiState = aws.tables.apiState;
  const callbacks = new CallbackStore(aws.clients, apiState);
  const { queueUrl } = await ensureReplicaQueue(aws.clients, `${aws.tables.threads}-q`, `${aws.tables.threads}-dlq`, {
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 5,
  });
  const workers: AgentWorker[] = [];
  const deliveries: WebhookDelivery[] = [];

  return {
    aws,
    clock,
    provider,
    keys,
    threads,
    registry,
    callbacks,
    deliveries,
    router(overrides = {}, resolver) {
      const config = routerConfigSchema.parse({
        stack: "api",
        tables: { ...aws.tables, apiState },
        endpoints: [ENDPOINT],
        deadlineMs: 5_000,
        // The test clock runs ahead of the worker's heartbeats.
        heartbeatStaleMs: 7 * 24 * 3_600_000,
        ...overrides,
      });
      return createRouter(config, { clients: aws.clients, now: clock.now, resolve: resolver ?? fakeResolver({}) });
    },
    async startWorker(options = {}) {
      const config = workerConfigSchema.parse({
        stack: "api",
        tables: aws.tables,
        endpoint: ENDPOINT,
        team: "api",
        agentType: {
          name: "A",
          slug: "agent",
          endpointSlug: ENDPOINT,
          systemPrompt: options.systemPrompt ?? "You help {{COMPANY_NAME}}.",
          provider: "scripted",
          model: "m",
        },
        provider: { name: "scripted", kind: "simulator" },
        slots: [{ agentId: AGENT, slot: 1, queueUrl }],
        availableDepth: 50,
        overflowDepth: 100,
        maxConcurrency: 4,
        waitSeconds: 1,
        heartbeatMs: 60_000,
        visibilityTimeoutSeconds: 5,
      });
      const delivery = new WebhookDelivery({
        callbacks,
        keys,
        allowInsecureLocal: true,
        retry: { attempts: 4, baseDelayMs: 20 },
        timeoutMs: 2_000,
        now: Date.now,
        sleep: options.webhookSleep,
        log: () => undefined,
      });
      deliveries.push(delivery);
      const worker = buildWorker(config, aws.clients, { owner: `test-${workers.length}`, provider, log: () => undefined, afterAnswer: delivery.afterAnswer });
      await worker.start();
      workers.push(worker);
      return worker;
    },
    async newKey(input = {}) {
      const created = await createApiKey(keys, { name: "test", ...input }, Date.now());
      return { apiKey: created.apiKey, webhookSecret: created.webhookSecret, prefix: created.key.prefix, owner: created.key.owner };
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop("finish")));
      await Promise.all(deliveries.map((d) => d.idle()));
      await aws.close();
    },
  };
}

export interface Call {
  method?: string;
  path: string;
  key?: string;
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

export async function call(router: Router, c: Call): Promise<HttpResponse & { json: any }> {
  const headers: Record<string, string> = { ...(c.key ? { "x-api-key": c.key } : {}), ...lower(c.headers ?? {}) };
  const res = await router.handle({
    method: c.method ?? (c.body === undefined ? "GET" : "POST"),
    path: c.path,
    headers,
    body: c.body === undefined ? undefined : typeof c.body === "string" ? c.body : JSON.stringify(c.body),
    requestId: "test",
    query: c.query,
  });
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  return { ...res, json };
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

export const eventually = async (check: () => Promise<boolean>, ms = 5_000): Promise<void> => {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not reached in time");
};
