import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { deploymentSchema } from "../../runtime/core/spec";
import { DEFAULT_QUEUE_SETTINGS } from "../../runtime/aws/queues";
import type { SlotConfig } from "../../runtime/agent/config";
import { deadLetterQueueName, queueName, replicaName, taskFamily, workerLogGroupName } from "../lib/names";
import { assumeRolePolicy, deadLetterQueuePolicy, executionPolicy, handBackPolicy, replicaQueuePolicy, workerTaskPolicy } from "../lib/policies";
import { WORKER_CONFIG_ENV, AWS_WAIT_SECONDS, workerConfig } from "../lib/runtime-config";
import { checkTaskSize, defaultTaskSize } from "../lib/sizing";
import type { AgentPlatform } from "./platform";
import type { AgentType } from "./agent-type";

/** SQS's longest retention: a message that failed 5 times stays inspectable for two weeks. */
export const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;
/** Fargate's longest SIGTERM→SIGKILL grace: time for a worker to finish the answer in hand. */
export const WORKER_STOP_TIMEOUT_SECONDS = 120;
export const WORKER_CONTAINER = "worker";

export interface DeploymentArgs {
  readonly platform: AgentPlatform;
  /** The team's slug (`support-team`): first part of every replica name. */
  readonly team: string;
  readonly agentType: AgentType;
  /**
   * Replicas to run. Each gets a slot `{team}-{agentType}-{n}` with its own queue and dead-letter
   * queue. Plain, not an Input: it decides how many queues exist.
   */
  readonly desiredReplicas: number;
  /** Answers one replica works on at once. Default 1. */
  readonly maxConcurrency?: number;
  /** Routing thresholds (DESIGN §3). Defaults 3 and 10. */
  readonly availableDepth?: number;
  readonly overflowDepth?: number;
  /** Fargate task size; defaults from maxConcurrency (256 CPU units / 512 MiB for one answer at a time). */
  readonly cpu?: number;
  readonly memory?: number;
}

export interface ReplicaSlot {
  agentId: string;
  slot: number;
  queue: aws.sqs.Queue;
  deadLetterQueue: aws.sqs.Queue;
  queuePolicy: aws.sqs.QueuePolicy;
  deadLetterQueuePolicy: aws.sqs.QueuePolicy;
}

/**
 * A team's deployment of an agent type: per replica slot a queue and a dead-letter queue, and one
 * ECS Fargate service with `desiredCount = desiredReplicas` whose tasks run the agent worker.
 * Every task gets all of the deployment's slots and claims a free one by lease (DESIGN §4).
 */
export class Deployment extends pulumi.ComponentResource {
  /** `support-team/customer-support` */
  readonly key: string;
  /** The endpoint slug its replicas answer (`agentType.endpointSlug`). */
  readonly endpoint: string;
  /** The component's name: prefix of its children's names. */
  readonly resourceName: string;
  readonly desiredReplicas: number;
  readonly slots: ReplicaSlot[];
  readonly taskRole: aws.iam.Role;
  readonly executionRole: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly taskDefinition: aws.ecs.TaskDefinition;
  readonly service: aws.ecs.Service;

  constructor(name: string, args: DeploymentArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("agentpool:index:Deployment", name, {}, opts);
    const { platform, agentType, team } = args;
    const parsed = deploymentSchema.safeParse({
      agentType: agentType.spec.slug,
      desiredReplicas: args.desiredReplicas,
      ...(args.maxConcurrency !== undefined ? { maxConcurrency: args.maxConcurrency } : {}),
      ...(args.availableDepth !== undefined ? { availableDepth: args.availableDepth } : {}),
      ...(args.overflowDepth !== undefined ? { overflowDepth: args.overflowDepth } : {}),
    });
    if (!parsed.success) {
      throw new Error(`Deployment ${name}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    const d = parsed.data;
    if (d.availableDepth > d.overflowDepth) throw new Error(`Deployment ${name}: availableDepth (${d.availableDepth}) must not exceed overflowDepth (${d.overflowDepth})`);
    const size = checkTaskSize(args.cpu !== undefined || args.memory !== undefined ? { ...defaultTaskSize(d.maxConcurrency), ...definedOnly({ cpu: args.cpu, memory: args.memory }) } : defaultTaskSize(d.maxConcurrency));
    const pool = platform.poolName;
    const at = agentType.spec;
    const provider = agentType.provider;
    const secretArn = provider.spec.kind === "openai" ? provider.requireSecretArn(`Deployment ${name}`) : undefined;
    const parent = { parent: this };
    this.key = `${team}/${at.slug}`;
    this.endpoint = at.endpointSlug;
    this.resourceName = name;
    this.desiredReplicas = d.desiredReplicas;

    this.logGroup = new aws.cloudwatch.LogGroup(name, { name: workerLogGroupName(pool, team, at.slug), retentionInDays: platform.logRetentionDays }, parent);

    // The task role: tables only. Its queues grant it access in their own policies (below).
    this.taskRole = new aws.iam.Role(`${name}-task`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("ecs-tasks.amazonaws.com")) }, parent);
    new aws.iam.RolePolicy(
      `${name}-task`,
      {
        role: this.taskRole.id,
        policy: pulumi
          .all([platform.tables.threads.arn, platform.tables.replicas.arn, platform.tables.apiKeys.arn, platform.tables.apiState.arn, platform.cluster.arn])
          .apply(([threads, replicas, apiKeys, apiState, clusterArn]) =>
            JSON.stringify(workerTaskPolicy({ tables: { threads, replicas, apiKeys, apiState }, clusterArn })),
          ),
      },
      parent,
    );
    this.executionRole = new aws.iam.Role(`${name}-execution`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("ecs-tasks.amazonaws.com")) }, parent);
    const executionRolePolicy = new aws.iam.RolePolicy(
      `${name}-execution`,
      {
        role: this.executionRole.id,
        policy: pulumi
          .all([this.logGroup.arn, platform.workerImage.repositoryArn, secretArn ?? ""])
          .apply(([logGroupArn, repo, secret]) =>
            JSON.stringify(executionPolicy({ logGroupArn, ecrRepositoryArn: repo, secretArns: secret ? [secret] : [] })),
          ),
      },
      parent,
    );

    this.slots = Array.from({ length: d.desiredReplicas }, (_, i) => {
      const slot = i + 1;
      const agentId = replicaName(team, at.slug, slot);
      const dlqName = deadLetterQueueName(pool, agentId);
      if (dlqName.length > 80) throw new Error(`Deployment ${name}: queue name ${dlqName} is longer than SQS allows (80); shorten the pool, team or agent type slugs`);
      const deadLetterQueue = new aws.sqs.Queue(`${name}-${slot}-dlq`, { name: dlqName, messageRetentionSeconds: DLQ_RETENTION_SECONDS, sqsManagedSseEnabled: true }, parent);
      const queue = new aws.sqs.Queue(
        `${name}-${slot}`,
        {
          name: queueName(pool, agentId),
          visibilityTimeoutSeconds: DEFAULT_QUEUE_SETTINGS.visibilityTimeoutSeconds,
          receiveWaitTimeSeconds: AWS_WAIT_SECONDS,
          sqsManagedSseEnabled: true,
          redrivePolicy: deadLetterQueue.arn.apply((deadLetterTargetArn) =>
            JSON.stringify({ deadLetterTargetArn, maxReceiveCount: DEFAULT_QUEUE_SETTINGS.maxReceiveCount }),
          ),
        },
        parent,
      );
      const queuePolicy = new aws.sqs.QueuePolicy(
        `${name}-${slot}`,
        {
          queueUrl: queue.url,
          policy: pulumi
            .all([queue.arn, platform.routerRole.arn, this.taskRole.arn])
            .apply(([queueArn, routerRoleArn, workerRoleArn]) => JSON.stringify(replicaQueuePolicy({ queueArn, routerRoleArn, workerRoleArn }))),
        },
        parent,
      );
      const dlqPolicy = new aws.sqs.QueuePolicy(
        `${name}-${slot}-dlq`,
        {
          queueUrl: deadLetterQueue.url,
          policy: pulumi
            .all([deadLetterQueue.arn, this.taskRole.arn])
            .apply(([queueArn, workerRoleArn]) => JSON.stringify(deadLetterQueuePolicy({ queueArn, workerRoleArn }))),
        },
        parent,
      );
      return { agentId, slot, queue, deadLetterQueue, queuePolicy, deadLetterQueuePolicy: dlqPolicy };
    });

    const slotConfigs: pulumi.Output<SlotConfig[]> = pulumi.all(
      this.slots.map((s) =>
        pulumi.all([s.queue.url, s.deadLetterQueue.url]).apply(([queueUrl, dlqUrl]): SlotConfig => ({ agentId: s.agentId, slot: s.slot, queueUrl, dlqUrl })),
      ),
    );
    const containerDefinitions = pulumi
      .all([platform.workerImage.imageRef, this.logGroup.name, platform.region, slotConfigs, secretArn ?? ""])
      .apply(([image, logGroup, region, slots, secret]) => {
        const config =
          slots.length > 0
            ? workerConfig({
                pool,
                tables: platform.tableNames,
                team,
                agentType: at,
                provider: provider.spec,
                maxConcurrency: d.maxConcurrency,
                availableDepth: d.availableDepth,
                overflowDepth: d.overflowDepth,
                slots,
                region,
                visibilityTimeoutSeconds: DEFAULT_QUEUE_SETTINGS.visibilityTimeoutSeconds,
                maxReceiveCount: DEFAULT_QUEUE_SETTINGS.maxReceiveCount,
              })
            : undefined; // 0 replicas: the service runs no task; the definition only has to be valid.
        return JSON.stringify([
          {
            name: WORKER_CONTAINER,
            image,
            essential: true,
            readonlyRootFilesystem: true,
            stopTimeout: WORKER_STOP_TIMEOUT_SECONDS,
            environment: config ? [{ name: WORKER_CONFIG_ENV, value: JSON.stringify(config) }] : [],
            // The key reaches the worker as an environment variable set by ECS from Secrets Manager;
            // the task definition holds only the secret's ARN.
            secrets: secret && provider.apiKeyEnv ? [{ name: provider.apiKeyEnv, valueFrom: secret }] : [],
            logConfiguration: {
              logDriver: "awslogs",
              options: { "awslogs-group": logGroup, "awslogs-region": region, "awslogs-stream-prefix": WORKER_CONTAINER },
            },
          },
        ]);
      });

    this.taskDefinition = new aws.ecs.TaskDefinition(
      name,
      {
        family: taskFamily(pool, team, at.slug),
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: String(size.cpu),
        memory: String(size.memory),
        runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
        taskRoleArn: this.taskRole.arn,
        executionRoleArn: this.executionRole.arn,
        containerDefinitions,
      },
      { parent: this, dependsOn: [executionRolePolicy] },
    );

    this.service = new aws.ecs.Service(
      name,
      {
        cluster: platform.cluster.arn,
        taskDefinition: this.taskDefinition.arn,
        desiredCount: d.desiredReplicas,
        launchType: "FARGATE",
        networkConfiguration: { subnets: platform.subnetIds, securityGroups: platform.securityGroupIds, assignPublicIp: platform.assignPublicIp },
        // A slot is a lease: a task started next to a running one would find no free slot. Roll
        // by replacing at most half of the tasks at a time instead of surging above N.
        deploymentMinimumHealthyPercent: 50,
        deploymentMaximumPercent: 100,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        // `pulumi up` waits for the rollout, so the queues of slots removed by a scale-down are
        // deleted (Pulumi deletes last) only after the old tasks have drained and handed back.
        waitForSteadyState: true,
        propagateTags: "SERVICE",
        tags: { "agentpool:pool": pool, "agentpool:deployment": this.key },
      },
      { parent: this, dependsOn: this.slots.flatMap((s) => [s.queuePolicy, s.deadLetterQueuePolicy]) },
    );

    this.registerOutputs({
      key: this.key,
      desiredReplicas: this.desiredReplicas,
      agentIds: this.slots.map((s) => s.agentId),
      serviceName: this.service.name,
      queueUrls: this.slots.map((s) => s.queue.url),
    });
  }
}

/**
 * Lets each deployment's tasks hand asks back to every replica queue of their endpoint when they
 * drain (scale-in, redeploy): one inline policy per deployment, listing exactly those queues.
 * Call it once all deployments of the pool exist; the stack program does.
 */
export function allowHandBack(deployments: Deployment[]): aws.iam.RolePolicy[] {
  const byEndpoint = new Map<string, Deployment[]>();
  for (const d of deployments) byEndpoint.set(d.endpoint, [...(byEndpoint.get(d.endpoint) ?? []), d]);
  return deployments
    .filter((d) => d.slots.length > 0)
    .map((d) => {
      const queueArns = pulumi.all(byEndpoint.get(d.endpoint)!.flatMap((peer) => peer.slots.map((s) => s.queue.arn)));
      return new aws.iam.RolePolicy(
        `${d.resourceName}-handback`,
        { role: d.taskRole.id, policy: queueArns.apply((arns) => JSON.stringify(handBackPolicy(arns))) },
        { parent: d },
      );
    });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
