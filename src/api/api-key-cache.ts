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
  private readonly entries = new Map<string, CachedApiKey & { expiresAt: number }>();
  /** Key ids recently found unrevoked (portal sessions check their key on every request), by id. */
  private readonly liveIds = new Map<string, number>();

  constructor(private readonly ttlMs: number, private readonly maxEntries = 10_000) {}

  get(lookup: string, now = Date.now()): CachedApiKey | undefined {
    const entry = this.entries.get(lookup);
    if (entry && entry.expiresAt > now) return entry;
    if (entry) this.entries.delete(lookup);
    return undefined;
  }

  set(lookup: string, key: CachedApiKey, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(lookup);
    this.entries.set(lookup, { ...key, expiresAt: now + this.ttlMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Whether key `keyId` was found unrevoked less than `ttlMs` ago (markLive) and not revoked here since. */
  isLive(keyId: string, now = Date.now()): boolean {
    const expiresAt = this.liveIds.get(keyId);
    if (expiresAt !== undefined && expiresAt <= now) this.liveIds.delete(keyId);
    return expiresAt !== undefined && expiresAt > now;
  }

  markLive(keyId: string, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    this.liveIds.delete(keyId);
    this.liveIds.set(keyId, now + this.ttlMs);
    if (this.liveIds.size > this.maxEntries) this.liveIds.delete(this.liveIds.keys().next().value as string);
  }

  revoke(keyId: string): void {
    for (const [lookup, entry] of this.entries) if (entry.keyId === keyId) this.entries.delete(lookup);
    this.liveIds.delete(keyId);
  }
}
