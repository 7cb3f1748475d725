/**
 * The last few minutes of asks as the gateway saw them, for what Prometheus counters cannot say
 * without a query engine: p50 per agent (status), and per endpoint the error rate and p95 of the
 * last window (alerts).
 */
import { percentile } from "../core/alerts";

interface Sample {
  at: number;
  endpoint: string;
  agentId?: string;
  ok: boolean;
  latencyMs: number;
}

export interface WindowFigures {
  asks: number;
  errors: number;
  p50LatencyMs?: number;
  p95LatencyMs?: number;
}

export class AskWindow {
  private samples: Sample[] = [];

  constructor(
    private readonly keepMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `ok` false for 5xx (the pool failed the caller); a 4xx is the caller's mistake, not an error of the pool. */
  record(endpoint: string, agentId: string | undefined, status: number, latencyMs: number): void {
    this.samples.push({ at: this.now(), endpoint, agentId, ok: status < 500, latencyMs });
    this.prune();
  }

  forEndpoint(endpoint: string, windowMs: number): WindowFigures {
    return figures(this.recent(windowMs).filter((s) => s.endpoint === endpoint));
  }

  forAgent(agentId: string, windowMs: number): WindowFigures {
    return figures(this.recent(windowMs).filter((s) => s.agentId === agentId));
  }

  private recent(windowMs: number): Sample[] {
    const from = this.now() - windowMs;
    return this.samples.filter((s) => s.at >= from);
  }

  private prune(): void {
    const from = this.now() - this.keepMs;
    if (this.samples.length > 0 && this.samples[0]!.at < from) this.samples = this.samples.filter((s) => s.at >= from);
    if (this.samples.length > 50_000) this.samples = this.samples.slice(-50_000);
  }
}

function figures(samples: Sample[]): WindowFigures {
  const answered = samples.filter((s) => s.ok).map((s) => s.latencyMs);
  return {
    asks: samples.length,
    errors: samples.filter((s) => !s.ok).length,
    p50LatencyMs: percentile(answered, 50),
    p95LatencyMs: percentile(answered, 95),
  };
}
