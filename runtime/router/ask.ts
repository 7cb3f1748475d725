/**
 * One ask, from an authenticated principal to an answer:
 *
 *   thread (own it or 404) → choose a replica (core/routing; or the named one, direct endpoint)
 *   → its per-agent rate limit → count it in (conditional update) → SendMessage to its queue
 *   → sync: poll the reply item until the deadline → answer | 502 | 504
 *   → async (webhook): 202 at once; the worker delivers the answer (runtime/webhooks)
 *
 * The router counts a sync ask out when it reads the answer, before it responds (so the caller's
 * next ask finds the depth down); past the deadline it marks the ask timed out and the worker whose
 * late answer replaces the mark counts it out; an async ask's worker counts it out when it stores
 * the answer (see ReplyRecord). The counter drops exactly once whatever happens.
 */
import { AnswerTimes } from "../core/poll-schedule";
import {
  AgentBusyError,
  AgentNotFoundError,
  AgentNotRunningError,
  ApiError,
  BackendUnavailableError,
  EndpointNotFoundError,
  PoolUnavailableError,
  ThreadNotFoundError,
  TimeoutError,
  UpstreamError,
} from "../core/errors";
import { newCallbackId, newResponseId, newThreadId } from "../core/ids";
import { isHealthy } from "../core/routing";
import type { RateLimitState } from "../core/rate-limit";
import type { AskAccepted, AskRequest, AskResponse } from "../core/api";
import type { AskMessage, AnswerRecord } from "../core/messages";
import type { ThreadStore } from "../aws/thread-store";
import type { ReplicaRegistry, ReplicaRow } from "../aws/replica-registry";
import type { CallbackStore } from "../aws/callback-store";
import { Dispatcher } from "./dispatch";
import type { ReplicaQueue } from "../aws/queues";
import type { RouterConfig } from "./config";
import type { Principal } from "./auth";
import type { RateLimiter } from "./rate-limit";
import { AgentDirectory } from "./agents";
import { backend } from "./backend";

export interface AskDeps {
  config: RouterConfig;
  threads: ThreadStore;
  registry: ReplicaRegistry;
  callbacks: CallbackStore;
  limiter: RateLimiter;
  /** Throws a 400 when a webhook URL may not be used (scheme, SSRF). */
  checkWebhookUrl: (url: string) => Promise<void>;
  queue: (url: string) => ReplicaQueue;
  now: () => number;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** Which ask a response belongs to, once it is on a queue (it will be answered from then on). */
export interface EnqueuedAsk {
  threadId: string;
  responseId: string;
  agentId: string;
  endpoint: string;
}

export interface AskHooks {
  onEnqueued?: (ask: EnqueuedAsk) => void;
}

export type AskOutcome = { status: 200; body: AskResponse } | { status: 202; body: AskAccepted };

interface ThreadChoice {
  threadId: string;
  affinity?: string;
  /** The deployment the thread started on (A/B: its follow-ups stay there). */
  deployment?: string;
  isNew: boolean;
}

export class AskService {
  private readonly answerTimes: AnswerTimes;
  /** Per deployment: how long one answer takes on a replica, net of the asks queued before it. */
  private readonly serviceTimes: AnswerTimes;
  private readonly dispatcher: Dispatcher;
  private readonly directory: AgentDirectory;

  constructor(private readonly deps: AskDeps) {
    this.answerTimes = new AnswerTimes({ minMs: deps.config.pollInitialMs, maxMs: deps.config.pollMaxMs, window: 64 });
    this.serviceTimes = new AnswerTimes({ minMs: deps.config.pollInitialMs, maxMs: deps.config.pollMaxMs, window: 64 });
    const perDeployment = deps.config.routing.perDeployment;
    this.dispatcher = new Dispatcher({
      registry: deps.registry,
      now: deps.now,
      random: deps.random,
      heartbeatStaleMs: deps.config.heartbeatStaleMs,
      weights: Object.fromEntries(Object.entries(perDeployment).map(([key, d]) => [key, d.trafficWeight])),
      answerMs: (deployment) => this.serviceTimes.median(deployment),
      maxConcurrency: (deployment) => perDeployment[deployment]?.maxConcurrency ?? 1,
      snapshotMaxAgeMs: deps.config.registrySnapshotMs,
    });
    this.directory = new AgentDirectory(deps.registry, deps.now);
  }

  /** `POST /api/v1/ask/{endpoint}`: the pool's choice of replica. */
  async ask(principal: Principal, endpoint: string, request: AskRequest, hooks: AskHooks = {}): Promise<AskOutcome> {
    if (!this.deps.config.endpoints.includes(endpoint)) throw new EndpointNotFoundError(endpoint);
    const webhookUrl = await this.webhookFor(principal, request);
    const acceptedAt = this.deps.now();
    const thread = await this.resolveThread(principal, endpoint, request.thread_id);
    const replica = await this.acquireBalanced(endpoint, thread.affinity, thread.deployment);
    return this.run(principal, replica, thread, request, acceptedAt, webhookUrl, hooks);
  }

  /** `POST /api/v1/agents/{agent_id}/messages`: one named replica, no balancing. */
  async askAgent(principal: Principal, agentId: string, request: AskRequest, hooks: AskHooks = {}): Promise<AskOutcome> {
    const { registry, limiter, now, config } = this.deps;
    const webhookUrl = await this.webhookFor(principal, request);
    const acceptedAt = now();
    const row = await this.directory.find(agentId);
    if (!row) throw new AgentNotFoundError(agentId);
    const healthy = isHealthy(row, acceptedAt, config.heartbeatStaleMs);
    if (!healthy) throw new AgentNotRunningError(agentId, row.state, row.state !== "running");
    const thread = await this.resolveThread(principal, row.endpoint, request.thread_id);
    const limit = await limiter.consumeAgent(agentId, row.deployment);
    if (!limit.allowed) throw limiter.agentExceeded(limit, { agent_id: agentId });
    // Counted in like any ask, up to the hard limit, so the routing invariants hold.
    if (!(await backend("the replica registry", () => registry.tryAcquire(row.endpoint, agentId, row.overflowDepth)))) {
      const fresh = await this.directory.find(agentId);
      if (!fresh || !isHealthy(fresh, now(), config.heartbeatStaleMs)) throw new AgentNotRunningError(agentId, fresh?.state ?? "stopped", false);
      throw new AgentBusyError(agentId, fresh.depth);
    }
    this.dispatcher.countedIn(row.endpoint, agentId);
    return this.run(principal, row, thread, request, acceptedAt, webhookUrl, hooks);
  }

  /** The answer of an enqueued ask if it has landed (an idempotent retry of a 504 gets it). */
  async answerOf(ask: EnqueuedAsk): Promise<AskResponse | undefined> {
    const reply = await backend("the thread store", () => this.deps.threads.getReply(ask.threadId, ask.responseId));
    if (!reply || reply.status !== "answered") return undefined;
    return toResponse(ask.threadId, reply);
  }

  private async webhookFor(principal: Principal, request: AskRequest): Promise<string | undefined> {
    const url = request.webhook_url ?? principal.webhookUrl;
    if (url !== undefined) await this.deps.checkWebhookUrl(url);
    return url;
  }

  private async resolveThread(principal: Principal, endpoint: string, threadId: string | undefined): Promise<ThreadChoice> {
    if (!threadId) return { threadId: newThreadId(), isNew: true };
    const meta = await backend("the thread store", () => this.deps.threads.getMeta(threadId));
    if (!meta || meta.owner !== principal.owner || meta.endpoint !== endpoint) throw new ThreadNotFoundError();
    return { threadId: meta.threadId, affinity: meta.agentId, deployment: meta.deployment, isNew: false };
  }

  /**
   * The dispatcher's choice, skipping replicas at their per-agent rate limit. 429 when every
   * replica that could take the ask is at its limit; 503 when none could take it anyway.
   */
  private async acquireBalanced(endpoint: string, affinity: string | undefined, deployment: string | undefined): Promise<ReplicaRow> {
    const { limiter } = this.deps;
    const exclude = new Set<string>();
    let limited: RateLimitState | undefined;
    for (;;) {
      let replica: ReplicaRow;
      try {
        ({ replica } = await this.dispatcher.acquire(endpoint, affinity, exclude.size ? exclude : undefined, deployment));
      } catch (err) {
        if (err instanceof PoolUnavailableError && limited) throw limiter.agentExceeded(limited, { endpoint });
        throw err;
      }
      const state = await limiter.consumeAgent(replica.agentId, replica.deployment);
      if (state.allowed) return replica;
      await this.release(endpoint, replica.agentId);
      exclude.add(replica.agentId);
      if (!limited || state.resetAt < limited.resetAt) limited = state;
    }
  }

  private async run(
    principal: Principal,
    replica: ReplicaRow,
    thread: ThreadChoice,
    request: AskRequest,
    acceptedAt: number,
    webhookUrl: string | undefined,
    hooks: AskHooks,
  ): Promise<AskOutcome> {
    const { config, threads, callbacks } = this.deps;
    const endpoint = replica.endpoint;
    const deadlineAt = acceptedAt + config.deadlineMs;
    const callbackId = webhookUrl ? newCallbackId() : undefined;
    const message: AskMessage = {
      v: 1,
      response_id: newResponseId(),
      thread_id: thread.threadId,
      owner: principal.owner,
      endpoint,
      agent_id: replica.agentId,
      content: request.content,
      context_variables: request.context_variables,
      accepted_at: acceptedAt,
      deadline_at: deadlineAt,
      ...(callbackId ? { callback_id: callbackId } : {}),
      // What the worker can skip: the thread's affinity already names this replica; no history yet.
      ...(thread.isNew
        ? { affinity: replica.agentId, first_turn: true, deployment: replica.deployment }
        : thread.affinity
          ? { affinity: thread.affinity }
          : {}),
    };
    const meta = { threadId: thread.threadId, owner: principal.owner, endpoint, agentId: replica.agentId, deployment: replica.deployment, createdAt: acceptedAt };
    try {
      if (callbackId) {
        // The caller has the thread id at once (202): the thread exists before the answer does. A
        // sync ask's thread is created by its worker, with the first turns, before the answer shows.
        if (thread.isNew) await threads.createMeta(meta);
        await callbacks.create({
          callbackId,
          owner: principal.owner,
          keyHash: principal.keyHash,
          url: webhookUrl!,
          threadId: thread.threadId,
          responseId: message.response_id,
          status: "pending",
          attempts: 0,
          createdAt: acceptedAt,
        });
      }
      await this.deps.queue(replica.queueUrl).send(JSON.stringify(message));
    } catch (err) {
      // Never enqueued: count it out here, nobody else will.
      await this.release(endpoint, replica.agentId);
      if (callbackId) {
        await callbacks.recordAttempt(callbackId, { attempts: 0, error: "the ask was never enqueued", final: "failed", at: this.deps.now() }).catch(() => undefined);
      }
      throw new BackendUnavailableError(err instanceof ApiError ? err.message : "the replica queue");
    }
    hooks.onEnqueued?.({ threadId: thread.threadId, responseId: message.response_id, agentId: replica.agentId, endpoint });

    if (callbackId) {
      return {
        status: 202,
        body: { callback_id: callbackId, thread_id: thread.threadId, response_id: message.response_id, agent_id: replica.agentId, status: "accepted" },
      };
    }
    const sentAt = this.deps.now();
    const reply = await this.settle(endpoint, thread.threadId, message.response_id, deadlineAt);
    if (reply) this.recordServiceTime(replica, this.deps.now() - sentAt);
    // The 504 gives the caller the thread id: the thread must exist even if its first answer does not yet.
    if (!reply && thread.isNew) await backend("the thread store", () => threads.createMeta(meta));
    if (!reply) throw new TimeoutError(config.deadlineMs, { thread_id: thread.threadId, response_id: message.response_id, agent_id: replica.agentId });
    // The replica that answered holds the count: a draining replica may have handed the ask on.
    await this.release(endpoint, reply.agentId);
    if (reply.status === "failed") {
      throw new UpstreamError(`the agent's model provider failed: ${reply.error}`, { thread_id: thread.threadId, agent_id: reply.agentId });
    }
    return { status: 200, body: toResponse(thread.threadId, reply) };
  }

  /** Counts an ask out (best effort: a failure leaves the replica one deeper, see the note on drift). */
  private async release(endpoint: string, agentId: string): Promise<void> {
    try {
      await this.deps.registry.release(endpoint, agentId);
      this.dispatcher.countedOut(endpoint, agentId);
    } catch {
      // The store is unreachable: the count stays up; the replica looks one ask busier than it is.
    }
  }

  /**
   * One answer's time on its replica: the time to the answer divided by the rounds of answers the
   * replica had to work through first (`depth` asks were ahead of it when it was routed, served
   * `maxConcurrency` at a time), so a 503 under load does not count the queue twice.
   */
  private recordServiceTime(replica: ReplicaRow, elapsedMs: number): void {
    const concurrency = this.deps.config.routing.perDeployment[replica.deployment]?.maxConcurrency ?? 1;
    const rounds = Math.floor(Math.max(0, replica.depth) / concurrency) + 1;
    this.serviceTimes.record(replica.deployment, elapsedMs / rounds);
  }

  /** The answer, or undefined once the ask is marked timed out (the worker then counts it out). */
  private async settle(endpoint: string, threadId: string, responseId: string, deadlineAt: number): Promise<AnswerRecord | undefined> {
    const { threads, now, sleep } = this.deps;
    const sentAt = now();
    const nextGap = this.answerTimes.schedule(endpoint);
    for (let remaining = deadlineAt - sentAt; remaining > 0; remaining = deadlineAt - now()) {
      await sleep(Math.min(nextGap(), remaining));
      try {
        const reply = await threads.getReply(threadId, responseId);
        if (reply && reply.status !== "timed_out") {
          this.answerTimes.record(endpoint, now() - sentAt);
          return reply;
        }
      } catch {
        // A blip of the store while waiting: keep polling until the deadline.
      }
    }
    for (let attempt = 0; ; attempt++) {
      try {
        return await threads.markTimedOut(threadId, responseId, now());
      } catch {
        if (attempt >= 3) throw new BackendUnavailableError("the thread store");
        await sleep(50 * 2 ** attempt);
      }
    }
  }
}

function toResponse(threadId: string, reply: Extract<AnswerRecord, { status: "answered" }>): AskResponse {
  return {
    thread_id: threadId,
    response_id: reply.responseId,
    agent_id: reply.agentId,
    content: reply.content,
    timestamp: new Date(reply.answeredAt).toISOString(),
  };
}
