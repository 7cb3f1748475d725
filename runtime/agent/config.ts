/** What a worker process needs, in one environment variable (the ECS task definition sets the same). */
import { z } from "zod";
import { agentTypeSchema, formatIssues, providerSchema } from "../core/spec";

export const slotSchema = z.object({
  agentId: z.string(),
  slot: z.number().int().positive(),
  queueUrl: z.string(),
  dlqUrl: z.string().optional(),
});
export type SlotConfig = z.infer<typeof slotSchema>;

export const workerConfigSchema = z.object({
  stack: z.string(),
  tables: z.object({ threads: z.string(), replicas: z.string(), apiKeys: z.string(), apiState: z.string() }),
  endpoint: z.string(),
  team: z.string(),
  agentType: agentTypeSchema,
  /** The provider the worker really uses (locally the fallback may stand in for the declared one). */
  provider: providerSchema,
  maxConcurrency: z.number().int().min(1).default(1),
  availableDepth: z.number().int().min(1).default(3),
  overflowDepth: z.number().int().min(1).default(10),
  /**
   * Slots this worker may own. Locally the supervisor gives each process exactly one; on ECS every
   * task of a deployment gets all of the deployment's slots and claims a free one by lease.
   */
  slots: z.array(slotSchema).min(1),
  /** SQS long-poll wait: 20 s on AWS; 1 s locally (the emulator's long poll is coarse). */
  waitSeconds: z.number().int().min(0).max(20).default(20),
  /**
   * Most asks one receive takes, up to the replica's free answer slots: 10 on AWS (set by the
   * stack); 1 by default, for the local emulator, which holds a receive of more than one for the
   * whole wait.
   */
  receiveBatch: z.number().int().min(1).max(10).default(1),
  heartbeatMs: z.number().int().positive().default(5_000),
  /** A lease not renewed for this long may be taken over (3 missed heartbeats by default). */
  leaseMs: z.number().int().positive().default(15_000),
  /** Replicas with an older heartbeat get no asks handed back by a draining worker. */
  heartbeatStaleMs: z.number().int().positive().default(15_000),
  visibilityTimeoutSeconds: z.number().int().min(1).max(43_200).default(60),
  maxReceiveCount: z.number().int().min(1).default(5),
  /** Longest a stop waits for answers in hand and a drain hands queued asks back (ECS stopTimeout caps it at 120 s). */
  drainTimeoutMs: z.number().int().positive().default(110_000),
  /** Webhook receivers on http:// or private addresses are allowed (the local pool only). */
  allowInsecureWebhooks: z.boolean().default(false),
  /** An owner known to be dead whose lease may be taken at once (set by the local supervisor on restart). */
  takeoverFrom: z.string().optional(),
  aws: z
    .object({ region: z.string().optional(), dynamodbEndpoint: z.string().optional(), sqsEndpoint: z.string().optional() })
    .default({}),
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;
export const WORKER_CONFIG_ENV = "AGENTPOOL_WORKER_CONFIG";

export function workerConfigFromEnv(env: NodeJS.ProcessEnv): WorkerConfig {
  const raw = env[WORKER_CONFIG_ENV];
  if (!raw) throw new Error(`${WORKER_CONFIG_ENV} is not set`);
  const parsed = workerConfigSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`${WORKER_CONFIG_ENV} is invalid: ${formatIssues(parsed.error).join("; ")}`);
  return parsed.data;
}
