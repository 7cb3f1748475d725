/**
 * Physical names of a pool's AWS resources. Queue and table names come from runtime/core/naming
 * (the router and worker address them by these names); the rest are derived here.
 */
export { tableNames, queueName, deadLetterQueueName, replicaName } from "../../runtime/core/naming";

/** Pool names become parts of SQS, DynamoDB, ECR and Lambda names: lowercase, digits, dashes. */
export function checkPoolName(poolName: string): string {
  if (!/^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$/.test(poolName)) {
    throw new Error(
      `pool name "${poolName}" must be 1-24 lowercase letters, digits or dashes (it names queues, tables and the ECR repository); ` +
        `rename the stack or pass poolName to AgentPlatform`,
    );
  }
  return poolName;
}

function limited(name: string, max: number, what: string): string {
  if (name.length > max) throw new Error(`${what} "${name}" is longer than AWS allows (${max}); shorten the pool, team or agent type slugs`);
  return name;
}

export function routerFunctionName(pool: string): string {
  return limited(`agentpool-${pool}-router`, 64, "Lambda function name");
}

export function routerLogGroupName(pool: string): string {
  return `/aws/lambda/${routerFunctionName(pool)}`;
}

export function accessLogGroupName(pool: string): string {
  return `/agentpool/${pool}/api-access`;
}

export function workerLogGroupName(pool: string, team: string, agentType: string): string {
  return `/agentpool/${pool}/workers/${team}-${agentType}`;
}

export function taskFamily(pool: string, team: string, agentType: string): string {
  return limited(`agentpool-${pool}-${team}-${agentType}`, 255, "task definition family");
}

export function repositoryName(pool: string): string {
  return `agentpool-${pool}-worker`;
}

export function providerSecretPrefix(pool: string, provider: string): string {
  return `agentpool/${pool}/${provider}-`;
}
