import { LRUCache } from 'lru-cache';

/** A verified API key as the cache keeps it: never the key itself, only what the stored record says. */
export interface CachedApiKey {
  keyId: string;
  tenantId: string;
  hash: string;
}

/**
 * Recently verified API keys, by their lookup part, so a busy producer does not cost a MongoDB
 * read per request. An entry lives `ttlMs` at most: a key revoked through another API process
 * stops working within that bound; one revoked through this process stops at once (`revoke`).
 * Unknown and revoked keys are never cached.
 */
export class ApiKeyCache {
  private readonly entries: LRUCache<string, CachedApiKey>;
  /** Key ids recently found unrevoked (portal sessions check their key on every request). */
  private readonly liveIds: LRUCache<string, true>;
  /** Tenants deleted through this process within `ttlMs`: a key of theirs read before the deletion is never cached after it. */
  private readonly deletedTenants: LRUCache<string, true>;

  constructor(
    private readonly ttlMs: number,
    maxEntries = 10_000,
    /** The clock entries age by (tests move it). @default performance */
    clock?: { now(): number },
  ) {
    const options = { max: maxEntries, ttl: Math.max(ttlMs, 0), ...(clock ? { perf: clock, ttlResolution: 0 } : {}) };
    this.entries = new LRUCache(options);
    this.liveIds = new LRUCache(options);
    this.deletedTenants = new LRUCache(options);
  }

  get(lookup: string): CachedApiKey | undefined {
    return this.entries.get(lookup);
  }

  set(lookup: string, key: CachedApiKey): void {
    if (this.ttlMs > 0 && !this.deletedTenants.has(key.tenantId)) this.entries.set(lookup, key);
  }

  /** Whether key `keyId` was found unrevoked less than `ttlMs` ago (markLive) and not revoked here since. */
  isLive(keyId: string): boolean {
    return this.liveIds.get(keyId) === true;
  }

  markLive(keyId: string): void {
    if (this.ttlMs > 0) this.liveIds.set(keyId, true);
  }

  revoke(keyId: string): void {
    const lookups = [...this.entries.entries()].filter(([, entry]) => entry.keyId === keyId).map(([lookup]) => lookup);
    for (const lookup of lookups) this.entries.delete(lookup);
    this.liveIds.delete(keyId);
  }

  /** The tenant was deleted: none of its keys (nor their portal sessions) is trusted from here any more. */
  revokeTenant(tenantId: string): void {
    if (this.ttlMs > 0) this.deletedTenants.set(tenantId, true);
    const keys = [...this.entries.values()].filter((entry) => entry.tenantId === tenantId).map((entry) => entry.keyId);
    for (const keyId of new Set(keys)) this.revoke(keyId);
  }
}
