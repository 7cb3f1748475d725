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
