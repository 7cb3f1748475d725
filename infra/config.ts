/**
 * What the stack program reads from a stack's config:
 *
 *   agentpool:*     the pool declaration (providers, agentTypes, teams, router, local), validated
 *                   by the same schema as the local pool (runtime/core/spec.ts);
 *   agentpoolAws:*  AWS-only settings, kept in their own namespace so that the strict pool
 *                   schema (and `npm start`, which reads the same file) never sees them:
 *     providerKeys      secret map provider name → API key
 *                       (pulumi config set --secret --path 'agentpoolAws:providerKeys.openai' sk-...)
 *     bootstrapApiKey   secret `cust_...` client key whose hash is stored in the keys table
 *     workerImage       prebuilt worker image URI; skips the Docker build
 *     network           { subnetIds, securityGroupIds, assignPublicIp } to use an existing VPC
 *     vpcCidr, logRetentionDays, throttling { burstLimit, rateLimit }, routerMemoryMb,
 *     deletionProtection (tables), worker { cpu, memory } (Fargate task size)
 *     alerts            { email, queueDepth, errorRatePercent, p95LatencyMs, offlineMinutes,
 *                       deployments: { "team/agentType": { queueDepth, offlineMinutes } } }
 *                       CloudWatch alarm thresholds and the address the alert topic emails
 */
import { z } from "zod";
import { DEFAULT_ALERT_THRESHOLDS, MAX_OFFLINE_MINUTES } from "./lib/alarms";
import { declarationFromConfig, formatIssues, parsePoolSpec, SpecError, type PoolSpec } from "../runtime/core/spec";

export const POOL_NAMESPACE = "agentpool";
export const AWS_NAMESPACE = "agentpoolAws";

const offlineMinutes = z.number().int().min(1).max(MAX_OFFLINE_MINUTES);
const queueDepth = z.number().int().min(1);

/** `agentpoolAws:alerts` (docs/deploy.md, "Alerts and dashboard"). */
export const alertSettingsSchema = z.strictObject({
  /** One address or a list; each gets an SNS email subscription to confirm. */
  email: z.union([z.email(), z.array(z.email()).min(1)]).optional(),
  queueDepth: queueDepth.default(DEFAULT_ALERT_THRESHOLDS.queueDepth),
  errorRatePercent: z.number().gt(0).max(100).default(DEFAULT_ALERT_THRESHOLDS.errorRatePercent),
  p95LatencyMs: z.number().int().min(1).max(300_000).default(DEFAULT_ALERT_THRESHOLDS.p95LatencyMs),
  offlineMinutes: offlineMinutes.default(DEFAULT_ALERT_THRESHOLDS.offlineMinutes),
  /** `team/agentType` → thresholds of that deployment (error rate and latency are the API's, not a deployment's). */
  deployments: z.record(z.string(), z.strictObject({ queueDepth: queueDepth.optional(), offlineMinutes: offlineMinutes.optional() })).default({}),
});
export type AlertSettings = z.infer<typeof alertSettingsSchema>;

export const stackSettingsSchema = z.strictObject({
  providerKeys: z.record(z.string(), z.string().min(1)).default({}),
  bootstrapApiKey: z.string().optional(),
  workerImage: z.string().min(1).optional(),
  network: z
    .strictObject({
      subnetIds: z.array(z.string()).min(1),
      securityGroupIds: z.array(z.string()).min(1),
      assignPublicIp: z.boolean().default(false),
    })
    .optional(),
  vpcCidr: z.string().default("10.40.0.0/16"),
  logRetentionDays: z.number().int().positive().default(30),
  throttling: z.strictObject({ burstLimit: z.number().int().positive().default(200), rateLimit: z.number().positive().default(100) }).default({ burstLimit: 200, rateLimit: 100 }),
  routerMemoryMb: z.number().int().min(128).max(10_240).default(512),
  deletionProtection: z.boolean().default(false),
  worker: z.strictObject({ cpu: z.number().int(), memory: z.number().int() }).optional(),
  alerts: alertSettingsSchema.default(() => alertSettingsSchema.parse({})),
});
export type StackSettings = z.infer<typeof stackSettingsSchema>;

/** Keys whose values must have been set with `--secret`. */
export const SECRET_SETTINGS = ["providerKeys", "bootstrapApiKey"] as const;

/**
 * Pulumi hands structured config (lists, maps) to the program as JSON text and plain values as
 * text; numbers and booleans set with `pulumi config set` arrive as text too.
 */
export function parseConfigValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export interface StackConfig {
  spec: PoolSpec;
  settings: StackSettings;
}

/** Splits Pulumi's flat config (`ns:key` → text) into the pool spec and the AWS settings. */
export function readStackConfig(flat: Record<string, string>, source: string): StackConfig {
  const parsed = Object.fromEntries(Object.entries(flat).map(([k, v]) => [k, parseConfigValue(v)]));
  const spec = parsePoolSpec(declarationFromConfig(parsed, POOL_NAMESPACE), source);
  const result = stackSettingsSchema.safeParse(declarationFromConfig(parsed, AWS_NAMESPACE));
  if (!result.success) throw new SpecError(source, formatIssues(result.error).map((p) => `${AWS_NAMESPACE}:${p}`));
  return { spec, settings: result.data };
}

/** Providers whose key the AWS pool needs: kind openai, used by an agent type that a team deploys. */
export function providersNeedingKeys(spec: PoolSpec): string[] {
  const deployedTypes = new Set(spec.teams.flatMap((t) => t.deployments.map((d) => d.agentType)));
  const used = new Set(spec.agentTypes.filter((a) => deployedTypes.has(a.slug)).map((a) => a.provider));
  return spec.providers.filter((p) => p.kind === "openai" && used.has(p.name)).map((p) => p.name);
}

export function providerKeyCommand(provider: string): string {
  return `pulumi config set --secret --path '${AWS_NAMESPACE}:providerKeys.${provider}' <api key>`;
}

/** Throws one error naming every missing key and the command that sets it. */
export function checkProviderKeys(spec: PoolSpec, settings: StackSettings, source: string): void {
  const missing = providersNeedingKeys(spec).filter((name) => !settings.providerKeys[name]);
  if (missing.length > 0) {
    throw new SpecError(
      source,
      missing.map((name) => `provider "${name}" has no API key on AWS; set it with: ${providerKeyCommand(name)}`),
    );
  }
}

/** Secret settings given in plain text (`pulumi config set` without `--secret`). */
export function plaintextSecrets(flat: Record<string, string>, isSecret: (key: string) => boolean): string[] {
  return SECRET_SETTINGS.map((k) => `${AWS_NAMESPACE}:${k}`).filter((key) => key in flat && !isSecret(key));
}

/** The alert email setting as a list of addresses. */
export function alertEmails(alerts: AlertSettings): string[] {
  return alerts.email === undefined ? [] : [alerts.email].flat();
}

/** Per-deployment alert thresholds must name a deployment the stack declares. */
export function checkAlertSettings(spec: PoolSpec, settings: StackSettings, source: string): void {
  const declared = new Set(spec.teams.flatMap((t) => t.deployments.map((d) => `${t.slug}/${d.agentType}`)));
  const unknown = Object.keys(settings.alerts.deployments).filter((k) => !declared.has(k));
  if (unknown.length > 0) {
    throw new SpecError(
      source,
      unknown.map((k) => `${AWS_NAMESPACE}:alerts.deployments: "${k}" is not a deployment of this stack; use one of ${[...declared].map((d) => `"${d}"`).join(", ") || "(none)"}`),
    );
  }
}
