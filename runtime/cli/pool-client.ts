/** How the CLI reaches a running local pool: its admin file (`<data-dir>/<stack>/admin.json`). */
import { adminFilePath, readAdminFile, type AdminFile } from "../local/admin-file";
import type { Command } from "commander";
import { fail } from "./output";

export interface PoolTarget {
  stack: string;
  dataDir: string;
}

/** `--stack` and `--data-dir`: which running local pool a command talks to (its PoolTarget). */
export function targetsRunningPool(command: Command): Command {
  return command
    .option("-s, --stack <name>", "stack of the running pool", "dev")
    .option("--data-dir <dir>", "the running pool's --data-dir", ".agentpool");
}

export function runningPool(opts: PoolTarget): AdminFile {
  try {
    return readAdminFile(adminFilePath(opts.dataDir, opts.stack));
  } catch (err) {
    return fail((err as Error).message);
  }
}

/** GET an admin view of the running pool. */
export async function adminGet<T>(opts: PoolTarget, path: string): Promise<T> {
  const admin = runningPool(opts);
  let res: Response;
  try {
    res = await fetch(`${admin.url}${path}`, { headers: { "x-admin-key": admin.adminKey } });
  } catch (err) {
    return fail(`the local pool at ${admin.url} does not answer (${(err as Error).message}); is it still running?`);
  }
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) fail(body.error ?? res.statusText);
  return body;
}
