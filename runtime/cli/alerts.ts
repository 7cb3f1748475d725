/** `agentpool alerts`: alerts firing (and pending) on the running local pool. */
import { adminGet, type PoolTarget } from "./pool-client";
import { out } from "./output";
import { printAlerts, type StatusView } from "./status";

export async function alertsCommand(opts: PoolTarget & { json?: boolean }): Promise<void> {
  const alerts = await adminGet<StatusView["alerts"]>(opts, "/admin/v1/alerts");
  if (opts.json) return out(JSON.stringify(alerts));
  printAlerts(alerts);
}
