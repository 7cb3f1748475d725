/**
 * The agent worker: claims one replica slot and answers what the slot's queue holds.
 *
 *   claim a slot (lease) → receive → (redelivered and answered already? repair turns, delete)
 *   → load history → call the model → append both turns → record affinity
 *   → write the answer once (now the router sees it) → delete
 *
 * The router counts an ask out of the replica's depth when it reads the answer; the worker does
 * only for an ask the router gave up on (see ReplyRecord). A crash at any point leaves the message
 * to reappear after its visibility timeout (kept short and extended while an answer runs); the
 * steps are idempotent, so a retry never answers twice or duplicates a turn. A message that keeps
 * failing goes to the dead-letter queue with a failed reply, so its caller is not left waiting.
 *
 * Stopping: `finish` (pool shutdown) completes the answers in hand; `drain` (scale down) also hands
 * every ask still queued for the slot back to the pool, then vacates the slot.
 */
import type { Message } from "@aws-sdk/client-sqs";
import { askMessageSchema, renderSystemPrompt, turnSortKey, type AnswerRecord, type AskMessage } from "../core/messages";
import type { AgentTypeSpec } from "../core/spec";
import type { ReplicaState } from "../core/routing";
import { PoolUnavailableError } from "../core/errors";
import type { ThreadMeta, ThreadStore } from "../aws/thread-store";
import { LeaseLostError, type ReplicaRegistry, type SlotClaim } from "../aws/replica-registry";
import type { ReplicaQueue } from "../aws/queues";
import type { Dispatcher } from "../router/dispatch";
import { ProviderError, type ChatMessage, type LlmProvider } from "../llm";
import type { WorkerObserver } from "../observe/metrics";

export interface WorkerSlot extends SlotClaim {
  dlqUrl?: string;
}

export interface WorkerDeps {
  /** Slots this worker may claim, in order of preference. */
  slots: WorkerSlot[];
  /** Who this worker is in the registry (pid locally, ECS task id on AWS). */
  owner: string;
  /** An owner known to be dead whose lease may be taken at once (the supervisor saw it exit). */
  takeoverFrom?: string;
  agentType: AgentTypeSpec;
  queueFor: (url: string) => ReplicaQueue;
  threads: ThreadStore;
  registry: ReplicaRegistry;
  /** Re-routes queued asks when draining. */
  dispatcher: Dispatcher;
  provider: LlmProvider;
  now: () => number;
  /** Answers worked on at once (1 keeps depth meaning "queued + in progress" per spec). */
  maxConcurrency: number;
  /** SQS long-poll wait: 20 s on AWS; 1 s locally (the emulator's long poll is coarse). */
  waitSeconds: number;
  /** Most asks one receive takes (SQS allows 10; the local emulator needs 1, see WorkerConfig). */
  receiveBatch: number;
  heartbeatMs: number;
  /** A lease not renewed for this long may be taken over by another worker. */
  leaseMs: number;
  /** The queue's visibility timeout; the worker extends it while an answer runs. */
  visibilityTimeoutSeconds: number;
  /** Receives after which a failing ask goes to the dead-letter queue. */
  maxReceiveCount: number;
  /** Longest time a stop waits for answers in hand (and a drain for handing asks back). */
  drainTimeoutMs: number;
  log: (entry: Record<string, unknown>) => void;
  /**
   * Runs once the answer (or failure) is stored and before the message is deleted, e.g. to hand
   * it to a webhook. A throw leaves the message for redelivery, so it must be idempotent.
   */
  afterAnswer?: (ask: AskMessage, reply: AnswerRecord) => Promise<void>;
  /** Told when the worker starts or stops holding work (ECS task scale-in protection). */
  onBusyChange?: (busy: boolean) => void;
  /** Metrics: asks answered, errors by code, queue wait and answer time, in-flight. */
  observer?: WorkerObserver;
}

export class AgentWorker {
  private state: ReplicaState = "starting";
  private slot?: WorkerSlot;
  private queue?: ReplicaQueue;
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private heartbeatTimer?: NodeJS.Timeout;
  private busy = 0;
  /** Asks that failed in a row (their retries back off longer). */
  private processFailures = 0;
  private stopping?: Promise<void>;

  constructor(private readonly deps: WorkerDeps) {}

  get agentId(): string | undefined {
    return this.slot?.agentId;
  }

  get inFlight(): number {
    return this.busy;
  }

  /** Claims the first free slot, retrying until one frees up or the worker is stopped. */
  async claimSlot(): Promise<WorkerSlot> {
    const { registry, owner, now, leaseMs, takeoverFrom } = this.deps;
    for (let attempt = 0; !this.abort.signal.aborted; attempt++) {
      for (const slot of this.deps.slots) {
        if (await registry.claim(slot, owner, now(), leaseMs, takeoverFrom)) {
          this.slot = slot;
          this.queue = this.deps.queueFor(slot.queueUrl);
          this.state = "running";
          return slot;
        }
      }
      if (attempt === 0) this.deps.log({ level: "info", msg: "no free slot yet, waiting for a lease to expire", owner });
      await sleep(Math.min(1_000, leaseMs / 4));
    }
    throw new Error("stopped before a slot was free");
  }

  async start(): Promise<void> {
    const slot = await this.claimSlot();
    this.heartbeatTimer = setInterval(() => void this.beat(), this.deps.heartbeatMs);
    this.loops = [this.loop()];
    this.deps.log({ level: "info", msg: "agent running", agentId: slot.agentId, provider: this.deps.provider.name });
  }

  /**
   * Stops taking asks, finishes the ones in hand (up to drainTimeoutMs), and with `drain` hands
   * the asks still queued for the slot back to the pool; then vacates the slot.
   */
  stop(mode: "finish" | "drain"): Promise<void> {
    this.stopping ??= this.shutdown(mode);
    return this.stopping;
  }

  private async shutdown(mode: "finish" | "drain"): Promise<void> {
    const slot = this.slot;
    this.abort.abort();
    if (!slot) return;
    const deadline = this.deps.now() + this.deps.drainTimeoutMs;
    this.state = "draining";
    await this.beat();
    const finished = await Promise.race([Promise.allSettled(this.loops).then(() => true), sleep(this.deps.drainTimeoutMs).then(() => false)]);
    if (!finished) this.deps.log({ level: "warn", msg: "answers still running at the drain bound", agentId: slot.agentId, inFlight: this.busy });
    if (mode === "drain") await this.handBack(slot, deadline);
    clearInterval(this.heartbeatTimer);
    this.state = "stopped";
    await this.deps.registry.vacate(slot.endpoint, slot.agentId, this.deps.owner, this.deps.now()).catch(() => undefined);
    this.deps.log({ level: "info", msg: "agent stopped", agentId: slot.agentId, mode });
  }

  private async beat(): Promise<void> {
    const slot = this.slot;
    if (!slot || this.state === "stopped") return;
    try {
      await this.deps.registry.heartbeat(slot.endpoint, slot.agentId, this.deps.owner, this.state, this.deps.now(), this.deps.leaseMs);
    } catch (err) {
      if (err instanceof LeaseLostError) {
        // Another worker owns the slot now: stop at once, without touching its row.
        this.deps.log({ level: "error", msg: "lease lost, stopping", agentId: slot.agentId });
        this.state = "stopped";
        this.abort.abort();
        clearInterval(this.heartbeatTimer);
        return;
      }
      this.deps.log({ level: "warn", msg: "heartbeat failed", agentId: slot.agentId, error: (err as Error).message });
    }
  }

  /**
   * One long poll at a time per replica, taking up to as many asks as it has free answer slots
   * (`maxConcurrency`), each answered concurrently. (One poll per slot would cost an idle replica
   * `maxConcurrency` empty receives per wait.) Ends once stopped and every ask in hand is done.
   */
  private async loop(): Promise<void> {
    const { maxConcurrency, receiveBatch, waitSeconds } = this.deps;
    const inHand = new Set<Promise<void>>();
    let failures = 0;
    while (!this.abort.signal.aborted) {
      if (inHand.size >= maxConcurrency) {
        await Promise.race(inHand);
        continue;
      }
      let messages: Message[];
      try {
        messages = await this.queue!.receiveUpTo(Math.min(receiveBatch, maxConcurrency - inHand.size), waitSeconds, this.abort.signal);
        failures = 0;
      } catch (err) {
        if (this.abort.signal.aborted) break;
        failures += 1;
        this.deps.log({ level: "warn", msg: "receive failed", agentId: this.agentId, error: (err as Error).message });
        await backoff(failures);
        continue;
      }
      for (const message of messages) {
        const work = this.work(message).finally(() => inHand.delete(work));
        inHand.add(work);
      }
    }
    await Promise.allSettled(inHand);
  }

  /** One ask from receipt to done; a failure keeps its answer slot through a backoff, then frees it. */
  private async work(message: Message): Promise<void> {
    if (this.busy++ === 0) this.deps.onBusyChange?.(true);
    this.deps.observer?.inFlight(this.agentId!, this.busy);
    try {
      await this.process(message);
      this.processFailures = 0;
    } catch (err) {
      this.processFailures += 1;
      this.deps.observer?.error(this.agentId!, "PROCESSING_ERROR");
      this.deps.log({ level: "error", msg: "ask failed, will be retried", agentId: this.agentId, error: (err as Error).message });
      await backoff(this.processFailures);
    } finally {
      if (--this.busy === 0) this.deps.onBusyChange?.(false);
      this.deps.observer?.inFlight(this.agentId!, this.busy);
    }
  }

  /** Handles one message; one that keeps failing goes to the dead-letter queue. */
  private async process(raw: Message): Promise<void> {
    const keepVisible = setInterval(
      () => void this.queue!.extendVisibility(raw.ReceiptHandle!, this.deps.visibilityTimeoutSeconds).catch(() => undefined),
      (this.deps.visibilityTimeoutSeconds * 1000) / 3,
    );
    try {
      await this.handle(raw);
    } catch (err) {
      const receiveCount = Number(raw.Attributes?.ApproximateReceiveCount ?? "1");
      if (receiveCount < this.deps.maxReceiveCount) throw err; // left on the queue: retried after the visibility timeout
      await this.deadLetter(raw, (err as Error).message);
    } finally {
      clearInterval(keepVisible);
    }
  }

  async handle(raw: Message): Promise<void> {
    const { threads, registry, now } = this.deps;
    const slot = this.slot!;
    const ask = parseAsk(raw);
    if (!ask) {
      await this.deadLetter(raw, "malformed message");
      return;
    }
    const started = now();

    // A redelivered message may already have been answered (the worker died before deleting it).
    const receiveCount = Number(raw.Attributes?.ApproximateReceiveCount ?? "1");
    const earlier = receiveCount > 1 ? await threads.getReply(ask.thread_id, ask.response_id) : undefined;
    let reply: AnswerRecord;
    let countOut = false;
    if (earlier && earlier.status !== "timed_out") {
      reply = earlier;
      await this.record(ask, reply, true); // repairs what the earlier attempt may not have finished
    } else {
      // Turns and affinity are stored before the answer becomes visible, so a follow-up sent the
      // moment the client has its answer already finds both.
      const fresh = await this.answer(ask);
      await this.record(ask, fresh);
      const written = await threads.putAnswerOnce(ask.thread_id, fresh);
      reply = written.reply;
      // Another attempt answered first (a duplicate delivery): its answer is the one that stands.
      if (!written.won) await this.record(ask, reply, true);
      countOut = countsOut(ask, written);
    }
    if (countOut) await registry.release(slot.endpoint, slot.agentId);
    await this.deps.afterAnswer?.(ask, reply);
    await this.queue!.delete(raw.ReceiptHandle!);
    this.deps.observer?.answered(slot.agentId, reply.status, started - ask.accepted_at, now() - started);
    if (reply.status === "failed") this.deps.observer?.error(slot.agentId, reply.errorCode);
    this.deps.log({
      level: "info",
      msg: "ask answered",
      agentId: slot.agentId,
      threadId: ask.thread_id,
      responseId: ask.response_id,
      status: reply.status,
      queueWaitMs: started - ask.accepted_at,
      answerMs: now() - started,
      redelivered: receiveCount > 1,
    });
  }

  /**
   * Stores the exchange and the thread's affinity (both idempotent). A first turn creates the
   * thread with them (one batch); a failed first ask creates the empty thread, so the thread id its
   * caller got stays usable. `repair`: an earlier attempt stored the answer; the thread may have
   * moved on since, so its META is only created if missing, never overwritten.
   */
  private async record(ask: AskMessage, reply: AnswerRecord, repair = false): Promise<void> {
    const { threads } = this.deps;
    const meta = ask.first_turn ? threadMeta(ask, reply.agentId) : undefined;
    if (reply.status !== "answered") {
      if (meta) await threads.createMeta(meta);
      return;
    }
    if (meta && repair) await threads.createMeta(meta);
    await threads.appendExchange(
      ask.thread_id,
      ask.accepted_at,
      { role: "user", content: ask.content, responseId: ask.response_id, at: ask.accepted_at },
      { role: "assistant", content: reply.content, responseId: ask.response_id, agentId: reply.agentId, at: reply.answeredAt },
      repair ? undefined : meta,
    );
    // A thread that stays on its replica keeps its affinity as it is (one write fewer).
    if (!meta && reply.agentId !== ask.affinity) await threads.setAffinity(ask.thread_id, reply.agentId, reply.answeredAt);
  }

  private async answer(ask: AskMessage): Promise<AnswerRecord> {
    const { threads, provider, agentType, now } = this.deps;
    const agentId = this.slot!.agentId;
    const history = ask.first_turn ? [] : await threads.history(ask.thread_id, turnSortKey(ask.accepted_at, ask.response_id, "user"));
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
      const content = await provider.complete({ model: agentType.model, messages, temperature: agentType.temperature, maxTokens: agentType.maxTokens, agentId });
      return { status: "answered", responseId: ask.response_id, agentId, content, answeredAt: now() };
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      return { status: "failed", responseId: ask.response_id, agentId, errorCode: "UPSTREAM_ERROR", error: err.message, answeredAt: now() };
    }
  }

  /**
   * Moves a message that cannot be answered to the dead-letter queue, tells its caller (a failed
   * reply, so nobody waits for the deadline) and counts it on the replica's row.
   */
  private async deadLetter(raw: Message, reason: string): Promise<void> {
    const { registry, threads, now, log } = this.deps;
    const slot = this.slot!;
    if (slot.dlqUrl) await this.deps.queueFor(slot.dlqUrl).send(raw.Body ?? "");
    const ask = parseAsk(raw);
    if (ask) {
      const failed: AnswerRecord = {
        status: "failed",
        responseId: ask.response_id,
        agentId: slot.agentId,
        errorCode: "UPSTREAM_ERROR",
        error: `the agent could not process this ask (${reason}); it was moved to the dead-letter queue`,
        answeredAt: now(),
      };
      await this.record(ask, failed); // a first ask's thread still comes to exist
      const written = await threads.putAnswerOnce(ask.thread_id, failed);
      if (countsOut(ask, written)) await registry.release(slot.endpoint, slot.agentId);
    }
    await registry.countDeadLetter(slot.endpoint, slot.agentId).catch(() => undefined);
    this.deps.observer?.error(slot.agentId, "DEAD_LETTER");
    await this.queue!.delete(raw.ReceiptHandle!);
    log({ level: "error", msg: "ask moved to the dead-letter queue", agentId: slot.agentId, messageId: raw.MessageId, reason });
  }

  /**
   * Hands the asks still queued for a draining slot to running replicas: each is counted into its
   * new replica, sent there, counted out of this one, and only then deleted here (a crash in
   * between leaves a copy here, never a lost ask). Ends when the slot's depth is 0 or at the bound.
   */
  private async handBack(slot: WorkerSlot, deadline: number): Promise<void> {
    const { registry, dispatcher, now, log } = this.deps;
    const queue = this.queue!;
    let handed = 0;
    while (now() < deadline) {
      const raw = await queue.receive(1).catch(() => undefined);
      if (!raw) {
        const row = (await registry.listEndpoint(slot.endpoint).catch(() => [])).find((r) => r.agentId === slot.agentId);
        if (!row || row.depth <= 0) break;
        continue;
      }
      const ask = parseAsk(raw);
      if (!ask) {
        await this.deadLetter(raw, "malformed message");
        continue;
      }
      try {
        // Within the slot's own deployment first: the thread's history was written by its model.
        const { replica } = await dispatcher.acquire(slot.endpoint, undefined, new Set([slot.agentId]), slot.deployment);
        await this.deps.queueFor(replica.queueUrl).send(JSON.stringify({ ...ask, agent_id: replica.agentId }));
        await registry.release(slot.endpoint, slot.agentId);
        await queue.delete(raw.ReceiptHandle!);
        handed += 1;
      } catch (err) {
        // Nobody can take it right now: make it visible again and retry shortly.
        await queue.extendVisibility(raw.ReceiptHandle!, 0).catch(() => undefined);
        if (!(err instanceof PoolUnavailableError)) log({ level: "warn", msg: "hand-back failed", agentId: slot.agentId, error: (err as Error).message });
        await sleep(500);
      }
    }
    log({ level: "info", msg: "queued asks handed back", agentId: slot.agentId, handed });
  }
}

/**
 * Whether this worker counts the ask out of its replica, having stored the reply: whoever hands
 * the answer over does, exactly once. The router does for a sync ask it read in time (before it
 * responds, so the caller's next ask finds the depth down); the worker does for an async ask
 * (nobody reads it) and for one whose router gave up (its late answer replaced the timed-out mark).
 */
function countsOut(ask: AskMessage, written: { won: boolean; replacedTimeout: boolean }): boolean {
  return ask.callback_id ? written.won : written.replacedTimeout;
}

/** The thread a first ask creates (see AskMessage.first_turn). */
function threadMeta(ask: AskMessage, agentId: string): ThreadMeta {
  return { threadId: ask.thread_id, owner: ask.owner, endpoint: ask.endpoint, agentId, deployment: ask.deployment, createdAt: ask.accepted_at };
}

function parseAsk(raw: Message): AskMessage | undefined {
  try {
    const parsed = askMessageSchema.safeParse(JSON.parse(raw.Body ?? ""));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Exponential backoff with jitter, capped at 5 s. */
function backoff(failures: number): Promise<void> {
  return sleep(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() / 2));
}
