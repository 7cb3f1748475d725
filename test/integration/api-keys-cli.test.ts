/**
 * `agentpool keys` against a router's admin routes over HTTP: the gateway the local pool runs,
 * in this process, with the admin key the CLI reads from the pool's admin file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { hashApiKey } from "../../runtime/core/keys";
import { startGateway, type Gateway } from "../../runtime/local/gateway";
import { lambdaHandler } from "../../runtime/router/lambda";
import { adminFilePath, writeAdminFile } from "../../runtime/local/admin-file";
import { register } from "../../runtime/cli/keys";
import { startHarness, type Harness } from "./api-harness";

const ADMIN = "adm_cli_test_key_0123456789abcdef";
let h: Harness;
let gateway: Gateway;
let dataDir: string;

beforeAll(async () => {
  h = await startHarness();
  const router = h.router({ admin: { keyHashes: [hashApiKey(ADMIN)] } });
  gateway = await startGateway(lambdaHandler(() => router), 0);
  dataDir = mkdtempSync(join(tmpdir(), "agentpool-keys-"));
  writeAdminFile(adminFilePath(dataDir, "dev"), { url: gateway.url, adminKey: ADMIN, pid: process.pid, stack: "dev" });
});
afterAll(async () => {
  await gateway.close();
  await h.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function agentpool(...args: string[]): Promise<string> {
  let printed = "";
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
  try {
    const program = new Command("agentpool").exitOverride();
    register(program);
    await program.parseAsync(["node", "agentpool", ...args, "--data-dir", dataDir]);
  } finally {
    process.stdout.write = write;
  }
  return printed;
}

test("keys create prints a working key once; list shows it without the key; revoke turns it away", async () => {
  const created = await agentpool("keys", "create", "--name", "acme production", "--rate-limit", "30");
  const apiKey = /API key.*?(cust_\S+)/.exec(created)![1]!;
  const ask = () => fetch(`${gateway.url}/api/v1/agents`, { headers: { "x-api-key": apiKey } });
  const before = await ask();
  const listed = await agentpool("keys", "list");
  const prefix = apiKey.slice(0, 13);
  const revoked = await agentpool("keys", "revoke", prefix);
  h.clock.advance(1_001);
  const after = await ask();

  expect(created).toMatch(/Webhook secret.*whsec_/);
  expect(before.status).toBe(200);
  expect(before.headers.get("x-ratelimit-limit")).toBe("30");
  expect(listed).toMatch(new RegExp(`${prefix}\\s+acme production\\s+own_\\w+\\s+\\S+ \\S+\\s+\\S+ \\S+\\s+30\\s+active`));
  expect(listed).not.toContain(apiKey);
  expect(revoked).toContain(`revoked ${prefix}`);
  expect(after.status).toBe(401);
});
