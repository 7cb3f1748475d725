/**
 * Plays ECS for the local pool: one worker process per replica slot, restarted with backoff if it
 * dies (the new process takes over the dead one's lease at once), and stopped by signal:
 * SIGTERM drains (scale-down: hand queued asks back), SIGINT finishes (pool shutdown); SIGKILL
 * after the stop bound.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { WORKER_CONFIG_ENV, type WorkerConfig } from "../agent/config";
import type { MetricsSnapshot } from "../observe/metrics";

/**
 * How each worker process runs (issue 8, memory per idle replica; RSS measured 3 s after start and
 * right after 100 asks, against the same worker without the setting):
 *   --max-semi-space-size=1        V8 grows the young generation to 16 MB under allocation and
 *                                  keeps it; capped at 2 × 1 MB: −2 MB idle, −11 MB after load, for
 *                                  more scavenges (~+1.5 ms of GC per ask on long threads).
 *   MALLOC_MMAP_THRESHOLD_=32768   glibc gives blocks of 32 KB and more their own mappings, unmapped
 *                                  when freed. Otherwise most of the ~10 MB V8 mallocs to compile
 *                                  the bundle at start-up stays in the process heap, pinned by live
 *                                  blocks above it: −10 MB idle (at 128 KB, 2.5-8 MB still stayed
 *                                  in some processes); ~+1 ms of system time per ask. A value in
 *                                  the environment wins; C libraries other than glibc ignore it.
 */
const WORKER_EXEC_ARGV = ["--max-semi-space-size=1"];
const WORKER_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: "32768" };

export type SupervisorEvent = { type: "started" | "ready" | "exited" | "restarting"; agentId: string; detail?: string };

export interface SupervisorOptions {
  /** The worker program (a bundle of runtime/agent/main.ts). */
  workerEntry: string;
  /** Worker log lines at level info go to `onLog` only when "info"; warnings and errors always. */
  logLevel: "info" | "warn";
  onLog: (line: string) => void;
  onEvent?: (event: SupervisorEvent) => void;
}

interface Slot {
  agentId: string;
  config: WorkerConfig;
  child?: ChildProcess;
  restarts: number;
  wanted: boolean;
  /** The worker's latest metrics (it sends one about every second over IPC). */
  metrics?: MetricsSnapshot;
}

export class Supervisor {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly options: SupervisorOptions) {}

  /** Starts a worker for its slot and resolves once it reports ready. */
  start(config: WorkerConfig): Promise<void> {
    const agentId = config.slots[0]!.agentId;
    const slot: Slot = { agentId, config, restarts: 0, wanted: true };
    this.slots.set(agentId, slot);
    return this.spawn(slot);
  }

  /** The latest metrics snapshot of each worker (a restarted worker starts its counters over). */
  metricsSnapshots(): MetricsSnapshot[] {
    return [...this.slots.values()].flatMap((s) => (s.metrics ? [s.metrics] : []));
  }

  pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.slots].filter(([, s]) => s.wanted).map(([id, s]) => [id, s.child?.pid]));
  }

  private spawn(slot: Slot, takeoverFrom?: string): Promise<void> {
    const config: WorkerConfig = { ...slot.config, takeoverFrom };
    const child = fork(this.options.workerEntry, [], {
      execArgv: WORKER_EXEC_ARGV,
      env: { ...WORKER_MALLOC_ENV, ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(config) },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    slot.child = child;
    const { agentId } = slot;
    this.emit({ type: "started", agentId, detail: `pid ${child.pid}` });
    createInterface({ input: child.stderr! }).on("line", (line) => {
      if (this.options.logLevel === "info" || !/"level":"info"/.test(line)) this.options.onLog(line);
    });
    return new Promise<void>((resolve, reject) => {
      child.on("message", (m: { type?: string; snapshot?: MetricsSnapshot }) => {
        if (m?.type === "metrics" && Array.isArray(m.snapshot) && slot.child === child) slot.metrics = m.snapshot;
        if (m?.type !== "ready") return;
        slot.restarts = 0;
        this.emit({ type: "ready", agentId });
        resolve();
      });
      child.on("exit", (code, signal) => {
        reject(new Error(`${agentId} exited (${signal ?? code}) before it was ready`));
        if (slot.child !== child) return;
        slot.child = undefined;
        this.emit({ type: "exited", agentId, detail: String(signal ?? code) });
        if (!slot.wanted) return;
        const delay = Math.min(30_000, 250 * 2 ** slot.restarts++);
        this.emit({ type: "restarting", agentId, detail: `in ${delay} ms` });
        const dead = `pid:${child.pid}`;
        setTimeout(() => slot.wanted && void this.spawn(slot, dead).catch(() => undefined), delay).unref();
      });
    });
  }

  /** Stops one worker: SIGTERM drains, SIGINT finishes; SIGKILL once `timeoutMs` has passed. */
  async stop(agentId: string, signal: "SIGTERM" | "SIGINT", timeoutMs: number): Promise<void> {
    const slot = this.slots.get(agentId);
    if (!slot) return;
    slot.wanted = false;
    const child = slot.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    this.slots.delete(agentId);
  }

  async stopAll(timeoutMs: number): Promise<void> {
    await Promise.all([...this.slots.keys()].map((id) => this.stop(id, "SIGINT", timeoutMs)));
  }

  private emit(event: SupervisorEvent): void {
    this.options.onEvent?.(event);
  }
}
