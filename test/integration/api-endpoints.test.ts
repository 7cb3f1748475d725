/**
 * The rest of API v1 on the emulators: the direct agent endpoint, paginated history,
 * context_variables from request to system prompt, the OpenAPI document, and key management.
 */
import { z } from "zod";
import { hashApiKey } from "../../runtime/core/keys";
import { askRequestSchema } from "../../runtime/core/api";
import type { Router } from "../../runtime/router/app";
import { AGENT, ENDPOINT, call, startHarness, type Harness } from "./api-harness";

let h: Harness;
let r: Router;
let key: string;

beforeAll(async () => {
  h = await startHarness();
  r = h.router();
  key = (await h.newKey({ name: "endpoints" })).apiKey;
  await h.startWorker({ systemPrompt: "You work for {{COMPANY_NAME}}." });
});
afterAll(() => h.close());

describe("POST /api/v1/agents/{agent_id}/messages", () => {
  test("asks the named agent, and a follow-up through the pool stays on the same thread", async () => {
    const direct = await call(r, { path: `/api/v1/agents/${AGENT}/messages`, key, body: { content: "hello agent" } });
    const followUp = await call(r, { path: `/api/v1/ask/${ENDPOINT}`, key, body: { content: "again", thread_id: direct.json.thread_id } });

    expect([direct.status, direct.json.agent_id]).toEqual([200, AGENT]);
    expect([followUp.status, followUp.json.thread_id]).toEqual([200, direct.json.thread_id]);
    expect((await h.registry.listEndpoint(ENDPOINT))[0]!.depth).toBe(0);
  });

  test("an unknown agent is 404 AGENT_NOT_FOUND; a draining one is 400 AGENT_NOT_RUNNING", async () => {
    const unknown = await call(r, { path: "/api/v1/agents/nobody-1/messages", key, body: { content: "hi" } });
    const row = (await h.registry.listEndpoint(ENDPOINT))[0]!;
    await h.registry.put({ ...row, endpoint: ENDPOINT, agentId: "api-agent-9", state: "draining", depth: 0 });
    const draining = await call(h.router(), { path: "/api/v1/agents/api-agent-9/messages", key, body: { content: "hi" } });
    await h.registry.remove(ENDPOINT, "api-agent-9");

    expect([unknown.status, unknown.json.error_code]).toEqual([404, "AGENT_NOT_FOUND"]);
    expect([draining.status, draining.json.error_code, draining.json.details.state]).toEqual([400, "AGENT_NOT_RUNNING", "draining"]);
  });
});

describe("GET /api/v1/conversations/{thread_id}/history", () => {
  test("pages through a thread's turns oldest first with next_cursor", async () => {
    const first = await call(r, { path: `/api/v1/ask/${ENDPOINT}`, key, body: { content: "one" } });
    const thread = first.json.thread_id;
    for (const content of ["two", "three"]) await call(r, { path: `/api/v1/ask/${ENDPOINT}`, key, body: { content, thread_id: thread } });

    const pages: any[] = [];
    let cursor: string | undefined;
    do {
      const res = await call(r, { path: `/api/v1/conversations/${thread}/history`, key, query: { limit: "4", ...(cursor ? { cursor } : {}) } });
      expect(res.status).toBe(200);
      pages.push(res.json);
      cursor = res.json.next_cursor ?? undefined;
    } while (cursor);

    expect(pages.map((p) => p.messages.length)).toEqual([4, 2]);
    expect(pages.flatMap((p) => p.messages.filter((m: any) => m.role === "user").map((m: any) => m.content))).toEqual(["one", "two", "three"]);
    expect(pages[0].messages[1]).toMatchObject({ role: "assistant", response_id: first.json.response_id, agent_id: AGENT });
  });

  test("a forged cursor or a bad limit is 400 INVALID_REQUEST", async () => {
    const thread = (await call(r, { path: `/api/v1/ask/${ENDPOINT}`, key, body: { content: "x" } })).json.thread_id;

    const forged = await call(r, { path: `/api/v1/conversations/${thread}/history`, key, query: { cursor: Buffer.from("META").toString("base64url") } });
    const limit = await call(r, { path: `/api/v1/conversations/${thread}/history`, key, query: { limit: "1000" } });

    expect([forged.status, forged.json.details.problems[0].field]).toEqual([400, "cursor"]);
    expect([limit.status, limit.json.details.problems[0].field]).toEqual([400, "limit"]);
  });
});

describe("context_variables", () => {
  test("fill the system prompt's placeholders; the others reach the agent as a context block", async () => {
    const res = await call(r, { path: `/api/v1/ask/${ENDPOINT}`, key, body: { content: "hi", context_variables: { COMPANY_NAME: "Acme", TIER: "gold" } } });
    const system = h.provider.requests.at(-1)!.messages.filter((m) => m.role === "system").map((m) => m.content);

    expect(res.status).toBe(200);
    expect(system).toEqual(["You work for Acme.", "Context variables:\nTIER: gold"]);
  });

  test.each([
    ["a lower-case key", { company: "Acme" }, "context_variables.company"],
    ["a non-string value", { COUNT: 3 }, "context_variables.COUNT"],
    ["21 variables", Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`V_${i}`, "x"])), "context_variables"],
    ["over 4 KB", { BIG: "x".repeat(4_100) }, "context_variables"],
  ])("%s is 400 INVALID_REQUEST naming the field", async (_, vars, field) => {
    const res = await call(r, { path: `/api/v1/ask/${ENDPOINT}`, key, body: { content: "hi", context_variables: vars } });

    expect([res.status, res.json.error_code]).toEqual([400, "INVALID_REQUEST"]);
    expect(res.json.details.problems.map((p: any) => p.field)).toContain(field);
  });
});

test("GET /api/v1/openapi.json is the request schema the router validates with, without a key", async () => {
  const res = await call(r, { path: "/api/v1/openapi.json" });
  const doc = res.json;

  expect(res.status).toBe(200);
  expect(doc.openapi).toBe("3.1.0");
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/v1/ask/{endpoint_slug}", "/api/v1/agents/{agent_id}/messages", "/api/v1/conversations/{thread_id}/history", "/api/v1/callbacks/{callback_id}", "/api/v1/webhook/test"]));
  expect(Object.keys(doc.components.schemas.AskRequest.properties).sort()).toEqual(Object.keys(askRequestSchema.shape).sort());
  expect(doc.components.schemas.AskRequest.additionalProperties).toBe(false);
  expect(doc.paths["/api/v1/ask/{endpoint_slug}"].post.parameters.map((p: any) => p.name)).toContain("Idempotency-Key");
  expect(z.toJSONSchema(askRequestSchema, { io: "input", unrepresentable: "any" })).toBeTruthy();
});

describe("key management (/api/v1/admin/keys, X-Admin-Key)", () => {
  const ADMIN = "adm_test_admin_key_0123456789";
  let admin: Router;
  beforeAll(() => {
    admin = h.router({ admin: { keyHashes: [hashApiKey(ADMIN)] } });
  });

  test("create prints the key once; list shows prefix, name, created and last used, never the key or secret; revoke takes effect", async () => {
    const created = await call(admin, { path: "/api/v1/admin/keys", headers: { "X-Admin-Key": ADMIN }, body: { name: "acme prod", rate_limit_per_minute: 120 } });
    const newKey = created.json.api_key as string;
    await call(admin, { path: "/api/v1/agents", key: newKey });
    const listed = await call(admin, { path: "/api/v1/admin/keys", headers: { "X-Admin-Key": ADMIN } });
    const entry = listed.json.keys.find((k: any) => k.name === "acme prod");
    const revoked = await call(admin, { method: "DELETE", path: `/api/v1/admin/keys/${entry.prefix}`, headers: { "X-Admin-Key": ADMIN } });
    h.clock.advance(1_001);
    const after = await call(admin, { path: "/api/v1/agents", key: newKey });

    expect(created.status).toBe(201);
    expect(newKey).toMatch(/^cust_/);
    expect(created.json.webhook_secret).toMatch(/^whsec_/);
    expect(entry).toMatchObject({ prefix: newKey.slice(0, 13), rate_limit_per_minute: 120, revoked_at: null });
    expect(entry.last_used_at).not.toBeNull();
    expect(listed.body).not.toContain(newKey);
    expect(listed.body).not.toContain(created.json.webhook_secret);
    expect(revoked.json.key.revoked_at).not.toBeNull();
    expect(after.status).toBe(401);
  });

  test("without the admin key the routes are 401; on a router without admin keys they do not exist", async () => {
    const noHeader = await call(admin, { path: "/api/v1/admin/keys", key });
    const absent = await call(r, { path: "/api/v1/admin/keys", headers: { "X-Admin-Key": ADMIN } });

    expect([noHeader.status, noHeader.json.error_code]).toEqual([401, "INVALID_API_KEY"]);
    expect([absent.status, absent.json.error_code]).toEqual([404, "ROUTE_NOT_FOUND"]);
  });
});
