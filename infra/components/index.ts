/**
 * agentpool's Pulumi components, for a stack program of your own:
 *
 *   import { AgentPlatform, LlmProvider, AgentType, Team } from "agentpool/infra/components";
 *
 * The stack program of this repository (infra/index.ts) builds the same components from a
 * stack file's `agentpool:` config.
 */
export { AgentPlatform, ROUTE_KEYS, ACCESS_LOG_FORMAT, type AgentPlatformArgs, type NetworkArgs } from "./platform";
export { LlmProvider, type LlmProviderArgs } from "./llm-provider";
export { AgentType, type AgentTypeArgs } from "./agent-type";
export { Team, type TeamArgs, type TeamDeploymentArgs } from "./team";
export { Deployment, allowHandBack, type DeploymentArgs, type ReplicaSlot } from "./deployment";
export { PoolMonitoring, type PoolMonitoringArgs } from "./monitoring";
export { WorkerImage, WORKER_DOCKERFILE, type WorkerImageArgs } from "./worker-image";
