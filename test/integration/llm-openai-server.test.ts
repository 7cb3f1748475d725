/** The test OpenAI-compatible server itself (test/support/openai-server.ts), which the e2e tests also start. */
import { startOpenAiCompatibleServer, type OpenAiCompatibleServer } from "../support/openai-server";

let server: OpenAiCompatibleServer;

beforeEach(async () => {
  server = await startOpenAiCompatibleServer({ apiKey: "sk-test-key-abcdef123456" });
});

afterEach(async () => {
  await server.close();
});

const chat = (body: unknown, key = "sk-test-key-abcdef123456") =>
  fetch(`${server.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });

describe("the OpenAI-compatible test server", () => {
  test("answers a chat completion in OpenAI's shape", async () => {
    const res = await chat({ model: "gpt-4o", messages: [{ role: "user", content: "ping" }] });

    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      object: "chat.completion",
      model: "gpt-4o",
      choices: [{ index: 0, message: { role: "assistant", content: "echo: ping" }, finish_reason: "stop" }],
    });
  });

  test("refuses a wrong key with 401 and a masked key, as OpenAI does", async () => {
    const res = await chat({ model: "m", messages: [] }, "sk-wrong-key-000000009999");

    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("invalid_api_key");
    expect(body.error.message).toContain("9999");
    expect(body.error.message).not.toContain("sk-wrong-key-000000009999");
  });

  test("answers unknown paths with a JSON 404 and still records them", async () => {
    const res = await fetch(`${server.url}/models`);

    expect(res.status).toBe(404);
    expect(server.requests.map((r) => r.path)).toEqual(["/v1/models"]);
    expect(server.completions()).toEqual([]);
  });

  test("plays scripted behaviours once each, in order, then answers normally", async () => {
    server.failNext(1, 429);
    server.failNext(1, 503);

    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await chat({ model: "m", messages: [] })).status);

    expect(statuses).toEqual([429, 503, 200]);
  });

  test("waitForRequests resolves once enough requests arrived and rejects after its timeout otherwise", async () => {
    const waiting = server.waitForRequests(2, 2_000);
    await chat({ model: "m", messages: [] });
    await chat({ model: "m", messages: [] });

    await expect(waiting).resolves.toBeUndefined();
    await expect(server.waitForRequests(3, 50)).rejects.toThrow("got 2 requests, not 3");
  });

  test("close() ends a hanging request instead of waiting for it", async () => {
    const hanging = await startOpenAiCompatibleServer();
    hanging.hangNext();
    const pending = fetch(`${hanging.url}/chat/completions`, { method: "POST", body: JSON.stringify({ model: "m", messages: [] }) }).then(
      () => "answered",
      () => "connection closed",
    );
    await hanging.waitForRequests(1);

    await hanging.close();

    expect(await pending).toBe("connection closed");
  }, 5_000);
});
