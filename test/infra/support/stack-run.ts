/**
 * Runs the real stack program (infra/index.ts) for a stack file under Pulumi's mocks, the way the
 * Pulumi runtime would: config from the stack file, secret keys marked secret, the exported
 * function called inside a Stack resource.
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";
import * as pulumi from "@pulumi/pulumi";
import { ResourceRecorder } from "./mocks";

export const REPO_ROOT = join(__dirname, "..", "..", "..");
export const STACKS_DIR = join(REPO_ROOT, "stacks");
export const PROJECT = "agentpool";
/** What tests set as every provider key: never expected in plain text anywhere. */
export const TEST_PROVIDER_KEY = "sk-test-ZZZ-never-in-plain-text";

export interface StackConfigInput {
  stack: string;
  config: Record<string, string>;
  secretKeys: string[];
}

/** Pulumi's view of a stack file: every value as text (structured values as JSON). */
export function readStackFile(path: string): StackConfigInput {
  const stack = basename(path).match(/^Pulumi\.(.+)\.ya?ml$/)![1]!;
  const doc = parse(readFileSync(path, "utf8")) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (value && typeof value === "object" && "secure" in value) {
      config[key] = "test-secret";
      secretKeys.push(key);
    } else {
      config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { stack, config, secretKeys };
}

/** Sets a key for every openai provider the stack declares, as `pulumi config set --secret --path` would. */
export function withProviderKeys(input: StackConfigInput): StackConfigInput {
  const providers = JSON.parse(input.config["agentpool:providers"] ?? "[]") as { name: string; kind: string }[];
  const keys = Object.fromEntries(providers.filter((p) => p.kind === "openai").map((p) => [p.name, TEST_PROVIDER_KEY]));
  return {
    ...input,
    config: { ...input.config, "agentpoolAws:providerKeys": JSON.stringify(keys) },
    secretKeys: [...new Set([...input.secretKeys, "agentpoolAws:providerKeys"])],
  };
}

export interface StackRun {
  recorder: ResourceRecorder;
  outputs: Record<string, any>;
}

export async function runStack(input: StackConfigInput): Promise<StackRun> {
  const recorder = new ResourceRecorder(input.config["aws:region"] ?? "us-east-1");
  await pulumi.runtime.setMocks(recorder.mocks(), PROJECT, input.stack, false);
  pulumi.runtime.setAllConfig(input.config, input.secretKeys);
  // infra/index.ts: `export = agentpoolStack` — required like the runtime requires it.
  const program = require(join(REPO_ROOT, "infra")) as () => unknown;
  // A program error is rethrown after the stack settles (inside the Stack it would surface as an
  // unhandled rejection, which the real runtime reports and jest treats as a crash).
  let failure: unknown;
  const outputs =
    (await pulumi.runtime.runInPulumiStack(async () => {
      try {
        return program();
      } catch (err) {
        failure = err;
        return {};
      }
    })) ?? {};
  await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
  if (failure) throw failure;
  return { recorder, outputs };
}
