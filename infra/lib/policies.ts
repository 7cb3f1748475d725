/**
 * IAM policy documents of a pool, as plain functions of ARNs: the components only fill in the
 * ARNs; what each principal may do is decided (and unit-tested) here.
 *
 * Who may do what:
 *   router Lambda  → its three tables (only the actions the router code issues), its log group
 *   worker task    → threads + replicas tables; ECS scale-in protection of its cluster's tasks;
 *                    its own queues via each queue's resource policy; on drain, sending to the
 *                    queues of every replica of its endpoint (hand-back, an identity policy)
 *   task execution → pull the worker image, write the deployment's log group, read the provider
 *                    key secrets the deployment uses
 *   replica queue  → SendMessage for the router role, Receive/Delete/ChangeVisibility for the
 *                    task role of the deployment that owns the slot
 *   dead letters   → SendMessage for the owning deployment's task role (a message that cannot be
 *                    answered is moved there with a failed reply); SQS redrive needs no grant
 *
 * Queue access is granted by queue policies (resource-based, same account) instead of identity
 * policies: a queue's policy names exactly the two roles that use it, stays 1 statement per role
 * however many replicas a stack has, and scaling a deployment changes no role. An identity policy
 * listing every queue ARN would hit IAM's 10,240-character inline-policy limit at ~120 replicas.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: { AWS?: string | string[]; Service?: string | string[] };
  Action: string[];
  Resource?: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export interface TableArns {
  threads: string;
  replicas: string;
  apiKeys: string;
  apiState: string;
}

/** DynamoDB actions the router code issues, per table (runtime/router, runtime/aws). */
export const ROUTER_TABLE_ACTIONS: Record<keyof TableArns, string[]> = {
  threads: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
  replicas: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"],
  // Lookup, and "last used" (a conditional update at most once a minute per key).
  apiKeys: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
  // Rate-limit windows, Idempotency-Keys (claimed, stored, released), webhook callbacks.
  apiState: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
};

/** DynamoDB actions the agent worker issues (thread history, replies, its registry row, webhook deliveries). */
export const WORKER_TABLE_ACTIONS: Record<"threads" | "replicas" | "apiKeys" | "apiState", string[]> = {
  threads: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchWriteItem"],
  replicas: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
  // The asking key's webhook secret, to sign a delivery.
  apiKeys: ["dynamodb:GetItem"],
  // The callback record of an async ask: claimed, attempts, status.
  apiState: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
};

export const ROUTER_QUEUE_ACTIONS = ["sqs:SendMessage"];
export const WORKER_QUEUE_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"];
export const TASK_PROTECTION_ACTIONS = ["ecs:GetTaskProtection", "ecs:UpdateTaskProtection"];
/** An identity policy's ARNs must stay under IAM's 10,240-character inline limit per role. */
export const MAX_INLINE_POLICY_CHARS = 10_240;
export const ECR_PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"];

/**
 * The only `*` resources in the pool, each because AWS offers no narrower resource for the action.
 * `ecr:GetAuthorizationToken` returns a registry-wide token and supports no resource-level
 * permissions: https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html
 */
export const REQUIRED_WILDCARDS: ReadonlyArray<{ action: string; reason: string }> = [
  { action: "ecr:GetAuthorizationToken", reason: "ECR auth tokens are registry-wide; the action supports no resource-level permissions" },
];

export function assumeRolePolicy(service: "lambda.amazonaws.com" | "ecs-tasks.amazonaws.com"): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: ["sts:AssumeRole"] }],
  };
}

/** Log events of one log group: its streams (`<arn>:*`), never other groups. */
function logStatement(logGroupArn: string): PolicyStatement {
  return { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${stripStar(logGroupArn)}:*`] };
}

function stripStar(arn: string): string {
  return arn.endsWith(":*") ? arn.slice(0, -2) : arn;
}

export function routerPolicy(args: { tables: TableArns; logGroupArn: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "Threads", Effect: "Allow", Action: ROUTER_TABLE_ACTIONS.threads, Resource: [args.tables.threads] },
      { Sid: "ReplicaRegistry", Effect: "Allow", Action: ROUTER_TABLE_ACTIONS.replicas, Resource: [args.tables.replicas] },
      { Sid: "ApiKeys", Effect: "Allow", Action: ROUTER_TABLE_ACTIONS.apiKeys, Resource: [args.tables.apiKeys] },
      { Sid: "ApiState", Effect: "Allow", Action: ROUTER_TABLE_ACTIONS.apiState, Resource: [args.tables.apiState] },
      logStatement(args.logGroupArn),
    ],
  };
}

/** `arn:…:cluster/NAME` → `arn:…:task/NAME/*`: the tasks of one cluster. */
export function clusterTasksArn(clusterArn: string): string {
  const m = /^(arn:[^:]+:ecs:[^:]*:\d*:)cluster\/(.+)$/.exec(clusterArn);
  if (!m) throw new Error(`"${clusterArn}" is not an ECS cluster ARN`);
  return `${m[1]}task/${m[2]}/*`;
}

/**
 * The worker's identity policy: tables, and scale-in protection of its own cluster's tasks (the
 * ECS agent endpoint acts with the task role:
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-scale-in-protection-endpoint.html).
 * Its queues grant it access themselves.
 */
export function workerTaskPolicy(args: { tables: TableArns; clusterArn: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "Threads", Effect: "Allow", Action: WORKER_TABLE_ACTIONS.threads, Resource: [args.tables.threads] },
      { Sid: "ReplicaRegistry", Effect: "Allow", Action: WORKER_TABLE_ACTIONS.replicas, Resource: [args.tables.replicas] },
      { Sid: "ApiKeys", Effect: "Allow", Action: WORKER_TABLE_ACTIONS.apiKeys, Resource: [args.tables.apiKeys] },
      { Sid: "ApiState", Effect: "Allow", Action: WORKER_TABLE_ACTIONS.apiState, Resource: [args.tables.apiState] },
      { Sid: "ScaleInProtection", Effect: "Allow", Action: TASK_PROTECTION_ACTIONS, Resource: [clusterTasksArn(args.clusterArn)] },
    ],
  };
}

/**
 * A draining worker hands the asks still queued for its slot to running replicas of the same
 * endpoint (runtime/agent/worker.ts handBack): it may send to exactly those queues.
 */
export function handBackPolicy(endpointQueueArns: string[]): PolicyDocument {
  const doc: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [{ Sid: "HandBackToEndpointReplicas", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [...endpointQueueArns].sort() }],
  };
  const size = JSON.stringify(doc).length;
  if (size > MAX_INLINE_POLICY_CHARS / 2) {
    throw new Error(`the hand-back policy of ${endpointQueueArns.length} queues (${size} chars) would crowd IAM's inline policy limit; split the endpoint across fewer replicas`);
  }
  return doc;
}

/** What ECS itself needs to start a deployment's task (the task execution role). */
export function executionPolicy(args: { logGroupArn: string; secretArns: string[]; ecrRepositoryArn?: string }): PolicyDocument {
  const statements: PolicyStatement[] = [logStatement(args.logGroupArn)];
  if (args.ecrRepositoryArn) {
    statements.push(
      { Sid: "EcrAuth", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
      { Sid: "PullWorkerImage", Effect: "Allow", Action: ECR_PULL_ACTIONS, Resource: [args.ecrRepositoryArn] },
    );
  }
  if (args.secretArns.length > 0) {
    statements.push({ Sid: "ProviderKeys", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [...args.secretArns] });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/** A replica queue's resource policy: the router sends, the owning deployment's tasks consume. */
export function replicaQueuePolicy(args: { queueArn: string; routerRoleArn: string; workerRoleArn: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "RouterSends", Effect: "Allow", Principal: { AWS: args.routerRoleArn }, Action: ROUTER_QUEUE_ACTIONS, Resource: [args.queueArn] },
      { Sid: "OwnerConsumes", Effect: "Allow", Principal: { AWS: args.workerRoleArn }, Action: WORKER_QUEUE_ACTIONS, Resource: [args.queueArn] },
    ],
  };
}

/** A dead-letter queue's resource policy: only the owning deployment's tasks move messages there. */
export function deadLetterQueuePolicy(args: { queueArn: string; workerRoleArn: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "OwnerDeadLetters", Effect: "Allow", Principal: { AWS: args.workerRoleArn }, Action: ["sqs:SendMessage"], Resource: [args.queueArn] }],
  };
}

/** `action on resource` pairs that use a wildcard action or a bare `*` resource. */
export function wildcardGrants(doc: PolicyDocument): { action: string; resource: string }[] {
  const found: { action: string; resource: string }[] = [];
  for (const s of doc.Statement) {
    for (const action of s.Action) {
      for (const resource of s.Resource ?? ["(none)"]) {
        if (action.includes("*") || resource === "*") found.push({ action, resource });
      }
    }
  }
  return found;
}

/** Wildcard grants that are not in REQUIRED_WILDCARDS. */
export function unexpectedWildcards(doc: PolicyDocument): { action: string; resource: string }[] {
  const allowed = new Set(REQUIRED_WILDCARDS.map((w) => w.action));
  return wildcardGrants(doc).filter((g) => !(g.resource === "*" && allowed.has(g.action)));
}

/**
 * The repository ARN of an ECR image URI (`<acct>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]`),
 * or undefined for images from other registries (which need no ECR permissions).
 */
export function ecrRepositoryArnFromImage(image: string, partition = "aws"): string | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._\/-]+?)(?::[\w.-]+)?(?:@sha256:[a-f0-9]{64})?$/.exec(image);
  if (!m) return undefined;
  return `arn:${partition}:ecr:${m[2]}:${m[1]}:repository/${m[3]}`;
}
