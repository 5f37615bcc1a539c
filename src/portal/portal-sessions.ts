import { LRUCache } from 'lru-cache';
import { sweepExpired } from '../models/expiry-index';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { newId } from '../ids';
import type { ApiKeyCache } from '../api/api-key-cache';
import type { Models } from '../models';
import type { PortalSessionDoc } from '../models/portal-session';
import type { PortalSettings } from './portal-settings';
import { isDuplicateKey } from '../models/duplicate-key';

/**
 * Customer portal sessions: a producer's backend asks for a single-use link (with its API key);
 * opening the link exchanges its token for a session cookie scoped to that tenant. Tokens are 32
 * random bytes; MongoDB keeps only their SHA-256 hashes, so a database dump opens nothing. Only
 * plain CRUD: MongoDB, FerretDB v1 and mongo-java-server alike.
 */

export interface IssuedLink {
  id: string;
  token: string;
  expiresAt: Date;
}

/** A live session as the portal's routes see it. */
export interface PortalSession {
  id: string;
  tenantId: string;
  /** The API key that asked for its link: the session ends when that key is revoked. */
  apiKeyId: string;
  readOnly: boolean;
  expiresAt: Date;
}

const newToken = () => randomBytes(32).toString('base64url');
const hash = (token: string) => createHash('sha256').update(token).digest('hex');
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The CSRF token of a session: derived from its cookie (HMAC), so nothing more is stored, it
 * changes with every session, and a page can only learn it by a same-origin read (GET /session).
 */
export function csrfTokenOf(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('portal-csrf').digest('base64url');
}

export function csrfTokenMatches(sessionToken: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfTokenOf(sessionToken));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

const view = (doc: PortalSessionDoc): PortalSession => ({ id: doc._id, tenantId: doc.tenantId, apiKeyId: doc.apiKeyId, readOnly: doc.readOnly, expiresAt: doc.expiresAt });

/** At most this many sessions are remembered (the oldest remembered is forgotten first). */
const MAX_CACHED_SESSIONS = 10_000;

export class PortalSessions {
  /**
   * Sessions recently found live, by the hash of their cookie, for `cacheMs`: a page load makes
   * three or four requests in a second, each of which read its session. A session ended through
   * this process stops at once; one ended through another API process within `cacheMs` (the
   * API-key cache's bound on revocation); expiry and the key's revocation are checked on every
   * request all the same.
   */
  private readonly cache: LRUCache<string, PortalSession>;
  private readonly tenantNames: LRUCache<string, string>;

  constructor(
    private readonly models: Models,
    private readonly settings: PortalSettings,
    /** Where a key recently found unrevoked is remembered, so a session's request costs one read, not two (the API-key cache's bound on revocation through another process). */
    private readonly apiKeys?: ApiKeyCache,
    private readonly cacheMs = 0,
  ) {
    this.cache = new LRUCache({ max: MAX_CACHED_SESSIONS, ttl: Math.max(cacheMs, 0) });
    this.tenantNames = new LRUCache({ max: MAX_CACHED_SESSIONS, ttl: Math.max(cacheMs, 0) });
  }

  get sessionTtlSeconds(): number {
    return this.settings.sessionTtlSeconds;
  }

  /** PUBLIC_URL: the portal's address as browsers reach it, when set. */
  get publicUrl(): string | undefined {
    return this.settings.publicUrl;
  }

  /** A new single-use link for `tenantId`, valid for `ttlSeconds` (the setting's default). */
  async issueLink(input: { tenantId: string; apiKeyId: string; readOnly: boolean; ttlSeconds?: number }): Promise<IssuedLink> {
    const now = new Date();
    // What the TTL index does on MongoDB, done here too for servers without TTL indexes
    // (FerretDB v1), as often as links are issued; readers check `expiresAt` either way.
    await Promise.all([sweepExpired(this.models.PortalLink.collection, 'expiresAt', 0, now), sweepExpired(this.models.PortalSession.collection, 'expiresAt', 0, now)]);
    const token = newToken();
    const expiresAt = new Date(now.getTime() + (input.ttlSeconds ?? this.settings.linkTtlSeconds) * 1000);
    const id = newId('ps');
    await this.models.PortalLink.create({ _id: id, tenantId: input.tenantId, apiKeyId: input.apiKeyId, readOnly: input.readOnly, linkHash: hash(token), expiresAt });
    return { id, token, expiresAt };
  }

  /**
   * Opens a link. The session is inserted with the link's id as its `_id`, so of two concurrent
   * opens exactly one succeeds, whatever the server. `undefined` for an unknown, expired or
   * already used link (the caller cannot tell which).
   */
  async open(linkToken: string): Promise<{ sessionToken: string; session: PortalSession } | undefined> {
    if (!TOKEN_PATTERN.test(linkToken)) return undefined;
    const now = new Date();
    const link = await this.models.PortalLink.findOne({ linkHash: hash(linkToken), expiresAt: { $gt: now } }).lean();
    if (!link || !(await this.keyStillValid(link))) return undefined;
    const sessionToken = newToken();
    try {
      const doc = await this.models.PortalSession.create({
        _id: link._id,
        tenantId: link.tenantId,
        apiKeyId: link.apiKeyId,
        readOnly: link.readOnly,
        sessionHash: hash(sessionToken),
        expiresAt: new Date(now.getTime() + this.settings.sessionTtlSeconds * 1000),
      });
      await this.models.PortalLink.deleteOne({ _id: link._id });
      return { sessionToken, session: view(doc.toObject() as PortalSessionDoc) };
    } catch (err) {
      if (isDuplicateKey(err)) return undefined;
      throw err;
    }
  }

  /** The live session of a cookie; `undefined` once expired, ended, or its API key was revoked. */
  async authenticate(sessionToken: string | undefined): Promise<PortalSession | undefined> {
    if (!sessionToken || !TOKEN_PATTERN.test(sessionToken)) return undefined;
    const sessionHash = hash(sessionToken);
    const now = new Date();
    const cached = this.cache.get(sessionHash);
    if (cached && cached.expiresAt > now) return (await this.keyStillValid(cached)) ? cached : undefined;
    this.cache.delete(sessionHash);
    const doc = await this.models.PortalSession.findOne({ sessionHash, expiresAt: { $gt: now } }).lean();
    if (!doc || !(await this.keyStillValid(doc))) return undefined;
    const session = view(doc as PortalSessionDoc);
    if (this.cacheMs > 0) this.cache.set(sessionHash, session);
    return session;
  }

  /**
   * The tenant's name as the session's pages show it, remembered like the session (every page
   * load carries it): a renamed tenant shows its new name within `cacheMs`.
   */
  async tenantName(tenantId: string): Promise<string> {
    const cached = this.tenantNames.get(tenantId);
    if (cached !== undefined) return cached;
    const name = (await this.models.Tenant.findById(tenantId).lean())?.name ?? tenantId;
    if (this.cacheMs > 0) this.tenantNames.set(tenantId, name);
    return name;
  }

  /** Signs out: the cookie stops working at once (its link was used up when it was opened). */
  async end(sessionToken: string): Promise<void> {
    if (!TOKEN_PATTERN.test(sessionToken)) return;
    this.cache.delete(hash(sessionToken));
    await this.models.PortalSession.deleteOne({ sessionHash: hash(sessionToken) });
  }

  private async keyStillValid(record: { apiKeyId: string; tenantId: string }): Promise<boolean> {
    if (this.apiKeys?.isLive(record.apiKeyId)) return true;
    const live = (await this.models.ApiKey.exists({ _id: record.apiKeyId, tenantId: record.tenantId, revokedAt: null })) !== null;
    if (live) this.apiKeys?.markLive(record.apiKeyId);
    return live;
  }
}
