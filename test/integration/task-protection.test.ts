/** ECS task scale-in protection against a local stand-in for the ECS agent's endpoint. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TaskProtection, taskProtectionFromEnv } from "../../runtime/agent/task-protection";

let server: Server;
let url: string;
const calls: { method?: string; path?: string; body: any }[] = [];
let failNext = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (d) => (text += d));
    req.on("end", () => {
      calls.push({ method: req.method, path: req.url, body: JSON.parse(text || "{}") });
      if (failNext-- > 0) return void res.writeHead(500).end();
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  calls.length = 0;
  failNext = 0;
});

test("protects the task while it holds work and releases it after, once per change", async () => {
  const protection = new TaskProtection(url, () => undefined);

  await Promise.all([protection.set(true), protection.set(true)]);
  await protection.set(false);

  expect(calls).toEqual([
    { method: "PUT", path: "/task-protection/v1/state", body: { ProtectionEnabled: true, ExpiresInMinutes: 60 } },
    { method: "PUT", path: "/task-protection/v1/state", body: { ProtectionEnabled: false } },
  ]);
});

test("a failing ECS agent is logged and retried on the next change, never thrown at the worker", async () => {
  const logs: Record<string, unknown>[] = [];
  const protection = new TaskProtection(url, (e) => logs.push(e));
  failNext = 1;

  await protection.set(true);
  await protection.set(true);

  expect(calls).toHaveLength(2);
  expect(logs[0]).toMatchObject({ level: "warn", msg: "task protection not updated", enabled: true });
});

test("outside ECS (no ECS_AGENT_URI) there is nothing to protect", () => {
  expect(taskProtectionFromEnv({}, () => undefined)).toBeUndefined();
  expect(taskProtectionFromEnv({ ECS_AGENT_URI: url }, () => undefined)).toBeInstanceOf(TaskProtection);
});
