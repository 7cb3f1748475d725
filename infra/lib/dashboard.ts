/**
 * The CloudWatch dashboard of a pool, as a plain function of resource names (the body that
 * PutDashboard takes). One row for the API, then one row per deployment:
 *
 *   ┌ API error rate (5xx %) ─────────┬ API latency p50 / p95 ──────────┐
 *   ├ agents: running vs desired ┬ queue depth (per replica, stacked) ┬ dead letters ┤  × deployment
 *
 * The same metrics the alarms watch (./alarms.ts), with their thresholds drawn as lines.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
import { ERROR_RATE_EXPRESSION, NAMESPACE, PERIOD_SECONDS, type AlertThresholds } from "./alarms";

export interface DashboardDeployment {
  /** `support-team/customer-support` */
  key: string;
  serviceName: string;
  /** The deployment's replica queue names, slot order. */
  queues: string[];
  deadLetterQueues: string[];
  queueDepthThreshold: number;
}

export interface DashboardArgs {
  region: string;
  clusterName: string;
  apiId: string;
  routerFunctionName: string;
  deployments: DashboardDeployment[];
  thresholds: Pick<AlertThresholds, "errorRatePercent" | "p95LatencyMs">;
}

/** A metric line: `[namespace, metricName, dimension, value, …, options]`. */
type MetricLine = (string | Record<string, unknown>)[];

export interface Widget {
  type: "metric";
  x: number;
  y: number;
  width: number;
  height: number;
  properties: {
    title: string;
    region: string;
    view: "timeSeries";
    stacked: boolean;
    period: number;
    stat: string;
    metrics: MetricLine[];
    annotations?: { horizontal: { label: string; value: number }[] };
    yAxis?: Record<string, { min?: number; label?: string; showUnits?: boolean }>;
  };
}

export interface DashboardBody {
  widgets: Widget[];
}

const HEIGHT = 6;

export function dashboardBody(a: DashboardArgs): DashboardBody {
  const widget = (x: number, y: number, width: number, properties: Omit<Widget["properties"], "region" | "view" | "period"> & { period?: number }): Widget => ({
    type: "metric",
    x,
    y,
    width,
    height: HEIGHT,
    properties: { region: a.region, view: "timeSeries", period: PERIOD_SECONDS, ...properties },
  });
  const api = (metricName: string, options: Record<string, unknown>): MetricLine => [NAMESPACE.apiGateway, metricName, "ApiId", a.apiId, options];
  const widgets: Widget[] = [
    widget(0, 0, 12, {
      title: "API error rate (5xx %) and router Lambda errors",
      stacked: false,
      stat: "Sum",
      metrics: [
        [{ expression: ERROR_RATE_EXPRESSION, label: "5xx % of requests", id: "error_rate" }],
        api("5xx", { id: "errors", visible: false }),
        api("Count", { id: "requests", visible: false }),
        [NAMESPACE.lambda, "Errors", "FunctionName", a.routerFunctionName, { label: "router Lambda errors", yAxis: "right" }],
      ],
      annotations: { horizontal: [{ label: "error rate alarm", value: a.thresholds.errorRatePercent }] },
      yAxis: { left: { min: 0, label: "%", showUnits: false }, right: { min: 0 } },
    }),
    widget(12, 0, 12, {
      title: "API latency (ms)",
      stacked: false,
      stat: "p95",
      metrics: [api("Latency", { stat: "p50", label: "p50" }), api("Latency", { stat: "p95", label: "p95" })],
      annotations: { horizontal: [{ label: "p95 alarm", value: a.thresholds.p95LatencyMs }] },
      yAxis: { left: { min: 0 } },
    }),
  ];
  a.deployments.forEach((d, i) => {
    const y = HEIGHT * (i + 1);
    const service = (metricName: string, label: string): MetricLine => [NAMESPACE.containerInsights, metricName, "ClusterName", a.clusterName, "ServiceName", d.serviceName, { label }];
    const queue = (name: string): MetricLine => [NAMESPACE.sqs, "ApproximateNumberOfMessagesVisible", "QueueName", name, { label: name }];
    widgets.push(
      widget(0, y, 8, {
        title: `${d.key}: agents running vs desired`,
        stacked: false,
        stat: "Average",
        metrics: [service("DesiredTaskCount", "desired"), service("RunningTaskCount", "running")],
        yAxis: { left: { min: 0 } },
      }),
    );
    // A deployment scaled to 0 has no queues; a widget without metrics is invalid.
    if (d.queues.length === 0) return;
    widgets.push(
      widget(8, y, 8, {
        title: `${d.key}: asks waiting (per replica queue)`,
        stacked: true,
        stat: "Maximum",
        metrics: d.queues.map(queue),
        annotations: { horizontal: [{ label: "per-queue alarm", value: d.queueDepthThreshold }] },
        yAxis: { left: { min: 0 } },
      }),
      widget(16, y, 8, {
        title: `${d.key}: dead-letter messages`,
        stacked: true,
        stat: "Maximum",
        metrics: d.deadLetterQueues.map(queue),
        yAxis: { left: { min: 0 } },
      }),
    );
  });
  return { widgets };
}

/** The console URL of a dashboard. */
export function dashboardUrl(region: string, name: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(name)}`;
}
