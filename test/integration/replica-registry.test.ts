/** The replica registry's depth counters against the DynamoDB emulator. */
import { ReplicaRegistry, type ReplicaRow } from "../../runtime/aws/replica-registry";
import { startEmulatedAws, type EmulatedAws } from "../helpers/emulated-aws";

let aws: EmulatedAws;
let registry: ReplicaRegistry;
beforeAll(async () => {
  aws = await startEmulatedAws();
  registry = new ReplicaRegistry(aws.clients, aws.tables.replicas);
});
afterAll(() => aws.close());

const row = (agentId: string, over: Partial<ReplicaRow> = {}): ReplicaRow => ({
  endpoint: "ep",
  agentId,
  deployment: "t/a",
  team: "t",
  agentType: "a",
  slot: 1,
  state: "running",
  depth: 0,
  heartbeatAt: 1,
  queueUrl: "http://q",
  availableDepth: 3,
  overflowDepth: 10,
  ...over,
});
const depthOf = async (agentId: string) => (await registry.listEndpoint("ep")).find((r) => r.agentId === agentId)!.depth;

test("50 concurrent acquires against a limit of 10 let exactly 10 in, and releasing them returns depth to 0", async () => {
  await registry.put(row("t-a-1"));

  const results = await Promise.all(Array.from({ length: 50 }, () => registry.tryAcquire("ep", "t-a-1", 10)));

  expect(results.filter((r) => r === true)).toHaveLength(10);
  expect(await depthOf("t-a-1")).toBe(10);
  await Promise.all(Array.from({ length: 10 }, () => registry.release("ep", "t-a-1")));
  expect(await depthOf("t-a-1")).toBe(0);
});

test("release never takes depth below 0", async () => {
  await registry.put(row("t-a-2"));
  await registry.release("ep", "t-a-2");
  await registry.release("ep", "t-a-2");

  expect(await depthOf("t-a-2")).toBe(0);
});

test("a draining, stopped or unknown replica takes no new ask", async () => {
  await registry.put(row("t-a-3", { state: "draining" }));
  await registry.put(row("t-a-4", { state: "stopped" }));

  expect(await registry.tryAcquire("ep", "t-a-3", 10)).toEqual({ refused: expect.objectContaining({ agentId: "t-a-3", state: "draining" }) });
  expect(await registry.tryAcquire("ep", "t-a-4", 10)).toEqual({ refused: expect.objectContaining({ state: "stopped" }) });
  expect(await registry.tryAcquire("ep", "t-a-404", 10)).toEqual({ refused: undefined });
  expect((await registry.listEndpoint("ep")).find((r) => r.agentId === "t-a-404")).toBeUndefined();
});

test("an acquire that saw an older, lower depth loses, so two routers do not pile onto one replica", async () => {
  await registry.put(row("t-a-5"));
  expect(await registry.tryAcquire("ep", "t-a-5", 3, 0)).toBe(true);

  expect(await registry.tryAcquire("ep", "t-a-5", 3, 0)).toEqual({ refused: expect.objectContaining({ depth: 1 }) });
  expect(await registry.tryAcquire("ep", "t-a-5", 3, 1)).toBe(true);
  expect(await depthOf("t-a-5")).toBe(2);
});

test("heartbeats update state and time; rows list in slot order", async () => {
  await registry.put(row("t-b-10", { endpoint: "ep2" }));
  await registry.put(row("t-b-2", { endpoint: "ep2" }));
  expect(await registry.claim({ ...row("t-b-2", { endpoint: "ep2" }) }, "pid:1", 90, 1_000)).toBe(true);
  await registry.heartbeat("ep2", "t-b-2", "pid:1", "draining", 99, 1_000);

  const all = (await registry.listAll()).filter((r) => r.endpoint === "ep2");

  expect(all.map((r) => r.agentId)).toEqual(["t-b-2", "t-b-10"]);
  expect(all[0]).toMatchObject({ state: "draining", heartbeatAt: 99, owner: "pid:1" });
});
