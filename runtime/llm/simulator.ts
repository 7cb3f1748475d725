/**
 * The built-in offline provider. Its reply is deterministic and says who answered and how many
 * earlier turns it was given, so anyone can see that a thread's history follows it across agents.
 */
import type { CompletionRequest, LlmProvider } from "./provider";

export interface SimulatorOptions {
  name: string;
  /** A fixed time or a uniform [min, max] range, in ms. */
  latencyMs: number | [number, number];
}

export class SimulatorProvider implements LlmProvider {
  readonly kind = "simulator" as const;
  readonly name: string;

  constructor(private readonly options: SimulatorOptions) {
    this.name = options.name;
  }

  async complete(request: CompletionRequest, signal?: AbortSignal): Promise<string> {
    await sleep(this.latency(), signal);
    const earlier = request.messages.filter((m) => m.role !== "system");
    const last = earlier.pop();
    const quoted = (last?.content ?? "").replace(/\s+/g, " ").slice(0, 200);
    return (
      `[simulated ${request.model}] ${request.agentId} here. ` +
      `I was given ${earlier.length} earlier turn${earlier.length === 1 ? "" : "s"} of this thread. ` +
      `You said: "${quoted}"`
    );
  }

  private latency(): number {
    const l = this.options.latencyMs;
    return Array.isArray(l) ? l[0] + Math.random() * (l[1] - l[0]) : l;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    if (ms <= 0) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason ?? new Error("aborted"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
