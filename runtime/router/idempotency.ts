/**
 * `Idempotency-Key` handling around an ask (see core/idempotency.ts for the states). What is
 * stored is decided by one question: did the ask reach a queue? Before that, any refusal releases
 * the claim (a retry runs the ask); after it, the response is stored whatever it is, so a retry
 * never runs the ask twice. A stored 504 (or any 5xx after enqueue) is looked at again on replay:
 * once the late answer has landed, the replay is that 200.
 */
import { ApiError, IdempotencyInProgressError, IdempotencyKeyReusedError } from "../core/errors";
import { IDEMPOTENCY_TTL_MS, idempotencyRecordKey } from "../core/idempotency";
import type { AskResponse } from "../core/api";
import type { IdempotencyStore, StoredResponse } from "../aws/idempotency-store";
import { errorResponse, json, type HttpResponse } from "./http";
import type { AskHooks, EnqueuedAsk } from "./ask";
import { backend } from "./backend";

export const REPLAYED_HEADER = "Idempotent-Replayed";

export interface IdempotencyDeps {
  store: IdempotencyStore;
  now: () => number;
  /** How long a claim holds while its ask runs (longer than the deadline); then a retry may take over. */
  leaseMs: number;
  answerOf: (ask: EnqueuedAsk) => Promise<AskResponse | undefined>;
}

export class Idempotency {
  constructor(private readonly deps: IdempotencyDeps) {}

  async run(owner: string, key: string | undefined, fingerprint: string, handler: (hooks: AskHooks) => Promise<HttpResponse>): Promise<HttpResponse> {
    if (key === undefined) return handler({});
    const { store, now, leaseMs } = this.deps;
    const pk = idempotencyRecordKey(owner, key);
    const claim = await backend("the idempotency store", () => store.claim(pk, fingerprint, now(), leaseMs, IDEMPOTENCY_TTL_MS));
    if (!claim.claimed) {
      const existing = claim.existing;
      if (existing.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError();
      if (existing.state === "in_progress") throw new IdempotencyInProgressError();
      return this.replay(pk, fingerprint, existing.response);
    }

    let enqueued: EnqueuedAsk | undefined;
    let res: HttpResponse;
    try {
      res = await handler({ onEnqueued: (ask) => (enqueued = ask) });
    } catch (err) {
      if (!enqueued) {
        await store.release(pk, fingerprint).catch(() => undefined);
        throw err;
      }
      res = err instanceof ApiError ? errorResponse(err) : json(500, { error: "internal error", error_code: "INTERNAL_ERROR" });
    }
    if (!enqueued && res.status >= 400) {
      await store.release(pk, fingerprint).catch(() => undefined);
      return res;
    }
    const stored: StoredResponse = { status: res.status, body: res.body, headers: replayable(res.headers) };
    if (enqueued && res.status >= 500) stored.pending = enqueued;
    // If this write fails the claim stays in progress until its lease ends: retries get 409, not a second run.
    await store.complete(pk, fingerprint, stored).catch(warn);
    return res;
  }

  private async replay(pk: string, fingerprint: string, stored: StoredResponse): Promise<HttpResponse> {
    if (stored.pending) {
      const answer = await this.deps.answerOf(stored.pending);
      if (answer) {
        const res = json(200, answer);
        await this.deps.store.complete(pk, fingerprint, { status: 200, body: res.body, headers: replayable(res.headers) }).catch(warn);
        return { ...res, headers: { ...res.headers, [REPLAYED_HEADER]: "true" } };
      }
    }
    return { status: stored.status, headers: { ...stored.headers, [REPLAYED_HEADER]: "true" }, body: stored.body };
  }
}

/** Headers that describe the stored response itself (not this request's rate-limit state or id). */
function replayable(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !/^x-ratelimit-|^x-request-id$|^retry-after$/i.test(k)));
}

/** The store's error name and message only: never the stored response (it holds message content). */
function warn(err: unknown): void {
  console.error(JSON.stringify({ level: "warn", msg: "idempotency record not stored", error: (err as Error).name, detail: (err as Error).message }));
}
