/**
 * The stack program: reads the stack's config (`stacks/Pulumi.<stack>.yaml`), validates the pool
 * declaration with the local pool's schema, and builds the pool from the components.
 */
import * as pulumi from "@pulumi/pulumi";
import { resolveDeployments } from "../runtime/core/naming";
import { SpecError } from "../runtime/core/spec";
import { routerApiSettings } from "../runtime/router/config";
import { AgentPlatform, AgentType, LlmProvider, PoolMonitoring, Team, allowHandBack } from "./components";
import { alertEmails, AWS_NAMESPACE, checkAlertSettings, checkProviderKeys, plaintextSecrets, readStackConfig } from "./config";
import { deploymentThresholds, type DeclaredDeploymentAlerts } from "./lib/alarms";

export interface StackOutputs {
  /** Base URL of the HTTP API. */
  apiUrl: pulumi.Output<string>;
  /** endpoint slug → `POST` URL of its ask route. */
  askUrls: Record<string, pulumi.Output<string>>;
  /** Replica names (`{team}-{agentType}-{n}`), one per slot. */
  agents: string[];
  /** deployment (`team/agentType`) → desired replicas. */
  deployments: Record<string, number>;
  workerImage: pulumi.Output<string>;
  tables: Record<string, string>;
  /** Console URL of the pool's CloudWatch dashboard. */
  dashboardUrl: pulumi.Output<string>;
  /** The SNS topic every alarm notifies (subscribe more endpoints to it). */
  alertTopicArn: pulumi.Output<string>;
}

/**
 * The program. A declaration error becomes a `pulumi.RunError`: Pulumi prints its message alone.
 * Any other error is printed with `util.inspect`, which for errors raised under ts-node took
 * ~45 s of CPU here (see test/infra/pulumi-runtime.test.ts) before the user saw anything.
 */
export function agentpoolStack(): StackOutputs {
  try {
    return buildStack();
  } catch (err) {
    if (err instanceof SpecError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

function buildStack(): StackOutputs {
  const stack = pulumi.getStack();
  const source = `stack ${stack} (stacks/Pulumi.${stack}.yaml)`;
  const flat = pulumi.runtime.allConfig();
  const { spec, settings } = readStackConfig(flat, source);
  checkProviderKeys(spec, settings, source);
  checkAlertSettings(spec, settings, source);
  // `isConfigSecret` is marked internal in @pulumi/pulumi's typings; use it when present.
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  if (isSecret) {
    for (const key of plaintextSecrets(flat, isSecret)) pulumi.log.warn(`${key} is stored in plain text; set it again with: pulumi config set --secret ...`);
  }

  const endpoints = [...new Set(spec.agentTypes.map((a) => a.endpointSlug))];
  const platform = new AgentPlatform("agentpool", {
    endpoints,
    deadlineMs: spec.router.deadlineMs,
    routerSettings: routerApiSettings(spec),
    network: settings.network,
    vpcCidr: settings.vpcCidr,
    workerImage: settings.workerImage,
    throttling: settings.throttling,
    logRetentionDays: settings.logRetentionDays,
    routerMemoryMb: settings.routerMemoryMb,
    deletionProtection: settings.deletionProtection,
    bootstrapApiKey: settings.bootstrapApiKey === undefined ? undefined : pulumi.secret(settings.bootstrapApiKey),
  });

  const usedProviders = new Set(spec.agentTypes.map((a) => a.provider));
  const providers = new Map(
    spec.providers
      .filter((p) => usedProviders.has(p.name))
      .map((p) => {
        const key = settings.providerKeys[p.name];
        return [p.name, new LlmProvider(p.name, { provider: p, apiKey: key === undefined ? undefined : pulumi.secret(key) })] as const;
      }),
  );
  const agentTypes = new Map(spec.agentTypes.map((a) => [a.slug, new AgentType(a.slug, { agentType: a, provider: providers.get(a.provider)! })]));
  const teams = spec.teams.map(
    (t) =>
      new Team(t.slug, {
        name: t.name,
        slug: t.slug,
        platform,
        deployments: t.deployments.map((d) => ({
          agentType: agentTypes.get(d.agentType)!,
          desiredReplicas: d.desiredReplicas,
          maxConcurrency: d.maxConcurrency,
          availableDepth: d.availableDepth,
          overflowDepth: d.overflowDepth,
          cpu: settings.worker?.cpu,
          memory: settings.worker?.memory,
        })),
      }),
  );
  allowHandBack(teams.flatMap((t) => t.deployments));

  const alerts = settings.alerts;
  const stackWide = { queueDepth: alerts.queueDepth, offlineMinutes: alerts.offlineMinutes };
  const monitoring = new PoolMonitoring("agentpool", {
    platform,
    deployments: teams.flatMap((t) => t.deployments),
    emails: alertEmails(alerts),
    thresholds: { ...stackWide, errorRatePercent: alerts.errorRatePercent, p95LatencyMs: alerts.p95LatencyMs },
    deploymentThresholds: Object.fromEntries(
      spec.teams.flatMap((t) =>
        t.deployments.map((d) => {
          const key = `${t.slug}/${d.agentType}`;
          // `alerts` on a deployment is read only if the pool schema declares it (it is optional there).
          const declared = (d as { alerts?: DeclaredDeploymentAlerts }).alerts;
          return [key, deploymentThresholds(stackWide, declared, alerts.deployments[key])];
        }),
      ),
    ),
  });

  const deployments = resolveDeployments(spec, platform.poolName);
  return {
    apiUrl: platform.apiUrl,
    askUrls: Object.fromEntries(endpoints.map((e) => [e, platform.askUrl(e)])),
    agents: deployments.flatMap((d) => d.replicas.map((r) => r.agentId)),
    deployments: Object.fromEntries(deployments.map((d) => [d.key, d.deployment.desiredReplicas])),
    workerImage: platform.workerImage.imageRef,
    tables: { ...platform.tableNames },
    dashboardUrl: monitoring.dashboardUrl,
    alertTopicArn: monitoring.topicArn,
  };
}

export { AWS_NAMESPACE };
