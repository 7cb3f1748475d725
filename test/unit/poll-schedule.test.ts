import { AnswerTimes } from "../../runtime/core/poll-schedule";

const settings = { minMs: 10, maxMs: 250, window: 64 };
const gaps = (next: () => number, n: number) => Array.from({ length: n }, next);

test("with no history the router looks early, then every tenth of the time waited so far, up to the longest gap", () => {
  const times = new AnswerTimes(settings);
  const next = times.schedule("ep");

  expect(gaps(next, 4)).toEqual([10, 10, 10, 10]);
  const later = gaps(next, 200);
  const waited = 40 + later.reduce((a, b) => a + b, 0);
  expect(later.at(-1)).toBe(250);
  for (let i = 1; i < later.length; i++) expect(later[i]).toBeGreaterThanOrEqual(later[i - 1]!);
  expect(waited).toBeGreaterThan(10_000);
});

test("a late answer is found within about a tenth of its time: at most 200 reads over 28 s", () => {
  const next = new AnswerTimes(settings).schedule("ep");
  let waited = 0;
  let reads = 0;
  while (waited < 28_000) {
    waited += next();
    reads += 1;
  }
  expect(reads).toBeLessThan(200);
});

test("after steady answers the first look waits until just before the fastest tenth of them", () => {
  const times = new AnswerTimes(settings);
  for (let i = 0; i < 20; i++) times.record("ep", 100 + i * 10); // 100..290 ms

  const next = times.schedule("ep");

  expect(next()).toBe(Math.floor(0.9 * 120));
  expect(gaps(next, 3)).toEqual([11, 12, 14]);
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
