import { timingSafeEqual, createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { apiKeyLookup, apiKeyMatches } from '../crypto/api-key';
import type { Models } from '../models';
import type { ApiKeyCache } from './api-key-cache';
import { ApiError } from './errors';

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

const unauthorized = () =>
  new ApiError(401, 'unauthorized', 'missing or invalid API key', [], { 'WWW-Authenticate': 'Bearer' });

/**
 * The stored key behind a valid (issued, not revoked) API key, else undefined. The stored record
 * comes from `cache` while it is fresh; the presented key is always checked against its hash.
 */
async function verifiedKey(models: Models, cache: ApiKeyCache, key: string | undefined): Promise<{ keyId: string; tenantId: string } | undefined> {
  const lookup = key && apiKeyLookup(key);
  if (!key || !lookup) return undefined;
  let stored = cache.get(lookup);
  if (!stored) {
    const found = await models.ApiKey.findOne({ lookup, revokedAt: null }).lean();
    if (found) cache.set(lookup, (stored = { keyId: found._id, tenantId: found.tenantId, hash: found.hash }));
  }
  return stored && apiKeyMatches(key, stored.hash) ? stored : undefined;
}

/** Tenant routes: resolves `Authorization: Bearer <api key>` to `res.locals.tenantId` (and `apiKeyId`). */
export function tenantAuth(models: Models, cache: ApiKeyCache): RequestHandler {
  return async (req, res, next) => {
    const verified = await verifiedKey(models, cache, bearer(req.headers.authorization));
    if (!verified) return next(unauthorized());
    res.locals.tenantId = verified.tenantId;
    res.locals.apiKeyId = verified.keyId;
    next();
  };
}

const digestOf = (token: string) => createHash('sha256').update(token).digest();

/** Whether `token` is the one whose digest is `expected` (SHA-256 digests compared in constant time). */
const sameToken = (token: string, expected: Buffer): boolean => timingSafeEqual(digestOf(token), expected);

/**
 * `GET /metrics`: the METRICS_TOKEN setting, or the admin token. Anything else is 401: the metrics
 * name no tenant, but they tell how busy and how healthy the service is.
 */
export function metricsAuth(adminToken: string, metricsToken: string | undefined): RequestHandler {
  const accepted = [adminToken, metricsToken].filter((t): t is string => !!t).map(digestOf);
  return (req, _res, next) => {
    const token = bearer(req.headers.authorization);
    if (token && accepted.some((expected) => sameToken(token, expected))) return next();
    next(new ApiError(401, 'unauthorized', token ? 'invalid metrics token' : 'missing metrics token (METRICS_TOKEN or the admin token)', [], { 'WWW-Authenticate': 'Bearer' }));
  };
}

/**
 * Admin routes: the ADMIN_TOKEN setting. A valid tenant API key here is 403 (authenticated, not
 * allowed); anything else, a revoked or made-up key included, is 401.
 */
export function adminAuth(adminToken: string, models: Models, cache: ApiKeyCache): RequestHandler {
  const expected = digestOf(adminToken);
  return async (req, _res, next) => {
    const token = bearer(req.headers.authorization);
    if (!token) return next(new ApiError(401, 'unauthorized', 'missing admin token', [], { 'WWW-Authenticate': 'Bearer' }));
    if (sameToken(token, expected)) return next();
    if (await verifiedKey(models, cache, token)) return next(new ApiError(403, 'forbidden', 'an API key cannot use admin routes'));
    next(new ApiError(401, 'unauthorized', 'invalid admin token', [], { 'WWW-Authenticate': 'Bearer' }));
  };
}
