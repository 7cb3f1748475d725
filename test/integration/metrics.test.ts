/** The pool's /metrics text: its own figures merged with several workers' IPC snapshots. */
import { PoolMetrics, WorkerMetrics, routeOf } from "../../runtime/observe/metrics";

test("snapshots of two workers merge with the gateway's figures into one Prometheus text", async () => {
  const a = new WorkerMetrics("ops/support");
  const b = new WorkerMetrics("ops/support");
  a.answered("ops-support-1", "answered", 40, 300);
  a.answered("ops-support-1", "answered", 60, 500);
  b.answered("ops-support-2", "failed", 10, 1_200);
  b.error("ops-support-2", "UPSTREAM_ERROR");
  b.inFlight("ops-support-2", 1);
  const pool = new PoolMetrics();
  pool.request(routeOf("/api/v1/ask/support").route, "support", 200, undefined, 350);
  pool.request(routeOf("/api/v1/ask/support").route, "support", 503, "POOL_UNAVAILABLE", 5);
  pool.setPoolView([{ agentId: "ops-support-1", deployment: "ops/support", endpoint: "support", state: "running", healthy: true, depth: 2 }], [{ deployment: "ops/support", desired: 2, actual: 2, healthy: 1 }], []);

  const { body, contentType } = await pool.render([await a.snapshot(), await b.snapshot()]);

  expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(body).toContain('agentpool_agent_asks_total{agent_id="ops-support-1",deployment="ops/support",status="answered"} 2');
  expect(body).toContain('agentpool_agent_asks_total{agent_id="ops-support-2",deployment="ops/support",status="failed"} 1');
  expect(body).toContain('agentpool_agent_errors_total{agent_id="ops-support-2",deployment="ops/support",error_code="UPSTREAM_ERROR"} 1');
  expect(body).toContain('agentpool_agent_queue_wait_seconds_count{agent_id="ops-support-1",deployment="ops/support"} 2');
  expect(body).toContain('agentpool_agent_in_flight{agent_id="ops-support-2",deployment="ops/support"} 1');
  expect(body).toContain('agentpool_router_pool_unavailable_total{endpoint="support"} 1');
  expect(body).toContain('agentpool_replica_queue_depth{agent_id="ops-support-1",deployment="ops/support",endpoint="support"} 2');
  expect(body).toContain('agentpool_deployment_replicas{deployment="ops/support",kind="healthy"} 1');
});

test("ids never become label values: paths fold into route templates", () => {
  expect(routeOf("/api/v1/conversations/thr_abc/history")).toEqual({ route: "/api/v1/conversations/{thread_id}/history", endpoint: "" });
  expect(routeOf("/api/v1/ask/NOT A SLUG")).toEqual({ route: "/api/v1/ask/{endpoint}", endpoint: "other" });
  expect(routeOf("/wp-admin/setup.php").route).toBe("other");
});
