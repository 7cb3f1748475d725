/**
 * Async asks end to end in one process: the router answers 202 at once, the worker's afterAnswer
 * hook POSTs the signed answer to a receiver on 127.0.0.1 (allowed by the local-stack flag), which
 * fails three times and then takes it; the callback shows each attempt. SSRF targets are refused.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhookSignature } from "../../runtime/webhooks";
import type { Router } from "../../runtime/router/app";
import { ENDPOINT, call, eventually, fakeResolver, startHarness, type Harness } from "./api-harness";

interface Received {
  body: string;
  signature?: string;
  attempt?: string;
}

let h: Harness;
let receiver: Server;
let receiverUrl: string;
let received: Received[];
let failFirst: number;

beforeAll(async () => {
  h = await startHarness();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ body: Buffer.concat(chunks).toString("utf8"), signature: req.headers["x-webhook-signature"] as string, attempt: req.headers["x-webhook-attempt"] as string });
      res.writeHead(received.length <= failFirst ? 500 : 204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  await h.startWorker();
});
afterAll(async () => {
  await h.close();
  await new Promise((r) => receiver.close(r));
});
beforeEach(() => {
  received = [];
  failFirst = 0;
});

const local = () => h.router({ webhooks: { allowInsecureLocal: true } });

test("an ask with webhook_url gets 202 at once; the signed answer arrives after 3 failures, on the 4th attempt", async () => {
  const key = await h.newKey({ name: "hooks" });
  failFirst = 3;
  h.provider.delayMs = 300;
  let accepted;
  try {
    accepted = await call(local(), { path: `/api/v1/ask/${ENDPOINT}`, key: key.apiKey, body: { content: "call me back", webhook_url: receiverUrl } });
    expect(accepted.status).toBe(202); // before the model has answered
    expect(h.provider.requests.at(-1)?.messages.at(-1)?.content).not.toBe("call me back");
  } finally {
    h.provider.delayMs = 0;
  }
  const { callback_id, thread_id, response_id } = accepted.json;

  await eventually(async () => (await h.callbacks.get(callback_id))?.status === "delivered");
  const status = await call(local(), { path: `/api/v1/callbacks/${callback_id}`, key: key.apiKey });
  const last = received.at(-1)!;
  const payload = JSON.parse(last.body);

  expect(received.map((r) => r.attempt)).toEqual(["1", "2", "3", "4"]);
  expect(received.every((r) => verifyWebhookSignature(key.webhookSecret, r.body, r.signature))).toBe(true);
  expect(verifyWebhookSignature("whsec_wrong", last.body, last.signature)).toBe(false);
  expect(payload).toMatchObject({ type: "ask.answered", callback_id, thread_id, response_id });
  expect(status.json).toMatchObject({ callback_id, status: "delivered", attempts: 4, last_status_code: 204 });
  await eventually(async () => (await h.registry.listEndpoint(ENDPOINT))[0]!.depth === 0); // the worker counted it out
});

test("a receiver that never succeeds is tried 4 times and the callback says failed", async () => {
  const key = await h.newKey({ name: "hooks" });
  failFirst = 99;

  const accepted = await call(local(), { path: `/api/v1/ask/${ENDPOINT}`, key: key.apiKey, body: { content: "x", webhook_url: receiverUrl } });
  await eventually(async () => (await h.callbacks.get(accepted.json.callback_id))?.status === "failed");
  const status = await call(local(), { path: `/api/v1/callbacks/${accepted.json.callback_id}`, key: key.apiKey });
  const other = await h.newKey({ name: "someone else" });
  const foreign = await call(local(), { path: `/api/v1/callbacks/${accepted.json.callback_id}`, key: other.apiKey });

  expect(received).toHaveLength(4);
  expect(status.json).toMatchObject({ status: "failed", attempts: 4, last_status_code: 500 });
  expect([foreign.status, foreign.json.error_code]).toEqual([404, "CALLBACK_NOT_FOUND"]);
});

test("a key's default webhook URL makes its asks async; POST /webhook/test sends one signed test delivery", async () => {
  const key = await h.newKey({ name: "default hook", webhookUrl: receiverUrl });

  const accepted = await call(local(), { path: `/api/v1/ask/${ENDPOINT}`, key: key.apiKey, body: { content: "default" } });
  await eventually(async () => received.length === 1);
  const test = await call(local(), { path: "/api/v1/webhook/test", key: key.apiKey, body: {} });
  const testDelivery = received[1]!;

  expect(accepted.status).toBe(202);
  expect(test.json).toMatchObject({ delivered: true, status_code: 204 });
  expect(JSON.parse(testDelivery.body)).toMatchObject({ type: "webhook.test", callback_id: test.json.callback_id });
  expect(verifyWebhookSignature(key.webhookSecret, testDelivery.body, testDelivery.signature)).toBe(true);
});

describe("SSRF: without the local-stack flag", () => {
  const resolver = fakeResolver({
    "hooks.example.com": ["93.184.216.34"],
    "internal.example.com": ["10.1.2.3"],
    "mixed.example.com": ["93.184.216.34", "192.168.1.1"],
    "v6.example.com": ["fd00::1"],
  });
  let strict: Router;
  let key: string;
  beforeAll(async () => {
    strict = h.router({}, resolver);
    key = (await h.newKey({ name: "ssrf" })).apiKey;
  });

  test.each([
    ["loopback", "https://127.0.0.1/hook"],
    ["a private network", "https://10.0.0.7/hook"],
    ["the cloud metadata address", "https://169.254.169.254/latest/meta-data"],
    ["IPv6 loopback", "https://[::1]/hook"],
    ["IPv4-mapped IPv6 loopback", "https://[::ffff:127.0.0.1]/hook"],
    ["a name resolving to a private address", "https://internal.example.com/hook"],
    ["a name with one private address among public ones", "https://mixed.example.com/hook"],
    ["a name resolving to a unique-local IPv6 address", "https://v6.example.com/hook"],
    ["plain http", "http://hooks.example.com/hook"],
    ["a name that does not resolve", "https://nowhere.example.com/hook"],
  ])("refuses %s with 400 INVALID_REQUEST naming webhook_url, before anything is enqueued", async (_, url) => {
    const ask = await call(strict, { path: `/api/v1/ask/${ENDPOINT}`, key, body: { content: "x", webhook_url: url } });
    const test = await call(strict, { path: "/api/v1/webhook/test", key, body: { webhook_url: url } });

    expect([ask.status, ask.json.error_code, ask.json.details.problems[0].field]).toEqual([400, "INVALID_REQUEST", "webhook_url"]);
    expect([test.status, test.json.error_code]).toEqual([400, "INVALID_REQUEST"]);
    expect(received).toHaveLength(0);
  });
});
