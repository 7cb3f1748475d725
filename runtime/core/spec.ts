/**
 * The pool declaration of a stack: what `stacks/Pulumi.<stack>.yaml` holds under the `agentpool:`
 * config namespace. The local pool and the Pulumi program both validate it with this schema, so a
 * file that starts locally also deploys.
 */
import { z } from "zod";

const slug = z
  .string()
  .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, "must be lowercase letters, digits and single dashes (e.g. customer-support)")
  .max(40);

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name");

export const providerSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    name: slug,
    kind: z.literal("openai"),
    /** For OpenAI-compatible servers (vLLM, Ollama, Azure proxies...). */
    baseUrl: z.url().optional(),
    /** Locally: the environment variable that holds the key. On AWS: a Pulumi secret (issue 4). */
    apiKeyEnv: envName.default("OPENAI_API_KEY"),
    /** Per attempt. With the default retry, 2 × 12 s stays inside the router's default 25 s deadline. */
    timeoutMs: z.number().int().min(100).max(20_000).default(12_000),
    maxRetries: z.number().int().min(0).max(3).default(1),
  }),
  z.strictObject({
    name: slug,
    kind: z.literal("simulator"),
    /** How long the simulator takes to answer: a fixed time or a uniform range. */
    latencyMs: z.union([z.number().int().min(0), z.tuple([z.number().int().min(0), z.number().int().min(0)])]).default(300),
  }),
]);

export const agentTypeSchema = z.strictObject({
  name: z.string().min(1).max(100),
  slug,
  endpointSlug: slug,
  systemPrompt: z.string().min(1).max(20_000),
  provider: slug,
  model: z.string().min(1),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().optional(),
});

export const deploymentSchema = z.strictObject({
  agentType: slug,
  desiredReplicas: z.number().int().min(0).max(50),
  /** Answers one replica works on at once; 1 keeps "queue depth" meaning what the spec says. */
  maxConcurrency: z.number().int().min(1).max(16).default(1),
  /** Routing thresholds (DESIGN §3): new work prefers depth < available, overflow up to < overflow. */
  availableDepth: z.number().int().min(1).default(3),
  overflowDepth: z.number().int().min(1).default(10),
  /** Asks per minute each replica of this deployment takes (the router's default, 50, when absent). */
  rateLimitPerMinute: z.number().int().min(1).max(100_000).optional(),
  /**
   * A/B: this deployment's share of new threads among the deployments (of any team) that serve
   * the same endpoint, relative to theirs; absent = 1. 0 takes no new threads unless no other
   * deployment can; a thread always stays with the deployment that started it while it can answer.
   */
  trafficWeight: z.number().min(0).max(1_000).optional(),
  /** On scale-down, how long a replica may take to finish its answers and hand queued asks back. */
  drainTimeoutSeconds: z.number().int().min(1).max(3_600).default(120),
  /** Alert thresholds (issue 7); each absent one takes its default (runtime/core/alerts.ts). */
  alerts: z
    .strictObject({
      /** Fire when fewer replicas are healthy than desired for this long. */
      offlineForSeconds: z.number().int().min(0).max(86_400).optional(),
      /** Fire when the asks queued on the deployment's replicas (summed) exceed this. */
      queueDepth: z.number().int().min(0).optional(),
      /** Fire when this share of the last window's asks failed (0–1). */
      errorRate: z.number().min(0).max(1).optional(),
      /** Fire when the last window's p95 answer time exceeds this. */
      p95LatencyMs: z.number().int().min(1).optional(),
    })
    .optional(),
});

export const teamSchema = z.strictObject({
  name: z.string().min(1).max(100),
  slug,
  deployments: z.array(deploymentSchema).default([]),
});

export const routerSchema = z.strictObject({
  /** How long an ask waits for its answer; below API Gateway's 30 s integration limit. */
  deadlineMs: z.number().int().min(100).max(28_000).default(25_000),
});

export const localSchema = z.strictObject({
  /** Locally, an agent type whose provider has no key in the environment uses this provider. */
  fallbackProvider: slug.optional(),
  /** Alerts that fire or clear are POSTed here as JSON (best effort). */
  alertWebhookUrl: z.url().optional(),
});

export const poolSpecSchema = z
  .strictObject({
    providers: z.array(providerSchema).min(1),
    agentTypes: z.array(agentTypeSchema).min(1),
    teams: z.array(teamSchema).default([]),
    router: routerSchema.default({ deadlineMs: 25_000 }),
    local: localSchema.default({}),
  })
  .superRefine((spec, ctx) => {
    const providers = new Set<string>();
    spec.providers.forEach((p, i) => {
      if (providers.has(p.name)) ctx.addIssue({ code: "custom", path: ["providers", i, "name"], message: `duplicate provider "${p.name}"` });
      providers.add(p.name);
    });
    const agentTypes = new Set<string>();
    spec.agentTypes.forEach((a, i) => {
      if (agentTypes.has(a.slug)) ctx.addIssue({ code: "custom", path: ["agentTypes", i, "slug"], message: `duplicate agent type "${a.slug}"` });
      agentTypes.add(a.slug);
      if (!providers.has(a.provider)) ctx.addIssue({ code: "custom", path: ["agentTypes", i, "provider"], message: `unknown provider "${a.provider}"` });
    });
    if (spec.local.fallbackProvider && !providers.has(spec.local.fallbackProvider)) {
      ctx.addIssue({ code: "custom", path: ["local", "fallbackProvider"], message: `unknown provider "${spec.local.fallbackProvider}"` });
    }
    const endpointOf = new Map(spec.agentTypes.map((a) => [a.slug, a.endpointSlug]));
    /** Endpoint → the weights of the deployments serving it, with the path of each. */
    const served = new Map<string, { weight: number; path: (string | number)[] }[]>();
    const teams = new Set<string>();
    spec.teams.forEach((t, i) => {
      if (teams.has(t.slug)) ctx.addIssue({ code: "custom", path: ["teams", i, "slug"], message: `duplicate team "${t.slug}"` });
      teams.add(t.slug);
      const deployed = new Set<string>();
      t.deployments.forEach((d, j) => {
        const path = ["teams", i, "deployments", j];
        if (!agentTypes.has(d.agentType)) ctx.addIssue({ code: "custom", path: [...path, "agentType"], message: `unknown agent type "${d.agentType}"` });
        if (deployed.has(d.agentType)) ctx.addIssue({ code: "custom", path: [...path, "agentType"], message: `team "${t.slug}" already deploys "${d.agentType}"` });
        deployed.add(d.agentType);
        if (d.availableDepth > d.overflowDepth) ctx.addIssue({ code: "custom", path: [...path, "availableDepth"], message: "must not exceed overflowDepth" });
        const endpoint = endpointOf.get(d.agentType);
        if (endpoint !== undefined) served.set(endpoint, [...(served.get(endpoint) ?? []), { weight: d.trafficWeight ?? 1, path: [...path, "trafficWeight"] }]);
      });
    });
    for (const [endpoint, deployments] of served) {
      if (deployments.every((d) => d.weight === 0)) {
        ctx.addIssue({
          code: "custom",
          path: deployments[0]!.path,
          message: `every deployment serving "${endpoint}" has trafficWeight 0; give at least one a positive weight`,
        });
      }
    }
  });

export type ProviderSpec = z.infer<typeof providerSchema>;
export type AgentTypeSpec = z.infer<typeof agentTypeSchema>;
export type DeploymentSpec = z.infer<typeof deploymentSchema>;
export type TeamSpec = z.infer<typeof teamSchema>;
export type PoolSpec = z.infer<typeof poolSpecSchema>;

/** A spec that failed validation; `problems` are `path: message` lines a person can act on. */
export class SpecError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is not a valid agentpool stack:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SpecError";
  }
}

/** `["teams", 0, "deployments", 0, "agentType"]` → `teams[0].deployments[0].agentType`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    return out ? `${out}.${String(key)}` : String(key);
  }, "");
}

export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${formatPath(issue.path) || "(root)"}: ${issue.message}`);
}

/** Validates a raw declaration (already parsed from YAML) or throws a SpecError. */
export function parsePoolSpec(raw: unknown, source = "stack config"): PoolSpec {
  const result = poolSpecSchema.safeParse(raw);
  if (!result.success) throw new SpecError(source, formatIssues(result.error));
  return result.data;
}

/**
 * Turns Pulumi's flat config map (`agentpool:providers`, `agentpool:teams`, ...) into the raw
 * declaration. Keys of other namespaces (`aws:region`) are ignored.
 */
export function declarationFromConfig(config: Record<string, unknown>, namespace = "agentpool"): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const [ns, name] = key.split(":", 2);
    if (ns === namespace && name) out[name] = value;
  }
  return out;
}
