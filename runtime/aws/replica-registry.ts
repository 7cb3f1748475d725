/**
 * The replica registry: one row per replica slot, partitioned by endpoint so the router reads all
 * replicas of an endpoint in one consistent Query. Depth is changed only by conditional updates,
 * so it never goes below 0 and never past the overflow limit.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
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
  /** Epoch ms until which the owner's lease holds; after it another worker may take the slot. */
  leaseUntil?: number;
  startedAt?: number;
  /** Asks of this replica moved to its dead-letter queue (they kept failing). */
  deadLetters?: number;
}

/** What a worker writes about its slot when it claims it. */
export type SlotClaim = Pick<
  ReplicaRow,
  "endpoint" | "agentId" | "deployment" | "team" | "agentType" | "slot" | "queueUrl" | "availableDepth" | "overflowDepth"
>;

/** The slot's lease passed to someone else: this worker must stop working on it. */
export class LeaseLostError extends Error {
  constructor(agentId: string) {
    super(`lease on ${agentId} was taken over`);
    this.name = "LeaseLostError";
  }
}

export class ReplicaRegistry {
  constructor(
    private readonly clients: AwsClients,
    private readonly table: string,
  ) {}

  /** Writes a slot's row as given (the local pool resets rows at start: its queues are new). */
  async put(row: ReplicaRow): Promise<void> {
    await this.clients.doc.put({ TableName: this.table, Item: toItem(row) });
  }

  async remove(endpoint: string, agentId: string): Promise<void> {
    await this.clients.doc.delete({ TableName: this.table, Key: { endpoint, agent_id: agentId } });
  }

  async get(endpoint: string, agentId: string): Promise<ReplicaRow | undefined> {
    const out = await this.clients.doc.get({ TableName: this.table, Key: { endpoint, agent_id: agentId }, ConsistentRead: true });
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async listEndpoint(endpoint: string): Promise<ReplicaRow[]> {
    const out = await this.clients.doc.query({
      TableName: this.table,
      KeyConditionExpression: "endpoint = :e",
      ExpressionAttributeValues: { ":e": endpoint },
      ConsistentRead: true,
    });
    return (out.Items ?? []).map(fromItem);
  }

  async listAll(): Promise<ReplicaRow[]> {
    const rows: ReplicaRow[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.clients.doc.scan({ TableName: this.table, ConsistentRead: true, ExclusiveStartKey: startKey });
      rows.push(...(out.Items ?? []).map(fromItem));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return rows.sort((a, b) => a.agentId.localeCompare(b.agentId, undefined, { numeric: true }));
  }

  /**
   * Counts one ask into the replica, only if it is still running, below `limit`, and no deeper than
   * the router saw it (`seenDepth`), so two routers that read the same snapshot do not both pile
   * onto the replica that looked emptiest. On refusal, the row as it is now comes back with the
   * same round trip (undefined if it is gone), so the caller can choose again without a re-read.
   */
  async tryAcquire(endpoint: string, agentId: string, limit: number, seenDepth?: number): Promise<true | { refused: ReplicaRow | undefined }> {
    try {
      await this.clients.doc.update({
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
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      });
      return true;
    } catch (err) {
      // DynamoDB returns the current row with the refusal; an emulator without that support costs a read.
      if (err instanceof ConditionalCheckFailedException) return { refused: err.Item ? fromItem(unmarshall(err.Item)) : await this.get(endpoint, agentId) };
      throw err;
    }
  }

  /** Counts one ask out; never below 0. */
  async release(endpoint: string, agentId: string): Promise<void> {
    try {
      await this.clients.doc.update({
        TableName: this.table,
        Key: { endpoint, agent_id: agentId },
        UpdateExpression: "ADD #depth :minus",
        ConditionExpression: "#depth > :zero",
        ExpressionAttributeNames: { "#depth": "depth" },
        ExpressionAttributeValues: { ":minus": -1, ":zero": 0 },
      });
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /**
   * Claims a slot for `owner` if it is free: no row yet, no owner, an expired lease, or an owner
   * known to be dead (`takeoverFrom`, e.g. the process a supervisor just saw exit). The expiry is
   * checked in the condition (no TTL needed). Depth is kept: asks queued for the slot are still
   * there for the new owner.
   *
   *   owner A ──beat──beat──✗ (crash)      lease_until ─┐
   *   owner B ─────────────── claim refused ────────────┴─ claim ok ──beat──
   */
  async claim(slot: SlotClaim, owner: string, now: number, leaseMs: number, takeoverFrom?: string): Promise<boolean> {
    try {
      await this.clients.doc.update({
        TableName: this.table,
        Key: { endpoint: slot.endpoint, agent_id: slot.agentId },
        UpdateExpression:
          "SET deployment = :deployment, team = :team, agent_type = :agentType, slot = :slot, queue_url = :queueUrl, " +
          "available_depth = :available, overflow_depth = :overflow, #state = :running, heartbeat_at = :now, " +
          "lease_until = :until, #owner = :me, started_at = :now, #depth = if_not_exists(#depth, :zero)",
        ConditionExpression:
          "attribute_not_exists(agent_id) OR attribute_not_exists(#owner) OR lease_until < :now OR #owner = :me" +
          (takeoverFrom ? " OR #owner = :dead" : ""),
        ExpressionAttributeNames: { "#state": "state", "#owner": "owner", "#depth": "depth" },
        ExpressionAttributeValues: {
          ":deployment": slot.deployment,
          ":team": slot.team,
          ":agentType": slot.agentType,
          ":slot": slot.slot,
          ":queueUrl": slot.queueUrl,
          ":available": slot.availableDepth,
          ":overflow": slot.overflowDepth,
          ":running": "running",
          ":now": now,
          ":until": now + leaseMs,
          ":me": owner,
          ":zero": 0,
          ...(takeoverFrom ? { ":dead": takeoverFrom } : {}),
        },
      });
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  /** Renews the owner's lease and reports its state; LeaseLostError if the slot is someone else's now. */
  async heartbeat(endpoint: string, agentId: string, owner: string, state: ReplicaState, now: number, leaseMs: number): Promise<void> {
    try {
      await this.clients.doc.update({
        TableName: this.table,
        Key: { endpoint, agent_id: agentId },
        UpdateExpression: "SET #state = :s, heartbeat_at = :now, lease_until = :until",
        ConditionExpression: "#owner = :me",
        ExpressionAttributeNames: { "#state": "state", "#owner": "owner" },
        ExpressionAttributeValues: { ":s": state, ":now": now, ":until": now + leaseMs, ":me": owner },
      });
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new LeaseLostError(agentId);
      throw err;
    }
  }

  /** The owner leaves the slot: state stopped, lease released (a new worker may claim it at once). */
  async vacate(endpoint: string, agentId: string, owner: string, now: number): Promise<void> {
    try {
      await this.clients.doc.update({
        TableName: this.table,
        Key: { endpoint, agent_id: agentId },
        UpdateExpression: "SET #state = :stopped, heartbeat_at = :now REMOVE #owner, lease_until",
        ConditionExpression: "#owner = :me",
        ExpressionAttributeNames: { "#state": "state", "#owner": "owner" },
        ExpressionAttributeValues: { ":stopped": "stopped", ":now": now, ":me": owner },
      });
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /** Counts an ask that went to the dead-letter queue (shown beside the replica). */
  async countDeadLetter(endpoint: string, agentId: string): Promise<void> {
    await this.clients.doc.update({
      TableName: this.table,
      Key: { endpoint, agent_id: agentId },
      UpdateExpression: "ADD dead_letters :one",
      ConditionExpression: "attribute_exists(agent_id)",
      ExpressionAttributeValues: { ":one": 1 },
    });
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
    lease_until: r.leaseUntil,
    started_at: r.startedAt,
    dead_letters: r.deadLetters,
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
    leaseUntil: i.lease_until,
    startedAt: i.started_at,
    deadLetters: i.dead_letters ?? 0,
  };
}
