/**
 * `agentpool plan` and `agentpool cost` as a user runs them: a table by default, one JSON object
 * with --json, exit 2 with a message for bad input. `plan --stack` reads a running pool's admin
 * status; here a small server stands in for the pool's admin routes (same admin file, same route).
 */
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeAdminFile, adminFilePath } from "../../runtime/local/admin-file";
import { runCliToExit } from "../helpers/pool-process";

describe("agentpool plan", () => {
  test("prints the replicas, utilisation, waits, 503 rate and a computed right-size table", async () => {
    const { code, stdout } = await runCliToExit(["plan", "--rate", "5/s", "--answer-time", "8s", "--max-wait", "2s"]);

    expect(code).toBe(0);
    expect(stdout).toMatch(/replicas\s+47\b/);
    expect(stdout).toMatch(/utilisation\s+85\.1 %/);
    expect(stdout).toMatch(/p95 1\.61 s/);
    expect(stdout).toMatch(/503 rate/);
    expect(stdout).toMatch(/product spec's own table is not in the repository/);
    expect(stdout).toMatch(/^\s+25\s+209\s/m);
  });

  test("--json prints one object with the plan and the right-size rows", async () => {
    const { code, stdout } = await runCliToExit(["plan", "--rate", "300/min", "--answer-time", "8000ms", "--overflow", "5", "--json"]);

    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.plans).toHaveLength(1);
    expect(out.plans[0]).toMatchObject({ source: "given", rate_per_s: 5, answer_time_s: 8, overflow_depth: 5, replicas: 47 });
    expect(out.right_size.computed).toBe(true);
    expect(out.right_size.rows.map((r: { rate_per_s: number }) => r.rate_per_s)).toEqual([1, 5, 10, 25]);
  });

  test.each([
    [["plan", "--rate", "5", "--answer-time", "8s"], /--rate "5": write a number of asks per unit of time/],
    [["plan", "--rate", "5/s", "--answer-time", "8"], /--answer-time "8": write a duration with its unit/],
    [["plan", "--rate", "5/s"], /give --rate and --answer-time/],
    [["plan", "--rate", "5/s", "--answer-time", "8s", "--overflow", "0"], /--overflow "0"/],
  ])("refuses %j with exit 2 and says what to write", async (args, message) => {
    const { code, stderr } = await runCliToExit(args as string[]);

    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  describe("--stack", () => {
    let dataDir: string;
    let server: Server;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "agentpool-plan-"));
      const now = Date.now();
      const status = {
        stack: "planned",
        generated_at: new Date(now).toISOString(),
        teams: [
          {
            team: "support-team",
            deployments: [
              {
                deployment: "support-team/customer-support",
                desired: 3,
                // 60 answered over the 120 s the pool has run (60 chart points, one per 2 s): 0.5 asks/s
                series: Array.from({ length: 60 }, (_, i) => ({ at: now - 118_000 + i * 2_000 })),
                agents: [
                  { answered: 30, p50_latency_ms: 4_000 },
                  { answered: 30, p50_latency_ms: 6_000 },
                ],
              },
            ],
          },
        ],
      };
      server = createServer((req, res) => {
        const ok = req.url === "/admin/v1/status" && req.headers["x-admin-key"] === "adm_test";
        res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
        res.end(JSON.stringify(ok ? status : { error: "bad admin key" }));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      writeAdminFile(adminFilePath(dataDir, "planned"), { url: `http://127.0.0.1:${port}`, adminKey: "adm_test", pid: process.pid, stack: "planned" });
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
    });

    test("plans each deployment from the rate and answer time the running pool observed", async () => {
      const { code, stdout, stderr } = await runCliToExit(["plan", "--stack", "planned", "--data-dir", dataDir, "--json"]);

      expect(stderr).toBe("");
      expect(code).toBe(0);
      const plan = JSON.parse(stdout).plans[0];
      expect(plan).toMatchObject({ deployment: "support-team/customer-support", source: "observed", desired: 3, answer_time_s: 5 });
      expect(plan.rate_per_s).toBeCloseTo(0.5, 2);
      expect(plan.replicas).toBeGreaterThan(2.5);
    });

    test("says so, and what to do instead, when no pool of that stack is running", async () => {
      const { code, stderr } = await runCliToExit(["plan", "--stack", "absent", "--data-dir", dataDir]);

      expect(code).toBe(1);
      expect(stderr).toMatch(/no running local pool found.*or give --rate and --answer-time/);
    });
  });
});

describe("agentpool cost", () => {
  test("prints a line per item, the total and that the prices were not fetched live", async () => {
    const { code, stdout } = await runCliToExit(["cost", "--stack", "prod-us-east-1", "--asks-per-month", "1M", "--answer-time", "5s"]);

    expect(code).toBe(0);
    for (const service of ["API Gateway", "Lambda", "SQS", "DynamoDB", "Fargate", "CloudWatch"]) expect(stdout).toContain(service);
    expect(stdout).toMatch(/total\s+\$\d+\.\d\d/);
    expect(stdout).toMatch(/NOT fetched live/);
  });

  test("--json gives the line items with their source and a total that is their sum", async () => {
    const { code, stdout } = await runCliToExit(["cost", "--stack", "dev", "--asks-per-month", "250k", "--json"]);

    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.replicas).toBe(3);
    expect(out.answerTimeS).toBe(5);
    expect(out.items.every((i: { source: string }) => i.source.startsWith("https://aws.amazon.com/"))).toBe(true);
    expect(out.totalUsd).toBeCloseTo(out.items.reduce((s: number, i: { monthlyUsd: number }) => s + i.monthlyUsd, 0), 6);
  });

  test("refuses a load it cannot read with exit 2", async () => {
    const { code, stderr } = await runCliToExit(["cost", "--stack", "dev", "--asks-per-month", "lots"]);

    expect(code).toBe(2);
    expect(stderr).toMatch(/--asks-per-month "lots": write a number of asks/);
  });
});
