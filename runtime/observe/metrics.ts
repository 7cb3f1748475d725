/**
 * Prometheus metrics of the local pool (prom-client), from three places:
 *   - the gateway, around the router's handler: requests by route, status and error_code, their
 *     latency, and 503s (the router's own code stays untouched);
 *   - each worker process (WorkerMetrics): asks answered, errors by code, queue wait and answer
 *     time as separate histograms, in-flight; sent to the pool over IPC as
 *     `registry.getMetricsAsJSON()` snapshots and merged with `AggregatorRegistry.aggregate`;
 *   - the replica registry and the supervisor, read at scrape time: per-replica state, depth,
 *     health, and desired / actual / healthy per deployment, and the alerts firing.
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from "prom-client";

export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** Seconds: 10 ms to 30 s (asks end at the router's deadline, at most 28 s). */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30];

/** What the worker reports; the worker itself only calls these (runtime/agent/worker.ts). */
export interface WorkerObserver {
  answered(agentId: string, status: "answered" | "failed", queueWaitMs: number, answerMs: number): void;
  error(agentId: string, code: string): void;
  inFlight(agentId: string, n: number): void;
}

export class WorkerMetrics implements WorkerObserver {
  readonly registry = new Registry();
  private readonly asks: Counter<"agent_id" | "deployment" | "status">;
  private readonly errors: Counter<"agent_id" | "deployment" | "error_code">;
  private readonly queueWait: Histogram<"agent_id" | "deployment">;
  private readonly answerTime: Histogram<"agent_id" | "deployment">;
  private readonly busy: Gauge<"agent_id" | "deployment">;

  constructor(private readonly deployment: string) {
    const registers = [this.registry];
    this.asks = new Counter({ name: "agentpool_agent_asks_total", help: "Asks an agent finished, by outcome", labelNames: ["agent_id", "deployment", "status"], registers });
    this.errors = new Counter({ name: "agentpool_agent_errors_total", help: "Agent-side errors by code", labelNames: ["agent_id", "deployment", "error_code"], registers });
    this.queueWait = new Histogram({
      name: "agentpool_agent_queue_wait_seconds",
      help: "Time from the router accepting an ask to an agent starting on it",
      labelNames: ["agent_id", "deployment"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.answerTime = new Histogram({
      name: "agentpool_agent_answer_seconds",
      help: "Time an agent took to answer once it started (history, model call, storing turns)",
      labelNames: ["agent_id", "deployment"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.busy = new Gauge({ name: "agentpool_agent_in_flight", help: "Asks an agent is working on now", labelNames: ["agent_id", "deployment"], registers });
  }

  answered(agentId: string, status: "answered" | "failed", queueWaitMs: number, answerMs: number): void {
    const labels = { agent_id: agentId, deployment: this.deployment };
    this.asks.inc({ ...labels, status });
    this.queueWait.observe(labels, Math.max(0, queueWaitMs) / 1000);
    this.answerTime.observe(labels, Math.max(0, answerMs) / 1000);
  }

  error(agentId: string, code: string): void {
    this.errors.inc({ agent_id: agentId, deployment: this.deployment, error_code: code });
  }

  inFlight(agentId: string, n: number): void {
    this.busy.set({ agent_id: agentId, deployment: this.deployment }, n);
  }

  snapshot(): Promise<MetricsSnapshot> {
    return this.registry.getMetricsAsJSON();
  }
}

/** One replica as the registry and the supervisor see it at scrape time. */
export interface ReplicaGaugeRow {
  agentId: string;
  deployment: string;
  endpoint: string;
  state: string;
  healthy: boolean;
  depth: number;
}

export interface DeploymentGaugeRow {
  deployment: string;
  desired: number;
  actual: number;
  healthy: number;
}

const STATES = ["starting", "running", "draining", "stopped"];

export class PoolMetrics {
  private readonly registry = new Registry();
  private readonly requests: Counter<"route" | "endpoint" | "status" | "error_code">;
  private readonly latency: Histogram<"route" | "endpoint">;
  private readonly unavailable: Counter<"endpoint">;
  private readonly replicaState: Gauge<"agent_id" | "deployment" | "state">;
  private readonly replicaDepth: Gauge<"agent_id" | "deployment" | "endpoint">;
  private readonly replicaHealthy: Gauge<"agent_id" | "deployment">;
  private readonly replicas: Gauge<"deployment" | "kind">;
  private readonly alerts: Gauge<"deployment" | "rule">;

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({
      name: "agentpool_router_requests_total",
      help: "Requests the router answered, by route, endpoint, status and error_code",
      labelNames: ["route", "endpoint", "status", "error_code"],
      registers,
    });
    this.latency = new Histogram({
      name: "agentpool_router_request_duration_seconds",
      help: "Router latency per route as the client sees it (asks: end to end)",
      labelNames: ["route", "endpoint"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.unavailable = new Counter({ name: "agentpool_router_pool_unavailable_total", help: "Asks refused with 503 POOL_UNAVAILABLE", labelNames: ["endpoint"], registers });
    this.replicaState = new Gauge({ name: "agentpool_replica_state", help: "1 for the state each replica is in", labelNames: ["agent_id", "deployment", "state"], registers });
    this.replicaDepth = new Gauge({ name: "agentpool_replica_queue_depth", help: "Asks routed to a replica and not yet answered", labelNames: ["agent_id", "deployment", "endpoint"], registers });
    this.replicaHealthy = new Gauge({ name: "agentpool_replica_healthy", help: "1 if the replica is running with a fresh heartbeat", labelNames: ["agent_id", "deployment"], registers });
    this.replicas = new Gauge({ name: "agentpool_deployment_replicas", help: "Replicas per deployment: desired, actual (not stopped), healthy", labelNames: ["deployment", "kind"], registers });
    this.alerts = new Gauge({ name: "agentpool_alerts_firing", help: "1 for each alert firing", labelNames: ["deployment", "rule"], registers });
  }

  /** One router response, measured by the gateway. */
  request(route: string, endpoint: string, status: number, errorCode: string | undefined, latencyMs: number): void {
    this.requests.inc({ route, endpoint, status: String(status), error_code: errorCode ?? "" });
    this.latency.observe({ route, endpoint }, latencyMs / 1000);
    if (status === 503) this.unavailable.inc({ endpoint });
  }

  /** The pool's view at scrape time; replaces the previous one (removed replicas disappear). */
  setPoolView(replicas: ReplicaGaugeRow[], deployments: DeploymentGaugeRow[], alerts: { deployment: string; rule: string }[]): void {
    this.replicaState.reset();
    this.replicaDepth.reset();
    this.replicaHealthy.reset();
    this.replicas.reset();
    this.alerts.reset();
    for (const r of replicas) {
      for (const state of STATES) this.replicaState.set({ agent_id: r.agentId, deployment: r.deployment, state }, r.state === state ? 1 : 0);
      this.replicaDepth.set({ agent_id: r.agentId, deployment: r.deployment, endpoint: r.endpoint }, r.depth);
      this.replicaHealthy.set({ agent_id: r.agentId, deployment: r.deployment }, r.healthy ? 1 : 0);
    }
    for (const d of deployments) {
      this.replicas.set({ deployment: d.deployment, kind: "desired" }, d.desired);
      this.replicas.set({ deployment: d.deployment, kind: "actual" }, d.actual);
      this.replicas.set({ deployment: d.deployment, kind: "healthy" }, d.healthy);
    }
    for (const a of alerts) this.alerts.set({ deployment: a.deployment, rule: a.rule }, 1);
  }

  /** Prometheus text of the pool's own metrics merged with the workers' latest snapshots. */
  async render(workerSnapshots: MetricsSnapshot[]): Promise<{ contentType: string; body: string }> {
    const merged = AggregatorRegistry.aggregate([await this.registry.getMetricsAsJSON(), ...workerSnapshots]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}

/** A route template for a request path, so labels stay few (ids never become label values). */
export function routeOf(path: string): { route: string; endpoint: string } {
  let m = /^\/api\/v1\/ask\/([^/]+)$/.exec(path);
  if (m) return { route: "/api/v1/ask/{endpoint}", endpoint: safeLabel(m[1]!) };
  m = /^\/api\/v1\/agents\/([^/]+)\/messages$/.exec(path);
  if (m) return { route: "/api/v1/agents/{agent_id}/messages", endpoint: "" };
  if (/^\/api\/v1\/conversations\/[^/]+\/history$/.test(path)) return { route: "/api/v1/conversations/{thread_id}/history", endpoint: "" };
  if (/^\/api\/v1\/callbacks\/[^/]+$/.test(path)) return { route: "/api/v1/callbacks/{callback_id}", endpoint: "" };
  if (/^\/api\/v1\/admin\/keys(\/[^/]+)?$/.test(path)) return { route: "/api/v1/admin/keys", endpoint: "" };
  if (["/healthz", "/api/v1/agents", "/api/v1/openapi.json", "/api/v1/webhook/test"].includes(path)) return { route: path, endpoint: "" };
  return { route: "other", endpoint: "" };
}

/** Endpoint slugs are declared slugs; anything else a client typed is folded into one label. */
const safeLabel = (s: string) => (/^[a-z][a-z0-9-]{0,39}$/.test(s) ? s : "other");
