/** API keys: `cust_` + 256 random bits; only the SHA-256 hash is stored; only `cust_` + 4 characters are ever shown. */
import fc from "fast-check";
import { API_KEY_PREFIX, digestsEqual, generateApiKey, hashApiKey, isWellFormedApiKey, visiblePrefix } from "../../runtime/core/keys";

describe("generateApiKey", () => {
  test("makes a well-formed key: cust_ and 32 random bytes in base64url", () => {
    const key = generateApiKey();

    expect(key).toMatch(/^cust_[A-Za-z0-9_-]{43}$/);
    expect(isWellFormedApiKey(key)).toBe(true);
    expect(Buffer.from(key.slice(API_KEY_PREFIX.length), "base64url")).toHaveLength(32);
  });

  test("never makes the same key twice", () => {
    const keys = new Set(Array.from({ length: 2_000 }, generateApiKey));

    expect(keys.size).toBe(2_000);
  });

  test("uses the whole base64url alphabet, as 256 random bits would", () => {
    const chars = new Set(Array.from({ length: 200 }, () => generateApiKey().slice(API_KEY_PREFIX.length)).join(""));

    expect(chars.size).toBe(64);
  });

  test("keys share no common prefix beyond cust_", () => {
    const bodies = Array.from({ length: 200 }, () => generateApiKey().slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + 4));

    expect(new Set(bodies).size).toBeGreaterThan(190);
  });
});

describe("isWellFormedApiKey", () => {
  test.each([
    ["cust_" + "a".repeat(16), true],
    ["cust_" + "a".repeat(128), true],
    ["cust_" + "a".repeat(15), false],
    ["cust_" + "a".repeat(129), false],
    ["sk-" + "a".repeat(40), false],
    ["CUST_" + "a".repeat(20), false],
    ["cust_" + "a".repeat(20) + " ", false],
    ["cust_" + "a".repeat(10) + "+/" + "a".repeat(10), false],
    ["", false],
  ])("%j → %s", (key, expected) => {
    expect(isWellFormedApiKey(key)).toBe(expected);
  });
});

describe("hashApiKey", () => {
  test("is the hex SHA-256 of the key", () => {
    expect(hashApiKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  test("gives the same hash for the same key and different hashes for different keys", () => {
    const key = generateApiKey();

    expect(hashApiKey(key)).toBe(hashApiKey(key));
    expect(hashApiKey(key)).not.toBe(hashApiKey(generateApiKey()));
  });

  test("never contains the key", () => {
    const key = generateApiKey();

    expect(hashApiKey(key)).not.toContain(key.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + 8));
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("digestsEqual", () => {
  test("is true for equal digests", () => {
    const hash = hashApiKey("cust_same");

    expect(digestsEqual(hash, hash.slice())).toBe(true);
  });

  test("is false for digests that differ in one character", () => {
    const hash = hashApiKey("cust_same");
    const flipped = hash.slice(0, -1) + (hash.endsWith("0") ? "1" : "0");

    expect(digestsEqual(hash, flipped)).toBe(false);
  });

  test("is false, without throwing, for digests of different lengths", () => {
    const hash = hashApiKey("cust_same");

    expect(digestsEqual(hash, hash.slice(0, 32))).toBe(false);
    expect(digestsEqual(hash, "")).toBe(false);
  });

  test("agrees with string equality on any two SHA-256 digests", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const [x, y] = [hashApiKey(a), hashApiKey(b)];

        expect(digestsEqual(x, y)).toBe(x === y);
        expect(digestsEqual(x, x)).toBe(true);
      }),
    );
  });

  // BUG (runtime/core/keys.ts): Buffer.from(s, "hex") silently stops at the first non-hex
  // character and drops an odd trailing digit, so "abc" and "abd" (or any two non-hex strings,
  // which both decode to an empty buffer) compare equal. Today both arguments are always SHA-256
  // hex digests, so this is latent; it bites the day a stored hash is empty or truncated. Fix:
  // return false unless both match /^[0-9a-f]*$/ with an even length (or compare the UTF-8 bytes
  // of the two strings). Remove `.failing` once fixed.
  test("never treats two different strings as equal", () => {
    expect(digestsEqual("abc", "abd")).toBe(false);
    expect(digestsEqual("not-a-digest", "something-else")).toBe(false);
  });
});

describe("visiblePrefix", () => {
  test("shows cust_ and the first 4 characters of the key, nothing more", () => {
    expect(visiblePrefix("cust_AbCdEfGhIjKlMnOpQrSt")).toBe("cust_AbCd");
  });

  test("reveals exactly 4 of a generated key's random characters", () => {
    for (const key of Array.from({ length: 50 }, generateApiKey)) {
      const shown = visiblePrefix(key);

      expect(shown).toBe(key.slice(0, API_KEY_PREFIX.length + 4));
      expect(shown).toHaveLength("cust_".length + 4);
    }
  });
});
