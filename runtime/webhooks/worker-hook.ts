/**
 * Webhook delivery in the worker process, plugged into `AgentWorker`'s `afterAnswer` hook.
 *
 * Why the worker and not the router: with `202` the router (a Lambda on AWS) has returned and may
 * be frozen; the worker is the long-running process that has the answer the moment it exists.
 *
 *   afterAnswer(ask, reply) ─► ask has callback_id? ─► claim the callback (conditional, leased)
 *     ─► background: attempt 1..4 with backoff, each recorded on the callback ─► delivered | failed
 *
 * `afterAnswer` returns once the delivery is claimed, so a slow or dead receiver never holds a
 * worker slot; `idle()` waits for deliveries under way (call it when the worker stops). A worker
 * that dies mid-delivery leaves the callback `delivering` (its lease expires; nothing resumes it
 * yet: see docs/api.md, "what is not built").
 */
import type { AskMessage, AnswerRecord } from "../core/messages";
import type { AwsClients } from "../aws/clients";
import { ApiKeyStore } from "../aws/api-key-store";
import { CallbackStore } from "../aws/callback-store";
import { DEFAULT_RETRY, sendWebhook, withRetries, type RetryPolicy } from "./deliver";
import { dnsResolver, type Resolver } from "./ssrf";

export interface WebhookDeliveryDeps {
  callbacks: CallbackStore;
  keys: ApiKeyStore;
  allowInsecureLocal: boolean;
  resolve?: Resolver;
  retry?: RetryPolicy;
  /** Per attempt. */
  timeoutMs?: number;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
  log: (entry: Record<string, unknown>) => void;
}

/** The JSON POSTed for an answered (or failed) async ask. */
export function answerPayload(callbackId: string, ask: AskMessage, reply: AnswerRecord): string {
  const common = { callback_id: callbackId, thread_id: ask.thread_id, response_id: reply.responseId, agent_id: reply.agentId };
  const timestamp = new Date(reply.answeredAt).toISOString();
  return JSON.stringify(
    reply.status === "answered"
      ? { type: "ask.answered", ...common, content: reply.content, timestamp }
      : { type: "ask.failed", ...common, error_code: reply.errorCode, error: reply.error, timestamp },
  );
}

export class WebhookDelivery {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: WebhookDeliveryDeps) {}

  /** For `AgentWorker`'s `afterAnswer`: idempotent (a claimed or finished delivery is left alone). */
  readonly afterAnswer = async (ask: AskMessage, reply: AnswerRecord): Promise<void> => {
    if (!ask.callback_id) return;
    const { callbacks, keys, now } = this.deps;
    const retry = this.deps.retry ?? DEFAULT_RETRY;
    const timeoutMs = this.deps.timeoutMs ?? 5_000;
    // Long enough for every attempt and wait; after it another worker may take the delivery over.
    const leaseMs = retry.attempts * timeoutMs + retry.baseDelayMs * 2 ** retry.attempts + 10_000;
    const callback = await callbacks.claim(ask.callback_id, now(), leaseMs);
    if (!callback) return;
    const key = await keys.get(callback.keyHash);
    const body = answerPayload(callback.callbackId, ask, reply);
    const run = this.deliver(callback.callbackId, callback.url, body, key?.webhookSecret, retry, timeoutMs).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  };

  /** Resolves when every delivery under way has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(callbackId: string, url: string, body: string, secret: string | undefined, retry: RetryPolicy, timeoutMs: number): Promise<void> {
    const { callbacks, now, log } = this.deps;
    const origin = safeOrigin(url);
    try {
      if (!secret) {
        await callbacks.recordAttempt(callbackId, { attempts: 0, error: "the key has no webhook secret (revoked or removed)", final: "failed", at: now() });
        return;
      }
      const result = await withRetries(
        (attempt) =>
          sendWebhook(url, body, secret, { "X-Webhook-Id": callbackId, "X-Webhook-Attempt": String(attempt) }, {
            allowInsecureLocal: this.deps.allowInsecureLocal,
            resolve: this.deps.resolve ?? dnsResolver,
            timeoutMs,
          }),
        retry,
        this.deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
        async (attempt, outcome, last) => {
          await callbacks.recordAttempt(callbackId, {
            attempts: attempt,
            statusCode: outcome.statusCode,
            error: outcome.error,
            final: outcome.ok ? "delivered" : last ? "failed" : undefined,
            at: now(),
          });
        },
      );
      log({ level: result.ok ? "info" : "warn", msg: result.ok ? "webhook delivered" : "webhook failed", callbackId, origin, attempts: result.attempts, statusCode: result.statusCode });
    } catch (err) {
      // The store failed while recording: the callback keeps its last recorded state.
      log({ level: "error", msg: "webhook delivery bookkeeping failed", callbackId, origin, error: (err as Error).message });
    }
  }
}

/** Scheme, host and port only: paths and queries may carry tokens. */
export function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid url)";
  }
}

/** The worker-side wiring in one call: stores from the worker's clients and table names. */
export function createWebhookDelivery(args: {
  clients: AwsClients;
  tables: { apiKeys: string; apiState: string };
  allowInsecureLocal?: boolean;
  log: (entry: Record<string, unknown>) => void;
  now?: () => number;
}): WebhookDelivery {
  return new WebhookDelivery({
    callbacks: new CallbackStore(args.clients, args.tables.apiState),
    keys: new ApiKeyStore(args.clients, args.tables.apiKeys),
    allowInsecureLocal: args.allowInsecureLocal ?? false,
    now: args.now ?? Date.now,
    log: args.log,
  });
}
