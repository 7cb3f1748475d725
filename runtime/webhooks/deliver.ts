/**
 * Sending one signed webhook delivery, and retrying it:
 *
 *   attempt 1 ─✗─ 1 s ─ attempt 2 ─✗─ 2 s ─ attempt 3 ─✗─ 4 s ─ attempt 4 ─✗─ failed
 *
 * Success is any 2xx within the timeout; redirects are not followed (a 3xx is a failure). The URL
 * is checked (and resolved) again at every attempt, and the socket goes to the checked address.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { checkWebhookUrl, type CheckedWebhookUrl, type WebhookUrlPolicy } from "./ssrf";
import { SIGNATURE_HEADER, signWebhookBody } from "./signature";

export interface DeliveryOutcome {
  ok: boolean;
  statusCode?: number;
  /** Why it failed, without the body or the secret. */
  error?: string;
}

export interface SendOptions extends WebhookUrlPolicy {
  timeoutMs: number;
}

/** POSTs `body` to the checked address of `url`, signed with `secret`; never throws. */
export async function sendWebhook(
  url: string,
  body: string,
  secret: string,
  headers: Record<string, string>,
  options: SendOptions,
): Promise<DeliveryOutcome> {
  let checked: CheckedWebhookUrl;
  try {
    checked = await checkWebhookUrl(url, options);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const { url: target, address } = checked;
  // Connect to the address that was checked, whatever the host name resolves to now.
  const pinned: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as any)(null, [{ address: address.address, family: address.family }]);
    else cb(null, address.address, address.family);
  };
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<DeliveryOutcome>((resolve) => {
    const req = request(
      target,
      {
        method: "POST",
        lookup: pinned,
        timeout: options.timeoutMs,
        headers: {
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          "user-agent": "agentpool-webhooks/1",
          [SIGNATURE_HEADER]: signWebhookBody(secret, body),
          ...headers,
        },
      },
      (res) => {
        res.resume(); // the receiver's body is not needed
        res.on("end", () => undefined);
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 300 ? { ok: true, statusCode: code } : { ok: false, statusCode: code, error: `receiver answered ${code}` });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    req.on("timeout", () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on("error", (err) => resolve({ ok: false, error: err.message }));
    req.on("close", () => clearTimeout(timer));
    req.end(body);
  });
}

export interface RetryPolicy {
  attempts: number;
  /** Wait before attempt 2; doubles for each later one. */
  baseDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 1_000 };

/** The wait before attempt `n` (n ≥ 2). */
export function backoffMs(policy: RetryPolicy, n: number): number {
  return policy.baseDelayMs * 2 ** (n - 2);
}

/** Tries `send` up to `policy.attempts` times with exponential backoff; reports every attempt. */
export async function withRetries(
  send: (attempt: number) => Promise<DeliveryOutcome>,
  policy: RetryPolicy,
  sleep: (ms: number) => Promise<void>,
  onAttempt: (attempt: number, outcome: DeliveryOutcome, last: boolean) => Promise<void>,
): Promise<DeliveryOutcome & { attempts: number }> {
  let outcome: DeliveryOutcome = { ok: false, error: "not attempted" };
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    if (attempt > 1) await sleep(backoffMs(policy, attempt));
    outcome = await send(attempt);
    const last = outcome.ok || attempt === policy.attempts;
    await onAttempt(attempt, outcome, last);
    if (outcome.ok) return { ...outcome, attempts: attempt };
  }
  return { ...outcome, attempts: policy.attempts };
}
