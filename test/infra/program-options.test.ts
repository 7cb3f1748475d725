/**
 * The stack program's behaviour on edited stack files: scaling, missing or plain keys, a prebuilt
 * image, an existing network, a bootstrap client key.
 */
import { join } from "node:path";
import { hashApiKey } from "../../runtime/core/keys";
import { isSecretInput, plaintextOccurrences } from "./support/mocks";
import { T } from "./support/graph";
import { readStackFile, runStack, STACKS_DIR, withProviderKeys, type StackConfigInput } from "./support/stack-run";

const dev = () => withProviderKeys(readStackFile(join(STACKS_DIR, "Pulumi.dev.yaml")));

function edit(input: StackConfigInput, changes: Record<string, unknown>, secret: string[] = []): StackConfigInput {
  const config = { ...input.config };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete config[k];
    else config[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return { ...input, config, secretKeys: [...input.secretKeys, ...secret] };
}

function withReplicas(input: StackConfigInput, desiredReplicas: number): StackConfigInput {
  const teams = JSON.parse(input.config["agentpool:teams"]!) as { deployments: { desiredReplicas: number }[] }[];
  teams[0]!.deployments[0]!.desiredReplicas = desiredReplicas;
  return edit(input, { "agentpool:teams": teams });
}

const urnsOf = (resources: { type: string; name: string }[]) => new Set(resources.map((r) => `${r.type}::${r.name}`));

test("scaling a deployment from 3 to 5 replicas adds exactly two queue pairs, their alarms and dashboard lines, and changes its desired count", async () => {
  const before = (await runStack(withReplicas(dev(), 3))).recorder;
  const after = (await runStack(withReplicas(dev(), 5))).recorder;

  const added = [...urnsOf(after.resources)].filter((u) => !urnsOf(before.resources).has(u));
  const removed = [...urnsOf(before.resources)].filter((u) => !urnsOf(after.resources).has(u));
  expect(removed).toEqual([]);
  expect(added.sort()).toEqual(
    [
      ...[4, 5]
        .flatMap((n) => [`support-team-customer-support-${n}`, `support-team-customer-support-${n}-dlq`])
        .flatMap((name) => [`${T.queue}::${name}`, `${T.queuePolicy}::${name}`]),
      ...[4, 5].flatMap((n) => [`${T.alarm}::agentpool-support-team-customer-support-${n}-depth`, `${T.alarm}::agentpool-support-team-customer-support-${n}-dlq`]),
    ].sort(),
  );
  const newAlarms = after.ofType(T.alarm).filter((a) => !before.ofType(T.alarm).some((b) => b.name === a.name));
  expect(newAlarms.map((a) => a.inputs.dimensions.QueueName).sort()).toEqual([
    "agentpool-dev-support-team-customer-support-4",
    "agentpool-dev-support-team-customer-support-4-dlq",
    "agentpool-dev-support-team-customer-support-5",
    "agentpool-dev-support-team-customer-support-5-dlq",
  ]);
  // Existing alarms are untouched; the dashboard (same resource) now draws the new queues too.
  for (const a of before.ofType(T.alarm)) expect(after.one(T.alarm, a.name).inputs).toEqual(a.inputs);
  const queueLines = (rec: typeof before) =>
    (JSON.parse(rec.one(T.dashboard).inputs.dashboardBody).widgets as { properties: { title: string; metrics: string[][] } }[])
      .filter((w) => w.properties.title.startsWith("support-team/customer-support: asks waiting"))
      .flatMap((w) => w.properties.metrics.map((m) => m[3]));
  expect(queueLines(before)).toHaveLength(3);
  expect(queueLines(after)).toEqual([1, 2, 3, 4, 5].map((n) => `agentpool-dev-support-team-customer-support-${n}`));
  const newQueues = after.ofType(T.queue).filter((q) => !before.ofType(T.queue).some((b) => b.name === q.name));
  expect(newQueues.map((q) => q.inputs.name).sort()).toEqual([
    "agentpool-dev-support-team-customer-support-4",
    "agentpool-dev-support-team-customer-support-4-dlq",
    "agentpool-dev-support-team-customer-support-5",
    "agentpool-dev-support-team-customer-support-5-dlq",
  ]);
  // The existing queues keep their inputs: nothing about them is replaced.
  for (const q of before.ofType(T.queue)) expect(after.one(T.queue, q.name).inputs).toEqual(q.inputs);
  // What changes in place: the service's count, the task definition (its slots), the hand-back grant.
  expect(after.one(T.rolePolicy, "support-team-customer-support-handback").inputs.policy).not.toEqual(before.one(T.rolePolicy, "support-team-customer-support-handback").inputs.policy);
  expect(before.one(T.service).inputs.desiredCount).toBe(3);
  expect(after.one(T.service).inputs.desiredCount).toBe(5);
});

test("a stack whose deployed openai provider has no key fails with the command that sets it", async () => {
  const input = edit(dev(), { "agentpoolAws:providerKeys": undefined });
  await expect(runStack(input)).rejects.toThrow(
    /provider "openai" has no API key on AWS; set it with: pulumi config set --secret --path 'agentpoolAws:providerKeys\.openai' <api key>/,
  );
});

test("a provider used by no deployment needs no key", async () => {
  const input = edit(dev(), { "agentpoolAws:providerKeys": undefined, "agentpool:teams": [] });
  const { recorder } = await runStack(input);
  expect(recorder.ofType(T.secret)).toEqual([]);
  expect(recorder.ofType(T.service)).toEqual([]);
});

test("an invalid pool declaration fails with the schema's path and message", async () => {
  const input = edit(dev(), { "agentpool:teams": [{ name: "X", slug: "x", deployments: [{ agentType: "nope", desiredReplicas: 1 }] }] });
  await expect(runStack(input)).rejects.toThrow(/teams\[0\]\.deployments\[0\]\.agentType: unknown agent type "nope"/);
});

test("an unknown AWS setting fails instead of being ignored", async () => {
  const input = edit(dev(), { "agentpoolAws:wokerImage": "typo" });
  await expect(runStack(input)).rejects.toThrow(/agentpoolAws:.*wokerImage/);
});

test("a prebuilt worker image skips the build and the repository, and tasks pull only its repository", async () => {
  const image = "210987654321.dkr.ecr.us-east-1.amazonaws.com/team/agentpool-worker:1.4.2";
  const { recorder } = await runStack(edit(dev(), { "agentpoolAws:workerImage": image }));
  expect(recorder.ofType(T.image)).toEqual([]);
  expect(recorder.ofType(T.repository)).toEqual([]);
  expect(JSON.parse(recorder.one(T.taskDefinition).inputs.containerDefinitions)[0].image).toBe(image);
  const exec = JSON.parse(recorder.one(T.rolePolicy, "support-team-customer-support-execution").inputs.policy);
  const pull = exec.Statement.find((s: { Sid?: string }) => s.Sid === "PullWorkerImage");
  expect(pull.Resource).toEqual(["arn:aws:ecr:us-east-1:210987654321:repository/team/agentpool-worker"]);
});

test("without a prebuilt image the worker is built for arm64 from docker/worker.Dockerfile and pushed to the stack's repository", async () => {
  const { recorder } = await runStack(dev());
  const image = recorder.one(T.image);
  const repo = recorder.one(T.repository);
  expect(repo.inputs.name).toBe("agentpool-dev-worker");
  expect(image.inputs).toMatchObject({ push: true, platforms: ["linux/arm64"] });
  expect(image.inputs.dockerfile.location).toMatch(/docker\/worker\.Dockerfile$/);
  expect(image.inputs.tags).toEqual([`${repo.state.repositoryUrl}:latest`]);
  expect(JSON.parse(recorder.one(T.taskDefinition).inputs.containerDefinitions)[0].image).toBe(image.state.ref);
  expect(recorder.one(T.taskDefinition).inputs.runtimePlatform.cpuArchitecture).toBe("ARM64");
});

test("given subnets and security groups, no VPC is created and the services use them", async () => {
  const network = { subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-1"], assignPublicIp: false };
  const { recorder } = await runStack(edit(dev(), { "agentpoolAws:network": network }));
  expect(recorder.ofType(T.vpc)).toEqual([]);
  expect(recorder.one(T.service).inputs.networkConfiguration).toEqual({ subnets: ["subnet-a", "subnet-b"], securityGroups: ["sg-1"], assignPublicIp: false });
});

test("a bootstrap client key is stored only as its hash, and the item is a secret", async () => {
  const key = "cust_bootstrapBOOTSTRAPbootstrap123";
  const { recorder } = await runStack(edit(dev(), { "agentpoolAws:bootstrapApiKey": key }, ["agentpoolAws:bootstrapApiKey"]));
  const item = recorder.one(T.tableItem);
  expect(isSecretInput(item.inputs.item)).toBe(true);
  const stored = JSON.parse((item.inputs.item as { value: string }).value);
  expect(stored.key_hash).toEqual({ S: hashApiKey(key) });
  expect(plaintextOccurrences(recorder.resources, key)).toEqual([]);
});

describe("alerts settings (agentpoolAws:alerts)", () => {
  test("alert emails subscribe to the topic; stack-wide thresholds apply to every alarm, a deployment's own to its alarms only", async () => {
    const alerts = {
      email: ["oncall@example.com", "lead@example.com"],
      queueDepth: 7,
      errorRatePercent: 2.5,
      p95LatencyMs: 20_000,
      offlineMinutes: 4,
      deployments: { "support-team/customer-support": { offlineMinutes: 10 } },
    };
    const { recorder } = await runStack(edit(dev(), { "agentpoolAws:alerts": alerts }));
    const topicArn = recorder.one(T.topic).state.arn;
    expect(recorder.ofType(T.subscription).map((s) => s.inputs).sort((a, b) => a.endpoint.localeCompare(b.endpoint))).toEqual([
      { topic: topicArn, protocol: "email", endpoint: "lead@example.com" },
      { topic: topicArn, protocol: "email", endpoint: "oncall@example.com" },
    ]);
    const byName = (n: string) => recorder.ofType(T.alarm).find((a) => a.inputs.name === `agentpool-dev-${n}`)!.inputs;
    expect(byName("api-error-rate").threshold).toBe(2.5);
    expect(byName("api-p95-latency").threshold).toBe(20_000);
    expect([1, 2, 3].map((n) => byName(`support-team-customer-support-${n}-queue-depth`).threshold)).toEqual([7, 7, 7]);
    expect(byName("support-team-customer-support-agents-offline")).toMatchObject({ evaluationPeriods: 10, datapointsToAlarm: 10 });
  });

  test("a deployment's offline time declared in the pool spec sets its offline alarm's window, in whole minutes", async () => {
    const teams = JSON.parse(dev().config["agentpool:teams"]!);
    teams[0].deployments[0].alerts = { offlineForSeconds: 150 };
    const { recorder } = await runStack(edit(dev(), { "agentpool:teams": teams }));
    const offline = recorder.ofType(T.alarm).find((a) => a.inputs.name === "agentpool-dev-support-team-customer-support-agents-offline")!;
    expect(offline.inputs).toMatchObject({ evaluationPeriods: 3, datapointsToAlarm: 3 });
  });

  test("thresholds for a deployment the stack does not declare fail with the deployments it does", async () => {
    const input = edit(dev(), { "agentpoolAws:alerts": { deployments: { "support-team/sales": { queueDepth: 3 } } } });
    await expect(runStack(input)).rejects.toThrow(/agentpoolAws:alerts\.deployments: "support-team\/sales" is not a deployment of this stack; use one of "support-team\/customer-support"/);
  });

  test("an invalid alert setting fails with its path", async () => {
    await expect(runStack(edit(dev(), { "agentpoolAws:alerts": { email: "not-an-address" } }))).rejects.toThrow(/agentpoolAws:alerts\.email/);
    await expect(runStack(edit(dev(), { "agentpoolAws:alerts": { deployments: { "support-team/customer-support": { p95LatencyMs: 1 } } } }))).rejects.toThrow(/agentpoolAws:alerts\.deployments/);
  });
});
