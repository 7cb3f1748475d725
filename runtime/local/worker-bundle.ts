/**
 * The worker processes run one esbuild bundle of runtime/agent/main.ts (the same source the ECS
 * image runs), built once per pool start: a bundled worker is up in ~0.3 s, against ~0.8 s when
 * each process compiles TypeScript on the fly.
 *
 * Two options keep each worker process small (issue 8; measured with the lifecycle bench, idle RSS
 * 3 s after start):
 *   - mainFields module first: the AWS SDK packages' ES builds, which esbuild tree-shakes (their CJS
 *     builds define and run every command and schema of DynamoDB and SQS): 2.9 → 1.7 MB of code,
 *     about −6 MB RSS.
 *   - minifyWhitespace: esbuild keeps comments otherwise, and a single non-ASCII character in one
 *     makes V8 hold the whole source as a two-byte string (5.5 MB for 2.9 MB of code): −3.5 MB RSS.
 *     Identifiers are not minified and keepNames stays, so stack traces and `.name` read as before.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export const WORKER_SOURCE = join(__dirname, "..", "agent", "main.ts");

export function bundleWorker(outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `worker-${process.pid}.js`);
  const options = {
    entryPoints: [WORKER_SOURCE],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    mainFields: ["module", "main"],
    minifyWhitespace: true,
    keepNames: true,
    logLevel: "error",
  };
  // In a short-lived process: esbuild keeps a service process alive in whichever process calls it.
  execFileSync(process.execPath, ["-e", `require("esbuild").buildSync(${JSON.stringify(options)})`], { cwd: join(__dirname, "..", ".."), stdio: ["ignore", "ignore", "inherit"] });
  return outfile;
}
