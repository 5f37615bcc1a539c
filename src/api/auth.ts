import { timingSafeEqual, createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { apiKeyLookup, apiKeyMatches } from '../crypto/api-key';
import type { Models } from '../models';
import { ApiError } from './errors';

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

const unauthorized = () =>
  new ApiError(401, 'unauthorized', 'missing or invalid API key', [], { 'WWW-Authenticate': 'Bearer' });

/** Tenant routes: resolves `Authorization: Bearer <api key>` to `res.locals.tenantId` (and `apiKeyId`). */
export function tenantAuth(models: Models): RequestHandler {
  return async (req, res, next) => {
    const key = bearer(req.headers.authorization);
    const lookup = key && apiKeyLookup(key);
    if (!key || !lookup) return next(unauthorized());
    const stored = await models.ApiKey.findOne({ lookup, revokedAt: null }).lean();
    if (!stored || !apiKeyMatches(key, stored.hash)) return next(unauthorized());
    res.locals.tenantId = stored.tenantId;
    res.locals.apiKeyId = stored._id;
    next();
  };
}

/** Admin routes: the ADMIN_TOKEN setting; a tenant's API key here is 403. */
export function adminAuth(adminToken: string): RequestHandler {
  const expected = createHash('sha256').update(adminToken).digest();
  return (req, _res, next) => {
    const token = bearer(req.headers.authorization);
    if (!token) return next(new ApiError(401, 'unauthorized', 'missing admin token', [], { 'WWW-Authenticate': 'Bearer' }));
    if (timingSafeEqual(createHash('sha256').update(token).digest(), expected)) return next();
    if (apiKeyLookup(token)) return next(new ApiError(403, 'forbidden', 'an API key cannot use admin routes'));
    next(new ApiError(401, 'unauthorized', 'invalid admin token', [], { 'WWW-Authenticate': 'Bearer' }));
  };
}
