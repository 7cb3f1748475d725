/**
 * Where the CPU of an ask goes, from the V8 CPU profiler of this very process (node:inspector,
 * Profiler.start/stop) during a throughput phase, where router, workers and both emulators share
 * the one JS thread.
 *
 * Method: each sample's time is the gap to the next sample; a sample belongs to the package or
 * directory of its leaf frame's URL (self time). Categories:
 *
 *   router        runtime/router/, runtime/core/, runtime/local/gateway.ts and the zod package:
 *                 the router's own work outside DynamoDB/SQS calls (issue 8: ≤ 0.5 ms per ask).
 *                 core/ and zod are shared with the worker (it parses each queued ask with zod),
 *                 so the figure is an upper bound; the part sampled with a runtime/agent/ frame
 *                 below it on the stack (the worker's synchronous calls) is shown apart.
 *   runtime/aws   the store and queue wrappers (router and worker) that build SDK commands
 *   worker        runtime/agent/, runtime/llm/, runtime/observe/, runtime/webhooks/
 *   AWS SDK       @aws-sdk/*, @smithy/* and their own dependencies
 *   dynalite      dynalite and its dependencies (level, memory-level, abstract-level, big.js, ...)
 *   local-aws-sqs local-aws-sqs and its dependencies
 *   node internals  URL node:* (http parser glue, streams, timers, ...) and native frames
 *   GC, program   V8's "(garbage collector)" and "(program)" (compilation and unattributed native)
 *   "(idle)" samples are not CPU and are left out.
 *
 * The "charged" column moves each node-internals sample to the nearest frame below it on the
 * stack that has a category (a socket write made by the SDK counts as SDK), so readers see who
 * asked for the internals' work; samples with no such frame (event-loop callbacks) stay put. The
 * profiler gives totals, so "per ask" is a mean over the asks of the phase; it stands for the p50
 * the goal names (the router's CPU per ask is nearly the same for every ask of a phase).
 */
import { Session } from "node:inspector/promises";
import type { Profiler } from "node:inspector";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { round } from "./lib";

export type Category =
  | "router"
  | "runtime/aws"
  | "worker"
  | "other runtime"
  | "AWS SDK"
  | "dynalite"
  | "local-aws-sqs"
  | "other packages"
  | "node internals"
  | "GC"
  | "program";

const ROOT = resolve(__dirname, "..");

/** The directories of a package and of every package it depends on, resolved the way Node does. */
export function packageClosure(roots: readonly string[]): string[] {
  const seen = new Set<string>();
  const stack = roots.map((name) => [name, ROOT] as const);
  while (stack.length) {
    const [name, from] = stack.pop()!;
    let found: string | undefined;
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules", name, "package.json");
      if (existsSync(candidate)) {
        found = dirname(candidate);
        break;
      }
      if (dirname(dir) === dir) break;
    }
    if (!found || seen.has(found)) continue;
    seen.add(found);
    const pkg = JSON.parse(readFileSync(join(found, "package.json"), "utf8")) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) stack.push([dep, found]);
  }
  return [...seen];
}

function classifier(): (url: string, functionName: string) => Category | undefined {
  const packages: [string, Category][] = [
    ...packageClosure(["dynalite"]).map((d) => [d, "dynalite"] as [string, Category]),
    ...packageClosure(["local-aws-sqs"]).map((d) => [d, "local-aws-sqs"] as [string, Category]),
    ...packageClosure(["@aws-sdk/client-dynamodb", "@aws-sdk/client-sqs", "@aws-sdk/lib-dynamodb", "@smithy/node-http-handler"]).map((d) => [d, "AWS SDK"] as [string, Category]),
    [join(ROOT, "node_modules", "zod"), "router"],
  ];
  // Longest directory first, so a nested node_modules belongs to its nearest package.
  packages.sort((a, b) => b[0].length - a[0].length);
  const cache = new Map<string, Category | undefined>();
  return (url, functionName) => {
    if (url === "") {
      if (functionName === "(garbage collector)") return "GC";
      if (functionName === "(program)") return "program";
      if (functionName === "(idle)" || functionName === "(root)") return undefined;
      return "node internals";
    }
    let c = cache.get(url);
    if (c !== undefined || cache.has(url)) return c;
    c = classifyUrl(url, packages);
    cache.set(url, c);
    return c;
  };
}

function classifyUrl(url: string, packages: readonly [string, Category][]): Category {
  if (url.startsWith("node:")) return "node internals";
  let path = url;
  try {
    if (url.startsWith("file:")) path = fileURLToPath(url);
  } catch {
    /* keep the URL */
  }
  const rel = path.startsWith(ROOT + "/") ? path.slice(ROOT.length + 1) : undefined;
  if (rel !== undefined && !rel.startsWith("node_modules/")) {
    if (rel.startsWith("runtime/router/") || rel.startsWith("runtime/core/") || rel === "runtime/local/gateway.ts") return "router";
    if (rel.startsWith("runtime/aws/")) return "runtime/aws";
    if (/^runtime\/(agent|llm|observe|webhooks)\//.test(rel)) return "worker";
    return "other runtime";
  }
  for (const [dir, category] of packages) if (path.startsWith(dir + "/")) return category;
  return "other packages";
}

export interface CpuAttribution {
  /** Sampled non-idle time on the JS thread, ms. */
  sampledMs: number;
  /** Leaf (self) time by category, ms. */
  self: Record<Category, number>;
  /** The same with node internals charged to the nearest categorized caller, ms. */
  charged: Record<Category, number>;
  /** Router self time sampled with a runtime/agent/ frame below it (the worker's own use of core/ and zod), ms. */
  routerUnderWorker: number;
}

export function attribute(profile: Profiler.Profile): CpuAttribution {
  const classify = classifier();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nodeInfo = new Map<number, { self: Category | undefined; charged: Category | undefined; underWorker: boolean }>();
  const info = (id: number) => {
    let got = nodeInfo.get(id);
    if (got) return got;
    const n = byId.get(id)!;
    const self = classify(n.callFrame.url, n.callFrame.functionName);
    let charged = self;
    let underWorker = false;
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const frame = byId.get(p)!.callFrame;
      const cat = classify(frame.url, frame.functionName);
      if (charged === "node internals" && cat !== undefined && cat !== "node internals" && cat !== "GC" && cat !== "program") charged = cat;
      if (cat === "worker" && /\/runtime\/agent\//.test(frame.url)) underWorker = true;
    }
    got = { self, charged, underWorker };
    nodeInfo.set(id, got);
    return got;
  };
  const empty = (): Record<Category, number> => ({
    router: 0, "runtime/aws": 0, worker: 0, "other runtime": 0, "AWS SDK": 0, dynalite: 0, "local-aws-sqs": 0, "other packages": 0, "node internals": 0, GC: 0, program: 0,
  });
  const self = empty();
  const charged = empty();
  let routerUnderWorker = 0;
  let sampledMs = 0;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let t = profile.startTime;
  const times = deltas.map((d) => (t += d));
  for (let i = 0; i < samples.length; i++) {
    const ms = ((i + 1 < times.length ? times[i + 1]! : profile.endTime) - times[i]!) / 1000;
    const n = info(samples[i]!);
    if (n.self === undefined || ms <= 0) continue;
    sampledMs += ms;
    self[n.self] += ms;
    charged[n.charged!] += ms;
    if (n.self === "router" && n.underWorker) routerUnderWorker += ms;
  }
  return { sampledMs, self, charged, routerUnderWorker };
}

/** Runs `fn` under the V8 CPU profiler of this process; returns its result and the profile. */
export async function profiled<T>(fn: () => Promise<T>, samplingIntervalUs = 500): Promise<{ result: T; profile: Profiler.Profile }> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
    await session.post("Profiler.start");
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      await session.post("Profiler.stop").catch(() => undefined);
      throw err;
    }
    const { profile } = await session.post("Profiler.stop");
    return { result, profile };
  } finally {
    await session.post("Profiler.disable").catch(() => undefined);
    session.disconnect();
  }
}

/** ms → ms per ask, and the category's share of sampled time. */
export function perAsk(attr: CpuAttribution, asks: number): { category: Category; self_ms_per_ask: number; self_share: number; charged_ms_per_ask: number; charged_share: number }[] {
  return (Object.keys(attr.self) as Category[]).map((category) => ({
    category,
    self_ms_per_ask: round(attr.self[category] / asks, 3),
    self_share: round(attr.self[category] / attr.sampledMs, 3),
    charged_ms_per_ask: round(attr.charged[category] / asks, 3),
    charged_share: round(attr.charged[category] / attr.sampledMs, 3),
  }));
}
