/** Small measurement helpers shared by the benchmarks. */
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from "node:http";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

/** Runs `task` `total` times with at most `concurrency` at once; returns each duration (ms) and the wall time. */
export async function runConcurrent(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<{ durations: number[]; wallMs: number }> {
  const durations: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await task(i);
        durations.push(performance.now() - t);
      }
    }),
  );
  return { durations, wallMs: performance.now() - started };
}

export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs `task` back to back from `concurrency` callers until `durationMs` has passed (closed loop). */
export async function runFor(durationMs: number, concurrency: number, task: (i: number) => Promise<void>): Promise<{ durations: number[]; wallMs: number; done: number }> {
  const durations: number[] = [];
  let next = 0;
  const started = performance.now();
  const until = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const i = next++;
        const t = performance.now();
        await task(i);
        durations.push(performance.now() - t);
      }
    }),
  );
  return { durations, wallMs: performance.now() - started, done: durations.length };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function argValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export interface HttpResult {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** One JSON POST over a keep-alive agent; resolves with whatever status came back. */
export function postJson(agent: Agent, port: number, path: string, body: object, headers: Record<string, string> = {}): Promise<HttpResult> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data), ...headers } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

/** One line of a bench table: a figure, what it stands beside, and the goal it is held to (if any). */
export interface Row {
  label: string;
  value: string;
  /** The ratio or baseline the figure is read against. */
  vs?: string;
  goal?: { text: string; met: boolean };
}

export const mark = (met: boolean): string => (met ? "met" : "NOT met");

export function formatTable(rows: readonly (Row | string)[]): string {
  const lines: string[] = [];
  for (const r of rows) {
    if (typeof r === "string") {
      lines.push(r);
      continue;
    }
    const goal = r.goal ? `   [goal ${r.goal.text}: ${mark(r.goal.met)}]` : "";
    lines.push(`${r.label.padEnd(58)} ${r.value.padStart(22)}   ${r.vs ?? ""}${goal}`.trimEnd());
  }
  return lines.join("\n");
}

/** A ratio that reads well in a table: 2 significant decimals, "—" when undefined. */
export const ratio = (a: number, b: number): number => (b > 0 && Number.isFinite(a) ? round(a / b) : NaN);
