/**
 * The router Lambda's code: `runtime/router/lambda.ts` bundled by esbuild into one CommonJS file
 * (AWS SDK included, so the Lambda runs the SDK version the tests ran, not the runtime's).
 * Not closure serialization: the deployed code is the module the tests import.
 */
import * as path from "node:path";
import { buildSync } from "esbuild";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const ROUTER_ENTRY = "runtime/router/lambda.ts";
/** The Lambda handler setting for the bundle: `index.js`, export `handler`. */
export const ROUTER_HANDLER = "index.handler";
/** Node 20 syntax runs on every Lambda Node.js runtime from nodejs20.x on. */
export const BUNDLE_TARGET = "node20";

const cache = new Map<string, string>();

/**
 * Bundles an entry of this repository (relative to its root) into one CommonJS file. Paths in
 * the output are relative to the repository root, so the bundle (and the Lambda's code hash) is
 * the same whichever directory Pulumi runs the program from.
 */
export function bundle(entry: string): string {
  const hit = cache.get(entry);
  if (hit !== undefined) return hit;
  const result = buildSync({
    absWorkingDir: REPO_ROOT,
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: BUNDLE_TARGET,
    format: "cjs",
    write: false,
    minify: false,
    sourcemap: false,
    legalComments: "none",
    logLevel: "silent",
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for ${entry}`);
  cache.set(entry, file.text);
  return file.text;
}

export function bundleRouter(): string {
  return bundle(ROUTER_ENTRY);
}
