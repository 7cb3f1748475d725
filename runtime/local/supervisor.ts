/**
 * Plays ECS for the local pool: one worker process per replica slot, restarted with backoff if it
 * dies, stopped with SIGTERM (it finishes the answer in hand) and SIGKILL after a bound.
 */
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { WORKER_CONFIG_ENV, type WorkerConfig } from "../agent/config";

const WORKER_ENTRY = join(__dirname, "..", "agent", "main.ts");

export interface SupervisorOptions {
  /** Worker log lines (JSON) at or above this level go to `onLog`. */
  logLevel: "info" | "warn";
  onLog: (line: string) => void;
  onEvent?: (event: { type: "started" | "ready" | "exited" | "restarting"; agentId: string; detail?: string }) => void;
  /** How long a stopping worker may take to finish its answer before it is killed. */
  stopTimeoutMs: number;
}

interface Slot {
  config: WorkerConfig;
  child?: ChildProcess;
  restarts: number;
  wanted: boolean;
  ready?: Promise<void>;
}

export class Supervisor {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly options: SupervisorOptions) {}

  /** Starts a worker for the slot and resolves once it reports ready. */
  start(config: WorkerConfig): Promise<void> {
    const slot: Slot = { config, restarts: 0, wanted: true };
    this.slots.set(config.slots[0]!.agentId, slot);
    return this.spawn(slot);
  }

  pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.slots].map(([id, s]) => [id, s.child?.pid]));
  }

  private spawn(slot: Slot): Promise<void> {
    const child = fork(WORKER_ENTRY, [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(slot.config) },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    slot.child = child;
    const agentId = slot.config.slots[0]!.agentId;
    this.options.onEvent?.({ type: "started", agentId, detail: `pid ${child.pid}` });
    createInterface({ input: child.stderr! }).on("line", (line) => {
      if (this.options.logLevel === "info" || !/"level":"info"/.test(line)) this.options.onLog(line);
    });
    slot.ready = new Promise<void>((resolve, reject) => {
      child.on("message", (m: { type?: string }) => {
        if (m?.type === "ready") {
          slot.restarts = 0;
          this.options.onEvent?.({ type: "ready", agentId });
          resolve();
        }
      });
      child.on("exit", (code, signal) => {
        reject(new Error(`${agentId} exited (${signal ?? code}) before it was ready`));
        if (slot.child !== child) return;
        slot.child = undefined;
        this.options.onEvent?.({ type: "exited", agentId, detail: String(signal ?? code) });
        if (slot.wanted) {
          const delay = Math.min(30_000, 500 * 2 ** slot.restarts++);
          this.options.onEvent?.({ type: "restarting", agentId, detail: `in ${delay} ms` });
          setTimeout(() => slot.wanted && void this.spawn(slot).catch(() => undefined), delay).unref();
        }
      });
    });
    return slot.ready;
  }

  /** Stops every worker: SIGTERM, then SIGKILL past the stop timeout. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.slots.keys()].map((id) => this.stop(id)));
  }

  async stop(agentId: string): Promise<void> {
    const slot = this.slots.get(agentId);
    if (!slot) return;
    slot.wanted = false;
    const child = slot.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), this.options.stopTimeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
