/** X-API-Key authentication: a hashed lookup, a constant-time compare, and a short cache. */
import { InvalidApiKeyError } from "../core/errors";
import { digestsEqual, hashApiKey, isWellFormedApiKey } from "../core/keys";
import type { ApiKeyStore } from "../aws/api-key-store";
import { backend } from "./backend";

export interface Principal {
  owner: string;
  keyPrefix: string;
}

export class Authenticator {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

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
    const principal = { owner: record.owner, keyPrefix: record.prefix };
    if (this.cacheMs > 0) this.cache.set(hash, { principal, until: this.now() + this.cacheMs });
    return principal;
  }
}
