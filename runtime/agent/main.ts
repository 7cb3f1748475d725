/**
 * Worker process entry: one replica. Stops gracefully on SIGTERM/SIGINT (finishes the answer in
 * hand), and exits when its parent goes away, so a killed local pool leaves no orphans.
 */
import { createAwsClients } from "../aws/clients";
import { ThreadStore } from "../aws/thread-store";
import { ReplicaRegistry } from "../aws/replica-registry";
import { ReplicaQueue } from "../aws/queues";
import { createProvider } from "../llm";
import { AgentWorker } from "./worker";
import { workerConfigFromEnv } from "./config";

async function main(): Promise<void> {
  const config = workerConfigFromEnv(process.env);
  const clients = createAwsClients(config.aws);
  const log = (entry: Record<string, unknown>) => process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...entry }) + "\n");
  // Slot leases (several slots, claim a free one) come with the replica lifecycle work; until then
  // a worker owns the first slot it is given.
  const slot = config.slots[0]!;
  const worker = new AgentWorker({
    agentId: slot.agentId,
    endpoint: config.endpoint,
    agentType: config.agentType,
    queue: new ReplicaQueue(clients, slot.queueUrl),
    threads: new ThreadStore(clients, config.tables.threads),
    registry: new ReplicaRegistry(clients, config.tables.replicas),
    provider: createProvider(config.provider, process.env),
    now: Date.now,
    maxConcurrency: config.maxConcurrency,
    waitSeconds: config.waitSeconds,
    heartbeatMs: config.heartbeatMs,
    log,
  });

  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      log({ level: "info", msg: "agent stopping", agentId: slot.agentId, reason });
      await worker.stop();
      process.exit(0);
    })();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("disconnect", () => stop("parent exited"));

  await worker.start();
  process.send?.({ type: "ready", agentId: slot.agentId });
}

main().catch((err) => {
  process.stderr.write(JSON.stringify({ level: "fatal", msg: "agent failed to start", error: (err as Error).message }) + "\n");
  process.exit(1);
});
