/**
 * The CloudWatch alarms of a pool, as plain functions of resource names: the monitoring component
 * only fills in the names (Outputs there, strings in the unit tests) and points the actions at its
 * SNS topic; what each alarm watches, and when it fires, is decided (and unit-tested) here.
 *
 * The runtime publishes no custom metric yet, so every alarm reads a metric AWS publishes on its
 * own, at one-minute resolution:
 *
 *   agents offline   ECS/ContainerInsights DesiredTaskCount − RunningTaskCount > 0, per service,
 *                    for `offlineMinutes` minutes in a row (the cluster has Container Insights on)
 *   queue depth      AWS/SQS ApproximateNumberOfMessagesVisible (Maximum) > queueDepth, per replica
 *                    queue, 5 minutes in a row
 *   dead letters     AWS/SQS ApproximateNumberOfMessagesVisible (Maximum) > 0, per dead-letter queue
 *   error rate       AWS/ApiGateway 100 × 5xx / Count > errorRatePercent, 3 of 5 minutes, minutes
 *                    with fewer than MIN_REQUESTS_FOR_ERROR_RATE requests count as 0 %
 *   router errors    AWS/Lambda Errors (Sum) > 0 over 5 minutes: the router crashed or timed out
 *   p95 latency      AWS/ApiGateway Latency p95 > p95LatencyMs, 3 of 5 minutes
 *
 * Why per replica queue and not one alarm per deployment summing its queues: an alarm on metric
 * math may read at most 10 metrics, a hard limit, and a deployment may have up to 50 replicas.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html
 */

export const NAMESPACE = {
  sqs: "AWS/SQS",
  containerInsights: "ECS/ContainerInsights",
  apiGateway: "AWS/ApiGateway",
  lambda: "AWS/Lambda",
} as const;

/** The alert thresholds of a stack (`agentpoolAws:alerts`), with the local pool's defaults where they mean the same. */
export interface AlertThresholds {
  /** Asks waiting in one replica's queue (not yet received by its worker). */
  queueDepth: number;
  /** Share of API requests answered 5xx, in percent. */
  errorRatePercent: number;
  /** p95 of API Gateway's `Latency` (request in → response out), ms. */
  p95LatencyMs: number;
  /** Minutes a deployment may run fewer tasks than desired before it alarms. */
  offlineMinutes: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  // Between the routing thresholds (3: available, 10: overflow): a replica holding more than 5
  // waiting asks for 5 minutes is falling behind; at 10 the router stops sending it any.
  queueDepth: 5,
  errorRatePercent: 10,
  p95LatencyMs: 10_000,
  offlineMinutes: 2,
};

/** Thresholds that may differ per deployment (the others are read from the API, which serves them all). */
export type DeploymentThresholds = Pick<AlertThresholds, "queueDepth" | "offlineMinutes">;

/** Below this many requests in a minute, the error rate of that minute counts as 0 (1 failure of 1 ask is not 100 %). */
export const MIN_REQUESTS_FOR_ERROR_RATE = 5;
export const PERIOD_SECONDS = 60;
/** An alarm's evaluation window may not exceed one day. */
export const MAX_OFFLINE_MINUTES = 1440;

export type ComparisonOperator = "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
export type MissingData = "missing" | "notBreaching" | "breaching" | "ignore";

export interface MetricRef<V> {
  namespace: string;
  metricName: string;
  dimensions: Record<string, V>;
}

export interface MetricQuery<V> {
  id: string;
  label?: string;
  returnData: boolean;
  expression?: string;
  metric?: MetricRef<V> & { period: number; stat: string };
}

/**
 * One alarm. `V` is the type of dimension values: `string` here and in unit tests,
 * `pulumi.Output<string>` in the component.
 */
export interface AlarmDefinition<V = string> {
  /** Suffix of the Pulumi resource name: stable for a given deployment, slot or API. */
  key: string;
  /** The alarm's name in CloudWatch (and in the notification's subject). */
  name: string;
  description: string;
  comparisonOperator: ComparisonOperator;
  threshold: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  treatMissingData: MissingData;
  /** A single metric, or… */
  metric?: MetricRef<V> & { period: number; statistic?: string; extendedStatistic?: string };
  /** …metric math, whose one `returnData` query is the value watched. */
  metricQueries?: MetricQuery<V>[];
}

export function alarmName(pool: string, subject: string, what: string): string {
  const name = `agentpool-${pool}-${subject}-${what}`;
  if (name.length > 255) throw new Error(`alarm name "${name}" is longer than CloudWatch allows (255)`);
  return name;
}

/** Fewer tasks running than desired for `minutes` minutes: agents offline (crash loop, no capacity, a bad image). */
export function agentsOfflineAlarm<V>(a: { pool: string; deployment: string; resourceName: string; clusterName: V; serviceName: V; minutes: number }): AlarmDefinition<V> {
  checkMinutes(a.minutes, `deployment ${a.deployment}`);
  const dimensions = { ClusterName: a.clusterName, ServiceName: a.serviceName };
  const stat = (id: string, metricName: string): MetricQuery<V> => ({
    id,
    returnData: false,
    metric: { namespace: NAMESPACE.containerInsights, metricName, dimensions, period: PERIOD_SECONDS, stat: "Average" },
  });
  return {
    key: `${a.resourceName}-offline`,
    name: alarmName(a.pool, a.resourceName, "agents-offline"),
    description: `${a.deployment}: fewer agent tasks running than desired for ${a.minutes} min (ECS Container Insights). Check the service's events and stopped tasks.`,
    comparisonOperator: "GreaterThanThreshold",
    threshold: 0,
    evaluationPeriods: a.minutes,
    datapointsToAlarm: a.minutes,
    // Container Insights reports every minute while the service exists; a gap says nothing.
    treatMissingData: "missing",
    metricQueries: [
      stat("desired", "DesiredTaskCount"),
      stat("running", "RunningTaskCount"),
      { id: "missing_tasks", label: "tasks missing (desired − running)", returnData: true, expression: "desired - running" },
    ],
  };
}

/** Asks waiting in one replica's queue above the threshold for 5 minutes: the replica falls behind. */
export function queueDepthAlarm<V>(a: { pool: string; agentId: string; resourceName: string; queueName: V; threshold: number }): AlarmDefinition<V> {
  if (!Number.isInteger(a.threshold) || a.threshold < 1) throw new Error(`queue depth threshold of ${a.agentId} must be a whole number of asks, at least 1 (got ${a.threshold})`);
  return {
    key: `${a.resourceName}-depth`,
    name: alarmName(a.pool, a.agentId, "queue-depth"),
    description: `${a.agentId}: more than ${a.threshold} asks waiting in its queue for 5 min. The replica answers slower than asks arrive; scale the deployment up.`,
    comparisonOperator: "GreaterThanThreshold",
    threshold: a.threshold,
    evaluationPeriods: 5,
    datapointsToAlarm: 5,
    // SQS stops publishing for a queue idle for hours: an idle queue is not a deep one.
    treatMissingData: "notBreaching",
    metric: { namespace: NAMESPACE.sqs, metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: a.queueName }, period: PERIOD_SECONDS, statistic: "Maximum" },
  };
}

/** Any message in a dead-letter queue: an ask failed `maxReceiveCount` times or could not be read. */
export function deadLetterAlarm<V>(a: { pool: string; agentId: string; resourceName: string; queueName: V }): AlarmDefinition<V> {
  return {
    key: `${a.resourceName}-dlq`,
    name: alarmName(a.pool, a.agentId, "dead-letters"),
    description: `${a.agentId}: asks in its dead-letter queue (they kept failing). Read them, fix the cause, then purge or redrive the queue; the alarm clears when it is empty.`,
    comparisonOperator: "GreaterThanThreshold",
    threshold: 0,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: "notBreaching",
    metric: { namespace: NAMESPACE.sqs, metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: a.queueName }, period: 5 * PERIOD_SECONDS, statistic: "Maximum" },
  };
}

/** The metric-math expression of the API's error rate (percent), shared by the alarm and the dashboard. */
export const ERROR_RATE_EXPRESSION = `IF(requests >= ${MIN_REQUESTS_FOR_ERROR_RATE}, 100 * errors / requests, 0)`;

/** API responses 5xx (the router's 502/503/504 and API Gateway's own) above a share of all requests. */
export function errorRateAlarm<V>(a: { pool: string; apiId: V; percent: number }): AlarmDefinition<V> {
  if (!(a.percent > 0 && a.percent <= 100)) throw new Error(`errorRatePercent must be above 0 and at most 100 (got ${a.percent})`);
  const stat = (id: string, metricName: string): MetricQuery<V> => ({
    id,
    returnData: false,
    metric: { namespace: NAMESPACE.apiGateway, metricName, dimensions: { ApiId: a.apiId }, period: PERIOD_SECONDS, stat: "Sum" },
  });
  return {
    key: "api-error-rate",
    name: alarmName(a.pool, "api", "error-rate"),
    description: `API: more than ${a.percent} % of requests answered 5xx in 3 of the last 5 min (minutes with fewer than ${MIN_REQUESTS_FOR_ERROR_RATE} requests count as 0 %). Check the router's log group.`,
    comparisonOperator: "GreaterThanThreshold",
    threshold: a.percent,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    treatMissingData: "notBreaching",
    metricQueries: [stat("errors", "5xx"), stat("requests", "Count"), { id: "error_rate", label: "5xx %", returnData: true, expression: ERROR_RATE_EXPRESSION }],
  };
}

/** The router Lambda threw or timed out (the router turns handled errors into responses, so any is a bug or a timeout). */
export function routerErrorsAlarm<V>(a: { pool: string; functionName: V }): AlarmDefinition<V> {
  return {
    key: "router-errors",
    name: alarmName(a.pool, "router", "errors"),
    description: "Router Lambda: invocations that failed (unhandled error or timeout) in the last 5 min. Check its log group.",
    comparisonOperator: "GreaterThanThreshold",
    threshold: 0,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: "notBreaching",
    metric: { namespace: NAMESPACE.lambda, metricName: "Errors", dimensions: { FunctionName: a.functionName }, period: 5 * PERIOD_SECONDS, statistic: "Sum" },
  };
}

/** p95 of the API's latency (the caller's wait, LLM time included) above the threshold. */
export function latencyAlarm<V>(a: { pool: string; apiId: V; p95LatencyMs: number }): AlarmDefinition<V> {
  if (!(a.p95LatencyMs > 0)) throw new Error(`p95LatencyMs must be above 0 (got ${a.p95LatencyMs})`);
  return {
    key: "api-p95-latency",
    name: alarmName(a.pool, "api", "p95-latency"),
    description: `API: p95 latency above ${a.p95LatencyMs} ms in 3 of the last 5 min. Asks wait in queues or the model answers slowly.`,
    comparisonOperator: "GreaterThanThreshold",
    threshold: a.p95LatencyMs,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    treatMissingData: "notBreaching",
    metric: { namespace: NAMESPACE.apiGateway, metricName: "Latency", dimensions: { ApiId: a.apiId }, period: PERIOD_SECONDS, extendedStatistic: "p95" },
  };
}

function checkMinutes(minutes: number, what: string): void {
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_OFFLINE_MINUTES) {
    throw new Error(`offlineMinutes of ${what} must be a whole number from 1 to ${MAX_OFFLINE_MINUTES} (got ${minutes})`);
  }
}

/** What a deployment may declare in the shared pool spec (`agentpool:teams[].deployments[].alerts`), if that field exists. */
export interface DeclaredDeploymentAlerts {
  offlineForSeconds?: number;
  queueDepth?: number;
}

/**
 * A deployment's thresholds, most specific first:
 *   1. `agentpoolAws:alerts.deployments["team/agentType"]`
 *   2. the deployment's `alerts.offlineForSeconds` in the pool spec (rounded up to whole minutes),
 *      when the spec declares it; its `queueDepth` is a sum over the deployment's replicas, which
 *      no AWS alarm can watch (see the top of this file), so it is not used here
 *   3. the stack-wide `agentpoolAws:alerts`
 */
export function deploymentThresholds(stackWide: DeploymentThresholds, declared: DeclaredDeploymentAlerts | undefined, override: Partial<DeploymentThresholds> | undefined): DeploymentThresholds {
  const fromSpec: Partial<DeploymentThresholds> =
    declared?.offlineForSeconds !== undefined ? { offlineMinutes: Math.min(MAX_OFFLINE_MINUTES, Math.max(1, Math.ceil(declared.offlineForSeconds / 60))) } : {};
  return { ...stackWide, ...fromSpec, ...definedOnly(override ?? {}) };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
