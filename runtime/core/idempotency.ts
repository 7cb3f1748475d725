/**
 * Idempotency-Key semantics (pure parts). A key is scoped to its owner; the request it was first
 * used with is remembered as a fingerprint of method, path and the *parsed* body, so the same
 * request sent with other whitespace or key order is still the same request.
 *
 *   first  ──claim (in_progress)──► ask runs ──► completed {status, body}      (24 h)
 *   retry while in_progress        → 409 IDEMPOTENCY_IN_PROGRESS
 *   retry once completed           → the stored response, byte for byte (same response_id)
 *   same key, other request        → 422 IDEMPOTENCY_KEY_REUSED
 *   refused before it was enqueued → claim released: a retry runs it
 */
import { createHash } from "node:crypto";

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

/** JSON with object keys sorted, so equal values have one text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export function requestFingerprint(method: string, path: string, parsedBody: unknown): string {
  return createHash("sha256").update(`${method} ${path}\n${canonicalJson(parsedBody)}`).digest("hex");
}

/** The store key of an Idempotency-Key: per owner, hashed (any 256 printable characters fit). */
export function idempotencyRecordKey(owner: string, key: string): string {
  return `idem#${owner}#${createHash("sha256").update(key).digest("hex")}`;
}
