/**
 * Watching the local pool from the CLI and Prometheus: `agentpool status --json` against the
 * registry while scaling, /metrics as Prometheus text that moves with traffic, `agentpool ask`
 * continuing a thread, and an alert firing from the stack file's thresholds.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCliToExit, startPoolProcess, type PoolProcess } from "../helpers/pool-process";

const API_KEY = "cust_observe_" + "o".repeat(24);
const STACK = `config:
  agentpool:providers:
    - name: sim
      kind: simulator
      latencyMs: 100
    - name: unreachable
      kind: openai
      baseUrl: http://127.0.0.1:9/v1
      apiKeyEnv: OBSERVE_UNREACHABLE_KEY
      timeoutMs: 1000
      maxRetries: 0
  agentpool:agentTypes:
    - { name: Support, slug: support, endpointSlug: support, provider: sim, model: gpt-4o, systemPrompt: You help. }
    - { name: Broken, slug: broken, endpointSlug: broken, provider: unreachable, model: gpt-4o, systemPrompt: Your provider is down. }
  agentpool:teams:
    - name: Ops
      slug: ops
      deployments:
        - agentType: support
          desiredReplicas: 3
        - agentType: broken
          desiredReplicas: 1
          alerts: { errorRate: 0.5 }
`;

let pool: PoolProcess;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "agentpool-observe-"));
  writeFileSync(join(dir, "Pulumi.observe.yaml"), STACK);
  pool = await startPoolProcess({ config: join(dir, "Pulumi.observe.yaml"), apiKey: API_KEY, dataDir: join(dir, "data"), env: { OBSERVE_UNREACHABLE_KEY: "x" } });
}, 60_000);

afterAll(async () => {
  await pool?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI as a user runs it against this pool. */
const cli = (...args: string[]) => runCliToExit([...args, "--stack", "observe", "--data-dir", join(dir, "data")], { AGENTPOOL_API_KEY: "" });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 20_000): Promise<T> {
  let value = await read();
  for (const end = Date.now() + ms; !ok(value) && Date.now() < end; value = await read()) await sleep(300);
  return value;
}

async function statusJson(): Promise<any> {
  const run = await cli("status", "--json");
  if (run.code !== 0) throw new Error(`status failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}
const supportOf = (status: any) => status.teams.find((t: any) => t.team === "ops").deployments.find((d: any) => d.deployment === "ops/support");
const registryView = async () =>
  ((await pool.get("/api/v1/agents")).body.agents as any[]).filter((a) => a.deployment === "ops/support").map((a) => [a.agent_id, a.state, a.healthy, a.queue_depth]);
const statusView = (d: any) => d.agents.map((a: any) => [a.agent_id, a.state, a.healthy, a.queue_depth]);

/** Prometheus text: `# HELP`/`# TYPE` lines, and samples `name{label="value",...} number`. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    samples.set(m[1]! + (m[2] ?? ""), Number(m[3]));
  }
  return samples;
}
const sum = (samples: Map<string, number>, prefix: string, ...has: string[]) =>
  [...samples].filter(([k]) => k.startsWith(prefix) && has.every((h) => k.includes(h))).reduce((n, [, v]) => n + v, 0);

test("status --json shows the registry's replicas after each scale change", async () => {
  for (const replicas of [5, 2]) {
    const scaled = await cli("scale", "ops/support", String(replicas));
    expect(scaled.code).toBe(0);

    const status = await eventually(statusJson, (s) => {
      const d = supportOf(s);
      return d.desired === replicas && d.actual === replicas && d.healthy === replicas;
    });
    const d = supportOf(status);
    const registry = await registryView();

    expect([d.desired, d.actual, d.healthy]).toEqual([replicas, replicas, replicas]);
    expect(statusView(d)).toEqual(registry);
    expect(d.agents.map((a: any) => a.agent_id)).toEqual(Array.from({ length: replicas }, (_, i) => `ops-support-${i + 1}`));
  }
}, 60_000);

test("/metrics is Prometheus text whose counters and histograms move with traffic", async () => {
  const before = parsePrometheus(await (await fetch(`${pool.url}/metrics`)).text());

  const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.ask("support", { content: `metrics ${i}` })));
  expect(answers.map((r) => r.status)).toEqual(Array(6).fill(200));
  // Workers send their figures about once a second.
  const after = await eventually(
    async () => parsePrometheus(await (await fetch(`${pool.url}/metrics`)).text()),
    (m) => sum(m, "agentpool_agent_queue_wait_seconds_count", 'deployment="ops/support"') >= sum(before, "agentpool_agent_queue_wait_seconds_count", 'deployment="ops/support"') + 6,
  );

  const routed = (m: Map<string, number>) => sum(m, "agentpool_router_requests_total", 'endpoint="support"', 'status="200"');
  expect(routed(after) - routed(before)).toBe(6);
  expect(sum(after, "agentpool_agent_asks_total", 'status="answered"', 'deployment="ops/support"') - sum(before, "agentpool_agent_asks_total", 'status="answered"', 'deployment="ops/support"')).toBe(6);
  expect(sum(after, "agentpool_agent_answer_seconds_count", 'deployment="ops/support"')).toBeGreaterThanOrEqual(6);
  expect(sum(after, "agentpool_router_request_duration_seconds_count", 'endpoint="support"')).toBeGreaterThanOrEqual(6);
  expect(sum(after, "agentpool_replica_queue_depth", 'deployment="ops/support"')).toBeGreaterThanOrEqual(0);
  expect(after.get('agentpool_deployment_replicas{deployment="ops/support",kind="desired"}')).toBeGreaterThan(0);
}, 60_000);

test("agentpool ask prints the answer and --thread continues the thread", async () => {
  const first = await cli("ask", "support", "where", "is", "my", "order?");
  const thread = /--thread (thr_\w+)/.exec(first.stdout)?.[1];
  const second = await cli("ask", "support", "still waiting", "--thread", thread ?? "missing", "--json");

  expect(first.code).toBe(0);
  expect(first.stdout).toContain('You said: "where is my order?"');
  expect(thread).toBeDefined();
  expect(second.code).toBe(0);
  expect(JSON.parse(second.stdout)).toMatchObject({ thread_id: thread });
  expect(JSON.parse(second.stdout).content).toContain("I was given 2 earlier turns");
}, 30_000);

test("failing asks raise the error-rate alert of their deployment, shown by agentpool alerts", async () => {
  const failures = await Promise.all(Array.from({ length: 6 }, () => pool.ask("broken", { content: "anyone?" })));
  expect(failures.map((r) => r.status)).toEqual(Array(6).fill(502));

  const alerts = await eventually(
    async () => JSON.parse((await cli("alerts", "--json")).stdout),
    (a) => a.firing.some((x: any) => x.rule === "error_rate"),
  );
  const text = await cli("alerts");
  const metrics = parsePrometheus(await (await fetch(`${pool.url}/metrics`)).text());

  expect(alerts.firing).toContainEqual(expect.objectContaining({ rule: "error_rate", deployment: "ops/broken", state: "firing", threshold: 0.5 }));
  expect(text.stdout).toMatch(/ALERT ops\/broken error_rate: \d+ of \d+ asks failed/);
  expect(metrics.get('agentpool_alerts_firing{deployment="ops/broken",rule="error_rate"}')).toBe(1);
  expect(sum(metrics, "agentpool_router_requests_total", 'endpoint="broken"', 'error_code="UPSTREAM_ERROR"')).toBeGreaterThanOrEqual(6);
}, 40_000);
