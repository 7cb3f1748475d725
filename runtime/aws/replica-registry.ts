/**
 * The replica registry: one row per replica slot, partitioned by endpoint so the router reads all
 * replicas of an endpoint in one consistent Query. Depth is changed only by conditional updates,
 * so it never goes below 0 and never past the overflow limit.
 */
import { PutCommand, QueryCommand, ScanCommand, UpdateCommand, DeleteCommand } from "@aws-sdk/lib-dynamodb";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import type { AwsClients } from "./clients";
import type { ReplicaState, ReplicaView } from "../core/routing";

export interface ReplicaRow extends ReplicaView {
  endpoint: string;
  deployment: string;
  team: string;
  agentType: string;
  slot: number;
  queueUrl: string;
  /** Who holds the slot (a worker pid locally, an ECS task id on AWS). */
  owner?: string;
  startedAt?: number;
}

export class ReplicaRegistry {
  constructor(
    private readonly clients: AwsClients,
    private readonly table: string,
  ) {}

  /** Writes a slot's row as given (the local pool resets rows at start: its queues are new). */
  async put(row: ReplicaRow): Promise<void> {
    await this.clients.doc.send(new PutCommand({ TableName: this.table, Item: toItem(row) }));
  }

  async remove(endpoint: string, agentId: string): Promise<void> {
    await this.clients.doc.send(new DeleteCommand({ TableName: this.table, Key: { endpoint, agent_id: agentId } }));
  }

  async listEndpoint(endpoint: string): Promise<ReplicaRow[]> {
    const out = await this.clients.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "endpoint = :e",
        ExpressionAttributeValues: { ":e": endpoint },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map(fromItem);
  }

  async listAll(): Promise<ReplicaRow[]> {
    const rows: ReplicaRow[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.clients.doc.send(new ScanCommand({ TableName: this.table, ConsistentRead: true, ExclusiveStartKey: startKey }));
      rows.push(...(out.Items ?? []).map(fromItem));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return rows.sort((a, b) => a.agentId.localeCompare(b.agentId, undefined, { numeric: true }));
  }

  /**
   * Counts one ask into the replica, only if it is still running, below `limit`, and no deeper than
   * the router saw it (`seenDepth`), so two routers that read the same snapshot do not both pile
   * onto the replica that looked emptiest. False means: re-read and choose again.
   */
  async tryAcquire(endpoint: string, agentId: string, limit: number, seenDepth?: number): Promise<boolean> {
    try {
      await this.clients.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { endpoint, agent_id: agentId },
          UpdateExpression: "ADD #depth :one",
          ConditionExpression:
            "attribute_exists(agent_id) AND #state = :running AND #depth < :limit" + (seenDepth === undefined ? "" : " AND #depth <= :seen"),
          ExpressionAttributeNames: { "#state": "state", "#depth": "depth" },
          ExpressionAttributeValues: {
            ":one": 1,
            ":running": "running",
            ":limit": limit,
            ...(seenDepth === undefined ? {} : { ":seen": seenDepth }),
          },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  /** Counts one ask out; never below 0. */
  async release(endpoint: string, agentId: string): Promise<void> {
    try {
      await this.clients.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { endpoint, agent_id: agentId },
          UpdateExpression: "ADD #depth :minus",
          ConditionExpression: "#depth > :zero",
          ExpressionAttributeNames: { "#depth": "depth" },
          ExpressionAttributeValues: { ":minus": -1, ":zero": 0 },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async heartbeat(endpoint: string, agentId: string, state: ReplicaState, at: number, owner?: string): Promise<void> {
    await this.clients.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { endpoint, agent_id: agentId },
        UpdateExpression: "SET #state = :s, heartbeat_at = :t" + (owner ? ", #owner = :o" : ""),
        ConditionExpression: "attribute_exists(agent_id)",
        ExpressionAttributeNames: { "#state": "state", ...(owner ? { "#owner": "owner" } : {}) },
        ExpressionAttributeValues: { ":s": state, ":t": at, ...(owner ? { ":o": owner } : {}) },
      }),
    );
  }
}

function toItem(r: ReplicaRow): Record<string, unknown> {
  return {
    endpoint: r.endpoint,
    agent_id: r.agentId,
    deployment: r.deployment,
    team: r.team,
    agent_type: r.agentType,
    slot: r.slot,
    state: r.state,
    depth: r.depth,
    heartbeat_at: r.heartbeatAt,
    queue_url: r.queueUrl,
    available_depth: r.availableDepth,
    overflow_depth: r.overflowDepth,
    owner: r.owner,
    started_at: r.startedAt,
  };
}

function fromItem(i: Record<string, any>): ReplicaRow {
  return {
    endpoint: i.endpoint,
    agentId: i.agent_id,
    deployment: i.deployment,
    team: i.team,
    agentType: i.agent_type,
    slot: i.slot,
    state: i.state,
    depth: i.depth ?? 0,
    heartbeatAt: i.heartbeat_at ?? 0,
    queueUrl: i.queue_url,
    availableDepth: i.available_depth,
    overflowDepth: i.overflow_depth,
    owner: i.owner,
    startedAt: i.started_at,
  };
}
