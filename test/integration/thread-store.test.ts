/** ThreadStore against the DynamoDB emulator. */
import { ThreadStore } from "../../runtime/aws/thread-store";
import { turnSortKey, type AnswerRecord } from "../../runtime/core/messages";
import { startEmulatedAws, type EmulatedAws } from "../helpers/emulated-aws";

let aws: EmulatedAws;
let store: ThreadStore;
beforeAll(async () => {
  aws = await startEmulatedAws();
  store = new ThreadStore(aws.clients, aws.tables.threads);
});
afterAll(() => aws.close());

const answer = (responseId: string, content: string, agentId = "t-a-1"): AnswerRecord => ({
  status: "answered",
  responseId,
  agentId,
  content,
  answeredAt: 1_000,
});

test("a thread id can be created once; the owner and endpoint read back", async () => {
  const meta = { threadId: "thr_meta", owner: "o1", endpoint: "support", createdAt: 1 };

  expect(await store.createMeta(meta)).toBe(true);
  expect(await store.createMeta({ ...meta, owner: "intruder" })).toBe(false);
  expect(await store.getMeta("thr_meta")).toEqual({ ...meta, agentId: undefined });
  await store.setAffinity("thr_meta", "t-a-2", 5);
  expect((await store.getMeta("thr_meta"))?.agentId).toBe("t-a-2");
});

test("history reads turns in the order their asks were accepted, leaving out the ask being answered and later ones", async () => {
  const t = "thr_history";
  await store.appendExchange(t, 300, turn("user", "third?", "r3", 300), turn("assistant", "third!", "r3", 310));
  await store.appendExchange(t, 100, turn("user", "first?", "r1", 100), turn("assistant", "first!", "r1", 110));
  await store.appendExchange(t, 200, turn("user", "second?", "r2", 200), turn("assistant", "second!", "r2", 210));

  const all = await store.history(t);
  const beforeThird = await store.history(t, turnSortKey(300, "r3", "user"));

  expect(all.map((x) => x.content)).toEqual(["first?", "first!", "second?", "second!", "third?", "third!"]);
  expect(beforeThird.map((x) => x.content)).toEqual(["first?", "first!", "second?", "second!"]);
});

test("writing the same exchange twice (a retried ask) leaves one copy of each turn", async () => {
  const t = "thr_retry";
  await store.appendExchange(t, 100, turn("user", "hi", "r1", 100), turn("assistant", "hello", "r1", 110));
  await store.appendExchange(t, 100, turn("user", "hi", "r1", 100), turn("assistant", "hello", "r1", 110));

  expect((await store.history(t)).map((x) => x.content)).toEqual(["hi", "hello"]);
});

test("history of a long thread pages through DynamoDB's 1 MB query pages", async () => {
  const t = "thr_long";
  const big = "x".repeat(100_000);
  for (let i = 0; i < 12; i++) await store.appendExchange(t, 1_000 + i, turn("user", big, `r${i}`, i), turn("assistant", "ok", `r${i}`, i));

  expect(await store.history(t)).toHaveLength(24);
});

test("the first answer stands: a second answer to the same ask loses and gets the first back", async () => {
  const first = await store.putAnswerOnce("thr_once", answer("r1", "first answer", "t-a-1"));
  const second = await store.putAnswerOnce("thr_once", answer("r1", "second answer", "t-a-2"));

  expect(first).toMatchObject({ won: true, replacedTimeout: false });
  expect(second).toMatchObject({ won: false, reply: { content: "first answer", agentId: "t-a-1" } });
  expect(await store.getReply("thr_once", "r1")).toMatchObject({ status: "answered", content: "first answer" });
});

test("a late answer replaces the router's timed-out mark and says so; a mark never replaces an answer", async () => {
  expect(await store.markTimedOut("thr_late", "r1", 50)).toBeUndefined();
  const late = await store.putAnswerOnce("thr_late", answer("r1", "late but here"));
  await store.putAnswerOnce("thr_race", answer("r2", "just in time"));
  const raced = await store.markTimedOut("thr_race", "r2", 60);

  expect(late).toMatchObject({ won: true, replacedTimeout: true });
  expect(await store.getReply("thr_late", "r1")).toMatchObject({ status: "answered", content: "late but here" });
  expect(raced).toMatchObject({ status: "answered", content: "just in time" });
});

function turn(role: "user" | "assistant", content: string, responseId: string, at: number) {
  return { role, content, responseId, at, agentId: role === "assistant" ? "t-a-1" : undefined };
}
