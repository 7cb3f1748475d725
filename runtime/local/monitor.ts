/**
 * Watches the local pool: reads the replica registry and the supervisor, takes the gateway's
 * measurements, evaluates the alert rules every few seconds (and POSTs what fires or clears to the
 * stack's `local.alertWebhookUrl`), keeps a few minutes of depth and latency for the dashboard's
 * charts, and renders the status tree and /metrics.
 */
import { isHealthy } from "../core/routing";
import { alertThresholds, evaluateAlerts, type Alert, type AlertState, type AlertThresholds } from "../core/alerts";
import type { ReplicaRegistry, ReplicaRow } from "../aws/replica-registry";
import { PoolMetrics, routeOf, type MetricsSnapshot } from "../observe/metrics";
import { AskWindow } from "../observe/window";
import type { Observed } from "./gateway";

export interface MonitoredDeployment {
  key: string;
  team: string;
  teamName: string;
  agentType: string;
  endpoint: string;
  /** Replicas the supervisor is told to keep (the scale target). */
  desired: () => number;
  pids: () => Record<string, number | undefined>;
  alerts?: Partial<AlertThresholds>;
  /** The stack file's `trafficWeight` (A/B share of new threads on the endpoint); shown when known. */
  trafficWeight?: number;
}

export interface MonitorOptions {
  stack: string;
  registry: ReplicaRegistry;
  deployments: MonitoredDeployment[];
  heartbeatStaleMs: number;
  workerMetrics: () => MetricsSnapshot[];
  webhookUrl?: string;
  /** Alert evaluation and chart sampling period. */
  everyMs?: number;
  now?: () => number;
  log?: (entry: Record<string, unknown>) => void;
}

/** Error rate and p95 for alerts are over this window; p50 per agent (status) over the whole kept window. */
const ALERT_WINDOW_MS = 60_000;
const KEEP_MS = 5 * 60_000;
const SERIES_POINTS = 120;

export interface SeriesPoint {
  at: number;
  queue_depth: number;
  p50_latency_ms: number | null;
  p95_latency_ms: number | null;
}

export class PoolMonitor {
  private readonly metrics = new PoolMetrics();
  private readonly window: AskWindow;
  private readonly now: () => number;
  private alertState: AlertState = new Map();
  private firing: Alert[] = [];
  private readonly series = new Map<string, SeriesPoint[]>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;

  constructor(private readonly options: MonitorOptions) {
    this.now = options.now ?? Date.now;
    this.window = new AskWindow(KEEP_MS, this.now);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.everyMs ?? 2_000);
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The gateway reports each router response here. */
  observe(o: Observed): void {
    const { route, endpoint } = routeOf(o.path);
    let body: { error_code?: string; agent_id?: string } = {};
    try {
      body = JSON.parse(o.body);
    } catch {
      /* not JSON */
    }
    this.metrics.request(route, endpoint, o.status, typeof body.error_code === "string" ? body.error_code : undefined, o.latencyMs);
    const isAsk = route === "/api/v1/ask/{endpoint}" || route === "/api/v1/agents/{agent_id}/messages";
    // 4xx are the caller's (bad key, bad body, rate limit): they say nothing about the pool's health.
    if (isAsk && (o.status === 200 || o.status >= 500)) {
      const details = (body as { details?: { agent_id?: unknown } }).details;
      const agentId = typeof body.agent_id === "string" ? body.agent_id : typeof details?.agent_id === "string" ? details.agent_id : undefined;
      const deployment = agentId ? this.deploymentOfAgent(agentId) : undefined;
      // The window is keyed by deployment, so A/B deployments of one endpoint get figures of their
      // own. A failure no agent is named in (503 POOL_UNAVAILABLE: every deployment was full)
      // counts against each deployment of its endpoint.
      const keys = deployment ? [deployment.key] : this.options.deployments.filter((d) => d.endpoint === endpoint).map((d) => d.key);
      for (const key of keys.length ? keys : [endpoint]) this.window.record(key, agentId, o.status, o.latencyMs);
    }
    this.options.log?.({
      level: "info",
      msg: "request",
      requestId: o.requestId,
      method: o.method,
      route,
      endpoint: endpoint || undefined,
      status: o.status,
      errorCode: body.error_code,
      agentId: body.agent_id,
      threadId: (body as { thread_id?: string }).thread_id,
      latencyMs: Math.round(o.latencyMs),
    });
  }

  /** `support-team-support-mini-2` → support-team/support-mini, never support-team/support (slot must be a number). */
  private deploymentOfAgent(agentId: string): MonitoredDeployment | undefined {
    return this.options.deployments.find((d) => {
      const prefix = `${d.team}-${d.agentType}-`;
      return agentId.startsWith(prefix) && /^\d+$/.test(agentId.slice(prefix.length));
    });
  }

  /** Evaluates the alert rules and samples the charts; overlapping ticks are skipped. */
  tick(): Promise<void> {
    this.ticking ??= this.evaluate()
      .catch((err) => this.options.log?.({ level: "warn", msg: "monitor tick failed", error: (err as Error).message }))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async evaluate(): Promise<void> {
    const rows = await this.options.registry.listAll();
    const now = this.now();
    const thresholds = new Map(this.options.deployments.map((d) => [d.key, alertThresholds(d.alerts)]));
    const observations = this.options.deployments.map((d) => {
      const mine = rows.filter((r) => r.deployment === d.key);
      const w = this.window.forEndpoint(d.key, ALERT_WINDOW_MS);
      return {
        deployment: d.key,
        desired: d.desired(),
        healthy: mine.filter((r) => isHealthy(r, now, this.options.heartbeatStaleMs)).length,
        queueDepth: mine.reduce((n, r) => n + r.depth, 0),
        asks: w.asks,
        errors: w.errors,
        p95LatencyMs: w.p95LatencyMs,
      };
    });
    const out = evaluateAlerts(this.alertState, observations, (key) => thresholds.get(key)!, now);
    this.alertState = out.state;
    this.firing = out.firing;
    for (const o of observations) {
      const w = this.window.forEndpoint(o.deployment, ALERT_WINDOW_MS);
      const points = this.series.get(o.deployment) ?? [];
      points.push({ at: now, queue_depth: o.queueDepth, p50_latency_ms: round(w.p50LatencyMs), p95_latency_ms: round(w.p95LatencyMs) });
      this.series.set(o.deployment, points.slice(-SERIES_POINTS));
    }
    for (const [type, alerts] of [["alert.fired", out.fired], ["alert.cleared", out.cleared]] as const) {
      for (const alert of alerts) {
        this.options.log?.({ level: "warn", msg: type, deployment: alert.deployment, rule: alert.rule, detail: alert.message });
        if (this.options.webhookUrl) void this.post(type, alert, now);
      }
    }
  }

  private async post(type: string, alert: Alert, now: number): Promise<void> {
    try {
      await fetch(this.options.webhookUrl!, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type, stack: this.options.stack, timestamp: new Date(now).toISOString(), alert: alertView(alert) }),
        signal: AbortSignal.timeout(5_000),
      });
    } catch (err) {
      this.options.log?.({ level: "warn", msg: "alert webhook failed", error: (err as Error).message });
    }
  }

  alerts() {
    const pending = [...this.alertState.values()].filter((a) => a.firedAt === undefined);
    return { firing: this.firing.map(alertView), pending: pending.map(alertView) };
  }

  /**
   * The spec's tree: team → deployment → Desired / Actual / Healthy → each agent, and each
   * deployment's figures over the kept window (asks, errors, p50/p95, its share of the answers of
   * its endpoint), so A/B deployments of one endpoint can be read side by side.
   */
  async status() {
    const rows = await this.options.registry.listAll();
    const now = this.now();
    const teams = new Map<string, { team: string; name: string; deployments: unknown[] }>();
    const figures = new Map(this.options.deployments.map((d) => [d.key, this.window.forEndpoint(d.key, KEEP_MS)]));
    const answered = (key: string) => figures.get(key)!.asks - figures.get(key)!.errors;
    for (const d of this.options.deployments) {
      const peers = this.options.deployments.filter((p) => p.endpoint === d.endpoint);
      const endpointAnswered = peers.reduce((n, p) => n + answered(p.key), 0);
      const w = figures.get(d.key)!;
      const team = teams.get(d.team) ?? { team: d.team, name: d.teamName, deployments: [] };
      teams.set(d.team, team);
      const mine = rows.filter((r) => r.deployment === d.key);
      const pids = d.pids();
      team.deployments.push({
        deployment: d.key,
        agent_type: d.agentType,
        endpoint: d.endpoint,
        desired: d.desired(),
        actual: mine.filter((r) => r.state !== "stopped").length,
        healthy: mine.filter((r) => isHealthy(r, now, this.options.heartbeatStaleMs)).length,
        queue_depth: mine.reduce((n, r) => n + r.depth, 0),
        agents: mine.map((r) => this.agentView(r, now, pids)),
        series: this.series.get(d.key) ?? [],
        /** Deployments serving the same endpoint, this one included (≥ 2: an A/B split). */
        endpoint_deployments: peers.length,
        traffic_weight: d.trafficWeight ?? null,
        asks: w.asks,
        answered: answered(d.key),
        errors: w.errors,
        share_of_endpoint: endpointAnswered ? Math.round((1000 * answered(d.key)) / endpointAnswered) / 1000 : null,
        p50_latency_ms: round(w.p50LatencyMs),
        p95_latency_ms: round(w.p95LatencyMs),
      });
    }
    return {
      stack: this.options.stack,
      generated_at: new Date(now).toISOString(),
      endpoints: [...new Set(this.options.deployments.map((d) => d.endpoint))],
      teams: [...teams.values()],
      alerts: this.alerts(),
    };
  }

  private agentView(r: ReplicaRow, now: number, pids: Record<string, number | undefined>) {
    const w = this.window.forAgent(r.agentId, KEEP_MS);
    return {
      agent_id: r.agentId,
      state: r.state,
      healthy: isHealthy(r, now, this.options.heartbeatStaleMs),
      queue_depth: r.depth,
      p50_latency_ms: round(w.p50LatencyMs),
      answered: w.asks - w.errors,
      dead_letters: r.deadLetters ?? 0,
      pid: pids[r.agentId] ?? null,
      last_heartbeat: r.heartbeatAt ? new Date(r.heartbeatAt).toISOString() : null,
    };
  }

  /** Prometheus text: the gateway's and the pool's figures with the workers' latest snapshots. */
  async prometheus(): Promise<{ contentType: string; body: string }> {
    const rows = await this.options.registry.listAll();
    const now = this.now();
    this.metrics.setPoolView(
      rows.map((r) => ({ agentId: r.agentId, deployment: r.deployment, endpoint: r.endpoint, state: r.state, healthy: isHealthy(r, now, this.options.heartbeatStaleMs), depth: r.depth })),
      this.options.deployments.map((d) => {
        const mine = rows.filter((r) => r.deployment === d.key);
        return {
          deployment: d.key,
          desired: d.desired(),
          actual: mine.filter((r) => r.state !== "stopped").length,
          healthy: mine.filter((r) => isHealthy(r, now, this.options.heartbeatStaleMs)).length,
        };
      }),
      this.firing,
    );
    return this.metrics.render(this.options.workerMetrics());
  }
}

function alertView(a: Alert) {
  return {
    rule: a.rule,
    deployment: a.deployment,
    state: a.firedAt === undefined ? "pending" : "firing",
    message: a.message,
    value: a.value,
    threshold: a.threshold,
    since: new Date(a.since).toISOString(),
    fired_at: a.firedAt === undefined ? null : new Date(a.firedAt).toISOString(),
  };
}

const round = (n: number | undefined) => (n === undefined ? null : Math.round(n));
