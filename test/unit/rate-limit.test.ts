/** How large a batch of a rate window a router reserves at once (pure). */
import { LEASE_TARGET_MS, maxLeaseSize, nextLeaseSize } from "../../runtime/core/rate-limit";

test("the first batch is one ask, so a quiet key's count is exact", () => {
  expect(nextLeaseSize(undefined, 0, 6_000)).toBe(1);
});

test("a batch spent within the target time doubles, up to 2 % of the limit", () => {
  let last = { size: 1, leasedAt: 0 };
  const sizes = [];
  for (let i = 1; i <= 10; i++) {
    const size = nextLeaseSize(last, i * 10, 6_000);
    sizes.push(size);
    last = { size, leasedAt: i * 10 };
  }
  expect(sizes).toEqual([2, 4, 8, 16, 32, 64, 120, 120, 120, 120]);
  expect(maxLeaseSize(6_000)).toBe(120);
});

test("a batch that lasts long shrinks, and a small limit never batches", () => {
  expect(nextLeaseSize({ size: 64, leasedAt: 0 }, 5 * LEASE_TARGET_MS, 6_000)).toBe(32);
  expect(nextLeaseSize({ size: 64, leasedAt: 0 }, 2 * LEASE_TARGET_MS, 6_000)).toBe(64);
  expect(nextLeaseSize({ size: 1, leasedAt: 0 }, 1, 49)).toBe(1);
});
