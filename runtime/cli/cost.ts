/**
 * `agentpool cost --stack NAME --asks-per-month N --answer-time 5s [--json]`: the monthly AWS cost
 * of a stack's graph, excluding the LLM (runtime/core/cost.ts), priced from data/aws-prices.json
 * (dated, a source URL per item, not fetched live).
 *
 * Reads the stack file for the deployments and their replicas, and the AWS-only settings that
 * change the bill (`agentpoolAws:worker` cpu/memory, `routerMemoryMb`, `network.assignPublicIp`).
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { CapacityInputError, parseDuration } from "../core/capacity";
import { defaultWorkerSize, estimateCost, HOURS_PER_MONTH, parsePriceFile, type CostedDeployment } from "../core/cost";
import { deploymentKey } from "../core/naming";
import { loadStackFile, stackFilePath } from "../local/stack-file";
import { fail, out, paint } from "./output";

export interface CostOptions {
  stack?: string;
  config?: string;
  asksPerMonth?: string;
  answerTime: string;
  prices: string;
  json?: boolean;
}

export const DEFAULT_PRICE_FILE = join(__dirname, "..", "..", "data", "aws-prices.json");

export async function costCommand(opts: CostOptions): Promise<void> {
  if (opts.stack === undefined && opts.config === undefined) return fail("give --stack NAME (stacks/Pulumi.NAME.yaml) or --config PATH", 2);
  if (opts.asksPerMonth === undefined) return fail("give --asks-per-month N (e.g. 1000000 or 1.5M)", 2);
  let asksPerMonth: number;
  let answerTimeS: number;
  try {
    asksPerMonth = parseCount(opts.asksPerMonth, "--asks-per-month");
    answerTimeS = parseDuration(opts.answerTime, "--answer-time");
    if (!(answerTimeS > 0)) throw new CapacityInputError(`--answer-time "${opts.answerTime}" must be above 0`);
  } catch (err) {
    return fail((err as Error).message, 2);
  }

  const path = opts.config ?? stackFilePath(opts.stack!);
  let stack;
  let aws;
  try {
    stack = loadStackFile(path);
    aws = awsSettings(path);
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  let prices;
  try {
    prices = parsePriceFile(JSON.parse(readFileSync(opts.prices, "utf8")), opts.prices);
  } catch (err) {
    return fail(`price file ${opts.prices}: ${(err as Error).message}`, 1);
  }

  const deployments: CostedDeployment[] = stack.spec.teams.flatMap((team) =>
    team.deployments.map((d) => {
      const size = aws.worker ?? defaultWorkerSize(d.maxConcurrency);
      return { key: deploymentKey(team.slug, d.agentType), replicas: d.desiredReplicas, cpu: size.cpu, memoryMiB: size.memoryMiB };
    }),
  );
  const estimate = estimateCost({ asksPerMonth, answerTimeS, deployments, routerMemoryMb: aws.routerMemoryMb, publicIp: aws.publicIp, prices });

  if (opts.json) return out(JSON.stringify({ stack: stack.stack, deployments, ...estimate, prices_note: prices.note }));

  out(paint.bold(`stack ${stack.stack}: ${fmtCount(asksPerMonth)} asks/month at ${answerTimeS} s answers, ${estimate.replicas} replicas running ${HOURS_PER_MONTH} h`));
  for (const d of deployments) out(paint.dim(`  ${d.key}: ${d.replicas} × ${d.cpu / 1024} vCPU / ${d.memoryMiB} MiB (ARM64 Fargate)`));
  const rows = estimate.items.map((i) => [i.service, i.what, fmtCount(i.quantity), `$${fmtPrice(i.usd)}${i.per === 1 ? "" : ` / ${fmtCount(i.per)}`}`, usd(i.monthlyUsd)]);
  const head = ["service", "line item", "quantity", "list price", "per month"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => "  " + cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  out(line(head));
  for (const r of rows) out(line(r));
  out(line(["total", "", "", "", usd(estimate.totalUsd)]).replace(/^ {2}total/, `  ${paint.bold("total")}`));
  out(`  ${usd(estimate.perThousandAsksUsd)} per 1,000 asks (AWS only, excluding the LLM)`);
  out();
  out(paint.yellow(`Prices: ${prices.region} list prices as of ${prices.asOf}, ${prices.fetched ? "fetched" : "NOT fetched live: check them"} (${opts.prices}; each item names its source URL, see --json).`));
  out(paint.dim("Not counted: the LLM, free tiers, DynamoDB storage and items over 1 KB (write) / 4 KB (read), CloudWatch Logs, Container Insights, ECR, Secrets Manager, data transfer."));
}

interface AwsSettings {
  worker?: { cpu: number; memoryMiB: number };
  routerMemoryMb: number;
  publicIp: boolean;
}

/** The few `agentpoolAws:*` settings that change the bill (infra/config.ts validates them all at `pulumi up`). */
export function awsSettings(path: string): AwsSettings {
  const config = ((parse(readFileSync(path, "utf8")) as { config?: Record<string, unknown> } | null)?.config ?? {}) as Record<string, unknown>;
  const worker = config["agentpoolAws:worker"] as { cpu?: unknown; memory?: unknown } | undefined;
  const network = config["agentpoolAws:network"] as { assignPublicIp?: unknown } | undefined;
  const routerMemoryMb = config["agentpoolAws:routerMemoryMb"];
  return {
    worker: worker && typeof worker.cpu === "number" && typeof worker.memory === "number" ? { cpu: worker.cpu, memoryMiB: worker.memory } : undefined,
    routerMemoryMb: typeof routerMemoryMb === "number" ? routerMemoryMb : 512,
    // Without `network`, the stack creates a VPC with public subnets and gives each task a public IP.
    publicIp: network === undefined ? true : network.assignPublicIp === true,
  };
}

/** `1000000`, `1,000,000`, `250k`, `1.5M`. */
export function parseCount(text: string, what: string): number {
  const m = /^\s*(\d[\d,_]*(?:\.\d+)?)\s*([kmb]?)\s*$/i.exec(text);
  const v = m ? Number(m[1]!.replace(/[,_]/g, "")) * ({ "": 1, k: 1e3, m: 1e6, b: 1e9 } as Record<string, number>)[m[2]!.toLowerCase()]! : NaN;
  if (!Number.isFinite(v) || v < 0) throw new CapacityInputError(`${what} "${text}": write a number of asks, e.g. 1000000, 250k or 1.5M`);
  return Math.round(v);
}

const usd = (v: number) => `$${v < 10 ? v.toFixed(2) : v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const fmtCount = (v: number) => (v >= 100 ? Math.round(v).toLocaleString("en-US") : String(Math.round(v * 100) / 100));
const fmtPrice = (v: number) => (v >= 0.01 ? String(v) : v.toPrecision(6).replace(/0+$/, ""));

export function register(program: Command): void {
  program
    .command("cost")
    .description("monthly AWS cost of a stack's graph for a load, per line item (excluding the LLM)")
    .option("-s, --stack <name>", "stack whose stacks/Pulumi.<name>.yaml declares the pool")
    .option("-c, --config <path>", "a stack file elsewhere (Pulumi.<name>.yaml)")
    .option("-n, --asks-per-month <count>", "asks a month, e.g. 1000000, 250k or 1.5M")
    .option("-a, --answer-time <duration>", "mean answer time (the router Lambda waits that long per ask)", "5s")
    .option("--prices <path>", "price file (dated, with a source per item)", DEFAULT_PRICE_FILE)
    .option("--json", "print the estimate as JSON")
    .action(costCommand);
}
