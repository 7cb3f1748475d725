/**
 * What the router needs to know, passed in one environment variable so the Lambda (issue 4) and
 * the local gateway build the router from the same place.
 */
import { z } from "zod";
import { formatIssues } from "../core/spec";
import { hashApiKey } from "../core/keys";
import { DEFAULT_AGENT_LIMIT_PER_MINUTE, DEFAULT_KEY_LIMIT_PER_MINUTE } from "../core/rate-limit";

export const routerConfigSchema = z.object({
  stack: z.string(),
  tables: z.object({
    threads: z.string(),
    replicas: z.string(),
    apiKeys: z.string(),
    /** Rate-limit counts, idempotency records, webhook callbacks. */
    apiState: z.string(),
  }),
  /** Endpoint slugs this pool serves; replicas come from the registry. */
  endpoints: z.array(z.string()),
  deadlineMs: z.number().int().positive(),
  /** A replica whose heartbeat is older than this is unhealthy and gets no new asks. */
  heartbeatStaleMs: z.number().int().positive().default(15_000),
  /** Reply polling: first wait, growth factor, longest wait. */
  pollInitialMs: z.number().int().positive().default(10),
  pollMaxMs: z.number().int().positive().default(250),
  /**
   * How old this instance's copy of an endpoint's replica rows may be before an ask reads them
   * again. Its own count-ins and count-outs update the copy; a conditional count-in refused because
   * another router moved first returns the row as it is. 0: read on every ask.
   */
  registrySnapshotMs: z.number().int().min(0).default(200),
  /** How long a verified API key is trusted without a lookup (revocation takes at most this). */
  keyCacheMs: z.number().int().min(0).default(1_000),
  rateLimits: z
    .object({
      /** Asks per minute per key, unless the key sets its own. */
      perKeyPerMinute: z.number().int().min(1).default(DEFAULT_KEY_LIMIT_PER_MINUTE),
      /** Asks per minute per replica, unless its deployment sets its own. */
      perAgentPerMinute: z.number().int().min(1).default(DEFAULT_AGENT_LIMIT_PER_MINUTE),
      /** Deployment (`team/agent-type`) → asks per minute per replica (the spec's `rateLimitPerMinute`). */
      perDeployment: z.record(z.string(), z.number().int().min(1)).default({}),
    })
    .prefault({}),
  routing: z
    .object({
      /**
       * Deployment (`team/agent-type`) → its A/B share of new threads (the spec's `trafficWeight`,
       * absent = 1) and the answers each replica works on at once (for the 503's estimated wait).
       */
      perDeployment: z
        .record(z.string(), z.object({ trafficWeight: z.number().min(0).default(1), maxConcurrency: z.number().int().min(1).default(1) }))
        .default({}),
    })
    .prefault({}),
  webhooks: z
    .object({
      /**
       * Local stack only: webhook URLs may be http and resolve to private, loopback or link-local
       * addresses (a receiver on 127.0.0.1). Never set on AWS: it re-opens SSRF.
       */
      allowInsecureLocal: z.boolean().default(false),
      /** Per attempt of `POST /api/v1/webhook/test`. */
      timeoutMs: z.number().int().positive().default(5_000),
    })
    .prefault({}),
  admin: z
    .object({
      /** SHA-256 hashes of the X-Admin-Key values that may manage API keys (`/api/v1/admin/keys`); none: the routes do not exist. */
      keyHashes: z.array(z.string().regex(/^[0-9a-f]{64}$/)).default([]),
    })
    .prefault({}),
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

/**
 * The API settings a pool's router gets from its stack file: per-deployment agent rate limits, and
 * locally the admin key (key management) and http/private webhook receivers. One call for the
 * local pool and the Pulumi program, spread into the router config.
 */
export function routerApiSettings(
  spec: { teams: { slug: string; deployments: { agentType: string; rateLimitPerMinute?: number; trafficWeight?: number; maxConcurrency?: number }[] }[] },
  local?: { adminKey: string },
): {
  rateLimits: { perDeployment: Record<string, number> };
  routing: { perDeployment: Record<string, { trafficWeight: number; maxConcurrency: number }> };
  webhooks?: { allowInsecureLocal: boolean };
  admin?: { keyHashes: string[] };
} {
  const perDeployment: Record<string, number> = {};
  const routing: Record<string, { trafficWeight: number; maxConcurrency: number }> = {};
  for (const team of spec.teams) {
    for (const d of team.deployments) {
      const key = `${team.slug}/${d.agentType}`;
      if (d.rateLimitPerMinute !== undefined) perDeployment[key] = d.rateLimitPerMinute;
      routing[key] = { trafficWeight: d.trafficWeight ?? 1, maxConcurrency: d.maxConcurrency ?? 1 };
    }
  }
  return {
    rateLimits: { perDeployment },
    routing: { perDeployment: routing },
    ...(local ? { webhooks: { allowInsecureLocal: true }, admin: { keyHashes: [hashApiKey(local.adminKey)] } } : {}),
  };
}
