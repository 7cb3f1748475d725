/** Rate limits counted in reserved batches, against the DynamoDB emulator. */
import { RateLimitStore } from "../../runtime/aws/rate-limit-store";
import { RateAllowances } from "../../runtime/router/rate-allowance";
import { maxLeaseSize } from "../../runtime/core/rate-limit";
import { startEmulatedAws, type EmulatedAws } from "../helpers/emulated-aws";

let aws: EmulatedAws;
let store: RateLimitStore;
beforeAll(async () => {
  aws = await startEmulatedAws();
  store = new RateLimitStore(aws.clients, aws.tables.apiState);
});
afterAll(() => aws.close());

/** A fixed instant 1 s into a minute, moved by hand. */
let at = Date.UTC(2026, 10, 28, 12, 0, 1);
const updates = () => aws.clients.calls.byOperation.get("dynamodb:UpdateItemCommand") ?? 0;

test("a busy key admits exactly its limit with a fraction of the writes, and its counts stay exact", async () => {
  at += 60_000;
  const allowances = new RateAllowances(store);
  const scope = { kind: "key", keyHash: "busy" } as const;
  const before = updates();

  const results = [];
  for (let i = 0; i < 1_100; i++) results.push(await allowances.take(scope, 1_000, at + i)); // ~1 ask per ms

  const admitted = results.filter((r) => r.allowed);
  expect(admitted).toHaveLength(1_000);
  expect(admitted.map((r) => r.count)).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
  expect(results.slice(1_000).every((r) => !r.allowed && r.count === 1_000)).toBe(true);
  expect(updates() - before).toBeLessThan(100); // one per ask before batching
  expect((await store.peek(scope, 1_000, at)).count).toBe(1_000);
});

test("a quiet key is counted one ask at a time, so two routers share a small limit exactly", async () => {
  at += 60_000;
  const [r1, r2] = [new RateAllowances(store), new RateAllowances(store)];
  const scope = { kind: "key", keyHash: "quiet" } as const;

  const outcomes = [];
  for (let i = 0; i < 6; i++) outcomes.push((await (i % 2 ? r2 : r1).take(scope, 4, at + i * 2_000)).allowed);

  expect(outcomes).toEqual([true, true, true, true, false, false]);
});

test("routers racing for a window never admit more than its limit together, and strand at most their last batch", async () => {
  at += 60_000;
  const routers = Array.from({ length: 4 }, () => new RateAllowances(store));
  const scope = { kind: "agent", agentId: "t-a-1" } as const;
  const limit = 2_000;

  const results = await Promise.all(
    Array.from({ length: 2_400 }, (_, i) => routers[i % routers.length]!.take(scope, limit, at + Math.floor(i / 4))),
  );

  const admitted = results.filter((r) => r.allowed).length;
  expect(admitted).toBeLessThanOrEqual(limit);
  expect(admitted).toBeGreaterThanOrEqual(limit - routers.length * maxLeaseSize(limit));
  expect((await store.peek(scope, limit, at)).count).toBeLessThanOrEqual(limit);
});

test("the window after a full one is open again", async () => {
  at += 60_000;
  const allowances = new RateAllowances(store);
  const scope = { kind: "key", keyHash: "again" } as const;
  for (let i = 0; i < 3; i++) await allowances.take(scope, 3, at);
  expect((await allowances.take(scope, 3, at)).allowed).toBe(false);

  const next = await allowances.take(scope, 3, at + 60_000);

  expect([next.allowed, next.count]).toEqual([true, 1]);
});
