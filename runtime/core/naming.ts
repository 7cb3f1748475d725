/** Names shared by the local pool and the AWS resources, so both address the same things. */
import type { PoolSpec, DeploymentSpec, TeamSpec, AgentTypeSpec } from "./spec";

/** `{team}-{agentType}-{n}`, n from 1. */
export function replicaName(team: string, agentType: string, n: number): string {
  return `${team}-${agentType}-${n}`;
}

/** `support-team/customer-support`: how people name a deployment on the CLI. */
export function deploymentKey(team: string, agentType: string): string {
  return `${team}/${agentType}`;
}

export interface TableNames {
  /** Thread metadata (owner, affinity), one item per turn, and one reply item per ask. */
  threads: string;
  /** One row per replica slot: state, queue depth, heartbeat, queue URL. */
  replicas: string;
  /** API keys by SHA-256 hash. */
  apiKeys: string;
  /** The public API's own state: rate-limit windows, Idempotency-Keys, webhook callbacks (TTL `expires_at`). */
  apiState: string;
}

export function tableNames(stack: string): TableNames {
  return {
    threads: `agentpool-${stack}-threads`,
    replicas: `agentpool-${stack}-replicas`,
    apiKeys: `agentpool-${stack}-api-keys`,
    apiState: `agentpool-${stack}-api-state`,
  };
}

/** SQS queue name of a replica (≤ 80 chars, checked by `resolvePool`). */
export function queueName(stack: string, agentId: string): string {
  return `agentpool-${stack}-${agentId}`;
}

export function deadLetterQueueName(stack: string, agentId: string): string {
  return `${queueName(stack, agentId)}-dlq`;
}

export interface ResolvedReplica {
  agentId: string;
  slot: number;
  team: TeamSpec;
  deployment: DeploymentSpec;
  agentType: AgentTypeSpec;
}

export interface ResolvedDeployment {
  key: string;
  team: TeamSpec;
  deployment: DeploymentSpec;
  agentType: AgentTypeSpec;
  replicas: ResolvedReplica[];
}

/** Expands teams and deployments into the replica slots they declare. */
export function resolveDeployments(spec: PoolSpec, stack: string): ResolvedDeployment[] {
  const byType = new Map(spec.agentTypes.map((a) => [a.slug, a]));
  return spec.teams.flatMap((team) =>
    team.deployments.map((deployment) => {
      const agentType = byType.get(deployment.agentType);
      if (!agentType) throw new Error(`unknown agent type "${deployment.agentType}"`);
      const replicas = Array.from({ length: deployment.desiredReplicas }, (_, i) => {
        const agentId = replicaName(team.slug, agentType.slug, i + 1);
        if (deadLetterQueueName(stack, agentId).length > 80) {
          throw new Error(`queue name for ${agentId} in stack ${stack} is longer than SQS allows (80); shorten the slugs`);
        }
        return { agentId, slot: i + 1, team, deployment, agentType };
      });
      return { key: deploymentKey(team.slug, agentType.slug), team, deployment, agentType, replicas };
    }),
  );
}
