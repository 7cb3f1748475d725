/**
 * One ask, from an authenticated principal to an answer:
 *
 *   thread (own it or 404) → choose a replica (core/routing) → count it in (conditional update)
 *   → SendMessage to its queue → poll the reply item until the deadline → answer | 502 | 504
 *
 * The router counts the ask out when it reads the answer; past the deadline it marks the ask
 * timed out and the worker counts it out when the late answer lands (see ReplyRecord), so the
 * counter drops exactly once whatever happens.
 */
import { AnswerTimes } from "../core/poll-schedule";
import {
  ApiError,
  BackendUnavailableError,
  EndpointNotFoundError,
  ThreadNotFoundError,
  TimeoutError,
  UpstreamError,
} from "../core/errors";
import { newResponseId, newThreadId } from "../core/ids";
import type { AskRequest, AskResponse } from "../core/api";
import type { AskMessage, AnswerRecord } from "../core/messages";
import type { ThreadStore } from "../aws/thread-store";
import type { ReplicaRegistry } from "../aws/replica-registry";
import { Dispatcher } from "./dispatch";
import type { ReplicaQueue } from "../aws/queues";
import type { RouterConfig } from "./config";
import type { Principal } from "./auth";
import { backend } from "./backend";

export interface AskDeps {
  config: RouterConfig;
  threads: ThreadStore;
  registry: ReplicaRegistry;
  queue: (url: string) => ReplicaQueue;
  now: () => number;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

export class AskService {
  private readonly answerTimes: AnswerTimes;
  private readonly dispatcher: Dispatcher;

  constructor(private readonly deps: AskDeps) {
    this.answerTimes = new AnswerTimes({ minMs: deps.config.pollInitialMs, maxMs: deps.config.pollMaxMs, window: 64 });
    this.dispatcher = new Dispatcher({
      registry: deps.registry,
      now: deps.now,
      random: deps.random,
      heartbeatStaleMs: deps.config.heartbeatStaleMs,
    });
  }

  async ask(principal: Principal, endpoint: string, request: AskRequest): Promise<AskResponse> {
    const { config, threads, now } = this.deps;
    if (!config.endpoints.includes(endpoint)) throw new EndpointNotFoundError(endpoint);
    const acceptedAt = now();
    const deadlineAt = acceptedAt + config.deadlineMs;

    let threadId: string;
    let affinity: string | undefined;
    if (request.thread_id) {
      const meta = await backend("the thread store", () => threads.getMeta(request.thread_id!));
      if (!meta || meta.owner !== principal.owner || meta.endpoint !== endpoint) throw new ThreadNotFoundError();
      threadId = meta.threadId;
      affinity = meta.agentId;
    } else {
      threadId = newThreadId();
    }

    const { replica } = await this.dispatcher.acquire(endpoint, affinity);
    const message: AskMessage = {
      v: 1,
      response_id: newResponseId(),
      thread_id: threadId,
      owner: principal.owner,
      endpoint,
      agent_id: replica.agentId,
      content: request.content,
      context_variables: request.context_variables,
      accepted_at: acceptedAt,
      deadline_at: deadlineAt,
    };
    try {
      if (!request.thread_id) {
        await threads.createMeta({ threadId, owner: principal.owner, endpoint, createdAt: acceptedAt });
      }
      await this.deps.queue(replica.queueUrl).send(JSON.stringify(message));
    } catch (err) {
      // Never enqueued: count it out here, nobody else will.
      await this.deps.registry.release(endpoint, replica.agentId).catch(() => undefined);
      throw new BackendUnavailableError(err instanceof ApiError ? err.message : "the replica queue");
    }

    const reply = await this.settle(endpoint, threadId, message.response_id, deadlineAt);
    if (!reply) throw new TimeoutError(config.deadlineMs, { thread_id: threadId, response_id: message.response_id, agent_id: replica.agentId });
    // The replica that answered holds the count: a draining replica may have handed the ask on.
    await this.deps.registry.release(endpoint, reply.agentId).catch(() => undefined);
    if (reply.status === "failed") {
      throw new UpstreamError(`the agent's model provider failed: ${reply.error}`, { thread_id: threadId, agent_id: reply.agentId });
    }
    return {
      thread_id: threadId,
      response_id: reply.responseId,
      agent_id: reply.agentId,
      content: reply.content,
      timestamp: new Date(reply.answeredAt).toISOString(),
    };
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
