/**
 * What the router needs to know, passed in one environment variable so the Lambda (issue 4) and
 * the local gateway build the router from the same place.
 */
import { z } from "zod";
import { formatIssues } from "../core/spec";

export const routerConfigSchema = z.object({
  stack: z.string(),
  tables: z.object({ threads: z.string(), replicas: z.string(), apiKeys: z.string() }),
  /** Endpoint slugs this pool serves; replicas come from the registry. */
  endpoints: z.array(z.string()),
  deadlineMs: z.number().int().positive(),
  /** A replica whose heartbeat is older than this is unhealthy and gets no new asks. */
  heartbeatStaleMs: z.number().int().positive().default(15_000),
  /** Reply polling: first wait, growth factor, longest wait. */
  pollInitialMs: z.number().int().positive().default(10),
  pollMaxMs: z.number().int().positive().default(50),
  /** How long a verified API key is trusted without a lookup (revocation takes at most this). */
  keyCacheMs: z.number().int().min(0).default(1_000),
  aws: z
    .object({ region: z.string().optional(), dynamodbEndpoint: z.string().optional(), sqsEndpoint: z.string().optional() })
    .default({}),
});
export type RouterConfig = z.infer<typeof routerConfigSchema>;

export const ROUTER_CONFIG_ENV = "AGENTPOOL_ROUTER_CONFIG";

export function routerConfigFromEnv(env: NodeJS.ProcessEnv): RouterConfig {
  const raw = env[ROUTER_CONFIG_ENV];
  if (!raw) throw new Error(`${ROUTER_CONFIG_ENV} is not set`);
  const parsed = routerConfigSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`${ROUTER_CONFIG_ENV} is invalid: ${formatIssues(parsed.error).join("; ")}`);
  return parsed.data;
}
