/** IPv4 CIDR arithmetic for the pool's own VPC (no dependency for two subnets). */

function toInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`"${ip}" is not an IPv4 address`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** The first `count` subnets of `cidr`, each `extraBits` longer in prefix (10.40.0.0/16 → /20s). */
export function subnetCidrs(cidr: string, count: number, extraBits = 4): string[] {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`vpcCidr "${cidr}" is not an IPv4 CIDR such as 10.40.0.0/16`);
  const prefix = Number(m[2]);
  const newPrefix = prefix + extraBits;
  if (prefix < 16 || newPrefix > 28) throw new Error(`vpcCidr "${cidr}" must have a prefix between /16 and /${28 - extraBits}`);
  if (count > 2 ** extraBits) throw new Error(`vpcCidr "${cidr}" cannot hold ${count} subnets`);
  const size = 2 ** (32 - newPrefix);
  const base = toInt(m[1]!) & ~(2 ** (32 - prefix) - 1);
  return Array.from({ length: count }, (_, i) => `${toIp((base + i * size) >>> 0)}/${newPrefix}`);
}
