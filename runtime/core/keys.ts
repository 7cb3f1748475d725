/** API keys: `cust_` + 32 random bytes (base64url). Only the SHA-256 hash is ever stored. */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const API_KEY_PREFIX = "cust_";

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString("base64url");
}

export function isWellFormedApiKey(key: string): boolean {
  return /^cust_[A-Za-z0-9_-]{16,128}$/.test(key);
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** What may be shown of a key after creation: enough to recognise it, not to use it. */
export function visiblePrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 4);
}

/** Constant-time comparison of two digests (compared as bytes of their text, so any string is safe). */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The prefix stored and listed for keys made by `agentpool keys create`: long enough to name one key in `revoke`. */
export function listedPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 8);
}

export const WEBHOOK_SECRET_PREFIX = "whsec_";

/** The secret a key's webhook deliveries are signed with (HMAC-SHA256); shown once, with the key. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString("base64url");
}

/**
 * Admin keys (the key-management routes) are any secret whose SHA-256 the router config lists,
 * e.g. the local pool's `adm_…` key from `<data-dir>/<stack>/admin.json`.
 */
export function isAdminKey(key: string | undefined, adminKeyHashes: readonly string[]): boolean {
  if (!key || key.length > 256) return false;
  const hash = hashApiKey(key);
  // Compare against every listed hash, so the time taken does not say which one matched.
  return adminKeyHashes.reduce((found, h) => digestsEqual(h, hash) || found, false);
}
