/**
 * Rate-limit counts shared by every router instance: one item per (scope, minute), incremented by
 * a conditional update, so a count never passes its limit however many routers race
 * (see core/rate-limit.ts for the window).
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { AwsClients } from "./clients";
import { windowAt, type RateLimitState } from "../core/rate-limit";

export type RateLimitScope = { kind: "key"; keyHash: string } | { kind: "agent"; agentId: string };

export interface ConsumeResult extends RateLimitState {
  allowed: boolean;
}

/** Items live one extra window past their end, then DynamoDB TTL may remove them. */
const TTL_SLACK_S = 120;

export class RateLimitStore {
  constructor(
    private readonly clients: AwsClients,
    private readonly table: string,
  ) {}

  /** Counts one ask in the current window if the count is below `limit`; one round trip either way. */
  async consume(scope: RateLimitScope, limit: number, now: number): Promise<ConsumeResult> {
    const w = windowAt(now);
    try {
      const out = await this.clients.doc.update({
        TableName: this.table,
        Key: { pk: pk(scope, w.start) },
        UpdateExpression: "ADD #count :one SET expires_at = :exp",
        ConditionExpression: "attribute_not_exists(#count) OR #count < :limit",
        ExpressionAttributeNames: { "#count": "count" },
        ExpressionAttributeValues: { ":one": 1, ":limit": limit, ":exp": Math.ceil(w.end / 1000) + TTL_SLACK_S },
        ReturnValues: "UPDATED_NEW",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      });
      return { allowed: true, limit, count: Number(out.Attributes?.count ?? 1), resetAt: w.end };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      // DynamoDB returns the item with the failure; the local emulator does not (then it is at the limit).
      const count = err.Item ? Number(unmarshall(err.Item).count) : limit;
      return { allowed: false, limit, count, resetAt: w.end };
    }
  }

  /** The count so far, without counting (for the headers of responses that are not asks). */
  async peek(scope: RateLimitScope, limit: number, now: number): Promise<RateLimitState> {
    const w = windowAt(now);
    const out = await this.clients.doc.get({ TableName: this.table, Key: { pk: pk(scope, w.start) } });
    return { limit, count: Number(out.Item?.count ?? 0), resetAt: w.end };
  }
}

function pk(scope: RateLimitScope, windowStart: number): string {
  return scope.kind === "key" ? `rl#key#${scope.keyHash}#${windowStart}` : `rl#agent#${scope.agentId}#${windowStart}`;
}
