/**
 * `agentpool status` and the dashboard read A/B deployments side by side (issue 8): the monitor
 * keeps figures per deployment, not per endpoint, so two deployments of /api/v1/ask/support get
 * their own answers, errors, latency and share; `support-team-support-mini-1` is never counted as
 * a replica of a deployment `support-team/support`.
 */
import { PoolMonitor, type MonitoredDeployment } from "../../runtime/local/monitor";
import { ReplicaRegistry } from "../../runtime/aws/replica-registry";
import { printAbComparison, type StatusView } from "../../runtime/cli/status";
import { startEmulatedAws, type EmulatedAws } from "../helpers/emulated-aws";

let aws: EmulatedAws;
afterAll(() => aws?.close());

function deployment(agentType: string, trafficWeight?: number): MonitoredDeployment {
  return {
    key: `support-team/${agentType}`,
    team: "support-team",
    teamName: "Support Team",
    agentType,
    endpoint: "support",
    desired: () => 1,
    pids: () => ({}),
    trafficWeight,
  };
}

test("status gives each deployment of an A/B endpoint its own answers, share, errors and latency", async () => {
  aws = await startEmulatedAws();
  const registry = new ReplicaRegistry(aws.clients, aws.tables.replicas);
  const monitor = new PoolMonitor({
    stack: "ab",
    registry,
    deployments: [deployment("support", 3), deployment("support-mini", 1)],
    heartbeatStaleMs: 15_000,
    workerMetrics: () => [],
  });
  const answer = (agentId: string, latencyMs: number) =>
    monitor.observe({ method: "POST", path: "/api/v1/ask/support", status: 200, body: JSON.stringify({ agent_id: agentId }), latencyMs, requestId: "r" });
  for (let i = 0; i < 6; i++) answer("support-team-support-1", 100);
  for (let i = 0; i < 2; i++) answer("support-team-support-mini-1", 400);
  monitor.observe({
    method: "POST",
    path: "/api/v1/ask/support",
    status: 502,
    body: JSON.stringify({ error_code: "UPSTREAM_ERROR", details: { agent_id: "support-team-support-mini-1" } }),
    latencyMs: 50,
    requestId: "r",
  });

  const status = (await monitor.status()) as unknown as StatusView;
  const [big, mini] = status.teams[0]!.deployments;

  expect(big).toMatchObject({ deployment: "support-team/support", endpoint_deployments: 2, traffic_weight: 3, answered: 6, errors: 0, share_of_endpoint: 0.75, p50_latency_ms: 100 });
  expect(mini).toMatchObject({ deployment: "support-team/support-mini", endpoint_deployments: 2, traffic_weight: 1, answered: 2, errors: 1, share_of_endpoint: 0.25, p50_latency_ms: 400 });

  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, "write").mockImplementation((s) => (lines.push(String(s)), true));
  try {
    printAbComparison(status);
  } finally {
    write.mockRestore();
  }
  const text = lines.join("");
  expect(text).toContain("A/B on /api/v1/ask/support");
  expect(text).toMatch(/support-team\/support\s+3\s+75 %\s+6\s+0\s+100 ms/);
  expect(text).toMatch(/support-team\/support-mini\s+1\s+25 %\s+2\s+1\s+400 ms/);
}, 30_000);
