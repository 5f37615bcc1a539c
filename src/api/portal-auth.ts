import { parseCookie } from 'cookie';
import type { Request, RequestHandler, Response } from 'express';
import { csrfTokenMatches, type PortalSessions } from '../portal/portal-sessions';
import { ApiError } from './errors';

/**
 * Authentication of the customer portal's requests: the session cookie set when a portal link is
 * opened takes the place of the API key, and every change must also carry the session's CSRF
 * token. The portal's JSON requests then reach the very routers of the public API.
 */

export const PORTAL_COOKIE = 'portal_session';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session cookie's value, from the Cookie header. */
export function sessionCookie(req: Request): string | undefined {
  return parseCookie(req.headers.cookie ?? '')[PORTAL_COOKIE];
}

/**
 * The portal's origin as browsers see it: PUBLIC_URL's when set (behind a TLS-terminating proxy
 * the request itself came over http, and maybe to another host name), else the request's own.
 * Proxy headers (X-Forwarded-*) are never trusted: anyone can send them.
 */
export function portalOrigin(req: Request, publicUrl: string | undefined): string {
  return publicUrl ? new URL(publicUrl).origin : `${req.protocol}://${req.headers.host}`;
}

/**
 * Browsers send `Origin` on every cross-origin and same-origin POST: one from elsewhere is
 * refused. Without PUBLIC_URL, a refusal is logged with the hint an operator behind a proxy needs.
 */
export function sameOrigin(req: Request, publicUrl: string | undefined): boolean {
  const origin = req.headers.origin;
  const expected = portalOrigin(req, publicUrl);
  if (origin === undefined || origin === expected) return true;
  if (!publicUrl) req.log?.warn({ origin, expected }, 'portal request refused: its Origin is not the address it came to (behind a proxy, set PUBLIC_URL)');
  return false;
}

export const sessionExpired = () => new ApiError(401, 'portal_session_invalid', 'this portal session has expired or was ended; open a new portal link');

/**
 * Resolves the session cookie to `res.locals.tenantId` (as tenantAuth does for API keys) and
 * `res.locals.portalSession`. On a change (any method but GET/HEAD): the request must come from
 * the portal's own origin, carry the CSRF token in `X-CSRF-Token`, and the session must not be
 * read-only (unless `readOnlyMayChange`: signing out is allowed to every session).
 */
export function portalSessionAuth(sessions: PortalSessions, { readOnlyMayChange = false } = {}): RequestHandler {
  return async (req, res: Response, next) => {
    const token = sessionCookie(req);
    const session = await sessions.authenticate(token);
    if (!session || !token) return next(sessionExpired());
    if (!SAFE_METHODS.has(req.method)) {
      const csrf = req.headers[CSRF_HEADER];
      if (!sameOrigin(req, sessions.publicUrl) || !csrfTokenMatches(token, typeof csrf === 'string' ? csrf : undefined)) {
        return next(new ApiError(403, 'csrf_failed', 'the request lacks this session\'s CSRF token (X-CSRF-Token) or comes from another site'));
      }
      if (session.readOnly && !readOnlyMayChange) {
        return next(new ApiError(403, 'read_only_session', 'this portal session is read-only: it cannot change anything'));
      }
    }
    res.locals.tenantId = session.tenantId;
    res.locals.portalSession = session;
    next();
  };
}
