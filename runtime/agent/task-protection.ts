/**
 * ECS task scale-in protection: while a worker holds work, ECS must not pick its task when the
 * service scales in (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-scale-in-protection-endpoint.html).
 * The ECS agent serves the endpoint at $ECS_AGENT_URI inside the task.
 */
export class TaskProtection {
  private current = false;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly agentUri: string,
    private readonly log: (entry: Record<string, unknown>) => void,
    /** How long one protection holds if the worker dies without clearing it. */
    private readonly expiresInMinutes = 60,
  ) {}

  /** Sets protection; calls are serialized and repeated states are skipped. */
  set(enabled: boolean): Promise<void> {
    this.pending = this.pending.then(async () => {
      if (this.current === enabled) return;
      try {
        const res = await fetch(`${this.agentUri}/task-protection/v1/state`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ProtectionEnabled: enabled, ...(enabled ? { ExpiresInMinutes: this.expiresInMinutes } : {}) }),
          signal: AbortSignal.timeout(2_000),
        });
        if (!res.ok) throw new Error(`ECS agent answered ${res.status}`);
        this.current = enabled;
      } catch (err) {
        this.log({ level: "warn", msg: "task protection not updated", enabled, error: (err as Error).message });
      }
    });
    return this.pending;
  }
}

export function taskProtectionFromEnv(env: NodeJS.ProcessEnv, log: (entry: Record<string, unknown>) => void): TaskProtection | undefined {
  return env.ECS_AGENT_URI ? new TaskProtection(env.ECS_AGENT_URI, log) : undefined;
}
