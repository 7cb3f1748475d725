/** Public identifiers: random (128 bits), never sequential, so a thread id cannot be guessed from another. */
import { isThreadId, newResponseId, newThreadId } from "../../runtime/core/ids";

describe("thread and response ids", () => {
  test("a thread id is thr_ and 32 hex digits (128 bits)", () => {
    const id = newThreadId();

    expect(id).toMatch(/^thr_[0-9a-f]{32}$/);
    expect(isThreadId(id)).toBe(true);
  });

  test("a response id is resp_ and 32 hex digits (128 bits)", () => {
    expect(newResponseId()).toMatch(/^resp_[0-9a-f]{32}$/);
  });

  test("never repeats an id", () => {
    const ids = new Set(Array.from({ length: 5_000 }, newThreadId));

    expect(ids.size).toBe(5_000);
  });

  test("consecutive ids are not sequential: they differ in about half their bits", () => {
    const ids = Array.from({ length: 200 }, () => BigInt("0x" + newThreadId().slice(4)));
    const differingBits = ids.slice(1).map((id, i) => popcount(id ^ ids[i]!));
    const mean = differingBits.reduce((a, b) => a + b, 0) / differingBits.length;

    expect(mean).toBeGreaterThan(54);
    expect(mean).toBeLessThan(74);
    expect(ids.slice(1).some((id, i) => id - ids[i]! === 1n)).toBe(false);
  });

  test("every hex digit appears in every position over many ids", () => {
    const ids = Array.from({ length: 1_000 }, () => newThreadId().slice(4));

    for (let pos = 0; pos < 32; pos++) {
      expect(new Set(ids.map((id) => id[pos])).size).toBe(16);
    }
  });

  test.each(["thr_123", "thr_" + "g".repeat(32), "THR_" + "0".repeat(32), "thr_" + "0".repeat(33), " thr_" + "0".repeat(32), ""])(
    "%j is not a thread id",
    (s) => {
      expect(isThreadId(s)).toBe(false);
    },
  );
});

function popcount(n: bigint): number {
  let count = 0;
  for (; n > 0n; n >>= 1n) count += Number(n & 1n);
  return count;
}
