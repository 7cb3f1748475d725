/**
 * Idempotency records (see core/idempotency.ts), with the Powertools idiom: one conditional write
 * that claims the key unless a live record holds it, returning that record on conflict
 * (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), so a retry learns what happened in one round
 * trip. Expiry is in the condition (`expires_at < :now`), so it works without TTL (dynalite).
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { AwsClients } from "./clients";

export interface StoredResponse {
  status: number;
  body: string;
  /** Headers worth replaying (content type, Retry-After...). */
  headers: Record<string, string>;
  /** Set when the ask was enqueued but its answer was not in yet (504): a replay looks again. */
  pending?: { threadId: string; responseId: string; agentId: string; endpoint: string };
}

export type IdempotencyRecord =
  | { state: "in_progress"; fingerprint: string; leaseUntil: number; expiresAt: number }
  | { state: "completed"; fingerprint: string; expiresAt: number; response: StoredResponse };

export type ClaimResult = { claimed: true } | { claimed: false; existing: IdempotencyRecord };

export class IdempotencyStore {
  constructor(
    private readonly clients: AwsClients,
    private readonly table: string,
  ) {}

  /**
   * Claims `pk` for a request with `fingerprint`. Taken over when the earlier record expired, or
   * when it is the same request still "in progress" past its lease (its router died mid-ask).
   */
  async claim(pk: string, fingerprint: string, now: number, leaseMs: number, ttlMs: number): Promise<ClaimResult> {
    try {
      await this.clients.doc.put({
        TableName: this.table,
        Item: { pk, state: "in_progress", fingerprint, lease_until: now + leaseMs, expires_at: Math.ceil((now + ttlMs) / 1000) },
        ConditionExpression:
          "attribute_not_exists(pk) OR expires_at < :nowS OR (#state = :inProgress AND lease_until < :now AND fingerprint = :fp)",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":nowS": Math.floor(now / 1000), ":now": now, ":inProgress": "in_progress", ":fp": fingerprint },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      });
      return { claimed: true };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      // DynamoDB returns the holder with the failure; emulators that do not get one more read.
      const item = err.Item ? unmarshall(err.Item) : await this.get(pk);
      if (!item) return this.claim(pk, fingerprint, now, leaseMs, ttlMs); // released meanwhile
      return { claimed: false, existing: fromItem(item) };
    }
  }

  private async get(pk: string): Promise<Record<string, any> | undefined> {
    const out = await this.clients.doc.get({ TableName: this.table, Key: { pk }, ConsistentRead: true });
    return out.Item;
  }

  /** Stores the response of the claimed request; later retries replay it. */
  async complete(pk: string, fingerprint: string, response: StoredResponse): Promise<void> {
    await this.clients.doc.update({
      TableName: this.table,
      Key: { pk },
      UpdateExpression: "SET #state = :completed, #response = :r REMOVE lease_until",
      ConditionExpression: "fingerprint = :fp",
      ExpressionAttributeNames: { "#state": "state", "#response": "response" },
      ExpressionAttributeValues: { ":completed": "completed", ":r": response, ":fp": fingerprint },
    });
  }

  /** Drops an in-progress claim whose request was refused before it ran, so a retry can run it. */
  async release(pk: string, fingerprint: string): Promise<void> {
    try {
      await this.clients.doc.delete({
        TableName: this.table,
        Key: { pk },
        ConditionExpression: "#state = :inProgress AND fingerprint = :fp",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":inProgress": "in_progress", ":fp": fingerprint },
      });
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
}

function fromItem(i: Record<string, any>): IdempotencyRecord {
  if (i.state === "completed") return { state: "completed", fingerprint: i.fingerprint, expiresAt: i.expires_at, response: i.response };
  return { state: "in_progress", fingerprint: i.fingerprint, leaseUntil: i.lease_until, expiresAt: i.expires_at };
}
