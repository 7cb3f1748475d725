/** A router's kept copy of the replica registry, against the DynamoDB emulator. */
import { ReplicaRegistry, type ReplicaRow } from "../../runtime/aws/replica-registry";
import { PoolUnavailableError } from "../../runtime/core/errors";
import { Dispatcher } from "../../runtime/router/dispatch";
import { startEmulatedAws, type EmulatedAws } from "../helpers/emulated-aws";

let aws: EmulatedAws;
let registry: ReplicaRegistry;
beforeAll(async () => {
  aws = await startEmulatedAws();
  registry = new ReplicaRegistry(aws.clients, aws.tables.replicas);
});
afterAll(() => aws.close());

let endpointN = 0;
const queries = () => aws.clients.calls.byOperation.get("dynamodb:QueryCommand") ?? 0;

async function pool(replicas: number, over: Partial<ReplicaRow> = {}): Promise<string> {
  const endpoint = `ep${endpointN++}`;
  for (let n = 1; n <= replicas; n++) {
    await registry.put({
      endpoint, agentId: `${endpoint}-a-${n}`, deployment: "t/a", team: "t", agentType: "a", slot: n, state: "running",
      depth: 0, heartbeatAt: Date.now(), queueUrl: "http://q", availableDepth: 3, overflowDepth: 10, ...over,
    });
  }
  return endpoint;
}

const dispatcher = (snapshotMaxAgeMs: number) =>
  new Dispatcher({ registry, now: Date.now, random: Math.random, heartbeatStaleMs: 60_000, snapshotMaxAgeMs });
const depths = async (endpoint: string) => (await registry.listEndpoint(endpoint)).map((r) => r.depth);

test("asks within the copy's age read the registry once and still spread by depth", async () => {
  const endpoint = await pool(3);
  const router = dispatcher(60_000);
  const before = queries();

  for (let i = 0; i < 9; i++) await router.acquire(endpoint, undefined);

  expect(queries() - before).toBe(1);
  expect(await depths(endpoint)).toEqual([3, 3, 3]);
});

test("a copy that says the pool is full is read again before a 503: replicas emptied elsewhere take the ask", async () => {
  const endpoint = await pool(1, { availableDepth: 1, overflowDepth: 2 });
  const router = dispatcher(60_000);
  await router.acquire(endpoint, undefined);
  await router.acquire(endpoint, undefined);
  // A worker counts both out (e.g. answers past the router's deadline): the copy does not see it.
  await registry.release(endpoint, `${endpoint}-a-1`);
  await registry.release(endpoint, `${endpoint}-a-1`);

  const { replica } = await router.acquire(endpoint, undefined);

  expect(replica.agentId).toBe(`${endpoint}-a-1`);
  expect(await depths(endpoint)).toEqual([1]);
});

test("a copy older than other routers' asks never overfills a replica: their count-ins refuse and correct it", async () => {
  const endpoint = await pool(2, { availableDepth: 1, overflowDepth: 2 });
  const stale = dispatcher(60_000);
  await stale.acquire(endpoint, undefined); // keeps a copy
  const other = dispatcher(0);
  for (let i = 0; i < 3; i++) await other.acquire(endpoint, undefined);

  await expect(stale.acquire(endpoint, undefined)).rejects.toBeInstanceOf(PoolUnavailableError);
  expect(await depths(endpoint)).toEqual([2, 2]);
});

test("count-outs by this router keep its copy right, so a released replica is chosen again without a read", async () => {
  const endpoint = await pool(2, { availableDepth: 1, overflowDepth: 1 });
  const router = dispatcher(60_000);
  const first = (await router.acquire(endpoint, undefined)).replica.agentId;
  await router.acquire(endpoint, undefined);
  await registry.release(endpoint, first);
  router.countedOut(endpoint, first);
  const before = queries();

  const again = await router.acquire(endpoint, undefined);

  expect(again.replica.agentId).toBe(first);
  expect(queries() - before).toBe(0);
});
