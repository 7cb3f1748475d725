import { AnswerTimes } from "../../runtime/core/poll-schedule";

const settings = { minMs: 10, maxMs: 50, window: 64 };
const gaps = (next: () => number, n: number) => Array.from({ length: n }, next);

test("with no history the router looks early and backs off geometrically up to the longest gap", () => {
  const times = new AnswerTimes(settings);

  expect(gaps(times.schedule("ep"), 7)).toEqual([10, 10, 15, 23, 35, 50, 50]);
});

test("after steady answers the first look waits until just before the fastest tenth of them", () => {
  const times = new AnswerTimes(settings);
  for (let i = 0; i < 20; i++) times.record("ep", 100 + i * 10); // 100..290 ms

  const next = times.schedule("ep");

  expect(next()).toBe(Math.floor(0.9 * 120));
  expect(gaps(next, 3)).toEqual([10, 15, 23]);
});

test("endpoints learn apart, and only the most recent answers count", () => {
  const times = new AnswerTimes({ ...settings, window: 8 });
  for (let i = 0; i < 8; i++) times.record("slow", 5_000);
  for (let i = 0; i < 8; i++) times.record("fast", 1_000);
  for (let i = 0; i < 8; i++) times.record("fast", 40);

  expect(times.schedule("slow")()).toBe(4_500);
  expect(times.schedule("fast")()).toBe(36);
  expect(times.schedule("unknown")()).toBe(10);
});

test("never waits less than the shortest gap, even for instant answers", () => {
  const times = new AnswerTimes(settings);
  for (let i = 0; i < 10; i++) times.record("ep", 1);

  expect(times.schedule("ep")()).toBe(10);
});
