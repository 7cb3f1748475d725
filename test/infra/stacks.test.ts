/**
 * Every stack file, through the real stack program (infra/index.ts) under Pulumi's mocks: the
 * resource graph each `pulumi up` would create, checked resource by resource.
 */
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { parse } from "yaml";
import { TABLE_KEYS } from "../../runtime/aws/tables";
import { DEFAULT_QUEUE_SETTINGS } from "../../runtime/aws/queues";
import { workerConfigSchema } from "../../runtime/agent/config";
import { routerApiSettings, routerConfigSchema } from "../../runtime/router/config";
import { declarationFromConfig, parsePoolSpec, type PoolSpec } from "../../runtime/core/spec";
import { deadLetterQueueName, queueName, resolveDeployments, tableNames } from "../../runtime/core/naming";
import { ROUTER_QUEUE_ACTIONS, WORKER_QUEUE_ACTIONS, unexpectedWildcards, wildcardGrants, type PolicyDocument } from "../../infra/lib/policies";
import { plaintextOccurrences, isSecretInput, type ResourceRecorder } from "./support/mocks";
import { alarmNamed, containerOf, lambdaCode, policyOf, queryOf, roleArn, rolePolicyOf, T } from "./support/graph";
import { readStackFile, REPO_ROOT, runStack, STACKS_DIR, TEST_PROVIDER_KEY, withProviderKeys, type StackRun } from "./support/stack-run";

const stackFiles = readdirSync(STACKS_DIR).filter((f) => /^Pulumi\..+\.ya?ml$/.test(f)).sort();

test("the stacks directory holds the dev stack and one production stack per region", () => {
  expect(stackFiles).toEqual(expect.arrayContaining(["Pulumi.dev.yaml", "Pulumi.prod-eu-west-1.yaml", "Pulumi.prod-us-east-1.yaml"]));
});

test("the production stacks are geographic pools: one region each, the openai provider", () => {
  const prod = stackFiles.filter((f) => f.startsWith("Pulumi.prod-"));
  const regions = prod.map((f) => (parse(require("node:fs").readFileSync(join(STACKS_DIR, f), "utf8")) as { config: Record<string, unknown> }).config["aws:region"]);
  expect(regions).toEqual(prod.map((f) => f.match(/^Pulumi\.prod-(.+)\.yaml$/)![1]));
  for (const f of prod) {
    const spec = specOf(f);
    expect(spec.providers.map((p) => p.kind)).toEqual(["openai"]);
    expect(spec.teams.flatMap((t) => t.deployments).reduce((n, d) => n + d.desiredReplicas, 0)).toBeGreaterThanOrEqual(5);
  }
});

function specOf(file: string): PoolSpec {
  const input = readStackFile(join(STACKS_DIR, file));
  const parsed = Object.fromEntries(Object.entries(input.config).map(([k, v]) => [k, safeJson(v)]));
  return parsePoolSpec(declarationFromConfig(parsed), file);
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

describe.each(stackFiles)("%s through the stack program", (file) => {
  const input = withProviderKeys(readStackFile(join(STACKS_DIR, file)));
  const stack = input.stack;
  const spec = specOf(file);
  const deployments = resolveDeployments(spec, stack);
  let run: StackRun;
  let rec: ResourceRecorder;

  beforeAll(async () => {
    run = await runStack(input);
    rec = run.recorder;
  });

  test("runs one ECS Fargate service per deployment, with the declared desired count", () => {
    const services = rec.ofType(T.service);
    expect(services.map((s) => s.name).sort()).toEqual(deployments.map((d) => `${d.team.slug}-${d.agentType.slug}`).sort());
    for (const d of deployments) {
      const service = rec.one(T.service, `${d.team.slug}-${d.agentType.slug}`);
      expect(service.inputs.desiredCount).toBe(d.deployment.desiredReplicas);
      expect(service.inputs.launchType).toBe("FARGATE");
      expect(service.inputs.waitForSteadyState).toBe(true);
    }
  });

  test("gives every replica slot a queue and a dead-letter queue named as the runtime names them", () => {
    const expected = deployments.flatMap((d) => d.replicas.flatMap((r) => [queueName(stack, r.agentId), deadLetterQueueName(stack, r.agentId)]));
    expect(rec.ofType(T.queue).map((q) => q.inputs.name).sort()).toEqual(expected.sort());
  });

  test("redrives each replica queue to its own dead-letter queue with the runtime's queue settings", () => {
    for (const r of deployments.flatMap((d) => d.replicas)) {
      const queue = rec.ofType(T.queue).find((q) => q.inputs.name === queueName(stack, r.agentId))!;
      const dlq = rec.ofType(T.queue).find((q) => q.inputs.name === deadLetterQueueName(stack, r.agentId))!;
      expect(JSON.parse(queue.inputs.redrivePolicy)).toEqual({ deadLetterTargetArn: dlq.state.arn, maxReceiveCount: DEFAULT_QUEUE_SETTINGS.maxReceiveCount });
      expect(queue.inputs.visibilityTimeoutSeconds).toBe(DEFAULT_QUEUE_SETTINGS.visibilityTimeoutSeconds);
    }
  });

  test("runs the worker with all of its deployment's slots and their queue URLs, in the runtime's config schema", () => {
    for (const d of deployments) {
      const container = containerOf(rec.one(T.taskDefinition, `${d.team.slug}-${d.agentType.slug}`));
      const env = container.environment.find((e) => e.name === "AGENTPOOL_WORKER_CONFIG");
      if (d.replicas.length === 0) continue;
      const config = workerConfigSchema.parse(JSON.parse(env!.value));
      const urls = new Map(rec.ofType(T.queue).map((q) => [q.inputs.name, q.state.url]));
      expect(config.slots).toEqual(
        d.replicas.map((r) => ({ agentId: r.agentId, slot: r.slot, queueUrl: urls.get(queueName(stack, r.agentId)), dlqUrl: urls.get(deadLetterQueueName(stack, r.agentId)) })),
      );
      expect(config).toMatchObject({ stack, endpoint: d.agentType.endpointSlug, team: d.team.slug, waitSeconds: 20, receiveBatch: 10, tables: tableNames(stack) });
      expect(config).toMatchObject({ visibilityTimeoutSeconds: DEFAULT_QUEUE_SETTINGS.visibilityTimeoutSeconds, maxReceiveCount: DEFAULT_QUEUE_SETTINGS.maxReceiveCount });
      // ECS kills a stopping task after its stopTimeout: the worker's drain must end before.
      expect(config.drainTimeoutMs).toBeLessThan(JSON.parse(rec.one(T.taskDefinition, `${d.team.slug}-${d.agentType.slug}`).inputs.containerDefinitions)[0].stopTimeout * 1000);
      expect(config.agentType).toEqual(d.agentType);
    }
  });

  test("creates the runtime's DynamoDB tables with its key schemas, on demand", () => {
    const tables = rec.ofType(T.table);
    const names = tableNames(stack);
    expect(tables.map((t) => t.inputs.name).sort()).toEqual(Object.values(names).sort());
    for (const [key, def] of Object.entries(TABLE_KEYS)) {
      const table = tables.find((t) => t.inputs.name === names[key as keyof typeof names])!;
      expect(table.inputs.hashKey).toBe(def.hashKey);
      expect(table.inputs.rangeKey).toBe(def.rangeKey);
      expect(table.inputs.billingMode).toBe("PAY_PER_REQUEST");
      const keys = [def.hashKey, ...(def.rangeKey ? [def.rangeKey] : [])];
      expect(table.inputs.attributes).toEqual(keys.map((name) => ({ name, type: "S" })));
      // Rate-limit windows, idempotency records and callbacks expire by DynamoDB TTL on AWS.
      expect(table.inputs.ttl).toEqual(def.ttlAttribute ? { attributeName: def.ttlAttribute, enabled: true } : undefined);
    }
  });

  test("deploys the esbuild bundle of runtime/router/lambda.ts as the router Lambda (Node 20+, arm64)", async () => {
    const fn = rec.one(T.lambda);
    // An independent build of the router entry: the deployed code must be exactly it.
    const expected = buildSync({ absWorkingDir: REPO_ROOT, entryPoints: ["runtime/router/lambda.ts"], bundle: true, platform: "node", target: "node20", format: "cjs", write: false, legalComments: "none", logLevel: "silent" }).outputFiles[0]!.text;
    expect(await lambdaCode(fn)).toBe(expected);
    expect(fn.inputs.handler).toBe("index.handler");
    expect(Number(/^nodejs(\d+)\.x$/.exec(fn.inputs.runtime)?.[1])).toBeGreaterThanOrEqual(20);
    expect(fn.inputs.architectures).toEqual(["arm64"]);
  });

  test("times the router Lambda out after the router's deadline and before API Gateway's 30 s", () => {
    const fn = rec.one(T.lambda);
    const config = routerConfigSchema.parse(JSON.parse(fn.inputs.environment.variables.AGENTPOOL_ROUTER_CONFIG));
    expect(config).toMatchObject({ stack, tables: tableNames(stack), deadlineMs: spec.router.deadlineMs, aws: {} });
    // Per-deployment rate limits and A/B weights reach the deployed router.
    const settings = routerApiSettings(spec);
    expect(config.rateLimits.perDeployment).toEqual(settings.rateLimits.perDeployment);
    expect(config.routing.perDeployment).toEqual(settings.routing.perDeployment);
    expect(config.endpoints.sort()).toEqual([...new Set(spec.agentTypes.map((a) => a.endpointSlug))].sort());
    expect(fn.inputs.timeout * 1000).toBeGreaterThan(config.deadlineMs);
    expect(fn.inputs.timeout).toBeLessThan(30);
    expect(rec.one(T.integration).inputs.timeoutMilliseconds).toBeLessThanOrEqual(30_000);
  });

  test("routes the v1 ask route and the others to the router Lambda with payload format 2.0", () => {
    const integration = rec.one(T.integration);
    expect(integration.inputs).toMatchObject({ integrationType: "AWS_PROXY", payloadFormatVersion: "2.0", integrationUri: rec.one(T.lambda).state.arn });
    const routes = rec.ofType(T.route);
    expect(routes.map((r) => r.inputs.routeKey)).toEqual(expect.arrayContaining(["POST /api/v1/ask/{endpoint_slug}", "GET /api/v1/agents", "GET /healthz", "$default"]));
    for (const r of routes) expect(r.inputs.target).toBe(`integrations/${integration.id}`);
    const permission = rec.one(T.permission);
    expect(permission.inputs).toMatchObject({ action: "lambda:InvokeFunction", principal: "apigateway.amazonaws.com", sourceArn: `${rec.one(T.api).state.executionArn}/*/*` });
  });

  test("throttles the API stage and writes its access log to CloudWatch", () => {
    const stage = rec.one(T.stage);
    expect(stage.inputs.name).toBe("$default");
    expect(stage.inputs.defaultRouteSettings.throttlingBurstLimit).toBeGreaterThan(0);
    expect(stage.inputs.defaultRouteSettings.throttlingRateLimit).toBeGreaterThan(0);
    const accessLogs = rec.ofType(T.logGroup).find((g) => g.state.arn === stage.inputs.accessLogSettings.destinationArn);
    expect(accessLogs).toBeDefined();
    expect(JSON.parse(stage.inputs.accessLogSettings.format)).toMatchObject({ requestId: "$context.requestId", status: "$context.status" });
  });

  test("lets the router Lambda use only this stack's tables and its log group, and send to no queue by its own role", () => {
    const doc = rolePolicyOf(rec, rec.one(T.role, "agentpool-router"));
    const tableArns = rec.ofType(T.table).map((t) => t.state.arn);
    const routerLogs = rec.ofType(T.logGroup).find((g) => g.inputs.name === `/aws/lambda/agentpool-${stack}-router`)!;
    for (const s of doc.Statement) {
      const dynamo = s.Action.every((a) => a.startsWith("dynamodb:"));
      const logs = s.Action.every((a) => a.startsWith("logs:"));
      expect(dynamo || logs).toBe(true);
      if (dynamo) expect(s.Resource!.every((r) => tableArns.includes(r))).toBe(true);
      if (logs) expect(s.Resource).toEqual([`${routerLogs.state.arn}:*`]);
    }
    expect(wildcardGrants(doc)).toEqual([]);
  });

  test("lets each queue be sent to by the router alone and consumed by its own deployment's tasks alone", () => {
    const routerArn = roleArn(rec.one(T.role, "agentpool-router"));
    for (const d of deployments) {
      const taskArn = roleArn(rec.one(T.role, `${d.team.slug}-${d.agentType.slug}-task`));
      for (const r of d.replicas) {
        const queue = rec.ofType(T.queue).find((q) => q.inputs.name === queueName(stack, r.agentId))!;
        const policies = rec.ofType(T.queuePolicy).filter((p) => p.inputs.queueUrl === queue.state.url);
        expect(policies).toHaveLength(1);
        const doc = policyOf(policies[0]!);
        expect(grants(doc)).toEqual(
          [...ROUTER_QUEUE_ACTIONS.map((a) => `${routerArn} ${a} ${queue.state.arn}`), ...WORKER_QUEUE_ACTIONS.map((a) => `${taskArn} ${a} ${queue.state.arn}`)].sort(),
        );
      }
    }
  });

  test("lets only the owning deployment's tasks move messages to a slot's dead-letter queue", () => {
    for (const d of deployments) {
      const taskArn = roleArn(rec.one(T.role, `${d.team.slug}-${d.agentType.slug}-task`));
      for (const r of d.replicas) {
        const dlq = rec.ofType(T.queue).find((q) => q.inputs.name === deadLetterQueueName(stack, r.agentId))!;
        const policies = rec.ofType(T.queuePolicy).filter((p) => p.inputs.queueUrl === dlq.state.url);
        expect(policies).toHaveLength(1);
        expect(grants(policyOf(policies[0]!))).toEqual([`${taskArn} sqs:SendMessage ${dlq.state.arn}`]);
      }
    }
  });

  test("lets a draining worker hand asks back to exactly the queues of its endpoint's replicas", () => {
    for (const d of deployments.filter((x) => x.replicas.length > 0)) {
      const peers = deployments.filter((x) => x.agentType.endpointSlug === d.agentType.endpointSlug).flatMap((x) => x.replicas);
      const arns = peers.map((r) => rec.ofType(T.queue).find((q) => q.inputs.name === queueName(stack, r.agentId))!.state.arn).sort();
      const doc = policyOf(rec.one(T.rolePolicy, `${d.team.slug}-${d.agentType.slug}-handback`));
      expect(doc.Statement).toEqual([{ Sid: "HandBackToEndpointReplicas", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: arns }]);
    }
  });

  test("gives worker tasks their tables (the key table read-only, for webhook secrets) and scale-in protection in their cluster", () => {
    const tables = tableNames(stack);
    const arnOf = (name: string) => rec.ofType(T.table).find((t) => t.inputs.name === name)!.state.arn;
    const clusterTasks = rec.one("aws:ecs/cluster:Cluster").state.arn.replace(":cluster/", ":task/") + "/*";
    for (const d of deployments) {
      const role = rec.one(T.role, `${d.team.slug}-${d.agentType.slug}-task`);
      const doc = policyOf(rec.one(T.rolePolicy, `${d.team.slug}-${d.agentType.slug}-task`));
      expect(rec.one(T.rolePolicy, `${d.team.slug}-${d.agentType.slug}-task`).inputs.role).toBe(role.id);
      const byResource = Object.fromEntries(doc.Statement.map((s) => [s.Resource!.join(","), s.Action.map((a) => a.split(":")[0]).join(",")]));
      expect(Object.keys(byResource).sort()).toEqual([arnOf(tables.threads), arnOf(tables.replicas), arnOf(tables.apiKeys), arnOf(tables.apiState), clusterTasks].sort());
      expect(byResource[clusterTasks]).toBe("ecs,ecs");
      expect(doc.Statement.find((s) => s.Resource!.includes(arnOf(tables.apiKeys)))!.Action).toEqual(["dynamodb:GetItem"]);
      expect(wildcardGrants(doc)).toEqual([]);
    }
  });

  test("uses a * resource only for ecr:GetAuthorizationToken, which supports no narrower resource", () => {
    const docs: PolicyDocument[] = [...rec.ofType(T.rolePolicy), ...rec.ofType(T.queuePolicy)].map(policyOf);
    for (const doc of docs) expect(unexpectedWildcards(doc)).toEqual([]);
    const all = docs.flatMap(wildcardGrants);
    expect(new Set(all.map((g) => `${g.action} ${g.resource}`))).toEqual(new Set(all.length ? ["ecr:GetAuthorizationToken *"] : []));
  });

  test("keeps the provider key out of plain text: a secret in Secrets Manager, an ARN in the task definition", () => {
    expect(plaintextOccurrences(rec.resources, TEST_PROVIDER_KEY)).toEqual([]);
    const versions = rec.ofType(T.secretVersion);
    const keyed = spec.providers.filter((p) => p.kind === "openai" && deployments.some((d) => d.agentType.provider === p.name));
    expect(versions).toHaveLength(keyed.length);
    for (const v of versions) {
      expect(isSecretInput(v.inputs.secretString)).toBe(true);
      expect((v.inputs.secretString as { value: string }).value).toBe(TEST_PROVIDER_KEY);
    }
    const secretArns = rec.ofType(T.secret).map((s) => s.state.arn);
    for (const d of deployments) {
      const provider = spec.providers.find((p) => p.name === d.agentType.provider)!;
      const container = containerOf(rec.one(T.taskDefinition, `${d.team.slug}-${d.agentType.slug}`));
      if (provider.kind !== "openai") continue;
      expect(container.secrets).toEqual([{ name: provider.apiKeyEnv, valueFrom: expect.any(String) }]);
      expect(secretArns).toContain(container.secrets[0]!.valueFrom);
      expect(container.environment.map((e) => e.name)).not.toContain(provider.apiKeyEnv);
      const exec = rolePolicyOf(rec, rec.one(T.role, `${d.team.slug}-${d.agentType.slug}-execution`));
      expect(exec.Statement.find((s) => s.Action.includes("secretsmanager:GetSecretValue"))!.Resource).toEqual([container.secrets[0]!.valueFrom]);
    }
  });

  // The stack file's alert settings, read here without the program's code: expected thresholds.
  const alertConfig = JSON.parse(input.config["agentpoolAws:alerts"] ?? "{}") as {
    email?: string | string[];
    queueDepth?: number;
    errorRatePercent?: number;
    p95LatencyMs?: number;
    offlineMinutes?: number;
    deployments?: Record<string, { queueDepth?: number; offlineMinutes?: number }>;
  };
  const expectedFor = (key: string) => ({
    queueDepth: alertConfig.deployments?.[key]?.queueDepth ?? alertConfig.queueDepth ?? 5,
    offlineMinutes: alertConfig.deployments?.[key]?.offlineMinutes ?? alertConfig.offlineMinutes ?? 2,
  });

  test("sends every alarm to the stack's SNS topic, on ALARM and on OK", () => {
    const topic = rec.one(T.topic);
    expect(topic.inputs.name).toBe(`agentpool-${stack}-alerts`);
    expect(topic.inputs.kmsMasterKeyId).toBeUndefined(); // CloudWatch cannot publish under the AWS-managed SNS key
    const alarms = rec.ofType(T.alarm);
    const replicas = deployments.reduce((n, d) => n + d.replicas.length, 0);
    // API error rate, p95 latency, router errors; agents offline per deployment; depth and dead letters per replica.
    expect(alarms).toHaveLength(3 + deployments.length + 2 * replicas);
    for (const a of alarms) {
      expect(a.inputs).toMatchObject({ actionsEnabled: true, alarmActions: [topic.state.arn], okActions: [topic.state.arn] });
      expect(a.inputs.name).toMatch(new RegExp(`^agentpool-${stack}-`));
    }
  });

  test("subscribes an email address to the topic only when the stack file configures one", () => {
    const emails = alertConfig.email === undefined ? [] : [alertConfig.email].flat();
    const subs = rec.ofType(T.subscription);
    expect(subs.map((s) => s.inputs.endpoint).sort()).toEqual([...emails].sort());
    for (const sub of subs) expect(sub.inputs).toMatchObject({ protocol: "email", topic: rec.one(T.topic).state.arn });
  });

  test("alarms when a deployment runs fewer tasks than desired (Container Insights) for the configured minutes", () => {
    const cluster = rec.one(T.cluster);
    expect(cluster.inputs.settings).toEqual([{ name: "containerInsights", value: "enabled" }]);
    for (const d of deployments) {
      const service = rec.one(T.service, `${d.team.slug}-${d.agentType.slug}`);
      const alarm = alarmNamed(rec, `agentpool-${stack}-${d.team.slug}-${d.agentType.slug}-agents-offline`);
      const { offlineMinutes } = expectedFor(d.key);
      expect(alarm.inputs).toMatchObject({ comparisonOperator: "GreaterThanThreshold", threshold: 0, evaluationPeriods: offlineMinutes, datapointsToAlarm: offlineMinutes });
      for (const [id, metricName] of [["desired", "DesiredTaskCount"], ["running", "RunningTaskCount"]] as const) {
        expect(queryOf(alarm, id).metric).toEqual({ namespace: "ECS/ContainerInsights", metricName, dimensions: { ClusterName: cluster.state.name, ServiceName: service.state.name }, period: 60, stat: "Average" });
      }
      const watched = alarm.inputs.metricQueries.filter((q: { returnData: boolean }) => q.returnData);
      expect(watched).toEqual([expect.objectContaining({ expression: "desired - running" })]);
    }
  });

  test("alarms on each replica queue's waiting asks (5 min above the threshold) and on any message in its dead-letter queue", () => {
    for (const d of deployments) {
      for (const r of d.replicas) {
        const depth = alarmNamed(rec, `agentpool-${stack}-${r.agentId}-queue-depth`);
        expect(depth.inputs).toMatchObject({
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: queueName(stack, r.agentId) },
          statistic: "Maximum",
          period: 60,
          evaluationPeriods: 5,
          datapointsToAlarm: 5,
          comparisonOperator: "GreaterThanThreshold",
          threshold: expectedFor(d.key).queueDepth,
        });
        const dlq = alarmNamed(rec, `agentpool-${stack}-${r.agentId}-dead-letters`);
        expect(dlq.inputs).toMatchObject({
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: deadLetterQueueName(stack, r.agentId) },
          statistic: "Maximum",
          comparisonOperator: "GreaterThanThreshold",
          threshold: 0,
        });
      }
    }
    // Every queue the stack creates is watched by exactly one alarm.
    const watched = rec.ofType(T.alarm).flatMap((a) => (a.inputs.dimensions?.QueueName ? [a.inputs.dimensions.QueueName] : []));
    expect(watched.sort()).toEqual(rec.ofType(T.queue).map((q) => q.inputs.name).sort());
  });

  test("alarms on the API's 5xx share, its p95 latency and the router Lambda's errors", () => {
    const apiId = rec.one(T.api).id;
    const rate = alarmNamed(rec, `agentpool-${stack}-api-error-rate`);
    expect(rate.inputs).toMatchObject({ comparisonOperator: "GreaterThanThreshold", threshold: alertConfig.errorRatePercent ?? 10, evaluationPeriods: 5, datapointsToAlarm: 3 });
    expect(queryOf(rate, "errors").metric).toEqual({ namespace: "AWS/ApiGateway", metricName: "5xx", dimensions: { ApiId: apiId }, period: 60, stat: "Sum" });
    expect(queryOf(rate, "requests").metric).toEqual({ namespace: "AWS/ApiGateway", metricName: "Count", dimensions: { ApiId: apiId }, period: 60, stat: "Sum" });
    expect(queryOf(rate, "error_rate")).toMatchObject({ returnData: true, expression: "IF(requests >= 5, 100 * errors / requests, 0)" });

    const latency = alarmNamed(rec, `agentpool-${stack}-api-p95-latency`);
    expect(latency.inputs).toMatchObject({ namespace: "AWS/ApiGateway", metricName: "Latency", dimensions: { ApiId: apiId }, extendedStatistic: "p95", period: 60, threshold: alertConfig.p95LatencyMs ?? 10_000, evaluationPeriods: 5, datapointsToAlarm: 3 });
    expect(latency.inputs.statistic).toBeUndefined();

    const lambdaErrors = alarmNamed(rec, `agentpool-${stack}-router-errors`);
    expect(lambdaErrors.inputs).toMatchObject({ namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: rec.one(T.lambda).inputs.name }, statistic: "Sum", threshold: 0 });
  });

  test("draws a dashboard with the API's error rate and p95 latency and, per deployment, running vs desired tasks and every queue", () => {
    const dashboard = rec.one(T.dashboard);
    expect(dashboard.inputs.dashboardName).toBe(`agentpool-${stack}`);
    const body = JSON.parse(dashboard.inputs.dashboardBody) as { widgets: { properties: { title: string; region: string; metrics: unknown[][] } }[] };
    const lines = (title: RegExp) => body.widgets.filter((w) => title.test(w.properties.title)).flatMap((w) => w.properties.metrics.map((m) => JSON.stringify(m)));
    for (const w of body.widgets) expect(w.properties.region).toBe(run.recorder.region);
    const apiId = rec.one(T.api).id;
    expect(lines(/error rate/).join()).toContain(`["AWS/ApiGateway","5xx","ApiId","${apiId}"`);
    expect(lines(/latency/).join()).toContain(`["AWS/ApiGateway","Latency","ApiId","${apiId}",{"stat":"p95"`);
    const cluster = rec.one(T.cluster).state.name;
    for (const d of deployments) {
      const service = rec.one(T.service, `${d.team.slug}-${d.agentType.slug}`).state.name;
      const tasks = lines(new RegExp(`^${d.key}: agents`));
      for (const metric of ["DesiredTaskCount", "RunningTaskCount"]) expect(tasks.join()).toContain(`["ECS/ContainerInsights","${metric}","ClusterName","${cluster}","ServiceName","${service}"`);
      const queued = lines(new RegExp(`^${d.key}: asks waiting`)).map((l) => JSON.parse(l)[3]);
      expect(queued).toEqual(d.replicas.map((r) => queueName(stack, r.agentId)));
      const dead = lines(new RegExp(`^${d.key}: dead-letter`)).map((l) => JSON.parse(l)[3]);
      expect(dead).toEqual(d.replicas.map((r) => deadLetterQueueName(stack, r.agentId)));
    }
  });

  test("exports the API base URL, the ask URL of each endpoint, the agent names, the dashboard URL and the alert topic", () => {
    const api = rec.one(T.api);
    expect(run.outputs.apiUrl).toBe(api.state.apiEndpoint);
    const endpoints = [...new Set(spec.agentTypes.map((a) => a.endpointSlug))];
    expect(run.outputs.askUrls).toEqual(Object.fromEntries(endpoints.map((e) => [e, `${api.state.apiEndpoint}/api/v1/ask/${e}`])));
    expect(run.outputs.agents).toEqual(deployments.flatMap((d) => d.replicas.map((r) => r.agentId)));
    expect(run.outputs.alertTopicArn).toBe(rec.one(T.topic).state.arn);
    expect(run.outputs.dashboardUrl).toBe(`https://${run.recorder.region}.console.aws.amazon.com/cloudwatch/home?region=${run.recorder.region}#dashboards/dashboard/agentpool-${stack}`);
  });

  test("the deployed router code and config answer GET /healthz", async () => {
    const fn = rec.one(T.lambda);
    const dir = mkdtempSync(join(tmpdir(), "agentpool-router-"));
    writeFileSync(join(dir, "index.js"), await lambdaCode(fn));
    const saved = process.env.AGENTPOOL_ROUTER_CONFIG;
    process.env.AGENTPOOL_ROUTER_CONFIG = fn.inputs.environment.variables.AGENTPOOL_ROUTER_CONFIG;
    try {
      const { handler } = require(join(dir, "index.js"));
      const res = await handler({ rawPath: "/healthz", headers: {}, requestContext: { http: { method: "GET" }, requestId: "test" }, isBase64Encoded: false });
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ status: "ok", stack });
    } finally {
      if (saved === undefined) delete process.env.AGENTPOOL_ROUTER_CONFIG;
      else process.env.AGENTPOOL_ROUTER_CONFIG = saved;
    }
  });
});

/** `principal action resource` lines of a resource policy. */
function grants(doc: PolicyDocument): string[] {
  return doc.Statement.flatMap((s) => {
    const principals = [s.Principal?.AWS ?? []].flat();
    return principals.flatMap((p) => s.Action.flatMap((a) => (s.Resource ?? []).map((r) => `${p} ${a} ${r}`)));
  }).sort();
}
