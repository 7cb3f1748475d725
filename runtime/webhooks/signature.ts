/**
 * Webhook signatures: `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, keyed with
 * the API key's webhook secret. Receivers verify against the raw bytes they received (before any
 * JSON parsing), with a constant-time compare (docs/api.md has the snippet).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-Webhook-Signature";

export function signWebhookBody(secret: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
}

export function verifyWebhookSignature(secret: string, rawBody: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signWebhookBody(secret, rawBody));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
