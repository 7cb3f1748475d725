/** The alarm definitions and the dashboard body, without Pulumi: plain functions of resource names. */
import {
  agentsOfflineAlarm,
  alarmName,
  deadLetterAlarm,
  DEFAULT_ALERT_THRESHOLDS,
  deploymentThresholds,
  errorRateAlarm,
  latencyAlarm,
  queueDepthAlarm,
  routerErrorsAlarm,
} from "../../infra/lib/alarms";
import { dashboardBody, dashboardUrl, type DashboardArgs } from "../../infra/lib/dashboard";
import { emailSlug } from "../../infra/components/monitoring";
import { alertEmails, alertSettingsSchema } from "../../infra/config";

describe("alarm definitions", () => {
  test("agents offline: desired minus running tasks above 0 for every minute of the window", () => {
    const a = agentsOfflineAlarm({ pool: "prod", deployment: "support/cs", resourceName: "support-cs", clusterName: "c-1", serviceName: "s-1", minutes: 3 });
    expect(a).toMatchObject({ name: "agentpool-prod-support-cs-agents-offline", threshold: 0, comparisonOperator: "GreaterThanThreshold", evaluationPeriods: 3, datapointsToAlarm: 3 });
    expect(a.metricQueries!.map((q) => [q.id, q.metric?.metricName ?? q.expression, q.returnData])).toEqual([
      ["desired", "DesiredTaskCount", false],
      ["running", "RunningTaskCount", false],
      ["missing_tasks", "desired - running", true],
    ]);
    expect(a.metricQueries![0]!.metric).toMatchObject({ namespace: "ECS/ContainerInsights", dimensions: { ClusterName: "c-1", ServiceName: "s-1" }, period: 60 });
  });

  test("agents offline refuses a window CloudWatch cannot evaluate", () => {
    const base = { pool: "p", deployment: "t/a", resourceName: "t-a", clusterName: "c", serviceName: "s" };
    expect(() => agentsOfflineAlarm({ ...base, minutes: 0 })).toThrow(/offlineMinutes of deployment t\/a must be a whole number from 1 to 1440/);
    expect(() => agentsOfflineAlarm({ ...base, minutes: 1441 })).toThrow(/1440/);
    expect(() => agentsOfflineAlarm({ ...base, minutes: 1.5 })).toThrow(/whole number/);
  });

  test("queue depth watches one replica queue's waiting asks, 5 minutes above the threshold", () => {
    const a = queueDepthAlarm({ pool: "prod", agentId: "t-a-2", resourceName: "t-a-2", queueName: "agentpool-prod-t-a-2", threshold: 5 });
    expect(a).toMatchObject({ key: "t-a-2-depth", name: "agentpool-prod-t-a-2-queue-depth", threshold: 5, evaluationPeriods: 5, datapointsToAlarm: 5, treatMissingData: "notBreaching" });
    expect(a.metric).toEqual({ namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: "agentpool-prod-t-a-2" }, period: 60, statistic: "Maximum" });
    expect(() => queueDepthAlarm({ pool: "p", agentId: "x", resourceName: "x", queueName: "q", threshold: 0 })).toThrow(/at least 1/);
  });

  test("dead letters fire on the first message and stay firing until the queue is emptied", () => {
    const a = deadLetterAlarm({ pool: "prod", agentId: "t-a-1", resourceName: "t-a-1", queueName: "agentpool-prod-t-a-1-dlq" });
    expect(a).toMatchObject({ name: "agentpool-prod-t-a-1-dead-letters", threshold: 0, comparisonOperator: "GreaterThanThreshold", evaluationPeriods: 1 });
    expect(a.metric!.dimensions).toEqual({ QueueName: "agentpool-prod-t-a-1-dlq" });
  });

  test("error rate is 5xx over all requests in percent, 0 in minutes with fewer than 5 requests", () => {
    const a = errorRateAlarm({ pool: "prod", apiId: "abc123", percent: 10 });
    expect(a).toMatchObject({ name: "agentpool-prod-api-error-rate", threshold: 10, evaluationPeriods: 5, datapointsToAlarm: 3 });
    const [errors, requests, rate] = a.metricQueries!;
    expect([errors!.metric!.metricName, requests!.metric!.metricName]).toEqual(["5xx", "Count"]);
    expect(errors!.metric!.dimensions).toEqual({ ApiId: "abc123" });
    expect(rate).toMatchObject({ returnData: true, expression: "IF(requests >= 5, 100 * errors / requests, 0)" });
    expect(() => errorRateAlarm({ pool: "p", apiId: "a", percent: 0 })).toThrow(/above 0/);
    expect(() => errorRateAlarm({ pool: "p", apiId: "a", percent: 101 })).toThrow(/at most 100/);
  });

  test("p95 latency uses the extended statistic, not a plain one", () => {
    const a = latencyAlarm({ pool: "prod", apiId: "abc123", p95LatencyMs: 8000 });
    expect(a.metric).toEqual({ namespace: "AWS/ApiGateway", metricName: "Latency", dimensions: { ApiId: "abc123" }, period: 60, extendedStatistic: "p95" });
    expect(a.threshold).toBe(8000);
  });

  test("router errors fire on any failed invocation in 5 minutes", () => {
    const a = routerErrorsAlarm({ pool: "prod", functionName: "agentpool-prod-router" });
    expect(a.metric).toMatchObject({ namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: "agentpool-prod-router" }, period: 300, statistic: "Sum" });
    expect(a.threshold).toBe(0);
  });

  test("alarm names stay within CloudWatch's 255 characters", () => {
    expect(() => alarmName("p", "x".repeat(250), "queue-depth")).toThrow(/longer than CloudWatch allows/);
  });
});

describe("per-deployment thresholds", () => {
  const stackWide = { queueDepth: 5, offlineMinutes: 2 };

  test("the AWS override wins over the pool spec's alerts, which win over the stack-wide values", () => {
    expect(deploymentThresholds(stackWide, undefined, undefined)).toEqual(stackWide);
    expect(deploymentThresholds(stackWide, { offlineForSeconds: 150 }, undefined)).toEqual({ queueDepth: 5, offlineMinutes: 3 });
    expect(deploymentThresholds(stackWide, { offlineForSeconds: 150 }, { offlineMinutes: 7 })).toEqual({ queueDepth: 5, offlineMinutes: 7 });
    expect(deploymentThresholds(stackWide, undefined, { queueDepth: 2, offlineMinutes: undefined })).toEqual({ queueDepth: 2, offlineMinutes: 2 });
  });

  test("the pool spec's summed queue depth is not taken for a per-queue alarm, and its offline time is kept in 1..1440 minutes", () => {
    expect(deploymentThresholds(stackWide, { queueDepth: 40 }, undefined).queueDepth).toBe(5);
    expect(deploymentThresholds(stackWide, { offlineForSeconds: 0 }, undefined).offlineMinutes).toBe(1);
    expect(deploymentThresholds(stackWide, { offlineForSeconds: 86_400 * 2 }, undefined).offlineMinutes).toBe(1440);
  });
});

describe("alert settings", () => {
  test("default to the documented thresholds and no email", () => {
    const s = alertSettingsSchema.parse({});
    expect(s).toEqual({ ...DEFAULT_ALERT_THRESHOLDS, deployments: {} });
    expect(alertEmails(s)).toEqual([]);
    expect(DEFAULT_ALERT_THRESHOLDS).toEqual({ queueDepth: 5, errorRatePercent: 10, p95LatencyMs: 10_000, offlineMinutes: 2 });
  });

  test("take one address or a list", () => {
    expect(alertEmails(alertSettingsSchema.parse({ email: "a@example.com" }))).toEqual(["a@example.com"]);
    expect(alertEmails(alertSettingsSchema.parse({ email: ["a@example.com", "b@example.com"] }))).toEqual(["a@example.com", "b@example.com"]);
    expect(alertSettingsSchema.safeParse({ email: [] }).success).toBe(false);
  });

  test("per-deployment entries take only the thresholds a deployment has on AWS", () => {
    expect(alertSettingsSchema.safeParse({ deployments: { "t/a": { queueDepth: 3, offlineMinutes: 5 } } }).success).toBe(true);
    expect(alertSettingsSchema.safeParse({ deployments: { "t/a": { errorRatePercent: 3 } } }).success).toBe(false);
  });

  test("an email address becomes a stable resource name", () => {
    expect(emailSlug("Ops+Pool@Example.com")).toBe("ops-pool-example-com");
  });
});

describe("dashboard body", () => {
  const args: DashboardArgs = {
    region: "eu-west-1",
    clusterName: "agentpool-abc",
    apiId: "api123",
    routerFunctionName: "agentpool-p-router",
    deployments: [
      { key: "t/a", serviceName: "svc-a", queues: ["q-a-1", "q-a-2"], deadLetterQueues: ["q-a-1-dlq", "q-a-2-dlq"], queueDepthThreshold: 5 },
      { key: "t/b", serviceName: "svc-b", queues: [], deadLetterQueues: [], queueDepthThreshold: 3 },
    ],
    thresholds: { errorRatePercent: 10, p95LatencyMs: 9000 },
  };
  const body = dashboardBody(args);
  const titled = (prefix: string) => body.widgets.find((w) => w.properties.title.startsWith(prefix))!;

  test("has the error rate and p95 latency with their alarm thresholds drawn", () => {
    const rate = titled("API error rate");
    expect(rate.properties.metrics[0]).toEqual([{ expression: "IF(requests >= 5, 100 * errors / requests, 0)", label: "5xx % of requests", id: "error_rate" }]);
    expect(rate.properties.annotations!.horizontal).toEqual([{ label: "error rate alarm", value: 10 }]);
    const latency = titled("API latency");
    expect(latency.properties.metrics).toContainEqual(["AWS/ApiGateway", "Latency", "ApiId", "api123", { stat: "p95", label: "p95" }]);
    expect(latency.properties.annotations!.horizontal[0]!.value).toBe(9000);
  });

  test("has per deployment running vs desired tasks, and its queues stacked", () => {
    expect(titled("t/a: agents").properties.metrics.map((m) => m[1])).toEqual(["DesiredTaskCount", "RunningTaskCount"]);
    expect(titled("t/a: asks waiting").properties).toMatchObject({ stacked: true, metrics: [expect.arrayContaining(["QueueName", "q-a-1"]), expect.arrayContaining(["QueueName", "q-a-2"])] });
    expect(titled("t/a: dead-letter").properties.metrics.map((m) => m[3])).toEqual(["q-a-1-dlq", "q-a-2-dlq"]);
  });

  test("draws no empty queue widget for a deployment scaled to 0, and lays widgets on the 24-column grid without overlap", () => {
    expect(body.widgets.filter((w) => w.properties.title.startsWith("t/b")).map((w) => w.properties.title)).toEqual(["t/b: agents running vs desired"]);
    const cells = new Set<string>();
    for (const w of body.widgets) {
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      expect(w.properties.region).toBe("eu-west-1");
      for (let x = w.x; x < w.x + w.width; x++) for (let y = w.y; y < w.y + w.height; y++) {
        expect(cells.has(`${x},${y}`)).toBe(false);
        cells.add(`${x},${y}`);
      }
    }
  });

  test("the dashboard URL opens it in its region's console", () => {
    expect(dashboardUrl("eu-west-1", "agentpool-prod-eu-west-1")).toBe("https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/agentpool-prod-eu-west-1");
  });
});
