/** Reading the recorded resource graph: policies, the resources of a deployment, the Lambda's code. */
import type { PolicyDocument } from "../../../infra/lib/policies";
import type { RecordedResource, ResourceRecorder } from "./mocks";

export const T = {
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  service: "aws:ecs/service:Service",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  table: "aws:dynamodb/table:Table",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  lambda: "aws:lambda/function:Function",
  permission: "aws:lambda/permission:Permission",
  api: "aws:apigatewayv2/api:Api",
  integration: "aws:apigatewayv2/integration:Integration",
  route: "aws:apigatewayv2/route:Route",
  stage: "aws:apigatewayv2/stage:Stage",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  secret: "aws:secretsmanager/secret:Secret",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  image: "docker-build:index:Image",
  repository: "aws:ecr/repository:Repository",
  vpc: "aws:ec2/vpc:Vpc",
  tableItem: "aws:dynamodb/tableItem:TableItem",
  cluster: "aws:ecs/cluster:Cluster",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
  topic: "aws:sns/topic:Topic",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
} as const;

/** The alarm whose physical name is `name`. */
export function alarmNamed(rec: ResourceRecorder, name: string): RecordedResource {
  const found = rec.ofType(T.alarm).filter((a) => a.inputs.name === name);
  if (found.length !== 1) throw new Error(`expected one alarm named ${name}, found ${found.length} (alarms: ${rec.ofType(T.alarm).map((a) => a.inputs.name).join(", ")})`);
  return found[0]!;
}

/** A metric-math alarm's query by id. */
export function queryOf(alarm: RecordedResource, id: string): { id: string; expression?: string; returnData?: boolean; metric?: { namespace: string; metricName: string; dimensions: Record<string, string>; period: number; stat: string } } {
  const q = (alarm.inputs.metricQueries ?? []).find((x: { id: string }) => x.id === id);
  if (!q) throw new Error(`alarm ${alarm.inputs.name} has no query ${id}`);
  return q;
}

export function policyOf(r: RecordedResource): PolicyDocument {
  return JSON.parse(r.inputs.policy) as PolicyDocument;
}

/** The inline policy attached to a role (RolePolicy `role` is the role's id). */
export function rolePolicyOf(rec: ResourceRecorder, role: RecordedResource): PolicyDocument {
  const attached = rec.ofType(T.rolePolicy).filter((p) => p.inputs.role === role.id);
  if (attached.length !== 1) throw new Error(`expected one inline policy on role ${role.name}, found ${attached.length}`);
  return policyOf(attached[0]!);
}

export function roleArn(role: RecordedResource): string {
  return role.state.arn as string;
}

export interface ContainerDefinition {
  name: string;
  image: string;
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  logConfiguration: { options: Record<string, string> };
}

export function containerOf(taskDefinition: RecordedResource): ContainerDefinition {
  const defs = JSON.parse(taskDefinition.inputs.containerDefinitions) as ContainerDefinition[];
  if (defs.length !== 1) throw new Error(`expected one container, found ${defs.length}`);
  return defs[0]!;
}

export async function lambdaCode(fn: RecordedResource): Promise<string> {
  const assets = (await fn.inputs.code.assets) as Record<string, { text: Promise<string> }>;
  return await assets["index.js"]!.text;
}
