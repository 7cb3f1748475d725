/** `agentpool scale TEAM/AGENT-TYPE N`: changes a running local pool's replica count. */
import { readAdminFile, adminFilePath } from "../local/admin-file";

export interface ScaleOptions {
  stack: string;
  dataDir: string;
  json?: boolean;
}

export async function scaleCommand(deployment: string, replicas: string, opts: ScaleOptions): Promise<void> {
  const count = Number(replicas);
  if (!/^[^/]+\/[^/]+$/.test(deployment) || !Number.isInteger(count) || count < 0) {
    process.stderr.write("agentpool: usage: agentpool scale TEAM/AGENT-TYPE REPLICAS (e.g. support-team/customer-support 5)\n");
    process.exit(2);
  }
  const admin = readAdminFile(adminFilePath(opts.dataDir, opts.stack));
  const res = await fetch(`${admin.url}/admin/v1/deployments/${deployment}/scale`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-admin-key": admin.adminKey },
    body: JSON.stringify({ replicas: count }),
  });
  const body = (await res.json()) as Record<string, any>;
  if (!res.ok) {
    process.stderr.write(`agentpool: ${body.error ?? res.statusText}\n`);
    process.exit(1);
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(body) + "\n");
    return;
  }
  process.stdout.write(`${body.deployment}: ${body.from} → ${body.to} replicas\n`);
  for (const id of body.started) process.stdout.write(`  started   ${id}\n`);
  for (const id of body.draining) process.stdout.write(`  draining  ${id} (finishes its answers, hands queued asks back, then stops)\n`);
}
