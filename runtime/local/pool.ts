/**
 * The embedded local pool: the DynamoDB and SQS emulators, the stack's tables and queues, one
 * worker process per replica, and a gateway in front of the same router handler as the Lambda.
 */
import { join } from "node:path";
import type { PoolSpec } from "../core/spec";
import { resolveDeployments, tableNames, queueName, deadLetterQueueName } from "../core/naming";
import { generateApiKey, hashApiKey, isWellFormedApiKey, visiblePrefix } from "../core/keys";
import { createAwsClients, destroyAwsClients } from "../aws/clients";
import { ensureTables } from "../aws/tables";
import { ensureReplicaQueue } from "../aws/queues";
import { ReplicaRegistry } from "../aws/replica-registry";
import { ApiKeyStore } from "../aws/api-key-store";
import { routerConfigSchema } from "../router/config";
import { createRouter } from "../router/app";
import { lambdaHandler } from "../router/lambda";
import { effectiveProvider } from "../llm";
import type { WorkerConfig } from "../agent/config";
import { startEmulators } from "./emulators";
import { startGateway } from "./gateway";
import { Supervisor } from "./supervisor";

/** Every local ask belongs to this owner, so threads survive restarts and key rotation. */
export const LOCAL_OWNER = "local-dev";
const DEV_KEY_NAME = "local dev key";

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

export interface LocalPool {
  url: string;
  apiKey: string;
  agents: LocalAgent[];
  endpoints: string[];
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  workerPids(): Record<string, number | undefined>;
  stop(): Promise<void>;
}

export async function startLocalPool(options: LocalPoolOptions): Promise<LocalPool> {
  const env = options.env ?? process.env;
  const progress = options.onProgress ?? (() => undefined);
  if (options.apiKey !== undefined && !isWellFormedApiKey(options.apiKey)) {
    throw new Error("AGENTPOOL_API_KEY must be cust_ followed by 16 to 128 letters, digits, _ or -");
  }

  progress("starting DynamoDB and SQS emulators");
  const emulators = await startEmulators({ dataDir: options.dataDir && join(options.dataDir, "dynamodb") });
  const aws = { dynamodbEndpoint: emulators.dynamodbEndpoint, sqsEndpoint: emulators.sqsEndpoint };
  const clients = createAwsClients(aws);
  const supervisor = new Supervisor({
    logLevel: options.verbose ? "info" : "warn",
    onLog: options.onLog ?? ((line) => process.stderr.write(line + "\n")),
    stopTimeoutMs: 30_000,
  });
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;

  const stop = async () => {
    await gateway?.close();
    await supervisor.stopAll();
    destroyAwsClients(clients);
    await emulators.close();
  };

  try {
    const tables = tableNames(options.stack);
    progress("creating tables");
    await ensureTables(clients, tables);

    const registry = new ReplicaRegistry(clients, tables.replicas);
    const deployments = resolveDeployments(options.spec, options.stack);
    const replicas = deployments.flatMap((d) => d.replicas);
    // SQS lives in memory: queues are new at every start, so no replica holds work from before.
    const declared = new Set(replicas.map((r) => r.agentId));
    for (const row of await registry.listAll()) if (!declared.has(row.agentId)) await registry.remove(row.endpoint, row.agentId);

    progress(`creating ${replicas.length} replica queues`);
    const workers: WorkerConfig[] = [];
    const agents: LocalAgent[] = [];
    for (const r of replicas) {
      const { queueUrl } = await ensureReplicaQueue(clients, queueName(options.stack, r.agentId), deadLetterQueueName(options.stack, r.agentId));
      await registry.put({
        endpoint: r.agentType.endpointSlug,
        agentId: r.agentId,
        deployment: `${r.team.slug}/${r.agentType.slug}`,
        team: r.team.slug,
        agentType: r.agentType.slug,
        slot: r.slot,
        state: "starting",
        depth: 0,
        heartbeatAt: 0,
        queueUrl,
        availableDepth: r.deployment.availableDepth,
        overflowDepth: r.deployment.overflowDepth,
      });
      const { provider, fellBack } = effectiveProvider(options.spec, r.agentType.provider, env);
      workers.push({
        stack: options.stack,
        tables,
        endpoint: r.agentType.endpointSlug,
        team: r.team.slug,
        agentType: r.agentType,
        provider,
        maxConcurrency: r.deployment.maxConcurrency,
        availableDepth: r.deployment.availableDepth,
        overflowDepth: r.deployment.overflowDepth,
        slots: [{ agentId: r.agentId, slot: r.slot, queueUrl }],
        waitSeconds: 1,
        heartbeatMs: 2_000,
        aws,
      });
      agents.push({
        agentId: r.agentId,
        deployment: `${r.team.slug}/${r.agentType.slug}`,
        endpoint: r.agentType.endpointSlug,
        provider: provider.name,
        providerKind: provider.kind,
        fellBack,
      });
    }

    const apiKey = options.apiKey ?? generateApiKey();
    await installDevKey(new ApiKeyStore(clients, tables.apiKeys), apiKey);

    const endpoints = [...new Set(options.spec.agentTypes.map((a) => a.endpointSlug))];
    const routerConfig = routerConfigSchema.parse({
      stack: options.stack,
      tables,
      endpoints,
      deadlineMs: options.spec.router.deadlineMs,
      heartbeatStaleMs: 6_000,
      aws,
    });
    gateway = await startGateway(lambdaHandler(() => createRouter(routerConfig)), options.port);

    progress(`starting ${workers.length} agents`);
    await Promise.all(workers.map((w) => supervisor.start(w)));

    return {
      url: gateway.url,
      apiKey,
      agents,
      endpoints,
      ...aws,
      workerPids: () => supervisor.pids(),
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** Stores the dev key (hashed) and revokes dev keys of earlier runs. */
async function installDevKey(store: ApiKeyStore, apiKey: string): Promise<void> {
  const keyHash = hashApiKey(apiKey);
  const now = Date.now();
  for (const old of await store.list()) {
    if (old.name === DEV_KEY_NAME && old.keyHash !== keyHash && old.revokedAt === undefined) await store.revoke(old.keyHash, now);
  }
  await store.put({ keyHash, prefix: visiblePrefix(apiKey), name: DEV_KEY_NAME, owner: LOCAL_OWNER, createdAt: now });
}
