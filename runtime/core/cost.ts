/**
 * The monthly AWS cost of a stack's graph, excluding the LLM: `agentpool cost` (issue 8), pure.
 *
 * Per ask (one HTTP request → one router Lambda invocation that waits for the answer):
 *
 *   API Gateway   1 HTTP API request
 *   Lambda        1 invocation, billed for answer time + the router's own overhead at its memory
 *   SQS           ~1 SendMessage + ~3 ReceiveMessage + 1 DeleteMessage (bench/ask.ts counts these)
 *   DynamoDB      ~9 router calls (key, replicas, thread, reply polls: reads; rate-limit counters,
 *                 depth acquire/release: writes) + ~6 worker calls (history: read; turns, thread,
 *                 reply: writes), each assumed one request unit (small items)
 *
 * Per replica, all month, whether asked or not:
 *
 *   Fargate       one task of the deployment's cpu/memory (infra/lib/sizing.ts: 256 units / 512 MiB
 *                 for maxConcurrency ≤ 2), ARM64 like the task definition
 *   public IPv4   one address per task in the default public subnets
 *   SQS           idle long polls: 1 ReceiveMessage per 20 s while the replica has nothing to answer
 *   DynamoDB      a heartbeat write every 5 s (the worker's default)
 *   CloudWatch    2 alarms per replica (queue depth, dead letters), 1 per deployment (agents
 *                 offline: 2 metrics), 3 per stack (API error rate: 2 metrics, p95 latency, router
 *                 errors): infra/components/monitoring.ts
 *
 * Left out: the LLM, free tiers, DynamoDB storage and larger items (an answer over 1 KB costs a
 * write unit per KB; a long history a read unit per 4 KB), CloudWatch Logs ingestion, Container
 * Insights metrics, ECR storage, Secrets Manager, data transfer, NAT (the default VPC has none).
 */
import { z } from "zod";

export const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

/** Usage per ask and per replica; the defaults are the figures above, overridable for what-ifs. */
export interface UsageAssumptions {
  sqsRequestsPerAsk: number;
  dynamoReadsPerAsk: number;
  dynamoWritesPerAsk: number;
  /** Router time on top of the answer (auth, routing, the first reply poll), seconds. */
  routerOverheadS: number;
  longPollSeconds: number;
  heartbeatSeconds: number;
}

export const DEFAULT_USAGE: UsageAssumptions = {
  sqsRequestsPerAsk: 5, // 1 send + ~3 receives + 1 delete
  dynamoReadsPerAsk: 6, // router: key, replicas, thread, ~2 reply polls (5); worker: history (1)
  dynamoWritesPerAsk: 9, // router: 2 rate-limit counters, depth acquire, release (4); worker: 2 turns, thread, reply, … (5)
  routerOverheadS: 0.05,
  longPollSeconds: 20,
  heartbeatSeconds: 5,
};

const priceItem = z.strictObject({ usd: z.number().nonnegative(), per: z.number().positive(), unit: z.string().min(1), source: z.url() });
export const PRICE_KEYS = [
  "apiGatewayHttpRequests",
  "lambdaRequests",
  "lambdaArmGbSecond",
  "sqsStandardRequests",
  "dynamodbOnDemandWrite",
  "dynamodbOnDemandRead",
  "fargateArmVcpuHour",
  "fargateArmGbHour",
  "publicIpv4Hour",
  "cloudwatchAlarmMetric",
] as const;
export type PriceKey = (typeof PRICE_KEYS)[number];

export const priceFileSchema = z.strictObject({
  region: z.string().min(1),
  currency: z.literal("USD"),
  asOf: z.iso.date(),
  fetched: z.boolean(),
  note: z.string(),
  items: z.strictObject(Object.fromEntries(PRICE_KEYS.map((k) => [k, priceItem])) as Record<PriceKey, typeof priceItem>),
});
export type PriceFile = z.infer<typeof priceFileSchema>;

export function parsePriceFile(raw: unknown, source = "price file"): PriceFile {
  const parsed = priceFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${source}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

export interface CostedDeployment {
  key: string;
  replicas: number;
  /** Fargate CPU units (1024 = 1 vCPU) and memory (MiB) of one task. */
  cpu: number;
  memoryMiB: number;
}

export interface CostInput {
  asksPerMonth: number;
  answerTimeS: number;
  deployments: readonly CostedDeployment[];
  routerMemoryMb: number;
  /** Worker tasks get a public IPv4 address (the default VPC's public subnets). */
  publicIp: boolean;
  prices: PriceFile;
  usage?: Partial<UsageAssumptions>;
}

export interface LineItem {
  service: string;
  what: string;
  quantity: number;
  unit: string;
  /** Price per `per` units. */
  usd: number;
  per: number;
  monthlyUsd: number;
  source: string;
}

export interface CostEstimate {
  region: string;
  pricesAsOf: string;
  pricesFetched: boolean;
  asksPerMonth: number;
  answerTimeS: number;
  replicas: number;
  items: LineItem[];
  totalUsd: number;
  perThousandAsksUsd: number;
  usage: UsageAssumptions;
}

/** Task size when the stack sets none: the same rule as infra/lib/sizing.ts `defaultTaskSize` (a unit test keeps them equal). */
export function defaultWorkerSize(maxConcurrency: number): { cpu: number; memoryMiB: number } {
  if (maxConcurrency <= 2) return { cpu: 256, memoryMiB: 512 };
  if (maxConcurrency <= 8) return { cpu: 512, memoryMiB: 1024 };
  return { cpu: 1024, memoryMiB: 2048 };
}

/** CloudWatch alarm metrics of a stack (infra/components/monitoring.ts). */
export function alarmMetrics(deployments: readonly Pick<CostedDeployment, "replicas">[]): number {
  const perStack = 2 /* error rate: 5xx and Count */ + 1 /* p95 latency */ + 1; /* router errors */
  return perStack + deployments.reduce((n, d) => n + 2 /* offline: desired, running */ + 2 * d.replicas, 0);
}

export function estimateCost(input: CostInput): CostEstimate {
  const { asksPerMonth, answerTimeS, deployments, routerMemoryMb, prices } = input;
  if (!(asksPerMonth >= 0) || !Number.isFinite(asksPerMonth)) throw new Error(`asks per month must be a number ≥ 0 (got ${asksPerMonth})`);
  if (!(answerTimeS > 0) || !Number.isFinite(answerTimeS)) throw new Error(`answer time must be above 0 s (got ${answerTimeS})`);
  const usage = { ...DEFAULT_USAGE, ...input.usage };
  const replicas = deployments.reduce((n, d) => n + d.replicas, 0);
  const p = prices.items;
  const item = (service: string, what: string, quantity: number, key: PriceKey): LineItem => ({
    service,
    what,
    quantity,
    unit: p[key].unit,
    usd: p[key].usd,
    per: p[key].per,
    monthlyUsd: (quantity * p[key].usd) / p[key].per,
    source: p[key].source,
  });

  const lambdaGbS = asksPerMonth * (answerTimeS + usage.routerOverheadS) * (routerMemoryMb / 1024);
  const busyReplicaS = asksPerMonth * answerTimeS;
  const idleReplicaS = Math.max(0, replicas * SECONDS_PER_MONTH - busyReplicaS);
  const taskHours = (d: CostedDeployment) => d.replicas * HOURS_PER_MONTH;
  const vcpuHours = deployments.reduce((n, d) => n + taskHours(d) * (d.cpu / 1024), 0);
  const gbHours = deployments.reduce((n, d) => n + taskHours(d) * (d.memoryMiB / 1024), 0);

  const items: LineItem[] = [
    item("API Gateway", "HTTP API requests (1 per ask)", asksPerMonth, "apiGatewayHttpRequests"),
    item("Lambda", "router invocations (1 per ask)", asksPerMonth, "lambdaRequests"),
    item("Lambda", `router GB-s (${routerMemoryMb} MB × (answer + ${usage.routerOverheadS} s) per ask)`, lambdaGbS, "lambdaArmGbSecond"),
    item("SQS", `requests per ask (${usage.sqsRequestsPerAsk}: send, receives, delete)`, asksPerMonth * usage.sqsRequestsPerAsk, "sqsStandardRequests"),
    item("SQS", `idle long polls (1 per ${usage.longPollSeconds} s per idle replica)`, idleReplicaS / usage.longPollSeconds, "sqsStandardRequests"),
    item("DynamoDB", `writes per ask (${usage.dynamoWritesPerAsk})`, asksPerMonth * usage.dynamoWritesPerAsk, "dynamodbOnDemandWrite"),
    item("DynamoDB", `reads per ask (${usage.dynamoReadsPerAsk})`, asksPerMonth * usage.dynamoReadsPerAsk, "dynamodbOnDemandRead"),
    item("DynamoDB", `heartbeats (1 write per ${usage.heartbeatSeconds} s per replica)`, (replicas * SECONDS_PER_MONTH) / usage.heartbeatSeconds, "dynamodbOnDemandWrite"),
    item("Fargate", `vCPU-hours (${replicas} tasks × ${HOURS_PER_MONTH} h)`, vcpuHours, "fargateArmVcpuHour"),
    item("Fargate", `GB-hours (${replicas} tasks × ${HOURS_PER_MONTH} h)`, gbHours, "fargateArmGbHour"),
    ...(input.publicIp ? [item("VPC", `public IPv4 (1 per task × ${HOURS_PER_MONTH} h)`, replicas * HOURS_PER_MONTH, "publicIpv4Hour")] : []),
    item("CloudWatch", "alarm metrics (4 for the API and router, 2 per deployment, 2 per replica)", alarmMetrics(deployments), "cloudwatchAlarmMetric"),
  ];
  const totalUsd = items.reduce((s, i) => s + i.monthlyUsd, 0);
  return {
    region: prices.region,
    pricesAsOf: prices.asOf,
    pricesFetched: prices.fetched,
    asksPerMonth,
    answerTimeS,
    replicas,
    items,
    totalUsd,
    perThousandAsksUsd: asksPerMonth > 0 ? (totalUsd / asksPerMonth) * 1000 : 0,
    usage,
  };
}
