/**
 * When the router looks for an answer. Polling from the moment of sending wastes reads and adds
 * up to one poll interval of delay; most answers of an endpoint take a similar time, so the first
 * look waits until just before the fastest tenth of recent answers. After it, each gap is a tenth
 * of the time waited so far (within [min, max]): a late answer costs at most ~10 % extra wait, and
 * many long waits together do not flood the store with reads.
 *
 *   send ──── first ≈ 0.9 × p10(recent) ──┬─ gap = clamp(0.1 × waited, min, max) ─┬─ …
 */
export interface PollSettings {
  minMs: number;
  maxMs: number;
  /** Recent answer times kept per endpoint. */
  window: number;
}

export class AnswerTimes {
  private readonly recent = new Map<string, number[]>();

  constructor(private readonly settings: PollSettings) {}

  record(endpoint: string, ms: number): void {
    let list = this.recent.get(endpoint);
    if (!list) this.recent.set(endpoint, (list = []));
    list.push(ms);
    if (list.length > this.settings.window) list.shift();
  }

  /** The median of the recent times of `key`, or undefined before the first one. */
  median(key: string): number | undefined {
    const list = this.recent.get(key);
    if (!list || list.length === 0) return undefined;
    const sorted = [...list].sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)];
  }

  /** The gaps between looks for an answer of this endpoint: the first, then each next one. */
  schedule(endpoint: string): () => number {
    const { minMs, maxMs } = this.settings;
    const list = this.recent.get(endpoint) ?? [];
    let first = minMs;
    if (list.length >= 8) {
      const sorted = [...list].sort((a, b) => a - b);
      first = Math.max(minMs, Math.floor(0.9 * sorted[Math.floor(sorted.length / 10)]!));
    }
    let waited = 0;
    return () => {
      const gap = waited === 0 ? first : Math.min(maxMs, Math.max(minMs, Math.ceil(0.1 * waited)));
      waited += gap;
      return gap;
    };
  }
}
