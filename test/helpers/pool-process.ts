/**
 * Starts the local pool the way a user does (`agentpool start`, the entry of `npm start`) in a
 * child process, waits for its "Ready:" line, and talks to it over HTTP.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { freePort } from "../../runtime/local/emulators";

export const ROOT = join(__dirname, "..", "..");
export const CLI = join(ROOT, "runtime", "cli", "main.ts");

export interface PoolProcess {
  url: string;
  apiKey: string;
  child: ChildProcess;
  output: () => string;
  ask(endpoint: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>;
  /** Ctrl-C, and wait for the process to exit. */
  stop(): Promise<number | null>;
}

export interface StartArgs {
  config: string;
  apiKey: string;
  dataDir?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export function runCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs an `agentpool` command to its end, as a user at a shell would. */
export function runCliToExit(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runCli(args, env);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

export async function startPoolProcess(args: StartArgs): Promise<PoolProcess> {
  const port = await freePort();
  const child = runCli(
    ["start", "--config", args.config, "--port", String(port), ...(args.dataDir ? ["--data-dir", args.dataDir] : ["--ephemeral"])],
    { AGENTPOOL_API_KEY: args.apiKey, ...args.env },
  );
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pool not ready in time:\n${out}`)), args.timeoutMs ?? 45_000);
    child.stdout!.on("data", () => {
      const m = /Ready: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`pool exited (${code}) before ready:\n${out}`));
    });
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + path, {
      method,
      headers: { "x-api-key": args.apiKey, "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: the test will say so */
    }
    return { status: res.status, headers: res.headers, body: parsed as any };
  };

  return {
    url,
    apiKey: args.apiKey,
    child,
    output: () => out,
    ask: (endpoint, body, headers) => call("POST", `/api/v1/ask/${endpoint}`, body, headers),
    get: (path, headers) => call("GET", path, undefined, headers),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill("SIGINT");
      }),
  };
}

/** Pids of a pool process's agent workers (its children running the worker bundle). */
export function workerPids(pid: number): number[] {
  try {
    return execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter((line) => /agentpool\/worker-\d+\.js/.test(line))
      .map((line) => Number(line.trim().split(/\s+/)[0]))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
