/**
 * Alert rules (issue 7), pure: the local pool feeds them what it observes about each deployment
 * and the time, keeps the returned state, and shows or posts what fired and cleared.
 *
 *   condition ──true──────────────────────────true──false
 *   state        pending (since t0) ── t0 + for ──► firing ──► cleared
 *
 * Only "agents offline" waits (2 min by default: a replica restarting or starting after a scale-up
 * is not an outage); the others fire at the first evaluation that sees them.
 */

export type AlertRule = "agents_offline" | "queue_depth" | "error_rate" | "p95_latency";

export interface AlertThresholds {
  offlineForSeconds: number;
  queueDepth: number;
  errorRate: number;
  p95LatencyMs: number;
  /** Below this many asks in the window, the error rate says nothing (one failure of one ask is not 100 %). */
  minAsksForErrorRate: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  offlineForSeconds: 120,
  queueDepth: 20,
  errorRate: 0.1,
  p95LatencyMs: 10_000,
  minAsksForErrorRate: 5,
};

export function alertThresholds(declared: Partial<AlertThresholds> | undefined): AlertThresholds {
  return { ...DEFAULT_ALERT_THRESHOLDS, ...Object.fromEntries(Object.entries(declared ?? {}).filter(([, v]) => v !== undefined)) };
}

/** What the pool saw of one deployment at one evaluation. */
export interface DeploymentObservation {
  deployment: string;
  desired: number;
  healthy: number;
  /** Asks queued or in progress on its replicas, summed. */
  queueDepth: number;
  /** Asks answered or failed in the recent window, and how many failed. */
  asks: number;
  errors: number;
  /** p95 answer time in the window; undefined without asks. */
  p95LatencyMs?: number;
}

export interface Alert {
  rule: AlertRule;
  deployment: string;
  /** When the condition started to hold (epoch ms). */
  since: number;
  /** When it fired; undefined while pending. */
  firedAt?: number;
  value: number;
  threshold: number;
  message: string;
}

/** Alerts pending or firing, keyed `${deployment} ${rule}`. */
export type AlertState = ReadonlyMap<string, Alert>;

export interface Evaluation {
  state: AlertState;
  firing: Alert[];
  fired: Alert[];
  cleared: Alert[];
}

interface Check {
  rule: AlertRule;
  holds: boolean;
  value: number;
  threshold: number;
  forMs: number;
  message: string;
}

function checks(o: DeploymentObservation, t: AlertThresholds): Check[] {
  const rate = o.asks > 0 ? o.errors / o.asks : 0;
  return [
    {
      rule: "agents_offline",
      holds: o.healthy < o.desired,
      value: o.healthy,
      threshold: o.desired,
      forMs: t.offlineForSeconds * 1000,
      message: `${o.healthy} of ${o.desired} agents healthy`,
    },
    {
      rule: "queue_depth",
      holds: o.queueDepth > t.queueDepth,
      value: o.queueDepth,
      threshold: t.queueDepth,
      forMs: 0,
      message: `${o.queueDepth} asks queued (threshold ${t.queueDepth})`,
    },
    {
      rule: "error_rate",
      holds: o.asks >= t.minAsksForErrorRate && rate > t.errorRate,
      value: rate,
      threshold: t.errorRate,
      forMs: 0,
      message: `${o.errors} of ${o.asks} asks failed (${Math.round(rate * 100)} %, threshold ${Math.round(t.errorRate * 100)} %)`,
    },
    {
      rule: "p95_latency",
      holds: o.p95LatencyMs !== undefined && o.p95LatencyMs > t.p95LatencyMs,
      value: o.p95LatencyMs ?? 0,
      threshold: t.p95LatencyMs,
      forMs: 0,
      message: `p95 answer time ${Math.round(o.p95LatencyMs ?? 0)} ms (threshold ${t.p95LatencyMs} ms)`,
    },
  ];
}

/**
 * One evaluation: `previous` is the state the last one returned (an empty Map at first).
 * A deployment absent from `observations` has its alerts cleared (it was removed).
 */
export function evaluateAlerts(
  previous: AlertState,
  observations: DeploymentObservation[],
  thresholdsOf: (deployment: string) => AlertThresholds,
  now: number,
): Evaluation {
  const state = new Map<string, Alert>();
  const fired: Alert[] = [];
  for (const o of observations) {
    for (const c of checks(o, thresholdsOf(o.deployment))) {
      if (!c.holds) continue;
      const key = `${o.deployment} ${c.rule}`;
      const before = previous.get(key);
      const since = before?.since ?? now;
      const alert: Alert = { rule: c.rule, deployment: o.deployment, since, value: c.value, threshold: c.threshold, message: c.message };
      if (before?.firedAt !== undefined) alert.firedAt = before.firedAt;
      else if (now - since >= c.forMs) {
        alert.firedAt = now;
        fired.push(alert);
      }
      state.set(key, alert);
    }
  }
  const cleared = [...previous].filter(([key, a]) => a.firedAt !== undefined && !state.has(key)).map(([, a]) => a);
  const firing = [...state.values()].filter((a) => a.firedAt !== undefined);
  return { state, firing, fired, cleared };
}

/** The nearest-rank percentile (p in 0–100) of a list of numbers; undefined when empty. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
