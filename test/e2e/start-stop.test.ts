/**
 * `agentpool start` as a user meets it: bad stack files, Ctrl-C, and threads that survive a restart.
 */
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, workerPids, isAlive, runCliToExit, startPoolProcess } from "../helpers/pool-process";

const API_KEY = "cust_restart_" + "r".repeat(24);
const DEV_STACK = join(ROOT, "stacks", "Pulumi.dev.yaml");
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "agentpool-e2e-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


test("an invalid stack file stops start with the path and the problem, not a stack trace", async () => {
  const bad = join(tmp, "Pulumi.bad.yaml");
  writeFileSync(
    bad,
    [
      "config:",
      "  agentpool:providers: [{name: sim, kind: simulator}]",
      "  agentpool:agentTypes: [{name: A, slug: a, endpointSlug: a, systemPrompt: p, provider: sim, model: m}]",
      "  agentpool:teams: [{name: T, slug: t, deployments: [{agentType: x, desiredReplicas: 1}]}]",
    ].join("\n"),
  );

  const { code, stderr } = await runCliToExit(["start", "--config", bad, "--ephemeral", "--port", "0"]);

  expect(code).toBe(2);
  expect(stderr).toContain('teams[0].deployments[0].agentType: unknown agent type "x"');
  expect(stderr).not.toMatch(/\n\s+at /);
});

test("a stack name without a stack file says which file is missing", async () => {
  const { code, stderr } = await runCliToExit(["start", "--stack", "nope", "--ephemeral", "--port", "0"]);

  expect(code).toBe(2);
  expect(stderr).toContain("Pulumi.nope.yaml");
  expect(stderr).toContain("file not found");
});

test("Ctrl-C stops every agent process, and threads survive a restart with their history", async () => {
  const dataDir = join(tmp, "data");
  const first = await startPoolProcess({ config: DEV_STACK, apiKey: API_KEY, dataDir, env: { OPENAI_API_KEY: "" } });
  const workers = workerPids(first.child.pid!);
  const opened = await first.ask("support", { content: "Remember me after a restart." });

  const code = await first.stop();

  expect(opened.status).toBe(200);
  expect(workers).toHaveLength(3);
  expect(code).toBe(0);
  expect(workers.filter(isAlive)).toEqual([]);

  const second = await startPoolProcess({ config: DEV_STACK, apiKey: API_KEY, dataDir, env: { OPENAI_API_KEY: "" } });
  try {
    const followUp = await second.ask("support", { content: "Still there?", thread_id: opened.body.thread_id });

    expect(followUp.status).toBe(200);
    expect(followUp.body.thread_id).toBe(opened.body.thread_id);
    expect(followUp.body.content).toContain("I was given 2 earlier turns");
  } finally {
    await second.stop();
  }
}, 90_000);
