/**
 * Async asks' webhook deliveries, one item per callback (`cb#<id>` in the api-state table):
 *
 *   router: create (pending) ─► worker: answer stored ─► claim (delivering, lease)
 *     ─► attempt 1 ✗ ─► attempt 2 ✗ … ─► delivered | failed (after 4 attempts)
 *
 * The claim is a conditional update, so a redelivered ask (or a second worker) does not deliver
 * twice while one delivery is under way; a delivery whose worker died is taken over after its lease.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import type { AwsClients } from "./clients";

export type CallbackStatus = "pending" | "delivering" | "delivered" | "failed";

export interface CallbackRecord {
  callbackId: string;
  owner: string;
  /** Hash of the key that made the ask: its webhook secret signs the delivery. */
  keyHash: string;
  url: string;
  threadId: string;
  responseId: string;
  status: CallbackStatus;
  attempts: number;
  lastStatusCode?: number;
  lastError?: string;
  createdAt: number;
  deliveredAt?: number;
}

/** Delivery status is kept a week. */
const KEEP_S = 7 * 24 * 3600;

export class CallbackStore {
  constructor(
    private readonly clients: AwsClients,
    private readonly table: string,
  ) {}

  async create(r: CallbackRecord): Promise<void> {
    await this.clients.doc.put({
      TableName: this.table,
      Item: { pk: pk(r.callbackId), ...toItem(r), expires_at: Math.ceil(r.createdAt / 1000) + KEEP_S },
      ConditionExpression: "attribute_not_exists(pk)",
    });
  }

  async get(callbackId: string): Promise<CallbackRecord | undefined> {
    const out = await this.clients.doc.get({ TableName: this.table, Key: { pk: pk(callbackId) }, ConsistentRead: true });
    return out.Item ? fromItem(out.Item) : undefined;
  }

  /** Takes the delivery for `leaseMs`; undefined when it is done or someone else holds it. */
  async claim(callbackId: string, now: number, leaseMs: number): Promise<CallbackRecord | undefined> {
    try {
      const out = await this.clients.doc.update({
        TableName: this.table,
        Key: { pk: pk(callbackId) },
        UpdateExpression: "SET #status = :delivering, lease_until = :until",
        ConditionExpression: "attribute_exists(pk) AND (#status = :pending OR (#status = :delivering AND lease_until < :now))",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":delivering": "delivering", ":pending": "pending", ":until": now + leaseMs, ":now": now },
        ReturnValues: "ALL_NEW",
      });
      return fromItem(out.Attributes!);
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  /** Records one attempt; `final` ends the delivery as delivered or failed. */
  async recordAttempt(
    callbackId: string,
    attempt: { attempts: number; statusCode?: number; error?: string; final?: "delivered" | "failed"; at: number; leaseUntil?: number },
  ): Promise<void> {
    const sets = ["attempts = :n", "last_status_code = :code", "last_error = :err"];
    const values: Record<string, unknown> = { ":n": attempt.attempts, ":code": attempt.statusCode ?? null, ":err": attempt.error ?? null };
    if (attempt.final) {
      sets.push("#status = :final");
      values[":final"] = attempt.final;
      if (attempt.final === "delivered") {
        sets.push("delivered_at = :at");
        values[":at"] = attempt.at;
      }
    } else if (attempt.leaseUntil !== undefined) {
      sets.push("lease_until = :until");
      values[":until"] = attempt.leaseUntil;
    }
    await this.clients.doc.update({
      TableName: this.table,
      Key: { pk: pk(callbackId) },
      UpdateExpression: `SET ${sets.join(", ")}`,
      ExpressionAttributeNames: attempt.final ? { "#status": "status" } : undefined,
      ExpressionAttributeValues: values,
    });
  }
}

const pk = (callbackId: string) => `cb#${callbackId}`;

function toItem(r: CallbackRecord): Record<string, unknown> {
  return {
    callback_id: r.callbackId,
    owner: r.owner,
    key_hash: r.keyHash,
    url: r.url,
    thread_id: r.threadId,
    response_id: r.responseId,
    status: r.status,
    attempts: r.attempts,
    last_status_code: r.lastStatusCode,
    last_error: r.lastError,
    created_at: r.createdAt,
    delivered_at: r.deliveredAt,
  };
}

function fromItem(i: Record<string, any>): CallbackRecord {
  return {
    callbackId: i.callback_id,
    owner: i.owner,
    keyHash: i.key_hash,
    url: i.url,
    threadId: i.thread_id,
    responseId: i.response_id,
    status: i.status,
    attempts: i.attempts ?? 0,
    lastStatusCode: i.last_status_code ?? undefined,
    lastError: i.last_error ?? undefined,
    createdAt: i.created_at,
    deliveredAt: i.delivered_at ?? undefined,
  };
}
