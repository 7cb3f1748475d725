/**
 * The agent worker: owns one replica slot and answers what its queue holds.
 *
 *   receive → (redelivered? reply already stored → repair turns, delete) → load history
 *   → call the model → write the answer once → append both turns → record affinity → delete
 *   (the router counts the ask out of the replica's depth when it reads the answer; the worker
 *   does only for an ask the router gave up on: see ReplyRecord)
 *
 * A crash at any point leaves the message to reappear after its visibility timeout; the steps
 * are idempotent (the reply is written once, turn keys come from the ask), so a retry never
 * answers twice or duplicates a turn.
 */
import type { Message } from "@aws-sdk/client-sqs";
import { askMessageSchema, renderSystemPrompt, turnSortKey, type AnswerRecord, type AskMessage } from "../core/messages";
import type { AgentTypeSpec } from "../core/spec";
import type { ReplicaState } from "../core/routing";
import type { ThreadStore } from "../aws/thread-store";
import type { ReplicaRegistry } from "../aws/replica-registry";
import type { ReplicaQueue } from "../aws/queues";
import { ProviderError, type ChatMessage, type LlmProvider } from "../llm";

export interface WorkerDeps {
  agentId: string;
  endpoint: string;
  agentType: AgentTypeSpec;
  queue: ReplicaQueue;
  threads: ThreadStore;
  registry: ReplicaRegistry;
  provider: LlmProvider;
  now: () => number;
  /** Answers worked on at once (1 keeps depth meaning "queued + in progress" per spec). */
  maxConcurrency: number;
  /** SQS long-poll wait: 20 s on AWS; 1 s locally (the emulator's long poll is coarse). */
  waitSeconds: number;
  heartbeatMs: number;
  log: (entry: Record<string, unknown>) => void;
  /**
   * Runs once the answer (or failure) is stored and before the message is deleted, e.g. to hand
   * it to a webhook. A throw leaves the message for redelivery, so it must be idempotent.
   */
  afterAnswer?: (ask: AskMessage, reply: AnswerRecord) => Promise<void>;
}

export class AgentWorker {
  private state: ReplicaState = "starting";
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private heartbeatTimer?: NodeJS.Timeout;
  private busy = 0;

  constructor(private readonly deps: WorkerDeps) {}

  get inFlight(): number {
    return this.busy;
  }

  async start(): Promise<void> {
    this.state = "running";
    await this.beat();
    this.heartbeatTimer = setInterval(() => void this.beat(), this.deps.heartbeatMs);
    this.loops = Array.from({ length: this.deps.maxConcurrency }, () => this.loop());
    this.deps.log({ level: "info", msg: "agent running", agentId: this.deps.agentId, provider: this.deps.provider.name });
  }

  /** Stops taking messages, finishes the ones in hand, then marks the slot stopped. */
  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "draining";
    await this.beat();
    this.abort.abort();
    await Promise.allSettled(this.loops);
    clearInterval(this.heartbeatTimer);
    this.state = "stopped";
    await this.beat();
  }

  private async beat(): Promise<void> {
    try {
      await this.deps.registry.heartbeat(this.deps.endpoint, this.deps.agentId, this.state, this.deps.now(), `pid:${process.pid}`);
    } catch (err) {
      this.deps.log({ level: "warn", msg: "heartbeat failed", agentId: this.deps.agentId, error: (err as Error).message });
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.abort.signal.aborted) {
      let message: Message | undefined;
      try {
        message = await this.deps.queue.receive(this.deps.waitSeconds, this.abort.signal);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        failures += 1;
        this.deps.log({ level: "warn", msg: "receive failed", agentId: this.deps.agentId, error: (err as Error).message });
        await backoff(failures);
        continue;
      }
      if (!message) continue;
      this.busy += 1;
      try {
        await this.handle(message);
        failures = 0;
      } catch (err) {
        // Left on the queue: it reappears after the visibility timeout and is retried.
        failures += 1;
        this.deps.log({ level: "error", msg: "ask failed, will be retried", agentId: this.deps.agentId, error: (err as Error).message });
        await backoff(failures);
      } finally {
        this.busy -= 1;
      }
    }
  }

  async handle(raw: Message): Promise<void> {
    const { threads, registry, queue, agentId, endpoint, now } = this.deps;
    const parsed = askMessageSchema.safeParse(safeJson(raw.Body));
    if (!parsed.success) {
      this.deps.log({ level: "error", msg: "dropping malformed message", agentId, messageId: raw.MessageId });
      await queue.delete(raw.ReceiptHandle!);
      return;
    }
    const ask = parsed.data;
    const started = now();

    // A redelivered message may already have been answered (the worker died before deleting it).
    const receiveCount = Number(raw.Attributes?.ApproximateReceiveCount ?? "1");
    const earlier = receiveCount > 1 ? await threads.getReply(ask.thread_id, ask.response_id) : undefined;
    let reply: AnswerRecord;
    let countOut = false;
    if (earlier && earlier.status !== "timed_out") {
      reply = earlier;
    } else {
      const fresh = await this.answer(ask);
      const written = await threads.putAnswerOnce(ask.thread_id, fresh);
      reply = written.reply;
      // The router counts the ask out when it reads the answer; if it gave up first, we do.
      countOut = written.replacedTimeout;
    }
    if (reply.status === "answered") {
      await threads.appendExchange(
        ask.thread_id,
        ask.accepted_at,
        { role: "user", content: ask.content, responseId: ask.response_id, at: ask.accepted_at },
        { role: "assistant", content: reply.content, responseId: ask.response_id, agentId: reply.agentId, at: reply.answeredAt },
      );
      await threads.setAffinity(ask.thread_id, reply.agentId, reply.answeredAt);
    }
    if (countOut) await registry.release(endpoint, agentId);
    await this.deps.afterAnswer?.(ask, reply);
    await queue.delete(raw.ReceiptHandle!);
    this.deps.log({
      level: "info",
      msg: "ask answered",
      agentId,
      threadId: ask.thread_id,
      responseId: ask.response_id,
      status: reply.status,
      queueWaitMs: started - ask.accepted_at,
      answerMs: now() - started,
      redelivered: receiveCount > 1,
    });
  }

  private async answer(ask: AskMessage): Promise<AnswerRecord> {
    const { threads, provider, agentType, agentId, now } = this.deps;
    const history = await threads.history(ask.thread_id, turnSortKey(ask.accepted_at, ask.response_id, "user"));
    const { prompt, rest } = renderSystemPrompt(agentType.systemPrompt, ask.context_variables);
    const messages: ChatMessage[] = [
      { role: "system", content: prompt },
      ...(Object.keys(rest).length
        ? [{ role: "system" as const, content: `Context variables:\n${Object.entries(rest).map(([k, v]) => `${k}: ${v}`).join("\n")}` }]
        : []),
      ...history.map((t) => ({ role: t.role, content: t.content })),
      { role: "user", content: ask.content },
    ];
    try {
      const content = await provider.complete({
        model: agentType.model,
        messages,
        temperature: agentType.temperature,
        maxTokens: agentType.maxTokens,
        agentId,
      });
      return { status: "answered", responseId: ask.response_id, agentId, content, answeredAt: now() };
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      return { status: "failed", responseId: ask.response_id, agentId, errorCode: "UPSTREAM_ERROR", error: err.message, answeredAt: now() };
    }
  }
}

function safeJson(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? "");
  } catch {
    return undefined;
  }
}

/** Exponential backoff with jitter, capped at 5 s. */
function backoff(failures: number): Promise<void> {
  const ms = Math.min(5_000, 100 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() / 2);
  return new Promise((r) => setTimeout(r, ms));
}
