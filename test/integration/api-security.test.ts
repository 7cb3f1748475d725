/**
 * The API's guards, router + worker on the emulators: keys (missing, revoked), owner scoping,
 * rate limits with a controllable clock, Idempotency-Key, and a fuzz of malformed requests.
 */
import fc from "fast-check";
import { revokeApiKey } from "../../runtime/aws/api-keys";
import type { Router } from "../../runtime/router/app";
import { AGENT, ENDPOINT, call, startHarness, type Harness } from "./api-harness";

let h: Harness;
let r: Router;
let alice: Awaited<ReturnType<Harness["newKey"]>>;
let bob: Awaited<ReturnType<Harness["newKey"]>>;

beforeAll(async () => {
  h = await startHarness();
  r = h.router();
  alice = await h.newKey({ name: "alice" });
  bob = await h.newKey({ name: "bob" });
  await h.startWorker();
});
afterAll(() => h.close());

const THREAD = "thr_0123456789abcdef0123456789abcdef";
const CALLBACK = "cb_0123456789abcdef0123456789abcdef";
// Always three entries: test.each would take a missing third argument for a done callback.
const ROUTES: [string, string, unknown][] = [
  ["POST", `/api/v1/ask/${ENDPOINT}`, { content: "hi" }],
  ["POST", `/api/v1/agents/${AGENT}/messages`, { content: "hi" }],
  ["GET", "/api/v1/agents", undefined],
  ["GET", `/api/v1/conversations/${THREAD}/history`, undefined],
  ["GET", `/api/v1/callbacks/${CALLBACK}`, undefined],
  ["POST", "/api/v1/webhook/test", {}],
];

describe("authentication", () => {
  test.each(ROUTES)("%s %s without a key is 401 INVALID_API_KEY", async (method, path, body) => {
    const res = await call(r, { method, path, body });

    expect(res.status).toBe(401);
    expect(res.json.error_code).toBe("INVALID_API_KEY");
  });

  test("a revoked key is refused on every route within a second", async () => {
    const carol = await h.newKey({ name: "carol" });
    expect((await call(r, { path: "/api/v1/agents", key: carol.apiKey })).status).toBe(200);

    await revokeApiKey(h.keys, carol.prefix, Date.now());
    h.clock.advance(1_001); // past the authenticator's 1 s cache

    for (const [method, path, body] of ROUTES) {
      const res = await call(r, { method, path, body, key: carol.apiKey });
      expect([method, path, res.status, res.json.error_code]).toEqual([method, path, 401, "INVALID_API_KEY"]);
    }
  });
});

describe("owner scoping", () => {
  test("another owner's thread is 404 THREAD_NOT_FOUND for asks, history and the direct endpoint", async () => {
    const first = await call(r, { path: `/api/v1/ask/${ENDPOINT}`, key: alice.apiKey, body: { content: "mine" } });
    const thread = first.json.thread_id;

    const viaAsk = await call(r, { path: `/api/v1/ask/${ENDPOINT}`, key: bob.apiKey, body: { content: "yours?", thread_id: thread } });
    const viaAgent = await call(r, { path: `/api/v1/agents/${AGENT}/messages`, key: bob.apiKey, body: { content: "yours?", thread_id: thread } });
    const viaHistory = await call(r, { path: `/api/v1/conversations/${thread}/history`, key: bob.apiKey });
    const ownHistory = await call(r, { path: `/api/v1/conversations/${thread}/history`, key: alice.apiKey });

    expect(first.status).toBe(200);
    expect([viaAsk.status, viaAgent.status, viaHistory.status]).toEqual([404, 404, 404]);
    expect(new Set([viaAsk.json, viaAgent.json, viaHistory.json].map((b) => b.error_code))).toEqual(new Set(["THREAD_NOT_FOUND"]));
    expect(viaHistory.body).toBe((await call(r, { path: `/api/v1/conversations/${THREAD}/history`, key: bob.apiKey })).body);
    expect(ownHistory.json.messages.map((m: any) => m.content)).toEqual(["mine", first.json.content]);
  });
});

describe("rate limits", () => {
  /** Moves the test clock 1 s into the next one-minute window, so a test's asks share one window. */
  const freshMinute = () => h.clock.advance(60_000 - (h.clock.now() % 60_000) + 1_000);

  test("the 61st ask in a minute is 429 with Retry-After; the next minute is open again", async () => {
    const dave = await h.newKey({ name: "dave" });
    const limits = h.router({ rateLimits: { perAgentPerMinute: 1_000 } });
    freshMinute();
    const windowEnd = Math.ceil(h.clock.now() / 60_000) * 60;

    const remaining: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await call(limits, { path: `/api/v1/ask/${ENDPOINT}`, key: dave.apiKey, body: { content: `q${i}` } });
      expect(res.status).toBe(200);
      remaining.push(res.headers["X-RateLimit-Remaining"]!);
    }
    const sentAt = h.clock.now();
    const refused = await call(limits, { path: `/api/v1/ask/${ENDPOINT}`, key: dave.apiKey, body: { content: "one too many" } });
    const refusedAt = h.clock.now();
    const agents = await call(limits, { path: "/api/v1/agents", key: dave.apiKey });
    h.clock.advance(60_000);
    const nextMinute = await call(limits, { path: `/api/v1/ask/${ENDPOINT}`, key: dave.apiKey, body: { content: "again" } });

    expect(remaining[0]).toBe("59");
    expect(remaining[59]).toBe("0");
    expect(refused.status).toBe(429);
    expect(refused.json.error_code).toBe("RATE_LIMIT_EXCEEDED");
    // The asks took a few real seconds: Retry-After is what is left of the minute.
    // (Counted from the moment the router took the ask, somewhere between these two.)
    expect(Number(refused.headers["Retry-After"])).toBeGreaterThanOrEqual(Math.ceil(windowEnd - refusedAt / 1000));
    expect(Number(refused.headers["Retry-After"])).toBeLessThanOrEqual(Math.ceil(windowEnd - sentAt / 1000));
    expect(refused.headers["X-RateLimit-Limit"]).toBe("60");
    expect(refused.headers["X-RateLimit-Remaining"]).toBe("0");
    expect(refused.headers["X-RateLimit-Reset"]).toBe(String(windowEnd));
    expect(agents.status).toBe(200);
    expect(agents.headers["X-RateLimit-Remaining"]).toBe("0");
    expect(nextMinute.status).toBe(200);
    expect(nextMinute.headers["X-RateLimit-Remaining"]).toBe("59");
  });

  test("a key's own limit and a deployment's per-agent limit apply, shared by two router instances", async () => {
    const erin = await h.newKey({ name: "erin", rateLimitPerMinute: 2 });
    const frank = await h.newKey({ name: "frank" });
    const config = { rateLimits: { perDeployment: { "api/agent": 3 } } };
    const [r1, r2] = [h.router(config), h.router(config)];
    freshMinute();

    const erinStatuses = [];
    for (const router of [r1, r2, r1]) erinStatuses.push((await call(router, { path: `/api/v1/ask/${ENDPOINT}`, key: erin.apiKey, body: { content: "e" } })).status);
    const frankAsk = await call(r2, { path: `/api/v1/ask/${ENDPOINT}`, key: frank.apiKey, body: { content: "f" } });
    const frankDirect = await call(r1, { path: `/api/v1/agents/${AGENT}/messages`, key: frank.apiKey, body: { content: "f" } });
    const frankPool = await call(r2, { path: `/api/v1/ask/${ENDPOINT}`, key: frank.apiKey, body: { content: "f" } });

    expect(erinStatuses).toEqual([200, 200, 429]);
    expect(frankAsk.status).toBe(200); // the agent's third ask this minute
    expect([frankDirect.status, frankDirect.json.details.scope, frankDirect.json.details.agent_id]).toEqual([429, "agent", AGENT]);
    expect([frankPool.status, frankPool.json.details.scope, frankPool.json.details.limit]).toEqual([429, "agent", 3]);
    expect(frankPool.headers["X-RateLimit-Limit"]).toBe("60"); // the headers are the key's
    expect(Number(frankPool.headers["Retry-After"])).toBeGreaterThan(0);
  });
});

describe("Idempotency-Key", () => {
  const ask = (key: string, idem: string, body: unknown) =>
    call(r, { path: `/api/v1/ask/${ENDPOINT}`, key, body, headers: { "Idempotency-Key": idem } });

  test("the same key and body replays the first answer (same response_id) without a second model call", async () => {
    h.clock.advance(60_000);
    const callsBefore = h.provider.calls;

    const first = await ask(alice.apiKey, "order-1", { content: "charge me once" });
    const again = await ask(alice.apiKey, "order-1", { content: "charge me once" });
    const reordered = await ask(alice.apiKey, "order-1", JSON.stringify({ content: "charge me once" }, null, 2));

    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.json.response_id).toBe(first.json.response_id);
    expect(again.body).toBe(first.body);
    expect(again.headers["Idempotent-Replayed"]).toBe("true");
    expect(reordered.json.response_id).toBe(first.json.response_id);
    expect(h.provider.calls - callsBefore).toBe(1);
  });

  test("the same key with another body is 422 IDEMPOTENCY_KEY_REUSED; another owner's same key is its own", async () => {
    await ask(alice.apiKey, "order-2", { content: "first" });

    const reused = await ask(alice.apiKey, "order-2", { content: "second" });
    const otherOwner = await ask(bob.apiKey, "order-2", { content: "second" });

    expect(reused.status).toBe(422);
    expect(reused.json.error_code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(otherOwner.status).toBe(200);
  });

  test("a duplicate while the first still runs is 409 IDEMPOTENCY_IN_PROGRESS", async () => {
    h.provider.delayMs = 400;
    try {
      const first = ask(alice.apiKey, "order-3", { content: "slow" });
      await new Promise((res) => setTimeout(res, 100));

      const duplicate = await ask(alice.apiKey, "order-3", { content: "slow" });

      expect(duplicate.status).toBe(409);
      expect(duplicate.json.error_code).toBe("IDEMPOTENCY_IN_PROGRESS");
      expect((await first).status).toBe(200);
    } finally {
      h.provider.delayMs = 0;
    }
  });

  test("a key refused before it ran (404) can be retried; a key expires after 24 h", async () => {
    const missing = await ask(alice.apiKey, "order-4", { content: "x", thread_id: THREAD });
    const fixed = await ask(alice.apiKey, "order-4", { content: "x", thread_id: THREAD });
    const used = await ask(alice.apiKey, "order-5", { content: "day one" });
    h.clock.advance(24 * 3600 * 1000 + 2_000); // expiry is kept in whole seconds
    const nextDay = await ask(alice.apiKey, "order-5", { content: "day two" });

    expect([missing.status, fixed.status]).toEqual([404, 404]);
    expect(fixed.headers["Idempotent-Replayed"]).toBeUndefined();
    expect(used.status).toBe(200);
    expect(nextDay.status).toBe(200);
    expect(nextDay.json.response_id).not.toBe(used.json.response_id);
  });

  test("an Idempotency-Key over 256 characters is 400 INVALID_REQUEST naming the header", async () => {
    const res = await ask(alice.apiKey, "k".repeat(257), { content: "x" });

    expect(res.status).toBe(400);
    expect(res.json.details.problems[0].field).toBe("Idempotency-Key");
  });
});

describe("malformed requests", () => {
  const json = fc.jsonValue({ maxDepth: 2 });
  const badAsk = fc.oneof(
    fc.string({ maxLength: 40 }), // not JSON, mostly
    json.filter((v) => !(v && typeof v === "object" && !Array.isArray(v) && typeof (v as any).content === "string")),
    fc.record({ content: fc.oneof(fc.constant(""), fc.constant("   "), fc.integer(), fc.constant(null), fc.constant("x".repeat(10_001))) }),
    fc.record({ content: fc.constant("hi"), thread_id: fc.oneof(fc.string({ maxLength: 40 }), fc.integer()) }),
    fc.record({ content: fc.constant("hi"), context_variables: fc.oneof(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/.test(k)), fc.string(), { minKeys: 1, maxKeys: 3 }), fc.array(fc.string()), fc.string()) }),
    fc.record({ content: fc.constant("hi"), context_variables: fc.dictionary(fc.constantFrom("A", "B_1"), fc.oneof(fc.integer(), fc.boolean(), fc.constant(null)), { minKeys: 1 }) }),
    fc.record({ content: fc.constant("hi"), webhook_url: fc.oneof(fc.string({ maxLength: 30 }), fc.webUrl().map((u) => u.replace(/^https?/, "ftp")), fc.constantFrom("https://10.0.0.1/x", "https://[::1]/x", "https://unresolvable.example/x", "https://169.254.169.254/latest")) }),
    fc.record({ content: fc.constant("hi"), extra: json }),
    fc.constant("x".repeat(64 * 1024 + 1)),
  );
  const request = fc.oneof(
    badAsk.map((body) => ({ method: "POST", path: `/api/v1/ask/${ENDPOINT}`, body, headers: {} as Record<string, string> })),
    badAsk.map((body) => ({ method: "POST", path: `/api/v1/agents/${AGENT}/messages`, body, headers: {} as Record<string, string> })),
    fc.record({
      method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"),
      path: fc.oneof(
        fc.string({ maxLength: 30 }).map((s) => `/api/v1/${s}`),
        fc.constantFrom("/api/v1/ask", "/api/v1/ask/", "/api/v1/ask/nope", "/api/v1/agents/nobody/messages", "/api/v1/conversations/thr_x/history", `/api/v1/callbacks/${CALLBACK}`, "/api/v1/admin/keys"),
      ),
      body: fc.option(fc.string({ maxLength: 50 }), { nil: undefined }),
      headers: fc.constant({} as Record<string, string>),
    }),
    fc.record({
      method: fc.constant("POST"),
      path: fc.constant(`/api/v1/ask/${ENDPOINT}`),
      body: fc.constant({ content: "hi" }),
      headers: fc.oneof(
        fc.string({ maxLength: 300 }).filter((s) => s.length === 0 || s.length > 256 || !/^[\x21-\x7e]+$/.test(s)).map((k) => ({ "Idempotency-Key": k })),
        fc.string({ maxLength: 40 }).map((k) => ({ "X-API-Key": k })),
      ),
    }),
    fc.record({
      method: fc.constant("GET"),
      path: fc.constant("/api/v1/conversations/thr_0123456789abcdef0123456789abcdef/history"),
      body: fc.constant(undefined),
      headers: fc.constant({} as Record<string, string>),
      query: fc.oneof(
        fc.record({ limit: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("0", "201", "-1", "1.5")) }),
        fc.record({ cursor: fc.string({ maxLength: 40 }) }),
        fc.record({ other: fc.string({ maxLength: 5 }) }),
      ),
    }),
  );

  test("300 malformed requests all get a 4xx JSON error, never a 5xx", async () => {
    const fuzz = h.router({ rateLimits: { perKeyPerMinute: 100_000 } });
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const res = await call(fuzz, { key: alice.apiKey, ...req, headers: { "X-API-Key": alice.apiKey, ...req.headers } });
        if (res.status < 400 || res.status >= 500 || typeof res.json?.error_code !== "string") {
          throw new Error(`${req.method} ${req.path} → ${res.status} ${res.body.slice(0, 200)}`);
        }
      }),
      { numRuns: 300, seed: 6 },
    );
  });
});
