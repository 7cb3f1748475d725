/**
 * Where a running local pool tells the `agentpool` CLI how to reach its admin routes:
 * `<data-dir>/<stack>/admin.json`, readable by the user only, removed when the pool stops.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export interface AdminFile {
  url: string;
  adminKey: string;
  pid: number;
  stack: string;
  /** The dev API key, so `agentpool ask` works without AGENTPOOL_API_KEY (this file is 0600). */
  apiKey?: string;
}

export const adminFilePath = (dataDir: string, stack: string) => join(resolve(dataDir), stack, "admin.json");

export function writeAdminFile(path: string, contents: AdminFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(contents), { mode: 0o600 });
}

export function readAdminFile(path: string): AdminFile {
  if (!existsSync(path)) throw new Error(`no running local pool found (${path} is missing): start one with npm start`);
  return JSON.parse(readFileSync(path, "utf8")) as AdminFile;
}

export function removeAdminFile(path: string): void {
  rmSync(path, { force: true });
}
