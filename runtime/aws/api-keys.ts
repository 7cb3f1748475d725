/**
 * Managing API keys: create (the key and its webhook secret are returned once, only their hash
 * and a short prefix are kept), list (never the secret), revoke by prefix. Used by the router's
 * admin routes and by `agentpool keys` with direct DynamoDB access.
 */
import { generateApiKey, generateWebhookSecret, hashApiKey, listedPrefix } from "../core/keys";
import { newOwnerId } from "../core/ids";
import type { ApiKeyRecord, ApiKeyStore } from "./api-key-store";

export interface CreateApiKeyInput {
  name: string;
  /** Keys of one owner share threads; a new owner of its own when absent. */
  owner?: string;
  rateLimitPerMinute?: number;
  webhookUrl?: string;
}

export interface CreatedApiKey {
  /** Shown once: only its hash is stored. */
  apiKey: string;
  /** Shown once with the key; signs its webhook deliveries. */
  webhookSecret: string;
  key: ApiKeyListing;
}

export interface ApiKeyListing {
  prefix: string;
  name: string;
  owner: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  rate_limit_per_minute: number | null;
  webhook_url: string | null;
}

export class AmbiguousPrefixError extends Error {
  constructor(
    readonly prefix: string,
    readonly matches: ApiKeyListing[],
  ) {
    super(`${matches.length} keys start with "${prefix}"; give more of the key`);
    this.name = "AmbiguousPrefixError";
  }
}

export async function createApiKey(store: ApiKeyStore, input: CreateApiKeyInput, now: number): Promise<CreatedApiKey> {
  const apiKey = generateApiKey();
  const webhookSecret = generateWebhookSecret();
  const record: ApiKeyRecord = {
    keyHash: hashApiKey(apiKey),
    prefix: listedPrefix(apiKey),
    name: input.name,
    owner: input.owner ?? newOwnerId(),
    createdAt: now,
    rateLimitPerMinute: input.rateLimitPerMinute,
    webhookUrl: input.webhookUrl,
    webhookSecret,
  };
  await store.put(record);
  return { apiKey, webhookSecret, key: listing(record) };
}

export async function listApiKeys(store: ApiKeyStore): Promise<ApiKeyListing[]> {
  return (await store.list()).map(listing);
}

/**
 * Revokes the one live key whose listed prefix starts with `prefix` (at least `cust_` and 4 more
 * characters). Revoking an already revoked key is a no-op that returns it. Undefined: no match.
 */
/** `cust_` and 4 characters: the shortest prefix ever shown (the local dev key's). */
const MIN_REVOKE_PREFIX = 9;

export async function revokeApiKey(store: ApiKeyStore, prefix: string, now: number): Promise<ApiKeyListing | undefined> {
  if (prefix.length < MIN_REVOKE_PREFIX) return undefined;
  const matches = (await store.list()).filter((k) => k.prefix.startsWith(prefix));
  if (matches.length === 0) return undefined;
  const live = matches.filter((k) => k.revokedAt === undefined);
  if (live.length > 1) throw new AmbiguousPrefixError(prefix, live.map(listing));
  const target = live[0] ?? matches[0]!;
  if (target.revokedAt === undefined) {
    await store.revoke(target.keyHash, now);
    target.revokedAt = now;
  }
  return listing(target);
}

export function listing(r: ApiKeyRecord): ApiKeyListing {
  const iso = (t?: number) => (t === undefined ? null : new Date(t).toISOString());
  return {
    prefix: r.prefix,
    name: r.name,
    owner: r.owner,
    created_at: new Date(r.createdAt).toISOString(),
    last_used_at: iso(r.lastUsedAt),
    revoked_at: iso(r.revokedAt),
    rate_limit_per_minute: r.rateLimitPerMinute ?? null,
    webhook_url: r.webhookUrl ?? null,
  };
}
