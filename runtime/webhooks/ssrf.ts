/**
 * Webhook URLs are fetched by our servers on a customer's say-so, so they must not reach inside
 * the network (SSRF): https only, and every address the host name resolves to must be public.
 * The delivery then connects to the address that was checked (not a second lookup, which a
 * rebinding DNS server could answer differently). The local stack may allow http and private
 * addresses (`allowInsecureLocal`) so a receiver on 127.0.0.1 works.
 */
import { BlockList, isIP } from "node:net";
import { lookup } from "node:dns/promises";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Host name → every address it resolves to. Injected in tests; `dnsResolver` otherwise. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const dnsResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export interface WebhookUrlPolicy {
  /** Local stack only: allow http and private, loopback and link-local addresses. */
  allowInsecureLocal: boolean;
  resolve: Resolver;
}

export class UnsafeWebhookUrlError extends Error {
  constructor(readonly reason: string) {
    super(`webhook_url ${reason}`);
    this.name = "UnsafeWebhookUrlError";
  }
}

export interface CheckedWebhookUrl {
  url: URL;
  /** The address to connect to (checked). */
  address: ResolvedAddress;
}

/** Not publicly routable: private, loopback, link-local, CGNAT, documentation, multicast, reserved. */
const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["::", 96], // IPv4-compatible (deprecated)
  ["100::", 64], // discard
  ["2001::", 23], // IETF protocol assignments, Teredo
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

/** True for an address a webhook may be delivered to. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blocked.check(address, "ipv4");
  if (family !== 6) return false;
  const embedded = embeddedIpv4(address);
  if (embedded) return isPublicAddress(embedded);
  return !blocked.check(address, "ipv6");
}

/**
 * The IPv4 address inside an IPv6 one that carries it: IPv4-mapped (::ffff:a.b.c.d), NAT64
 * (64:ff9b::/96) and 6to4 (2002:AABB:CCDD::/48); undefined otherwise.
 */
export function embeddedIpv4(address: string): string | undefined {
  const groups = expandIpv6(address);
  if (!groups) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 5) && groups[5] === 0xffff) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return undefined;
}

/** Eight 16-bit groups of an IPv6 address (with or without a dotted IPv4 tail). */
function expandIpv6(address: string): number[] | undefined {
  let text = address.split("%")[0]!.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (s: string) => (s ? s.split(":").map((g) => parseInt(g, 16)) : []);
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const groups = [...head, ...Array(fill).fill(0), ...tail];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * Checks a webhook URL and resolves it to the address to connect to, or throws
 * UnsafeWebhookUrlError saying why not. Every resolved address must be public: one private
 * answer among public ones is refused (the client could be handed either).
 */
export async function checkWebhookUrl(raw: string, policy: WebhookUrlPolicy): Promise<CheckedWebhookUrl> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeWebhookUrlError("is not a URL");
  }
  if (url.protocol !== "https:" && !(policy.allowInsecureLocal && url.protocol === "http:")) {
    throw new UnsafeWebhookUrlError("must use https");
  }
  if (url.username || url.password) throw new UnsafeWebhookUrlError("must not carry credentials");
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: ResolvedAddress[];
  const literal = isIP(host);
  if (literal) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await policy.resolve(host);
    } catch {
      throw new UnsafeWebhookUrlError(`host "${host}" does not resolve`);
    }
    if (addresses.length === 0) throw new UnsafeWebhookUrlError(`host "${host}" does not resolve`);
  }
  if (!policy.allowInsecureLocal) {
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad) throw new UnsafeWebhookUrlError(`resolves to a private, loopback or link-local address (${bad.address})`);
  }
  return { url, address: addresses[0]! };
}
