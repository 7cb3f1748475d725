/**
 * The cost model (runtime/core/cost.ts): per-ask items scale with asks, per-replica items with
 * replicas, the price file is dated and sourced, and the default task size is infra's.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { alarmMetrics, defaultWorkerSize, estimateCost, parsePriceFile, PRICE_KEYS, type CostInput, type CostEstimate } from "../../runtime/core/cost";
import { defaultTaskSize } from "../../infra/lib/sizing";

const PRICES = parsePriceFile(JSON.parse(readFileSync(join(__dirname, "..", "..", "data", "aws-prices.json"), "utf8")));

function input(overrides: Partial<CostInput> = {}): CostInput {
  return {
    asksPerMonth: 1_000_000,
    answerTimeS: 5,
    deployments: [{ key: "support-team/customer-support", replicas: 3, cpu: 256, memoryMiB: 512 }],
    routerMemoryMb: 512,
    publicIp: true,
    prices: PRICES,
    ...overrides,
  };
}

const line = (e: CostEstimate, service: string, what: RegExp) => {
  const found = e.items.find((i) => i.service === service && what.test(i.what));
  if (!found) throw new Error(`no ${service} line matching ${what} in ${e.items.map((i) => `${i.service}: ${i.what}`).join(", ")}`);
  return found.monthlyUsd;
};

const PER_ASK: [string, RegExp][] = [
  ["API Gateway", /HTTP API requests/],
  ["Lambda", /invocations/],
  ["Lambda", /GB-s/],
  ["SQS", /per ask/],
  ["DynamoDB", /writes per ask/],
  ["DynamoDB", /reads per ask/],
];
const PER_REPLICA: [string, RegExp][] = [
  ["Fargate", /vCPU-hours/],
  ["Fargate", /GB-hours/],
  ["VPC", /public IPv4/],
  ["DynamoDB", /heartbeats/],
];

describe("cost model", () => {
  test("per-ask line items double when the asks double; per-replica ones do not move", () => {
    const one = estimateCost(input());
    const two = estimateCost(input({ asksPerMonth: 2_000_000 }));
    for (const [service, what] of PER_ASK) expect(line(two, service, what)).toBeCloseTo(2 * line(one, service, what), 9);
    for (const [service, what] of PER_REPLICA) expect(line(two, service, what)).toBeCloseTo(line(one, service, what), 9);
  });

  test("per-replica line items double when the replicas double; per-ask ones do not move", () => {
    const one = estimateCost(input());
    const two = estimateCost(input({ deployments: [{ key: "a/b", replicas: 6, cpu: 256, memoryMiB: 512 }] }));
    for (const [service, what] of PER_REPLICA) expect(line(two, service, what)).toBeCloseTo(2 * line(one, service, what), 9);
    for (const [service, what] of PER_ASK) expect(line(two, service, what)).toBeCloseTo(line(one, service, what), 9);
  });

  test("Fargate for 3 default tasks all month: 0.25 vCPU and 0.5 GB each for 730 h at the ARM prices", () => {
    const e = estimateCost(input());
    expect(line(e, "Fargate", /vCPU-hours/)).toBeCloseTo(3 * 0.25 * 730 * PRICES.items.fargateArmVcpuHour.usd, 9);
    expect(line(e, "Fargate", /GB-hours/)).toBeCloseTo(3 * 0.5 * 730 * PRICES.items.fargateArmGbHour.usd, 9);
  });

  test("the router Lambda is billed for the time it waits for the answer", () => {
    const fast = estimateCost(input({ answerTimeS: 1 }));
    const slow = estimateCost(input({ answerTimeS: 10 }));
    expect(line(slow, "Lambda", /GB-s/) / line(fast, "Lambda", /GB-s/)).toBeCloseTo(10.05 / 1.05, 9);
  });

  test("idle replicas long-poll: fewer idle polls when the asks keep replicas busy", () => {
    const idle = estimateCost(input({ asksPerMonth: 0 }));
    const busy = estimateCost(input({ asksPerMonth: 1_000_000 }));
    expect(idle.items.find((i) => /idle long polls/.test(i.what))!.quantity).toBeCloseTo((3 * 730 * 3600) / 20, 6);
    expect(line(busy, "SQS", /idle long polls/)).toBeLessThan(line(idle, "SQS", /idle long polls/));
  });

  test("no public IPv4 line when the stack's own subnets give tasks none", () => {
    expect(estimateCost(input({ publicIp: false })).items.some((i) => i.service === "VPC")).toBe(false);
  });

  test("alarms: 4 metrics for the API and router, 2 per deployment, 2 per replica", () => {
    expect(alarmMetrics([{ replicas: 3 }])).toBe(4 + 2 + 6);
    expect(alarmMetrics([{ replicas: 8 }, { replicas: 4 }, { replicas: 3 }])).toBe(4 + 6 + 30);
  });

  test("the total is the sum of the line items", () => {
    const e = estimateCost(input());
    expect(e.totalUsd).toBeCloseTo(e.items.reduce((s, i) => s + i.monthlyUsd, 0), 9);
    expect(e.perThousandAsksUsd).toBeCloseTo((e.totalUsd / 1_000_000) * 1000, 9);
  });

  test("refuses a negative ask count and a zero answer time", () => {
    expect(() => estimateCost(input({ asksPerMonth: -1 }))).toThrow(/asks per month/);
    expect(() => estimateCost(input({ answerTimeS: 0 }))).toThrow(/answer time/);
  });
});

describe("price file", () => {
  test("is dated, says it was not fetched, names its region and a source URL for every item", () => {
    expect(PRICES.region).toBe("us-east-1");
    expect(PRICES.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(PRICES.fetched).toBe(false);
    expect(PRICES.note).toMatch(/not fetched live/i);
    for (const k of PRICE_KEYS) expect(PRICES.items[k].source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });

  test("a file missing an item is refused with the item named", () => {
    const broken = JSON.parse(JSON.stringify(PRICES));
    delete broken.items.fargateArmGbHour;
    expect(() => parsePriceFile(broken, "prices.json")).toThrow(/prices\.json: items\.fargateArmGbHour/);
  });
});

test("the default worker size is the one infra gives the task definition", () => {
  for (const c of [1, 2, 3, 8, 9, 16]) {
    const infra = defaultTaskSize(c);
    expect(defaultWorkerSize(c)).toEqual({ cpu: infra.cpu, memoryMiB: infra.memory });
  }
});
