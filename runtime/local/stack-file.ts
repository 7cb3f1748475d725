/** Reads a Pulumi stack file (`stacks/Pulumi.<stack>.yaml`) and validates its `agentpool:` config. */
import { readFileSync, existsSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";
import { declarationFromConfig, parsePoolSpec, SpecError, type PoolSpec } from "../core/spec";

export interface StackFile {
  stack: string;
  path: string;
  spec: PoolSpec;
}

export function stackFilePath(stack: string, stacksDir = join(process.cwd(), "stacks")): string {
  return join(stacksDir, `Pulumi.${stack}.yaml`);
}

export function loadStackFile(path: string): StackFile {
  if (!existsSync(path)) throw new SpecError(path, ["file not found"]);
  const name = basename(path).match(/^Pulumi\.(.+)\.ya?ml$/)?.[1];
  if (!name) throw new SpecError(path, ["a stack file is named Pulumi.<stack>.yaml"]);
  // The stack name becomes part of table and queue names: SQS allows letters, digits, - and _.
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(name)) throw new SpecError(path, [`stack name "${name}": use letters, digits, - or _ (at most 40)`]);
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new SpecError(path, [`not valid YAML: ${(err as Error).message.split("\n")[0]}`]);
  }
  const config = (doc as { config?: unknown } | null)?.config;
  if (!config || typeof config !== "object") throw new SpecError(path, ["config: missing (the pool is declared under config: agentpool:...)"]);
  return { stack: name, path, spec: parsePoolSpec(declarationFromConfig(config as Record<string, unknown>), path) };
}
