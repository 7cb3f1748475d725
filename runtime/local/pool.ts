/**
 * The embedded local pool: the DynamoDB and SQS emulators, the stack's tables and queues, one
 * worker process per replica (the supervisor plays ECS), a gateway in front of the same router
 * handler as the Lambda, and admin routes to scale deployments while it runs.
 */
import { join } from "node:path";
import { tmpdir } from "node:os";
import { rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type { PoolSpec, ProviderSpec } from "../core/spec";
import { resolveDeployments, tableNames, queueName, deadLetterQueueName, replicaName, type ResolvedDeployment, type TableNames } from "../core/naming";
import { generateApiKey, generateWebhookSecret, hashApiKey, isWellFormedApiKey, visiblePrefix } from "../core/keys";
import { createAwsClients, destroyAwsClients, type AwsClients, type AwsEndpoints } from "../aws/clients";
import { ensureTables } from "../aws/tables";
import { ensureReplicaQueue, type QueueSettings } from "../aws/queues";
import { ReplicaRegistry } from "../aws/replica-registry";
import { ApiKeyStore } from "../aws/api-key-store";
import { routerApiSettings, routerConfigSchema } from "../router/config";
import { createRouter } from "../router/app";
import { lambdaHandler } from "../router/lambda";
import { effectiveProvider } from "../llm";
import { workerConfigSchema, type WorkerConfig } from "../agent/config";
import { startEmulators } from "./emulators";
import { startGateway, type Gateway } from "./gateway";
import { Supervisor, type SupervisorEvent } from "./supervisor";
import { bundleWorker } from "./worker-bundle";
import { adminHandler, type AdminOperations, type DeploymentStatus } from "./admin";
import { PoolMonitor } from "./monitor";
import { dashboardRoutes } from "./dashboard";

/** Every local ask belongs to this owner, so threads survive restarts and key rotation. */
export const LOCAL_OWNER = "local-dev";
const DEV_KEY_NAME = "local dev key";

/**
 * Local timings: a crashed worker's asks come back within seconds (visibility 5 s, extended while
 * answering; the supervisor restarts the process and it takes over the dead one's lease at once).
 * Health tolerates 10 s without a heartbeat: everything shares one machine here, and a busy
 * DynamoDB emulator can hold a heartbeat write for seconds under a burst.
 */
const LOCAL = {
  heartbeatMs: 1_000,
  staleMs: 10_000,
  leaseMs: 10_000,
  waitSeconds: 1,
  queue: { visibilityTimeoutSeconds: 5, maxReceiveCount: 5 } satisfies QueueSettings,
};

export interface LocalPoolOptions {
  stack: string;
  spec: PoolSpec;
  port: number;
  /** DynamoDB data lives here; undefined keeps everything in memory. */
  dataDir?: string;
  /** Fixed dev key (AGENTPOOL_API_KEY); one is generated otherwise. */
  apiKey?: string;
  env?: NodeJS.ProcessEnv;
  verbose?: boolean;
  onProgress?: (message: string) => void;
  onLog?: (line: string) => void;
  onEvent?: (event: SupervisorEvent) => void;
}

export interface LocalAgent {
  agentId: string;
  deployment: string;
  endpoint: string;
  provider: string;
  providerKind: string;
  /** True when the declared provider had no key and the stack's fallback answers instead. */
  fellBack: boolean;
}

export interface LocalPool extends AdminOperations {
  url: string;
  apiKey: string;
  /** Signs the dev key's webhook deliveries (X-Webhook-Signature). */
  webhookSecret: string;
  /** Guards the admin routes (scale). */
  adminKey: string;
  /** Lets the dashboard page (and only it: it is written into the page) read status and ask. */
  dashboardToken: string;
  agents(): LocalAgent[];
  endpoints: string[];
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  workerPids(): Record<string, number | undefined>;
  stop(): Promise<void>;
}

interface DeploymentState {
  resolved: ResolvedDeployment;
  provider: ProviderSpec;
  fellBack: boolean;
  /** Slot numbers with a worker that is not draining. */
  active: number[];
}

export async function startLocalPool(options: LocalPoolOptions): Promise<LocalPool> {
  const env = options.env ?? process.env;
  const progress = options.onProgress ?? (() => undefined);
  if (options.apiKey !== undefined && !isWellFormedApiKey(options.apiKey)) {
    throw new Error("AGENTPOOL_API_KEY must be cust_ followed by 16 to 128 letters, digits, _ or -");
  }
  // Fail before starting anything if an agent type has no usable provider.
  const deployments = resolveDeployments(options.spec, options.stack).map((resolved) => ({
    resolved,
    ...effectiveProvider(options.spec, resolved.agentType.provider, env),
    active: [] as number[],
  }));

  progress("starting DynamoDB and SQS emulators");
  const emulators = await startEmulators({ dataDir: options.dataDir && join(options.dataDir, "dynamodb") });
  const aws: AwsEndpoints = { dynamodbEndpoint: emulators.dynamodbEndpoint, sqsEndpoint: emulators.sqsEndpoint };
  const clients = createAwsClients(aws);
  progress("bundling the agent worker");
  const workerEntry = bundleWorker(join(tmpdir(), "agentpool"));
  const supervisor = new Supervisor({
    workerEntry,
    logLevel: options.verbose ? "info" : "warn",
    onLog: options.onLog ?? ((line) => process.stderr.write(line + "\n")),
    onEvent: options.onEvent,
  });
  let gateway: Gateway | undefined;
  let monitor: PoolMonitor | undefined;
  const draining = new Set<Promise<void>>();

  const stop = async () => {
    monitor?.stop();
    await gateway?.close();
    await supervisor.stopAll(30_000);
    await Promise.allSettled(draining);
    destroyAwsClients(clients);
    await emulators.close();
    rmSync(workerEntry, { force: true });
  };

  try {
    const tables = tableNames(options.stack);
    progress("creating tables");
    await ensureTables(clients, tables);
    const registry = new ReplicaRegistry(clients, tables.replicas);

    // SQS lives in memory: queues are new at every start, so no replica holds work from before.
    const declared = new Set(deployments.flatMap((d) => d.resolved.replicas.map((r) => r.agentId)));
    for (const row of await registry.listAll()) if (!declared.has(row.agentId)) await registry.remove(row.endpoint, row.agentId);

    const slots = new SlotFactory(options.stack, clients, tables, aws, registry);
    const replicaCount = deployments.reduce((n, d) => n + d.resolved.deployment.desiredReplicas, 0);
    progress(`creating ${replicaCount} replica queues`);
    const initial: { d: DeploymentState; n: number; config: WorkerConfig }[] = [];
    for (const d of deployments) {
      for (let n = 1; n <= d.resolved.deployment.desiredReplicas; n++) initial.push({ d, n, config: await slots.prepare(d, n) });
    }

    const apiKey = options.apiKey ?? generateApiKey();
    const webhookSecret = generateWebhookSecret();
    await installDevKey(new ApiKeyStore(clients, tables.apiKeys), apiKey, webhookSecret);
    const adminKey = `adm_${randomBytes(24).toString("base64url")}`;

    const endpoints = [...new Set(options.spec.agentTypes.map((a) => a.endpointSlug))];
    const routerConfig = routerConfigSchema.parse({
      stack: options.stack,
      tables,
      endpoints,
      deadlineMs: options.spec.router.deadlineMs,
      heartbeatStaleMs: LOCAL.staleMs,
      aws,
      // Admin routes for `agentpool keys`, per-deployment rate limits, http:// webhooks to this machine.
      ...routerApiSettings(options.spec, { adminKey }),
    });

    const byKey = new Map(deployments.map((d) => [d.resolved.key, d]));
    const log = options.onLog ?? ((line: string) => process.stderr.write(line + "\n"));
    monitor = new PoolMonitor({
      stack: options.stack,
      registry,
      heartbeatStaleMs: LOCAL.staleMs,
      workerMetrics: () => supervisor.metricsSnapshots(),
      webhookUrl: options.spec.local.alertWebhookUrl,
      deployments: deployments.map((d) => ({
        key: d.resolved.key,
        team: d.resolved.team.slug,
        teamName: d.resolved.team.name,
        agentType: d.resolved.agentType.slug,
        endpoint: d.resolved.agentType.endpointSlug,
        desired: () => d.active.length,
        pids: () => supervisor.pids(),
        alerts: d.resolved.deployment.alerts,
        trafficWeight: d.resolved.deployment.trafficWeight,
      })),
      // Warnings (alerts firing and clearing) always; one line per request only with --verbose.
      log: (entry) => {
        if (entry.level !== "info" || options.verbose) log(JSON.stringify({ time: new Date().toISOString(), source: "pool", ...entry }));
      },
    });
    const watch = monitor;
    const ops: AdminOperations = {
      status: () => watch.status(),
      alerts: async () => watch.alerts(),
      deployments: (): DeploymentStatus[] =>
        deployments.map((d) => {
          const pids = supervisor.pids();
          const replicas = d.active.map((n) => agentIdOf(d, n)).map((id) => ({ agent_id: id, pid: pids[id] }));
          return { deployment: d.resolved.key, desired: d.active.length, replicas };
        }),
      scale: async (key, to) => {
        const d = byKey.get(key)!;
        const from = d.active.length;
        const started: string[] = [];
        const drained: string[] = [];
        const configs: WorkerConfig[] = [];
        for (let n = from + 1; n <= to; n++) {
          configs.push(await slots.prepare(d, n));
          d.active.push(n);
          started.push(agentIdOf(d, n));
        }
        await Promise.all(configs.map((config) => supervisor.start(config)));
        // Highest-numbered replicas drain first; the caller does not wait for the drain to end.
        while (d.active.length > to) {
          const n = d.active.pop()!;
          const agentId = agentIdOf(d, n);
          drained.push(agentId);
          const done = supervisor
            .stop(agentId, "SIGTERM", d.resolved.deployment.drainTimeoutSeconds * 1000 + 10_000)
            .then(() => registry.remove(d.resolved.agentType.endpointSlug, agentId))
            .catch(() => undefined)
            .finally(() => draining.delete(done));
          draining.add(done);
        }
        return { deployment: key, from, to, started, draining: drained };
      },
    };

    const dashboardToken = `dash_${randomBytes(24).toString("base64url")}`;
    const dashboard = dashboardRoutes({ token: dashboardToken, devKey: apiKey });
    gateway = await startGateway(lambdaHandler(() => createRouter(routerConfig)), options.port, "127.0.0.1", adminHandler(adminKey, ops, dashboardToken), {
      serve: async (req) => {
        if (req.path !== "/metrics") return dashboard(req);
        const { contentType, body } = await watch.prometheus();
        return { status: 200, headers: { "content-type": contentType, "cache-control": "no-store" }, body };
      },
      observe: (o) => watch.observe(o),
    });
    monitor.start();

    progress(`starting ${initial.length} agents`);
    for (const { d, n } of initial) d.active.push(n);
    await Promise.all(initial.map(({ config }) => supervisor.start(config)));

    return {
      url: gateway.url,
      apiKey,
      webhookSecret,
      adminKey,
      dashboardToken,
      endpoints,
      dynamodbEndpoint: emulators.dynamodbEndpoint,
      sqsEndpoint: emulators.sqsEndpoint,
      agents: () =>
        deployments.flatMap((d) =>
          d.active.map((n) => ({
            agentId: agentIdOf(d, n),
            deployment: d.resolved.key,
            endpoint: d.resolved.agentType.endpointSlug,
            provider: d.provider.name,
            providerKind: d.provider.kind,
            fellBack: d.fellBack,
          })),
        ),
      workerPids: () => supervisor.pids(),
      ...ops,
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

const agentIdOf = (d: DeploymentState, n: number) => replicaName(d.resolved.team.slug, d.resolved.agentType.slug, n);

/** Creates a slot's queues and fresh registry row, and the configuration of its worker. */
class SlotFactory {
  constructor(
    private readonly stack: string,
    private readonly clients: AwsClients,
    private readonly tables: TableNames,
    private readonly aws: AwsEndpoints,
    private readonly registry: ReplicaRegistry,
  ) {}

  async prepare(d: DeploymentState, n: number): Promise<WorkerConfig> {
    const { team, agentType, deployment, key } = d.resolved;
    const agentId = agentIdOf(d, n);
    const { queueUrl, dlqUrl } = await ensureReplicaQueue(this.clients, queueName(this.stack, agentId), deadLetterQueueName(this.stack, agentId), LOCAL.queue);
    await this.registry.put({
      endpoint: agentType.endpointSlug,
      agentId,
      deployment: key,
      team: team.slug,
      agentType: agentType.slug,
      slot: n,
      state: "starting",
      depth: 0,
      heartbeatAt: 0,
      queueUrl,
      availableDepth: deployment.availableDepth,
      overflowDepth: deployment.overflowDepth,
    });
    return workerConfigSchema.parse({
      stack: this.stack,
      tables: this.tables,
      endpoint: agentType.endpointSlug,
      team: team.slug,
      agentType,
      provider: d.provider,
      maxConcurrency: deployment.maxConcurrency,
      availableDepth: deployment.availableDepth,
      overflowDepth: deployment.overflowDepth,
      slots: [{ agentId, slot: n, queueUrl, dlqUrl }],
      waitSeconds: LOCAL.waitSeconds,
      heartbeatMs: LOCAL.heartbeatMs,
      leaseMs: LOCAL.leaseMs,
      heartbeatStaleMs: LOCAL.staleMs,
      visibilityTimeoutSeconds: LOCAL.queue.visibilityTimeoutSeconds,
      maxReceiveCount: LOCAL.queue.maxReceiveCount,
      drainTimeoutMs: deployment.drainTimeoutSeconds * 1000,
      allowInsecureWebhooks: true,
      aws: this.aws,
    });
  }
}

/**
 * The dev key's own limit: the operator's key on their machine, meant for trying load, so not the
 * 60 asks/min a created key gets by default (`agentpool keys create --rate-limit` sets those).
 */
const DEV_KEY_RATE_LIMIT_PER_MINUTE = 6_000;

/** Stores the dev key (hashed, with a fresh webhook secret) and revokes dev keys of earlier runs. */
async function installDevKey(store: ApiKeyStore, apiKey: string, webhookSecret: string): Promise<void> {
  const keyHash = hashApiKey(apiKey);
  const now = Date.now();
  for (const old of await store.list()) {
    if (old.name === DEV_KEY_NAME && old.keyHash !== keyHash && old.revokedAt === undefined) await store.revoke(old.keyHash, now);
  }
  await store.put({
    keyHash,
    prefix: visiblePrefix(apiKey),
    name: DEV_KEY_NAME,
    owner: LOCAL_OWNER,
    createdAt: now,
    rateLimitPerMinute: DEV_KEY_RATE_LIMIT_PER_MINUTE,
    webhookSecret,
  });
}
