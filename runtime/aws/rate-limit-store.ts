/**
 * Rate-limit counts shared by every router instance: one item per (scope, minute), raised by a
 * conditional update for each batch a router reserves, so a count never passes its limit however
 * many routers race (see core/rate-limit.ts for the window and the batch size).
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { AwsClients } from "./clients";
import { windowAt, type RateLimitState } from "../core/rate-limit";

export type RateLimitScope = { kind: "key"; keyHash: string } | { kind: "agent"; agentId: string };

export interface Reservation extends RateLimitState {
  /** Asks reserved by this call (0: the window is full). */
  granted: number;
}

/** Items live one extra window past their end, then DynamoDB TTL may remove them. */
const TTL_SLACK_S = 120;

export class RateLimitStore {
  constructor(
    private readonly clients: AwsClients,
    private readonly table: string,
  ) {}

  /**
   * Reserves up to `n` asks of the current window, never past `limit`: one conditional update, and
   * when the window cannot hold `n` more, the rest it can hold (a second update). `granted` 0 means
   * the window is full; `count` is the window's count after this reservation.
   */
  async reserve(scope: RateLimitScope, limit: number, n: number, now: number): Promise<Reservation> {
    const w = windowAt(now);
    let want = Math.min(n, limit);
    for (let attempt = 0; want > 0 && attempt < 3; attempt++) {
      try {
        const out = await this.clients.doc.update({
          TableName: this.table,
          Key: { pk: pk(scope, w.start) },
          UpdateExpression: "ADD #count :n SET expires_at = :exp",
          ConditionExpression: "attribute_not_exists(#count) OR #count <= :max",
          ExpressionAttributeNames: { "#count": "count" },
          ExpressionAttributeValues: { ":n": want, ":max": limit - want, ":exp": Math.ceil(w.end / 1000) + TTL_SLACK_S },
          ReturnValues: "UPDATED_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        });
        return { granted: want, limit, count: Number(out.Attributes?.count ?? want), resetAt: w.end };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
        // DynamoDB returns the item with the failure; the local emulator does not (then read it).
        const count = err.Item ? Number(unmarshall(err.Item).count) : (await this.peek(scope, limit, now)).count;
        want = Math.min(want, limit - count);
      }
    }
    return { granted: 0, limit, count: limit, resetAt: w.end };
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
