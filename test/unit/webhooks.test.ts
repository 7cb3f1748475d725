/** Webhook URL safety (SSRF), signatures and backoff: pure functions. */
import fc from "fast-check";
import { backoffMs, checkWebhookUrl, isPublicAddress, signWebhookBody, verifyWebhookSignature, type Resolver } from "../../runtime/webhooks";

describe("isPublicAddress", () => {
  test.each([
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "255.255.255.255", "::", "::1", "fe80::1", "fd12:3456::1", "fc00::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:a9fe:a9fe", "64:ff9b::a00:1", "2002:c0a8:0101::1", "not an ip",
  ])("refuses %s", (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  test.each(["93.184.216.34", "8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8"])("allows %s", (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  test("no address in 10/8, 127/8, 169.254/16 or 192.168/16 is public, whatever its last octets", () => {
    fc.assert(
      fc.property(fc.constantFrom("10", "127", "169.254", "192.168"), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 3, maxLength: 3 }), (net, octets) => {
        const parts = [...net.split("."), ...octets.map(String)].slice(0, 4);
        expect(isPublicAddress(parts.join("."))).toBe(false);
        expect(isPublicAddress(`::ffff:${parts.join(".")}`)).toBe(false);
      }),
    );
  });
});

describe("checkWebhookUrl", () => {
  const resolve: Resolver = async (host) => (host === "rebind.example" ? [{ address: "127.0.0.1", family: 4 }] : [{ address: "93.184.216.34", family: 4 }]);

  test("connects to the address it checked", async () => {
    const checked = await checkWebhookUrl("https://hooks.example/x", { allowInsecureLocal: false, resolve });

    expect(checked.address).toEqual({ address: "93.184.216.34", family: 4 });
  });

  test("refuses credentials in the URL and loopback names", async () => {
    await expect(checkWebhookUrl("https://u:p@hooks.example/x", { allowInsecureLocal: false, resolve })).rejects.toThrow(/credentials/);
    await expect(checkWebhookUrl("https://rebind.example/x", { allowInsecureLocal: false, resolve })).rejects.toThrow(/private/);
  });

  test("the local-stack flag allows http and loopback", async () => {
    await expect(checkWebhookUrl("http://127.0.0.1:9/x", { allowInsecureLocal: true, resolve })).resolves.toMatchObject({ address: { address: "127.0.0.1" } });
  });
});

describe("signatures", () => {
  test("are sha256=<hex HMAC> of the raw body and verify only with the same secret and bytes", () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (body, secret) => {
        const sig = signWebhookBody(secret, body);
        expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
        expect(verifyWebhookSignature(secret, body, sig)).toBe(true);
        expect(verifyWebhookSignature(secret + "x", body, sig)).toBe(false);
        expect(verifyWebhookSignature(secret, body + " ", sig)).toBe(false);
      }),
    );
  });
});

test("retries back off exponentially: 1 s, 2 s, 4 s", () => {
  const policy = { attempts: 4, baseDelayMs: 1_000 };
  expect([2, 3, 4].map((n) => backoffMs(policy, n))).toEqual([1_000, 2_000, 4_000]);
});
