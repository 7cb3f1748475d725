/**
 * The router's and the worker's configuration on AWS, built with the runtime's own schemas, so a
 * configuration the runtime would reject fails `pulumi preview` instead of a cold start.
 */
import { routerConfigSchema, type RouterConfig, type routerApiSettings } from "../../runtime/router/config";
import { workerConfigSchema, type SlotConfig, type WorkerConfig } from "../../runtime/agent/config";
import type { AgentTypeSpec, ProviderSpec } from "../../runtime/core/spec";
import type { TableNames } from "../../runtime/core/naming";

export { ROUTER_CONFIG_ENV } from "../../runtime/router/config";
export { WORKER_CONFIG_ENV } from "../../runtime/agent/config";

/** SQS long poll on AWS: the longest SQS allows, so idle workers cost one request per 20 s. */
export const AWS_WAIT_SECONDS = 20;
/** Asks one receive may take on AWS (SQS's most; a worker never takes more than its free answer slots). */
export const AWS_RECEIVE_BATCH = 10;

export function routerConfig(args: {
  pool: string;
  tables: TableNames;
  endpoints: string[];
  deadlineMs: number;
  heartbeatStaleMs?: number;
  /** Per-deployment rate limits and A/B routing from the spec (`routerApiSettings(spec)`). */
  apiSettings?: Pick<ReturnType<typeof routerApiSettings>, "rateLimits" | "routing">;
}): RouterConfig {
  // `aws` stays empty: in Lambda the SDK takes region and credentials from the environment.
  return routerConfigSchema.parse({
    stack: args.pool,
    tables: args.tables,
    endpoints: args.endpoints,
    deadlineMs: args.deadlineMs,
    ...(args.apiSettings ? { rateLimits: args.apiSettings.rateLimits, routing: args.apiSettings.routing } : {}),
    ...(args.heartbeatStaleMs !== undefined ? { heartbeatStaleMs: args.heartbeatStaleMs } : {}),
    aws: {},
  });
}

export interface WorkerConfigArgs {
  pool: string;
  tables: TableNames;
  team: string;
  agentType: AgentTypeSpec;
  provider: ProviderSpec;
  maxConcurrency: number;
  availableDepth: number;
  overflowDepth: number;
  /** Every slot of the deployment: on ECS each task claims a free one by lease. */
  slots: SlotConfig[];
  region: string;
  /** The replica queues' settings, so the worker extends visibility and counts receives as SQS does. */
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
}

export function workerConfig(args: WorkerConfigArgs): WorkerConfig {
  return workerConfigSchema.parse({
    stack: args.pool,
    tables: args.tables,
    endpoint: args.agentType.endpointSlug,
    team: args.team,
    agentType: args.agentType,
    provider: args.provider,
    maxConcurrency: args.maxConcurrency,
    availableDepth: args.availableDepth,
    overflowDepth: args.overflowDepth,
    slots: args.slots,
    waitSeconds: AWS_WAIT_SECONDS,
    receiveBatch: AWS_RECEIVE_BATCH,
    visibilityTimeoutSeconds: args.visibilityTimeoutSeconds,
    maxReceiveCount: args.maxReceiveCount,
    aws: { region: args.region },
  });
}
