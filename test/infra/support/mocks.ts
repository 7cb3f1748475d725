/**
 * Pulumi mocks that record every resource the program registers, with computed outputs shaped like
 * AWS's (ARNs, queue URLs, API endpoints), so the program's `apply`s see realistic values.
 */
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "123456789012";
/** The marker Pulumi's RPC layer wraps secret values in (`{[SIG]: SECRET_SIG, value}`). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
  type: string;
  name: string;
  id: string;
  /** Inputs as the engine receives them (secrets still wrapped). */
  inputs: Record<string, any>;
  state: Record<string, any>;
}

export class ResourceRecorder {
  readonly resources: RecordedResource[] = [];
  readonly calls: string[] = [];
  constructor(readonly region: string) {}

  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  one(type: string, name?: string): RecordedResource {
    const found = this.ofType(type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
    return found[0]!;
  }

  mocks(): pulumi.runtime.Mocks {
    return {
      newResource: (args) => {
        const id = `${args.name}-id`;
        const state = { ...args.inputs, ...computed(args.type, args.name, id, args.inputs, this.region) };
        this.resources.push({ type: args.type, name: args.name, id, inputs: args.inputs, state });
        return { id, state };
      },
      call: (args) => {
        this.calls.push(args.token);
        switch (args.token) {
          case "aws:index/getRegion:getRegion":
            return { id: this.region, name: this.region, region: this.region, endpoint: `ec2.${this.region}.amazonaws.com` };
          case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return { id: this.region, names: ["a", "b", "c"].map((z) => `${this.region}${z}`), zoneIds: [] };
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: "TEST", id: ACCOUNT };
          case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return { id: ACCOUNT, userName: "AWS", password: "mock-ecr-token", authorizationToken: "bW9jaw==", proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.${this.region}.amazonaws.com`, expiresAt: "2099-01-01T00:00:00Z" };
          default:
            throw new Error(`unmocked invoke ${args.token}`);
        }
      },
    };
  }
}

function computed(type: string, name: string, id: string, inputs: Record<string, any>, region: string): Record<string, unknown> {
  const physical = typeof inputs.name === "string" ? inputs.name : `${name}-1a2b3c`;
  switch (type) {
    case "aws:sqs/queue:Queue":
      return { arn: `arn:aws:sqs:${region}:${ACCOUNT}:${physical}`, url: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${physical}` };
    case "aws:dynamodb/table:Table":
      return { arn: `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${physical}` };
    case "aws:iam/role:Role":
      return { arn: `arn:aws:iam::${ACCOUNT}:role/${physical}`, name: physical };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { arn: `arn:aws:logs:${region}:${ACCOUNT}:log-group:${physical}` };
    case "aws:lambda/function:Function":
      return {
        arn: `arn:aws:lambda:${region}:${ACCOUNT}:function:${physical}`,
        invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${region}:${ACCOUNT}:function:${physical}/invocations`,
      };
    case "aws:apigatewayv2/api:Api":
      return { apiEndpoint: `https://${id}.execute-api.${region}.amazonaws.com`, executionArn: `arn:aws:execute-api:${region}:${ACCOUNT}:${id}` };
    case "aws:ecr/repository:Repository":
      return { arn: `arn:aws:ecr:${region}:${ACCOUNT}:repository/${physical}`, registryId: ACCOUNT, repositoryUrl: `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${physical}` };
    case "docker-build:index:Image": {
      const digest = `sha256:${"ab".repeat(32)}`;
      return { digest, ref: `${String(inputs.tags?.[0] ?? "image")}@${digest}` };
    }
    case "aws:secretsmanager/secret:Secret":
      return { arn: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${inputs.namePrefix ?? name}AbCdEf` };
    case "aws:ecs/cluster:Cluster":
      return { arn: `arn:aws:ecs:${region}:${ACCOUNT}:cluster/${physical}`, name: physical };
    case "aws:ecs/taskDefinition:TaskDefinition":
      return { arn: `arn:aws:ecs:${region}:${ACCOUNT}:task-definition/${inputs.family}:1`, revision: 1 };
    case "aws:ecs/service:Service":
      return { name: physical };
    case "aws:sns/topic:Topic":
      return { arn: `arn:aws:sns:${region}:${ACCOUNT}:${physical}` };
    case "aws:sns/topicSubscription:TopicSubscription":
      return { arn: `${inputs.topic}:${id}`, pendingConfirmation: inputs.protocol === "email" };
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return { arn: `arn:aws:cloudwatch:${region}:${ACCOUNT}:alarm:${physical}` };
    case "aws:cloudwatch/dashboard:Dashboard":
      return { dashboardArn: `arn:aws:cloudwatch::${ACCOUNT}:dashboard/${inputs.dashboardName}` };
    default:
      return { arn: `arn:aws:mock:${region}:${ACCOUNT}:${type}/${name}` };
  }
}

/** True if `value` is a secret as the engine sees it. */
export function isSecretInput(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Paths (`type name.prop.sub`) where `needle` appears in an input outside a secret wrapper. */
export function plaintextOccurrences(resources: RecordedResource[], needle: string): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (isSecretInput(value)) return;
    if (typeof value === "string") {
      if (value.includes(needle)) found.push(path);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`));
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
    }
  };
  for (const r of resources) walk(r.inputs, `${r.type} ${r.name}`);
  return found;
}
