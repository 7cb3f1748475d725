/**
 * The public API's keys and webhooks on the running local pool, as a user drives them: keys made
 * and revoked with `agentpool keys`, an async ask delivered to a webhook signed with the key's secret.
 */
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runCliToExit, startPoolProcess, type PoolProcess } from "../helpers/pool-process";

let pool: PoolProcess;
let dataDir: string;
let receiver: Server;
let hookUrl: string;
const deliveries: { signature?: string; raw: string }[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "agentpool-api-"));
  receiver = createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => {
      deliveries.push({ signature: req.headers["x-webhook-signature"] as string | undefined, raw });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  pool = await startPoolProcess({ config: join(ROOT, "test", "fixtures", "Pulumi.e2e.yaml"), apiKey: "cust_apie2e_" + "a".repeat(24), dataDir, env: { E2E_UNREACHABLE_KEY: "x" } });
}, 60_000);

afterAll(async () => {
  await pool?.stop();
  await new Promise<void>((r) => receiver.close(() => r()));
  rmSync(dataDir, { recursive: true, force: true });
});

const keys = (...args: string[]) => runCliToExit(["keys", ...args, "--stack", "e2e", "--data-dir", dataDir, "--json"]);

test("a key made with `agentpool keys create` works at once and is refused within about a second of `keys revoke`", async () => {
  const created = await keys("create", "--name", "e2e client");
  const { api_key: apiKey, key } = JSON.parse(created.stdout);

  const before = await pool.ask("support", { content: "hello" }, { "x-api-key": apiKey });
  const listed = JSON.parse((await keys("list")).stdout);
  const revoked = await keys("revoke", key.prefix);
  await new Promise((r) => setTimeout(r, 1_200));
  const after = await pool.ask("support", { content: "hello again" }, { "x-api-key": apiKey });

  expect(created.code).toBe(0);
  expect(before.status).toBe(200);
  expect(before.headers.get("x-ratelimit-limit")).toBe("60");
  expect(listed.map((k: any) => k.prefix)).toContain(key.prefix);
  expect(JSON.stringify(listed)).not.toContain(apiKey);
  expect(revoked.code).toBe(0);
  expect(after).toMatchObject({ status: 401, body: { error_code: "INVALID_API_KEY" } });
});

test("an ask with a webhook_url answers 202 and its answer is POSTed, signed with the key's webhook secret", async () => {
  const { api_key: apiKey, webhook_secret: secret } = JSON.parse((await keys("create", "--name", "webhook client")).stdout);

  const accepted = await pool.ask("support", { content: "call me back", webhook_url: hookUrl }, { "x-api-key": apiKey });
  for (let i = 0; i < 50 && deliveries.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  // The callback turns `delivered` once the receiver's 2xx is back at the worker.
  let status = await pool.get(`/api/v1/callbacks/${accepted.body.callback_id}`, { "x-api-key": apiKey });
  for (let i = 0; i < 30 && status.body.status !== "delivered"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = await pool.get(`/api/v1/callbacks/${accepted.body.callback_id}`, { "x-api-key": apiKey });
  }

  expect(accepted.status).toBe(202);
  expect(deliveries).toHaveLength(1);
  const [delivery] = deliveries;
  expect(delivery!.signature).toBe(`sha256=${createHmac("sha256", secret).update(delivery!.raw).digest("hex")}`);
  expect(JSON.parse(delivery!.raw)).toMatchObject({ callback_id: accepted.body.callback_id });
  expect(delivery!.raw).toContain("call me back");
  expect(status.body).toMatchObject({ status: "delivered" });
});
