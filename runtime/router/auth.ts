/** X-API-Key authentication: a hashed lookup, a constant-time compare, and a short cache. */
import { InvalidApiKeyError } from "../core/errors";
import { digestsEqual, hashApiKey, isWellFormedApiKey } from "../core/keys";
import type { ApiKeyStore } from "../aws/api-key-store";
import { backend } from "./backend";

export interface Principal {
  owner: string;
  keyPrefix: string;
  /** Identifies the key to the rate limiter and the webhook signer; never shown. */
  keyHash: string;
  rateLimitPerMinute?: number;
  webhookUrl?: string;
}

/** "Last used" is written at most this often per key. */
export const LAST_USED_GRANULARITY_MS = 60_000;

export class Authenticator {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  /** When this router last recorded a use of each key (saves the conditional write in between). */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly cacheMs: number,
    private readonly now: () => number,
  ) {}

  async authenticate(header: string | undefined): Promise<Principal> {
    if (!header || !isWellFormedApiKey(header)) throw new InvalidApiKeyError();
    const hash = hashApiKey(header);
    const cached = this.cache.get(hash);
    if (cached && cached.until > this.now()) return cached.principal;
    const record = await backend("the API key store", () => this.keys.get(hash));
    if (!record || record.revokedAt !== undefined || !digestsEqual(record.keyHash, hash)) {
      this.cache.delete(hash);
      throw new InvalidApiKeyError();
    }
    const principal: Principal = {
      owner: record.owner,
      keyPrefix: record.prefix,
      keyHash: record.keyHash,
      rateLimitPerMinute: record.rateLimitPerMinute,
      webhookUrl: record.webhookUrl,
    };
    if (this.cacheMs > 0) this.cache.set(hash, { principal, until: this.now() + this.cacheMs });
    await this.recordUse(hash, record.lastUsedAt);
    return principal;
  }

  /** At most one write a minute per key, whatever the traffic; a failure only loses the timestamp. */
  private async recordUse(hash: string, lastUsedAt: number | undefined): Promise<void> {
    const t = this.now();
    const last = Math.max(lastUsedAt ?? 0, this.touched.get(hash) ?? 0);
    if (t - last < LAST_USED_GRANULARITY_MS) return;
    this.touched.set(hash, t);
    if (this.touched.size > 10_000) this.touched.clear();
    await this.keys.touch(hash, t, LAST_USED_GRANULARITY_MS).catch(() => undefined);
  }
}
