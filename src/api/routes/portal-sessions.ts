import { Router, type Request } from 'express';
import type { PortalSessions } from '../../portal/portal-sessions';
import { portalSessionInputSchema } from '../schemas/portal-session';
import { route } from '../validate';

/** The address browsers reach the service at: the setting, else the one this request came to. */
export function publicBaseUrl(req: Request, configured?: string): string {
  return (configured ?? `${req.protocol}://${req.headers.host}`).replace(/\/+$/, '');
}

/**
 * `POST /v1/portal-sessions` (tenant API key): a short-lived, single-use link to the customer
 * portal, scoped to the calling tenant. The token travels in the URL fragment, which browsers
 * never send to a server: it cannot leak through access logs, proxies or `Referer`.
 */
export function portalSessionsRouter(sessions: PortalSessions, publicUrl?: string): Router {
  const router = Router();
  router.post(
    '/',
    route({ body: portalSessionInputSchema }, async ({ body }, req, res) => {
      const readOnly = body?.readOnly ?? false;
      const link = await sessions.issueLink({
        tenantId: res.locals.tenantId as string,
        apiKeyId: res.locals.apiKeyId as string,
        readOnly,
        ttlSeconds: body?.expiresInSeconds,
      });
      res.status(201).json({
        id: link.id,
        url: `${publicBaseUrl(req, publicUrl)}/portal/open#${link.token}`,
        expiresAt: link.expiresAt.toISOString(),
        readOnly,
        sessionTtlSeconds: sessions.sessionTtlSeconds,
      });
    }),
  );
  return router;
}
