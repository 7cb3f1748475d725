/** What a worker process needs, in one environment variable (an ECS task definition sets the same). */
import { z } from "zod";
import { agentTypeSchema, formatIssues, providerSchema } from "../core/spec";

export const workerConfigSchema = z.object({
  stack: z.string(),
  agentId: z.string(),
  endpoint: z.string(),
  queueUrl: z.string(),
  tables: z.object({ threads: z.string(), replicas: z.string(), apiKeys: z.string() }),
  agentType: agentTypeSchema,
  provider: providerSchema,
  maxConcurrency: z.number().int().min(1).default(1),
  waitSeconds: z.number().int().min(0).max(20).default(20),
  heartbeatMs: z.number().int().positive().default(5_000),
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
