import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import {
  agentsOfflineAlarm,
  deadLetterAlarm,
  DEFAULT_ALERT_THRESHOLDS,
  errorRateAlarm,
  latencyAlarm,
  queueDepthAlarm,
  routerErrorsAlarm,
  type AlarmDefinition,
  type AlertThresholds,
  type DeploymentThresholds,
} from "../lib/alarms";
import { dashboardBody, dashboardUrl } from "../lib/dashboard";
import { withDefaults } from "../lib/defaults";
import type { AgentPlatform } from "./platform";
import type { Deployment } from "./deployment";

export interface PoolMonitoringArgs {
  readonly platform: AgentPlatform;
  /** Every deployment of the pool: each gets its alarms and a dashboard row. */
  readonly deployments: Deployment[];
  /** Addresses subscribed to the alert topic by email; each must confirm AWS's message before it gets any. */
  readonly emails?: string[];
  /** Stack-wide thresholds; defaults: queue depth 5 per replica, 10 % errors, p95 10 s, 2 min offline. */
  readonly thresholds?: Partial<AlertThresholds>;
  /** Per deployment (`team/agentType`): thresholds that replace the stack-wide ones. */
  readonly deploymentThresholds?: Readonly<Record<string, Partial<DeploymentThresholds>>>;
}

/**
 * A pool's alerting and dashboard: an SNS topic (with optional email subscriptions) that every
 * alarm notifies on ALARM and on OK, CloudWatch alarms on the metrics AWS publishes for the pool's
 * resources (../lib/alarms.ts: agents offline per deployment, queue depth and dead letters per
 * replica, API error rate and p95 latency, router Lambda errors), and a CloudWatch dashboard of the
 * same figures (../lib/dashboard.ts).
 *
 *   alarm ──ALARM / OK──► SNS topic agentpool-<pool>-alerts ──► email (confirmed), or your own subscribers
 */
export class PoolMonitoring extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly subscriptions: aws.sns.TopicSubscription[];
  readonly alarms: aws.cloudwatch.MetricAlarm[];
  readonly dashboard: aws.cloudwatch.Dashboard;
  readonly dashboardUrl: pulumi.Output<string>;
  readonly topicArn: pulumi.Output<string>;

  constructor(name: string, args: PoolMonitoringArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("agentpool:index:PoolMonitoring", name, {}, opts);
    const { platform, deployments } = args;
    const t = withDefaults(DEFAULT_ALERT_THRESHOLDS, args.thresholds ?? {});
    const perDeployment = args.deploymentThresholds ?? {};
    const keys = new Set(deployments.map((d) => d.key));
    const unknown = Object.keys(perDeployment).filter((k) => !keys.has(k));
    if (unknown.length > 0) {
      throw new Error(`PoolMonitoring ${name}: thresholds for unknown deployments ${unknown.map((k) => `"${k}"`).join(", ")}; deployments are ${[...keys].map((k) => `"${k}"`).join(", ") || "none"}`);
    }
    const emails = [...new Set(args.emails ?? [])];
    const pool = platform.poolName;
    const parent = { parent: this };

    // Unencrypted on purpose: CloudWatch cannot publish to a topic under the AWS-managed SNS key.
    this.topic = new aws.sns.Topic(`${name}-alerts`, { name: `agentpool-${pool}-alerts`, displayName: `agentpool ${pool} alerts` }, parent);
    this.topicArn = this.topic.arn;
    this.subscriptions = emails.map(
      (endpoint) => new aws.sns.TopicSubscription(`${name}-alerts-${emailSlug(endpoint)}`, { topic: this.topic.arn, protocol: "email", endpoint }, parent),
    );

    const definitions: AlarmDefinition<pulumi.Output<string>>[] = [
      errorRateAlarm({ pool, apiId: platform.api.id, percent: t.errorRatePercent }),
      latencyAlarm({ pool, apiId: platform.api.id, p95LatencyMs: t.p95LatencyMs }),
      routerErrorsAlarm({ pool, functionName: platform.routerFunction.name }),
    ];
    const thresholdsOf = (d: Deployment): DeploymentThresholds => withDefaults({ queueDepth: t.queueDepth, offlineMinutes: t.offlineMinutes }, perDeployment[d.key] ?? {});
    for (const d of deployments) {
      const dt = thresholdsOf(d);
      definitions.push(agentsOfflineAlarm({ pool, deployment: d.key, resourceName: d.resourceName, clusterName: platform.cluster.name, serviceName: d.service.name, minutes: dt.offlineMinutes }));
      for (const s of d.slots) {
        const resourceName = `${d.resourceName}-${s.slot}`;
        definitions.push(
          queueDepthAlarm({ pool, agentId: s.agentId, resourceName, queueName: s.queue.name, threshold: dt.queueDepth }),
          deadLetterAlarm({ pool, agentId: s.agentId, resourceName, queueName: s.deadLetterQueue.name }),
        );
      }
    }
    this.alarms = definitions.map((def) => new aws.cloudwatch.MetricAlarm(`${name}-${def.key}`, alarmArgs(def, this.topic.arn), parent));

    const dashboardName = `agentpool-${pool}`;
    const rows = deployments.map((d) =>
      pulumi.all([d.service.name, pulumi.all(d.slots.map((s) => s.queue.name)), pulumi.all(d.slots.map((s) => s.deadLetterQueue.name))]).apply(([serviceName, queues, deadLetterQueues]) => ({
        key: d.key,
        serviceName,
        queues,
        deadLetterQueues,
        queueDepthThreshold: thresholdsOf(d).queueDepth,
      })),
    );
    this.dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName,
        dashboardBody: pulumi
          .all([platform.region, platform.cluster.name, platform.api.id, platform.routerFunction.name, pulumi.all(rows)])
          .apply(([region, clusterName, apiId, routerFunctionName, rowValues]) =>
            JSON.stringify(dashboardBody({ region, clusterName, apiId, routerFunctionName, deployments: rowValues, thresholds: t })),
          ),
      },
      parent,
    );
    this.dashboardUrl = pulumi.all([platform.region, this.dashboard.dashboardName]).apply(([region, n]) => dashboardUrl(region, n));

    this.registerOutputs({ topicArn: this.topicArn, dashboardUrl: this.dashboardUrl, alarmNames: this.alarms.map((a) => a.name) });
  }
}

/** The MetricAlarm arguments of a definition: its metric (or metric math) and the topic as ALARM and OK action. */
export function alarmArgs(def: AlarmDefinition<pulumi.Input<string>>, topicArn: pulumi.Input<string>): aws.cloudwatch.MetricAlarmArgs {
  const common: aws.cloudwatch.MetricAlarmArgs = {
    name: def.name,
    alarmDescription: def.description,
    comparisonOperator: def.comparisonOperator,
    threshold: def.threshold,
    evaluationPeriods: def.evaluationPeriods,
    datapointsToAlarm: def.datapointsToAlarm,
    treatMissingData: def.treatMissingData,
    actionsEnabled: true,
    alarmActions: [topicArn],
    okActions: [topicArn],
  };
  if (def.metric) {
    const m = def.metric;
    return {
      ...common,
      namespace: m.namespace,
      metricName: m.metricName,
      dimensions: m.dimensions,
      period: m.period,
      ...(m.extendedStatistic ? { extendedStatistic: m.extendedStatistic } : { statistic: m.statistic }),
    };
  }
  return {
    ...common,
    metricQueries: def.metricQueries!.map((q) => ({
      id: q.id,
      returnData: q.returnData,
      ...(q.label ? { label: q.label } : {}),
      ...(q.expression ? { expression: q.expression } : {}),
      ...(q.metric ? { metric: { namespace: q.metric.namespace, metricName: q.metric.metricName, dimensions: q.metric.dimensions, period: q.metric.period, stat: q.metric.stat } } : {}),
    })),
  };
}

/** `Ops+Pool@example.com` → `ops-pool-example-com`: a stable resource name per address. */
export function emailSlug(email: string): string {
  return email
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}
