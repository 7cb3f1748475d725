/** The provisioner's pure helpers, without Pulumi: IAM documents, sizing, names, network, config. */
import {
  deadLetterQueuePolicy,
  ecrRepositoryArnFromImage,
  handBackPolicy,
  executionPolicy,
  replicaQueuePolicy,
  routerPolicy,
  unexpectedWildcards,
  wildcardGrants,
  workerTaskPolicy,
} from "../../infra/lib/policies";
import { checkTaskSize, defaultTaskSize, lambdaTimeoutSeconds } from "../../infra/lib/sizing";
import { checkPoolName, routerFunctionName } from "../../infra/lib/names";
import { subnetCidrs } from "../../infra/lib/network";
import { withDefaults } from "../../infra/lib/defaults";
import { checkProviderKeys, parseConfigValue, plaintextSecrets, providersNeedingKeys, readStackConfig } from "../../infra/config";
import { bootstrapKeyItem, routeSlug } from "../../infra/components/platform";
import { hashApiKey } from "../../runtime/core/keys";

const tables = { threads: "arn:t", replicas: "arn:r", apiKeys: "arn:k", apiState: "arn:s" };

describe("IAM documents", () => {
  test("the router may use its four tables and write its own log streams, nothing else", () => {
    const doc = routerPolicy({ tables, logGroupArn: "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/x" });
    expect(doc.Statement.flatMap((s) => s.Resource)).toEqual(["arn:t", "arn:r", "arn:k", "arn:s", "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/x:*"]);
    expect(doc.Statement.find((s) => s.Sid === "ApiKeys")!.Action).toEqual(["dynamodb:GetItem", "dynamodb:UpdateItem"]);
    expect(doc.Statement.find((s) => s.Sid === "ApiState")!.Action).not.toContain("dynamodb:Scan");
    expect(doc.Statement.flatMap((s) => s.Action).some((a) => a.startsWith("sqs:"))).toBe(false);
  });

  test("a worker task may use its tables (read-only on keys), and protect its own cluster's tasks from scale-in", () => {
    const doc = workerTaskPolicy({ tables, clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/agentpool-1a2b" });
    expect(doc.Statement.flatMap((s) => s.Resource)).toEqual(["arn:t", "arn:r", "arn:k", "arn:s", "arn:aws:ecs:us-east-1:123456789012:task/agentpool-1a2b/*"]);
    expect(doc.Statement.find((s) => s.Sid === "ApiKeys")!.Action).toEqual(["dynamodb:GetItem"]);
    expect(doc.Statement.find((s) => s.Sid === "ScaleInProtection")!.Action).toEqual(["ecs:GetTaskProtection", "ecs:UpdateTaskProtection"]);
  });

  test("a draining worker may send to the queues of its endpoint's replicas, listed one by one", () => {
    expect(handBackPolicy(["arn:q2", "arn:q1"]).Statement).toEqual([{ Sid: "HandBackToEndpointReplicas", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: ["arn:q1", "arn:q2"] }]);
    const many = Array.from({ length: 200 }, (_, i) => `arn:aws:sqs:us-east-1:123456789012:agentpool-prod-team-agent-${i}`);
    expect(() => handBackPolicy(many)).toThrow(/inline policy limit/);
  });

  test("only the owning deployment's tasks may move messages to a dead-letter queue", () => {
    expect(deadLetterQueuePolicy({ queueArn: "arn:dlq", workerRoleArn: "arn:worker" }).Statement).toEqual([
      { Sid: "OwnerDeadLetters", Effect: "Allow", Principal: { AWS: "arn:worker" }, Action: ["sqs:SendMessage"], Resource: ["arn:dlq"] },
    ]);
  });

  test("a queue lets the router send and its owner receive, delete and extend visibility", () => {
    const doc = replicaQueuePolicy({ queueArn: "arn:q", routerRoleArn: "arn:router", workerRoleArn: "arn:worker" });
    expect(doc.Statement.map((s) => [s.Principal!.AWS, s.Action, s.Resource])).toEqual([
      ["arn:router", ["sqs:SendMessage"], ["arn:q"]],
      ["arn:worker", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"], ["arn:q"]],
    ]);
  });

  test("the execution role's only * is ecr:GetAuthorizationToken, and only when pulling from ECR", () => {
    const withEcr = executionPolicy({ logGroupArn: "arn:lg", secretArns: ["arn:s"], ecrRepositoryArn: "arn:repo" });
    expect(wildcardGrants(withEcr)).toEqual([{ action: "ecr:GetAuthorizationToken", resource: "*" }]);
    expect(unexpectedWildcards(withEcr)).toEqual([]);
    const public_ = executionPolicy({ logGroupArn: "arn:lg", secretArns: [] });
    expect(wildcardGrants(public_)).toEqual([]);
    expect(public_.Statement.map((s) => s.Sid)).toEqual(["WriteOwnLogs"]);
  });

  test("any other wildcard is reported", () => {
    const doc = { Version: "2012-10-17" as const, Statement: [{ Effect: "Allow" as const, Action: ["sqs:*"], Resource: ["arn:q"] }, { Effect: "Allow" as const, Action: ["dynamodb:GetItem"], Resource: ["*"] }] };
    expect(unexpectedWildcards(doc)).toEqual([{ action: "sqs:*", resource: "arn:q" }, { action: "dynamodb:GetItem", resource: "*" }]);
  });

  test("an ECR image URI names its repository; other registries need no ECR permission", () => {
    expect(ecrRepositoryArnFromImage("123456789012.dkr.ecr.eu-west-1.amazonaws.com/agentpool-worker:latest@sha256:" + "a".repeat(64))).toBe(
      "arn:aws:ecr:eu-west-1:123456789012:repository/agentpool-worker",
    );
    expect(ecrRepositoryArnFromImage("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/worker")).toBe("arn:aws:ecr:us-east-1:123456789012:repository/team/worker");
    expect(ecrRepositoryArnFromImage("ghcr.io/acme/agentpool-worker:1.0")).toBeUndefined();
  });
});

describe("sizing", () => {
  test("the Lambda outlives the router's deadline by a second and stays under API Gateway's 30 s", () => {
    expect(lambdaTimeoutSeconds(25_000)).toBe(26);
    expect(lambdaTimeoutSeconds(28_000)).toBe(29);
    expect(lambdaTimeoutSeconds(100)).toBe(2);
    expect(() => lambdaTimeoutSeconds(28_500)).toThrow(/API Gateway's 30 s integration limit/);
  });

  test("worker tasks get valid Fargate sizes, and invalid ones are refused with the valid choices", () => {
    for (const c of [1, 2, 4, 8, 16]) expect(checkTaskSize(defaultTaskSize(c))).toEqual(defaultTaskSize(c));
    expect(() => checkTaskSize({ cpu: 256, memory: 4096 })).toThrow(/use one of 512, 1024, 2048/);
    expect(() => checkTaskSize({ cpu: 300, memory: 512 })).toThrow(/not a Fargate size/);
  });
});

describe("names and network", () => {
  test("pool names must fit AWS resource names", () => {
    expect(checkPoolName("prod-us-east-1")).toBe("prod-us-east-1");
    expect(() => checkPoolName("Prod_1")).toThrow(/lowercase letters, digits or dashes/);
    expect(routerFunctionName("prod-us-east-1")).toBe("agentpool-prod-us-east-1-router");
  });

  test("the VPC is split into /20 subnets from its start", () => {
    expect(subnetCidrs("10.40.0.0/16", 2)).toEqual(["10.40.0.0/20", "10.40.16.0/20"]);
    expect(() => subnetCidrs("10.0.0.0/8", 2)).toThrow(/between \/16/);
  });

  test("route keys become resource names", () => {
    expect(routeSlug("POST /api/v1/ask/{endpoint_slug}")).toBe("post-api-v1-ask-endpoint-slug");
    expect(routeSlug("$default")).toBe("default");
  });

  test("defaults survive args that are explicitly undefined", () => {
    expect(withDefaults({ a: 1, b: 2 }, { a: undefined, b: 3 })).toEqual({ a: 1, b: 3 });
  });
});

describe("stack config", () => {
  const flat = {
    "aws:region": "eu-west-1",
    "agentpool:providers": JSON.stringify([{ name: "openai", kind: "openai" }, { name: "sim", kind: "simulator" }]),
    "agentpool:agentTypes": JSON.stringify([{ name: "S", slug: "s", endpointSlug: "s", systemPrompt: "p", provider: "openai", model: "m" }]),
    "agentpool:teams": JSON.stringify([{ name: "T", slug: "t", deployments: [{ agentType: "s", desiredReplicas: 2 }] }]),
    "agentpoolAws:logRetentionDays": "14",
  };

  test("splits the pool declaration from the AWS settings and reads numbers set as text", () => {
    const { spec, settings } = readStackConfig(flat, "test");
    expect(spec.teams[0]!.deployments[0]!.desiredReplicas).toBe(2);
    expect(settings.logRetentionDays).toBe(14);
    expect(parseConfigValue("us-east-1")).toBe("us-east-1");
  });

  test("a deployed openai provider without a key is an error that names the command", () => {
    const { spec, settings } = readStackConfig(flat, "test");
    expect(providersNeedingKeys(spec)).toEqual(["openai"]);
    expect(() => checkProviderKeys(spec, settings, "test")).toThrow(/pulumi config set --secret --path 'agentpoolAws:providerKeys\.openai' <api key>/);
    const keyed = readStackConfig({ ...flat, "agentpoolAws:providerKeys": JSON.stringify({ openai: "sk" }) }, "test");
    expect(() => checkProviderKeys(keyed.spec, keyed.settings, "test")).not.toThrow();
  });

  test("secret settings stored without --secret are reported", () => {
    expect(plaintextSecrets({ "agentpoolAws:providerKeys": "{}" }, () => false)).toEqual(["agentpoolAws:providerKeys"]);
    expect(plaintextSecrets({ "agentpoolAws:providerKeys": "{}" }, () => true)).toEqual([]);
  });

  test("the bootstrap key is stored as the key store stores keys: by hash", () => {
    const key = "cust_abcdefghijklmnopqrstuvwxyz";
    expect(JSON.parse(bootstrapKeyItem(key))).toMatchObject({ key_hash: { S: hashApiKey(key) }, prefix: { S: "cust_abcd" } });
    expect(bootstrapKeyItem(key)).not.toContain(key);
    expect(() => bootstrapKeyItem("not-a-key")).toThrow(/cust_/);
  });
});
