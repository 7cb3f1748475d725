/** `agentpool start`: the embedded local pool of a stack, in the foreground until Ctrl-C. */
import { resolve } from "node:path";
import { SpecError } from "../core/spec";
import { loadStackFile, stackFilePath } from "../local/stack-file";
import { startLocalPool, type LocalPool } from "../local/pool";
import { adminFilePath, removeAdminFile, writeAdminFile } from "../local/admin-file";
import { paint } from "./output";

export interface StartOptions {
  stack: string;
  config?: string;
  port: string;
  /** DynamoDB data (unless --ephemeral) and the admin file of the running pool. */
  dataDir: string;
  ephemeral?: boolean;
  verbose?: boolean;
}

export async function startCommand(opts: StartOptions): Promise<void> {
  const out = (s = "") => process.stdout.write(s + "\n");
  let stackFile;
  try {
    stackFile = loadStackFile(opts.config ? resolve(opts.config) : stackFilePath(opts.stack));
  } catch (err) {
    if (err instanceof SpecError) {
      process.stderr.write(`agentpool: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`agentpool: --port must be a port number, got "${opts.port}"\n`);
    process.exit(2);
  }

  let pool: LocalPool;
  let started = false;
  try {
    pool = await startLocalPool({
      stack: stackFile.stack,
      spec: stackFile.spec,
      port,
      dataDir: opts.ephemeral ? undefined : resolve(opts.dataDir, stackFile.stack),
      apiKey: process.env.AGENTPOOL_API_KEY,
      verbose: opts.verbose,
      onProgress: (m) => out(`… ${m}`),
      onEvent: (e) => {
        if (!started && e.type === "ready") out(`  ${paint.green("✓")} ${e.agentId} ready`);
      },
    });
  } catch (err) {
    process.stderr.write(`agentpool: could not start the local pool: ${(err as Error).message}\n`);
    process.exit(1);
  }

  started = true;
  const endpoint = pool.endpoints[0];
  out();
  out(`agentpool local pool "${stackFile.stack}" (${opts.ephemeral ? "in memory" : `data in ${resolve(opts.dataDir, stackFile.stack)}`})`);
  out();
  out("Agents:");
  for (const a of pool.agents()) {
    const provider = a.fellBack
      ? `${a.provider} (${a.providerKind}: built-in simulator, no key for the declared provider)`
      : `${a.provider} (${a.providerKind})`;
    out(`  ${a.agentId.padEnd(36)} ${a.deployment.padEnd(32)} POST /api/v1/ask/${a.endpoint}  via ${provider}`);
  }
  out();
  out(`Dev API key: ${pool.apiKey}${process.env.AGENTPOOL_API_KEY ? " (from AGENTPOOL_API_KEY)" : " (generated; set AGENTPOOL_API_KEY to fix it)"}`);
  out(`Its webhook secret (verifies X-Webhook-Signature, new at every start): ${pool.webhookSecret}`);
  out();
  if (endpoint) {
    out("Try:");
    out(`  curl -s -X POST ${pool.url}/api/v1/ask/${endpoint} \\`);
    out(`    -H 'X-API-Key: ${pool.apiKey}' -H 'Content-Type: application/json' \\`);
    out(`    -d '{"content": "Hello, my order has not arrived."}'`);
    out();
  }
  const adminFile = adminFilePath(opts.dataDir, stackFile.stack);
  writeAdminFile(adminFile, { url: pool.url, adminKey: pool.adminKey, pid: process.pid, stack: stackFile.stack, apiKey: pool.apiKey });
  const stackArg = stackFile.stack === "dev" ? "" : ` --stack ${stackFile.stack}`;
  out(`Scale: npx agentpool scale ${pool.agents()[0]?.deployment ?? "TEAM/AGENT-TYPE"} 5${stackArg}`);
  out(`Watch: npx agentpool status${stackArg}   ·   npx agentpool alerts${stackArg}   ·   npx agentpool ask ${endpoint ?? "ENDPOINT"} "Hello"${stackArg}`);
  out(`Dashboard: ${paint.bold(`${pool.url}/`)}   Metrics: ${pool.url}/metrics`);
  out();
  out(`Ready: ${pool.url}  (Ctrl-C to stop)`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    out(`\n${signal}: stopping agents (each finishes the answer in hand)…`);
    removeAdminFile(adminFile);
    await pool.stop();
    out("stopped.");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}
