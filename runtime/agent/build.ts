/** Assembles an AgentWorker from its configuration: one place for the process entry, tests and bench. */
import type { AwsClients } from "../aws/clients";
import { ThreadStore } from "../aws/thread-store";
import { ReplicaRegistry } from "../aws/replica-registry";
import { queueCache } from "../aws/queues";
import { Dispatcher } from "../router/dispatch";
import { createProvider, type LlmProvider } from "../llm";
import { AgentWorker, type WorkerDeps } from "./worker";
import type { WorkerConfig } from "./config";

export interface BuildOptions {
  owner: string;
  log: WorkerDeps["log"];
  /** Defaults to the configured provider, built from the environment. */
  provider?: LlmProvider;
  env?: NodeJS.ProcessEnv;
  afterAnswer?: WorkerDeps["afterAnswer"];
  onBusyChange?: WorkerDeps["onBusyChange"];
  observer?: WorkerDeps["observer"];
}

export function buildWorker(config: WorkerConfig, clients: AwsClients, options: BuildOptions): AgentWorker {
  const registry = new ReplicaRegistry(clients, config.tables.replicas);
  return new AgentWorker({
    slots: config.slots.map((s) => ({
      ...s,
      endpoint: config.endpoint,
      deployment: `${config.team}/${config.agentType.slug}`,
      team: config.team,
      agentType: config.agentType.slug,
      availableDepth: config.availableDepth,
      overflowDepth: config.overflowDepth,
    })),
    owner: options.owner,
    takeoverFrom: config.takeoverFrom,
    agentType: config.agentType,
    queueFor: queueCache(clients),
    threads: new ThreadStore(clients, config.tables.threads),
    registry,
    dispatcher: new Dispatcher({ registry, now: Date.now, random: Math.random, heartbeatStaleMs: config.heartbeatStaleMs }),
    provider: options.provider ?? createProvider(config.provider, options.env ?? process.env),
    now: Date.now,
    maxConcurrency: config.maxConcurrency,
    waitSeconds: config.waitSeconds,
    receiveBatch: config.receiveBatch,
    heartbeatMs: config.heartbeatMs,
    leaseMs: config.leaseMs,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    maxReceiveCount: config.maxReceiveCount,
    drainTimeoutMs: config.drainTimeoutMs,
    log: options.log,
    afterAnswer: options.afterAnswer,
    onBusyChange: options.onBusyChange,
    observer: options.observer,
  });
}
