/**
 * Worker process entry: one replica.
 *   SIGTERM (ECS stopping the task, or the local supervisor scaling down): drain — finish the
 *           answers in hand, hand queued asks back to the pool, vacate the slot.
 *   SIGINT  (the local pool shutting down): finish the answers in hand and vacate.
 * It also exits when its parent goes away, so a killed local pool leaves no orphans.
 */
import { createAwsClients } from "../aws/clients";
import { buildWorker } from "./build";
import { workerConfigFromEnv } from "./config";
import { taskProtectionFromEnv } from "./task-protection";
import { WorkerMetrics } from "../observe/metrics";
import { createWebhookDelivery } from "../webhooks/worker-hook";

/** How often a worker with a parent (the local supervisor) sends it a metrics snapshot over IPC. */
const METRICS_EVERY_MS = 1_000;

async function main(): Promise<void> {
  const config = workerConfigFromEnv(process.env);
  const log = (entry: Record<string, unknown>) => process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...entry }) + "\n");
  const protection = taskProtectionFromEnv(process.env, log);
  const owner = process.env.ECS_CONTAINER_METADATA_URI_V4 ? `task:${process.env.ECS_CONTAINER_METADATA_URI_V4.split("/").pop()}` : `pid:${process.pid}`;
  const metrics = new WorkerMetrics(`${config.team}/${config.agentType.slug}`);
  const clients = createAwsClients(config.aws);
  // Async asks (webhook_url): delivered from here, once the answer is stored; retries run in the background.
  const webhooks = createWebhookDelivery({
    clients,
    tables: { apiKeys: config.tables.apiKeys, apiState: config.tables.apiState },
    allowInsecureLocal: config.allowInsecureWebhooks,
    log,
  });
  const worker = buildWorker(config, clients, {
    owner,
    log,
    afterAnswer: webhooks.afterAnswer,
    onBusyChange: protection && ((busy) => void protection.set(busy)),
    observer: metrics,
  });
  if (process.send) {
    const sendMetrics = () =>
      void metrics
        .snapshot()
        .then((snapshot) => process.connected && process.send?.({ type: "metrics", snapshot }))
        .catch(() => undefined);
    setInterval(sendMetrics, METRICS_EVERY_MS).unref();
  }

  let stopping: Promise<void> | undefined;
  const stop = (mode: "finish" | "drain", reason: string) => {
    stopping ??= (async () => {
      log({ level: "info", msg: "agent stopping", agentId: worker.agentId, reason, mode });
      await worker.stop(mode);
      await webhooks.idle();
      await protection?.set(false);
      process.exit(0);
    })();
  };
  process.on("SIGTERM", () => stop("drain", "SIGTERM"));
  process.on("SIGINT", () => stop("finish", "SIGINT"));
  process.on("disconnect", () => stop("finish", "parent exited"));

  await worker.start();
  process.send?.({ type: "ready", agentId: worker.agentId, owner });
}

main().catch((err) => {
  process.stderr.write(JSON.stringify({ level: "fatal", msg: "agent failed to start", error: (err as Error).message }) + "\n");
  process.exit(1);
});
