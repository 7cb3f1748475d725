/**
 * Threads in DynamoDB: one META item (owner, affinity), one item per turn (history grows without
 * rewriting anything), and one reply item per ask, written once by whichever worker answers first.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { AwsClients } from "./clients";
import { THREAD_META_KEY, TURN_PREFIX, replySortKey, turnSortKey, type AnswerRecord, type ReplyRecord, type Turn } from "../core/messages";

export interface ThreadMeta {
  threadId: string;
  owner: string;
  endpoint: string;
  /** The replica that answered last (before the first answer, the one the first ask went to): where the context is hot. */
  agentId?: string;
  /**
   * The deployment (`team/agent-type`) the thread started on: with A/B deployments on one
   * endpoint, follow-ups stay with the model that produced its history. Absent on older threads.
   */
  deployment?: string;
  createdAt: number;
}

export class ThreadStore {
  constructor(
    private readonly clients: AwsClients,
    private readonly table: string,
  ) {}

  async getMeta(threadId: string): Promise<ThreadMeta | undefined> {
    const out = await this.clients.doc.get({ TableName: this.table, Key: { thread_id: threadId, sk: THREAD_META_KEY }, ConsistentRead: true });
    const item = out.Item;
    if (!item) return undefined;
    return { threadId, owner: item.owner, endpoint: item.endpoint, agentId: item.agent_id, deployment: item.deployment, createdAt: item.created_at };
  }

  /** Creates the thread; false if the id is taken (ids are random, so only a replayed id collides). */
  async createMeta(meta: ThreadMeta): Promise<boolean> {
    try {
      await this.clients.doc.put({ TableName: this.table, Item: metaItem(meta), ConditionExpression: "attribute_not_exists(thread_id)" });
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async setAffinity(threadId: string, agentId: string, at: number): Promise<void> {
    await this.clients.doc.update({
      TableName: this.table,
      Key: { thread_id: threadId, sk: THREAD_META_KEY },
      UpdateExpression: "SET agent_id = :a, updated_at = :t",
      ConditionExpression: "attribute_exists(thread_id)",
      ExpressionAttributeValues: { ":a": agentId, ":t": at },
    });
  }

  async getReply(threadId: string, responseId: string): Promise<ReplyRecord | undefined> {
    const out = await this.clients.doc.get({ TableName: this.table, Key: { thread_id: threadId, sk: replySortKey(responseId) }, ConsistentRead: true });
    return out.Item ? toReply(out.Item) : undefined;
  }

  /**
   * Writes the answer unless another answer stands. Returns the answer that stands (ours or the
   * earlier one), whether ours won, and whether it replaced the router's `timed_out` mark (then
   * the router has given up and the writer counts the ask out). One round trip either way.
   */
  async putAnswerOnce(threadId: string, answer: AnswerRecord): Promise<{ won: boolean; replacedTimeout: boolean; reply: AnswerRecord }> {
    try {
      const out = await this.clients.doc.put({
        TableName: this.table,
        Item: fromReply(threadId, answer),
        ConditionExpression: "attribute_not_exists(thread_id) OR #status = :timedOut",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":timedOut": "timed_out" },
        ReturnValues: "ALL_OLD",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      });
      return { won: true, replacedTimeout: out.Attributes?.status === "timed_out", reply: answer };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const existing = err.Item ? toReply(unmarshall(err.Item)) : await this.getReply(threadId, answer.responseId);
      if (!existing || existing.status === "timed_out") throw err;
      return { won: false, replacedTimeout: false, reply: existing };
    }
  }

  /**
   * The router gives up waiting: marks the ask timed out unless an answer landed meanwhile, in
   * which case that answer is returned (and the client gets it after all).
   */
  async markTimedOut(threadId: string, responseId: string, at: number): Promise<AnswerRecord | undefined> {
    try {
      await this.clients.doc.put({
        TableName: this.table,
        Item: fromReply(threadId, { status: "timed_out", responseId, timedOutAt: at }),
        ConditionExpression: "attribute_not_exists(thread_id)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      });
      return undefined;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const existing = err.Item ? toReply(unmarshall(err.Item)) : await this.getReply(threadId, responseId);
      return existing && existing.status !== "timed_out" ? existing : undefined;
    }
  }

  /** Turns in order; `before` (a turn sort key) leaves out the ask being answered and later ones. */
  async history(threadId: string, before?: string): Promise<Turn[]> {
    const turns: Turn[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.clients.doc.query({
        TableName: this.table,
        KeyConditionExpression: before ? "thread_id = :t AND sk BETWEEN :from AND :to" : "thread_id = :t AND begins_with(sk, :from)",
        ExpressionAttributeValues: { ":t": threadId, ":from": TURN_PREFIX, ...(before ? { ":to": before } : {}) },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      });
      for (const item of out.Items ?? []) {
        if (before && item.sk >= before) continue; // BETWEEN is inclusive
        turns.push({ role: item.role, content: item.content, responseId: item.response_id, agentId: item.agent_id, at: item.at });
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return turns;
  }

  /**
   * One page of turns in order, after the turn whose sort key is `after` (exclusive). `next` is
   * the sort key to pass for the following page, absent on the last one. Turn keys (`T#…`) sort
   * after `META` and the reply items (`R#…`), so `sk > after` reads turns only.
   */
  async historyPage(threadId: string, limit: number, after?: string): Promise<{ turns: Turn[]; next?: string }> {
    const out = await this.clients.doc.query({
      TableName: this.table,
      KeyConditionExpression: after ? "thread_id = :t AND sk > :after" : "thread_id = :t AND begins_with(sk, :from)",
      ExpressionAttributeValues: { ":t": threadId, ...(after ? { ":after": after } : { ":from": TURN_PREFIX }) },
      ConsistentRead: true,
      Limit: limit,
    });
    const items = (out.Items ?? []).filter((i) => typeof i.sk === "string" && i.sk.startsWith(TURN_PREFIX));
    const turns = items.map((item) => ({ role: item.role, content: item.content, responseId: item.response_id, agentId: item.agent_id, at: item.at }));
    const next = out.LastEvaluatedKey && items.length ? (items[items.length - 1]!.sk as string) : undefined;
    return { turns, next };
  }

  /**
   * Writes the user and assistant turns of one ask; keys come from the ask, so a retry overwrites.
   * The first exchange of a thread brings its META item in the same batch (`meta`).
   */
  async appendExchange(threadId: string, acceptedAt: number, user: Turn, assistant: Turn, meta?: ThreadMeta): Promise<void> {
    const items: { PutRequest: { Item: Record<string, unknown> } }[] = [user, assistant].map((t) => ({
      PutRequest: {
        Item: {
          thread_id: threadId,
          sk: turnSortKey(acceptedAt, t.responseId, t.role),
          role: t.role,
          content: t.content,
          response_id: t.responseId,
          agent_id: t.agentId,
          at: t.at,
        },
      },
    }));
    if (meta) items.push({ PutRequest: { Item: metaItem(meta) } });
    let pending: typeof items | undefined = items;
    for (let attempt = 0; pending && pending.length && attempt < 8; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      const out = await this.clients.doc.batchWrite({ RequestItems: { [this.table]: pending } });
      pending = out.UnprocessedItems?.[this.table] as typeof items | undefined;
    }
    if (pending && pending.length) throw new Error(`could not store ${pending.length} turns of ${threadId}`);
  }
}

function metaItem(meta: ThreadMeta): Record<string, unknown> {
  return {
    thread_id: meta.threadId,
    sk: THREAD_META_KEY,
    owner: meta.owner,
    endpoint: meta.endpoint,
    created_at: meta.createdAt,
    ...(meta.agentId === undefined ? {} : { agent_id: meta.agentId }),
    ...(meta.deployment === undefined ? {} : { deployment: meta.deployment }),
  };
}

function fromReply(threadId: string, r: ReplyRecord): Record<string, unknown> {
  const key = { thread_id: threadId, sk: replySortKey(r.responseId), status: r.status, response_id: r.responseId };
  switch (r.status) {
    case "answered":
      return { ...key, agent_id: r.agentId, answered_at: r.answeredAt, content: r.content };
    case "failed":
      return { ...key, agent_id: r.agentId, answered_at: r.answeredAt, error_code: r.errorCode, error: r.error };
    case "timed_out":
      return { ...key, timed_out_at: r.timedOutAt };
  }
}

function toReply(item: Record<string, any>): ReplyRecord {
  if (item.status === "timed_out") return { status: "timed_out", responseId: item.response_id, timedOutAt: item.timed_out_at };
  const base = { responseId: item.response_id, agentId: item.agent_id, answeredAt: item.answered_at };
  return item.status === "answered"
    ? { status: "answered", ...base, content: item.content }
    : { status: "failed", ...base, errorCode: "UPSTREAM_ERROR", error: item.error };
}
