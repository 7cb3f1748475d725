/** API keys by SHA-256 hash: the key itself is never stored. */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import type { AwsClients } from "./clients";

export interface ApiKeyRecord {
  keyHash: string;
  /** `cust_abcd…`: enough to recognise a key in a list, not to use it. */
  prefix: string;
  name: string;
  /** Threads belong to the owner of the key that started them. */
  owner: string;
  createdAt: number;
  revokedAt?: number;
  /** Updated at most once a minute per key (see Authenticator). */
  lastUsedAt?: number;
  /** Asks per minute for this key; the router's default when absent. */
  rateLimitPerMinute?: number;
  /** Where async answers go when an ask names no `webhook_url`. */
  webhookUrl?: string;
  /**
   * Signs this key's webhook deliveries. Stored as is (an HMAC needs the secret itself; the table
   * is encrypted at rest on AWS); never listed, never logged.
   */
  webhookSecret?: string;
}

export class ApiKeyStore {
  constructor(
    private readonly clients: AwsClients,
    private readonly table: string,
  ) {}

  async put(record: ApiKeyRecord): Promise<void> {
    await this.clients.doc.put({
      TableName: this.table,
      Item: {
        key_hash: record.keyHash,
        prefix: record.prefix,
        name: record.name,
        owner: record.owner,
        created_at: record.createdAt,
        revoked_at: record.revokedAt,
        last_used_at: record.lastUsedAt,
        rate_limit_per_minute: record.rateLimitPerMinute,
        webhook_url: record.webhookUrl,
        webhook_secret: record.webhookSecret,
      },
    });
  }

  async get(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.clients.doc.get({ TableName: this.table, Key: { key_hash: keyHash } });
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const records: ApiKeyRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.clients.doc.scan({ TableName: this.table, ExclusiveStartKey: startKey });
      records.push(...(out.Items ?? []).map(fromItem));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return records.sort((a, b) => a.createdAt - b.createdAt);
  }

  async revoke(keyHash: string, at: number): Promise<void> {
    await this.clients.doc.update({
      TableName: this.table,
      Key: { key_hash: keyHash },
      UpdateExpression: "SET revoked_at = :t",
      ConditionExpression: "attribute_exists(key_hash)",
      ExpressionAttributeValues: { ":t": at },
    });
  }

  /**
   * Records a use, unless one was recorded in the last `minGapMs`: the condition makes concurrent
   * routers write it once, and keeps the write rate at most one a minute per key.
   */
  async touch(keyHash: string, at: number, minGapMs: number): Promise<boolean> {
    try {
      await this.clients.doc.update({
        TableName: this.table,
        Key: { key_hash: keyHash },
        UpdateExpression: "SET last_used_at = :t",
        ConditionExpression: "attribute_exists(key_hash) AND (attribute_not_exists(last_used_at) OR last_used_at < :cutoff)",
        ExpressionAttributeValues: { ":t": at, ":cutoff": at - minGapMs },
      });
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}

function fromItem(i: Record<string, any>): ApiKeyRecord {
  return {
    keyHash: i.key_hash,
    prefix: i.prefix,
    name: i.name,
    owner: i.owner,
    createdAt: i.created_at,
    revokedAt: i.revoked_at,
    lastUsedAt: i.last_used_at,
    rateLimitPerMinute: i.rate_limit_per_minute,
    webhookUrl: i.webhook_url,
    webhookSecret: i.webhook_secret,
  };
}
