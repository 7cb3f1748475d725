/**
 * The DynamoDB emulator's own ceiling: bare GetItem calls (one small item, through a
 * `createAwsClients` document client, the way the router reads) back to back from `concurrency`
 * callers for `durationMs`, in this process. Every ask makes several DynamoDB calls, most of them
 * costlier than a GetItem (conditional updates, queries), so ceiling ÷ DynamoDB calls per ask is an
 * upper bound on the asks per second this machine can serve with dynalite in the process.
 */
import type { Emulators } from "../runtime/local/emulators";
import { createAwsClients, destroyAwsClients } from "../runtime/aws/clients";
import { ensureTables } from "../runtime/aws/tables";
import { ApiKeyStore } from "../runtime/aws/api-key-store";
import { tableNames } from "../runtime/core/naming";
import { runConcurrent, runFor, summarize, type Summary } from "./lib";

export interface CeilingReport {
  concurrency: number;
  ops_per_s: number;
  latency_ms: Summary;
}

export async function runDynamoCeiling(emulators: Emulators, opts: { concurrency: number; durationMs: number }): Promise<CeilingReport> {
  const clients = createAwsClients({ dynamodbEndpoint: emulators.dynamodbEndpoint, sqsEndpoint: emulators.sqsEndpoint });
  try {
    const tables = tableNames("bench-ceiling");
    await ensureTables(clients, tables);
    const store = new ApiKeyStore(clients, tables.apiKeys);
    const keyHash = "0".repeat(64);
    await store.put({ keyHash, prefix: "ceiling", name: "ceiling", owner: "bench", createdAt: Date.now(), rateLimitPerMinute: 1_000 });
    const get = async () => {
      if (!(await store.get(keyHash))) throw new Error("ceiling: item missing");
    };
    await runConcurrent(200, opts.concurrency, get); // warm-up
    const run = await runFor(opts.durationMs, opts.concurrency, get);
    return { concurrency: opts.concurrency, ops_per_s: run.done / (run.wallMs / 1000), latency_ms: summarize(run.durations) };
  } finally {
    destroyAwsClients(clients);
  }
}
