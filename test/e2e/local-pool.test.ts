/**
 * The local pool end to end, over HTTP, started through the same entry as `npm start`.
 */
import { join } from "node:path";
import { ROOT, startPoolProcess, type PoolProcess } from "../helpers/pool-process";

const API_KEY = "cust_e2e_" + "k".repeat(24);
let pool: PoolProcess;

beforeAll(async () => {
  pool = await startPoolProcess({
    config: join(ROOT, "test", "fixtures", "Pulumi.e2e.yaml"),
    apiKey: API_KEY,
    env: { E2E_UNREACHABLE_KEY: "sk-e2e-not-a-real-key" },
  });
}, 60_000);

afterAll(async () => {
  await pool?.stop();
});

const support = (body: unknown, headers?: Record<string, string>) => pool.ask("support", body, headers);
const earlierTurns = (content: string) => Number(/I was given (\d+) earlier turn/.exec(content)?.[1]);

describe("the example pool", () => {
  test("lists the three support agents as running and healthy", async () => {
    const res = await pool.get("/api/v1/agents");

    expect(res.status).toBe(200);
    const supportAgents = res.body.agents.filter((a: any) => a.endpoint === "support");
    expect(supportAgents.map((a: any) => a.agent_id)).toEqual([
      "support-team-customer-support-1",
      "support-team-customer-support-2",
      "support-team-customer-support-3",
    ]);
    for (const a of supportAgents) {
      expect(a).toMatchObject({ state: "running", healthy: true, deployment: "support-team/customer-support" });
    }
  });

  test("answers an ask with thread_id, response_id, agent_id, content and an ISO timestamp", async () => {
    const res = await support({ content: "Where is my order?" });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      thread_id: expect.stringMatching(/^thr_[0-9a-f]{32}$/),
      response_id: expect.stringMatching(/^resp_[0-9a-f]{32}$/),
      agent_id: expect.stringMatching(/^support-team-customer-support-[123]$/),
      content: expect.stringContaining("Where is my order?"),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(earlierTurns(res.body.content)).toBe(0);
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  test("routes a follow-up to the agent that answered the thread, with the earlier turns", async () => {
    const first = await support({ content: "My parcel is late." });
    const second = await support({ content: "It was due Monday.", thread_id: first.body.thread_id });
    const third = await support({ content: "Order 1234.", thread_id: first.body.thread_id });

    expect(second.status).toBe(200);
    expect(second.body.thread_id).toBe(first.body.thread_id);
    expect(second.body.agent_id).toBe(first.body.agent_id);
    expect(third.body.agent_id).toBe(first.body.agent_id);
    expect(earlierTurns(second.body.content)).toBe(2);
    expect(earlierTurns(third.body.content)).toBe(4);
  });

  test("continues a thread on another agent, with its full history, when its agent is busy past the limit", async () => {
    const first = await support({ content: "Start of a busy thread." });
    const affine = first.body.agent_id;

    // 14 follow-ups at once: the affine agent takes up to 10 (the overflow limit), the rest go elsewhere.
    const burst = await Promise.all(
      Array.from({ length: 14 }, (_, i) => support({ content: `follow-up ${i}`, thread_id: first.body.thread_id })),
    );

    expect(burst.map((r) => r.status)).toEqual(Array(14).fill(200));
    const elsewhere = burst.filter((r) => r.body.agent_id !== affine);
    expect(elsewhere.length).toBeGreaterThan(0);
    for (const r of elsewhere) {
      expect(r.body.thread_id).toBe(first.body.thread_id);
      expect(earlierTurns(r.body.content)).toBeGreaterThanOrEqual(2);
    }
  });

  test("spreads 12 concurrent new threads over all three agents", async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => support({ content: `new thread ${i}` })));

    expect(answers.map((r) => r.status)).toEqual(Array(12).fill(200));
    const perAgent = new Map<string, number>();
    for (const r of answers) perAgent.set(r.body.agent_id, (perAgent.get(r.body.agent_id) ?? 0) + 1);
    expect([...perAgent.keys()].sort()).toEqual([
      "support-team-customer-support-1",
      "support-team-customer-support-2",
      "support-team-customer-support-3",
    ]);
    expect(Math.max(...perAgent.values())).toBeLessThanOrEqual(6);
  });
});

describe("errors", () => {
  const expectError = (res: { status: number; body: any }, status: number, code: string) => {
    expect({ status: res.status, code: res.body?.error_code }).toEqual({ status, code });
    expect(typeof res.body.error).toBe("string");
  };

  test("401 INVALID_API_KEY without a key, with an unknown key, and with a malformed key", async () => {
    expectError(await pool.ask("support", { content: "hi" }, { "x-api-key": "" }), 401, "INVALID_API_KEY");
    expectError(await pool.ask("support", { content: "hi" }, { "x-api-key": "cust_" + "x".repeat(30) }), 401, "INVALID_API_KEY");
    expectError(await pool.ask("support", { content: "hi" }, { "x-api-key": "not-a-key" }), 401, "INVALID_API_KEY");
    expectError(await pool.get("/api/v1/agents", { "x-api-key": "" }), 401, "INVALID_API_KEY");
  });

  test("404 ENDPOINT_NOT_FOUND for an endpoint no agent type serves", async () => {
    expectError(await pool.ask("billing", { content: "hi" }), 404, "ENDPOINT_NOT_FOUND");
  });

  test("400 INVALID_REQUEST for malformed JSON, wrong types, missing content and unknown fields", async () => {
    expectError(await support("{not json"), 400, "INVALID_REQUEST");
    expectError(await support({ content: 42 }), 400, "INVALID_REQUEST");
    expectError(await support({}), 400, "INVALID_REQUEST");
    expectError(await support({ content: "   " }), 400, "INVALID_REQUEST");
    expectError(await support({ content: "hi", thread: "thr_x" }), 400, "INVALID_REQUEST");
    const bad = await support({ content: "hi", thread_id: "../etc" });
    expectError(bad, 400, "INVALID_REQUEST");
    expect(JSON.stringify(bad.body.details)).toContain("thread_id");
  });

  test("400 MESSAGE_TOO_LONG above 10,000 characters, 413 PAYLOAD_TOO_LARGE above 64 KB", async () => {
    expectError(await support({ content: "x".repeat(10_001) }), 400, "MESSAGE_TOO_LONG");
    expect((await support({ content: "x".repeat(10_000) })).status).toBe(200);
    expectError(await support({ content: "x".repeat(70_000) }), 413, "PAYLOAD_TOO_LARGE");
  });

  test("404 THREAD_NOT_FOUND for an unknown thread, and for a thread of another endpoint", async () => {
    expectError(await support({ content: "hi", thread_id: "thr_" + "0".repeat(32) }), 404, "THREAD_NOT_FOUND");
    const tiny = await pool.ask("tiny", { content: "hello tiny" });
    expect(tiny.status).toBe(200);
    expectError(await support({ content: "hi", thread_id: tiny.body.thread_id }), 404, "THREAD_NOT_FOUND");
  });

  test("503 POOL_UNAVAILABLE with Retry-After when every agent is at its limit", async () => {
    // The tiny deployment takes one ask at a time (overflowDepth 1) and answers in 1 s.
    const [a, b] = await Promise.all([pool.ask("tiny", { content: "one" }), pool.ask("tiny", { content: "two" })]);

    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 503]);
    const rejected = a.status === 503 ? a : b;
    expectError(rejected, 503, "POOL_UNAVAILABLE");
    expect(Number(rejected.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("502 UPSTREAM_ERROR when the agent's model provider fails", async () => {
    const res = await pool.ask("broken", { content: "hi" });
    expectError(res, 502, "UPSTREAM_ERROR");
    expect(JSON.stringify(res.body)).not.toContain("sk-e2e-not-a-real-key");
  });

  test("504 TIMEOUT past the router's deadline, naming the thread whose answer will still be stored", async () => {
    const res = await pool.ask("slow", { content: "take your time" });

    expectError(res, 504, "TIMEOUT");
    expect(res.body.details).toMatchObject({ thread_id: expect.stringMatching(/^thr_/), agent_id: "lab-slow-1", deadline_ms: 6000 });
  });

  test("JSON 404 for an unknown route and 405 for a wrong method", async () => {
    expectError(await pool.get("/api/v2/nothing"), 404, "ROUTE_NOT_FOUND");
    const res = await pool.get("/api/v1/ask/support");
    expectError(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")).toBe("POST");
  });

  test("GET /healthz answers without a key", async () => {
    const res = await pool.get("/healthz", { "x-api-key": "" });
    expect(res).toMatchObject({ status: 200, body: { status: "ok" } });
  });
});

describe("afterwards", () => {
  test("every queue depth counter is back to 0 once all asks are answered, timed-out ones included", async () => {
    let agents: any[] = [];
    for (let i = 0; i < 60; i++) {
      agents = (await pool.get("/api/v1/agents")).body.agents;
      if (agents.every((a) => a.queue_depth === 0)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(agents.map((a) => [a.agent_id, a.queue_depth])).toEqual(agents.map((a) => [a.agent_id, 0]));
  }, 20_000);
});
