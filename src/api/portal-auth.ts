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

/** The session cookie's value, from the Cookie header (no cookie-parser needed for one cookie). */
export function sessionCookie(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === PORTAL_COOKIE) return value.join('=');
  }
  return undefined;
}

/** Browsers send `Origin` on every cross-origin and same-origin POST: one from elsewhere is refused. */
function sameOrigin(req: Request): boolean {
  const origin = req.headers.origin;
  return origin === undefined || origin === `${req.protocol}://${req.headers.host}`;
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
      if (!sameOrigin(req) || !csrfTokenMatches(token, typeof csrf === 'string' ? csrf : undefined)) {
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
