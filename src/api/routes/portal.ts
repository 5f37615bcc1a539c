import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringifySetCookie } from 'cookie';
import express, { Router, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { csrfTokenOf, type PortalSession, type PortalSessions } from '../../portal/portal-sessions';
import { ApiError } from '../errors';
import { PORTAL_COOKIE, portalSessionAuth, sameOrigin, sessionCookie } from '../portal-auth';
import { portalOpenInputSchema } from '../schemas/portal-session';
import { route } from '../validate';

/**
 * `/portal`: the customer portal. Static pages built from src/portal/web by `npm run build`
 * (served from dist/portal-web), the session endpoints, and `/portal/api/v1/*`: the public API's
 * own tenant routers, authenticated by the session cookie instead of an API key.
 */

/** dist/portal-web, from src/api/routes (tsx) and dist/api/routes (built) alike. */
export const PORTAL_WEB_DIR = resolve(__dirname, '..', '..', '..', 'dist', 'portal-web');

/** No inline script or style, nothing from elsewhere, never framed (clickjacking). */
const PORTAL_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/**
 * The portal's security headers, by helmet (the maintained set, kept current with browsers) on
 * this CSP; HSTS only where the portal is served over https (`PUBLIC_URL`), never on a plain-http
 * loopback address.
 */
const securityHeaders = (https: boolean): RequestHandler =>
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: PORTAL_CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    strictTransportSecurity: https ? { maxAge: 31_536_000 } : false,
  });

/** The placeholder in index.html that the session's state replaces. */
const SESSION_META = '<meta name="portal-session" content="">';
const escapeAttribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

export interface PortalRouterDeps {
  sessions: PortalSessions;
  /** The public API's tenant routers, by path under /v1, with the guards they run behind (rate limit). */
  tenantRoutes: { path: string; router: Router; methods?: string[] }[];
  guards: RequestHandler[];
  /** PUBLIC_URL: when https, the cookie is `Secure` even if TLS ends at a proxy in front. */
  publicUrl?: string;
  /** WEBHOOK_ALLOW_HTTP: whether webhook URLs may be http, so the form says what the server accepts. @default false */
  allowHttpUrls?: boolean;
}

export function portalRouter({ sessions, tenantRoutes, guards, publicUrl, allowHttpUrls = false }: PortalRouterDeps): Router {
  const router = Router();
  router.use(securityHeaders(publicUrl?.startsWith('https:') === true));

  const setCookie = (res: Response, value: string, maxAgeSeconds: number) => {
    const secure = res.req.secure || publicUrl?.startsWith('https:') === true;
    res.append('Set-Cookie', stringifySetCookie(PORTAL_COOKIE, value, { path: '/portal', httpOnly: true, sameSite: 'strict', maxAge: maxAgeSeconds, secure }));
  };

  const sessionState = async (session: PortalSession, sessionToken: string) => {
    const tenantName = await sessions.tenantName(session.tenantId);
    return {
      session: { tenantId: session.tenantId, tenantName, readOnly: session.readOnly, expiresAt: session.expiresAt.toISOString() },
      csrfToken: csrfTokenOf(sessionToken),
      service: { allowHttpUrls },
    };
  };

  const api = Router();
  api.use(noStore);
  // Opening a link: the token from the fragment, posted by the page. Unknown, expired and used
  // links get the same answer.
  api.post(
    '/session',
    route({ body: portalOpenInputSchema }, async ({ body }, req, res) => {
      if (!sameOrigin(req, publicUrl)) {
        throw new ApiError(403, 'csrf_failed', 'portal links are opened by the portal page itself');
      }
      const opened = await sessions.open(body.token);
      if (!opened) throw new ApiError(401, 'portal_link_invalid', 'this portal link has expired or was already used; ask for a new one');
      setCookie(res, opened.sessionToken, sessions.sessionTtlSeconds);
      res.status(201).json(await sessionState(opened.session, opened.sessionToken));
    }),
  );
  api.get('/session', portalSessionAuth(sessions), async (req, res) => {
    res.json(await sessionState(res.locals.portalSession as PortalSession, sessionCookie(req) as string));
  });
  api.delete('/session', portalSessionAuth(sessions, { readOnlyMayChange: true }), async (req, res) => {
    await sessions.end(sessionCookie(req) as string);
    setCookie(res, '', 0);
    res.status(204).end();
  });
  const auth = portalSessionAuth(sessions);
  for (const { path, router: tenantRouter, methods } of tenantRoutes) {
    const only: RequestHandler = (req, _res, next) =>
      !methods || methods.includes(req.method) ? next() : next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.originalUrl.split('?')[0]} in the portal`));
    api.use(`/v1${path}`, auth, only, ...guards, tenantRouter);
  }
  router.use('/api', api);

  router.use('/assets', express.static(join(PORTAL_WEB_DIR, 'assets'), { index: false, maxAge: '1h' }));
  // Every page is the same document; the page's script routes on the path. (A middleware, not a
  // route: the portal's pages are not API operations.) With a live session it carries the
  // session's state, as GET /api/session answers it, in a meta tag: the page's API calls then go
  // out as soon as its script runs, one round trip earlier. A link being opened (/open) never
  // does: it makes its own session.
  router.use(async (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path.startsWith('/api/') || req.path.startsWith('/assets/')) return next();
    res.set('Cache-Control', 'no-store');
    const index = join(PORTAL_WEB_DIR, 'index.html');
    if (!existsSync(index)) throw new ApiError(503, 'portal_not_built', 'the portal\'s pages are not built: run `npm run build`');
    const token = req.path === '/open' ? undefined : sessionCookie(req);
    const session = token ? await sessions.authenticate(token) : undefined;
    const state = session && token ? JSON.stringify(await sessionState(session, token)) : '';
    res.type('html').send(readFileSync(index, 'utf8').replace(SESSION_META, `<meta name="portal-session" content="${escapeAttribute(state)}">`));
  });
  return router;
}
