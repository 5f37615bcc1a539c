import express, { type Express, type RequestHandler, type Router } from 'express';
import type { Client, Connection } from '@temporalio/client';
import type { Connection as MongoConnection } from 'mongoose';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { randomUUID } from 'node:crypto';
import type { RateLimitSettings } from '../config/config';
import type { SecretBox } from '../crypto/secret-box';
import type { WebhookHttpClient } from '../delivery/http-client';
import { productVersion } from '../delivery/user-agent';
import { EventIngestion } from '../events/event-ingestion';
import type { Models } from '../models';
import { httpRequests, registry, statusClass } from '../metrics/metrics';
import { ApiKeyCache } from './api-key-cache';
import { adminAuth, metricsAuth, tenantAuth } from './auth';
import { bodyDeadline, declaredLengthLimit } from './body-bounds';
import { ApiError, errorHandler } from './errors';
import { buildOpenApiDocument } from './openapi/document';
import { jsonBody } from './json-body';
import { methodNotAllowed } from './method-not-allowed';
import { wellFormedPath } from './path-escapes';
import { OPERATIONS } from './openapi/operations';
import { rateLimit, TenantRateLimiter } from './rate-limit';
import { routePattern } from './route-pattern';
import { PortalSessions } from '../portal/portal-sessions';
import { DEFAULT_PORTAL_SETTINGS, type PortalSettings } from '../portal/portal-settings';
import { adminRouter } from './routes/admin';
import { adminRequeueRouter } from './routes/admin-requeue';
import { adminTenantsRouter } from './routes/admin-tenants';
import { deliveriesRouter } from './routes/deliveries';
import { docsRouter } from './routes/docs';
import { eventTypesRouter } from './routes/event-types';
import { eventsRouter } from './routes/events';
import { ingestRouter, redactIngestToken } from './routes/ingest';
import { healthRouter } from './routes/health';
import { operationsRouter } from './routes/operations';
import { portalRouter } from './routes/portal';
import { portalSessionsRouter } from './routes/portal-sessions';
import { sourcesRouter } from './routes/sources';
import { SourceIngest } from '../sources/source-ingest';
import { statsRouter } from './routes/stats';
import { webhookDeliveriesRouter } from './routes/webhook-deliveries';
import { webhookRecoverRouter } from './routes/webhook-recover';
import { webhookStatsRouter } from './routes/webhook-stats';
import { webhooksRouter } from './routes/webhooks';

export interface AppDeps {
  models: Models;
  mongo: MongoConnection;
  temporal: Client;
  /** The client's connection, for readiness checks. */
  temporalConnection: Connection;
  taskQueue: string;
  secretBox: SecretBox;
  logger: Logger;
  adminToken: string;
  bodyLimitBytes: number;
  /** The one outbound HTTP client (its SSRF guard checks webhook URLs; it sends test events). */
  http: WebhookHttpClient;
  defaultTimeoutSeconds: number;
  /** How long a rotated-out webhook secret keeps signing. */
  secretRotationOverlapSeconds: number;
  /** Per-tenant limit on tenant routes. */
  rateLimit: RateLimitSettings;
  /** How long a verified API key is trusted without a MongoDB read (revocation bound across API processes). @default 10000 */
  apiKeyCacheMs?: number;
  /** Customer portal links and sessions. @default DEFAULT_PORTAL_SETTINGS */
  portal?: PortalSettings;
  /** A bearer token that may read `/metrics` besides the admin token. @default none */
  metricsToken?: string;
  /** How long a request body may take to arrive after its headers (then 408). @default 30000 */
  bodyTimeoutMs?: number;
}

/** Times every request under its route pattern: ids in the path become `:name`, never labels. */
const timeRequests: RequestHandler = (req, res, next) => {
  const end = httpRequests.startTimer();
  res.on('finish', () => end({ method: req.method, route: routePattern(req) ?? 'unmatched', status_class: statusClass(res.statusCode) }));
  next();
};

/** Builds the Express app; it does not listen (see main.ts). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(
    pinoHttp({
      logger: deps.logger,
      // What a request log line holds, whatever logger is passed in: never headers (API keys,
      // admin tokens), never bodies (webhook secrets on create and rotation).
      serializers: {
        // The path only: a query string can carry what a user pasted by mistake (an API key); an
        // ingest URL's token is a credential too.
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, path: redactIngestToken(req.url.split('?')[0]) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      genReqId: (req, res) => {
        const id = (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) ?? randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
    }),
  );
  app.use(timeRequests);
  // Before anything reads a body: a declared length over the limit, and a body that never ends.
  app.use(declaredLengthLimit(deps.bodyLimitBytes), bodyDeadline(deps.bodyTimeoutMs ?? 30_000));
  app.use(wellFormedPath, methodNotAllowed(OPERATIONS));
  app.use(healthRouter(deps.temporalConnection, deps.mongo));
  app.get('/metrics', metricsAuth(deps.adminToken, deps.metricsToken), async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use(docsRouter(buildOpenApiDocument(OPERATIONS, productVersion())));
  // Bodies are parsed only once the caller is authenticated (below, per route family): an
  // anonymous caller never makes the API parse JSON.
  const body = jsonBody(deps.bodyLimitBytes);

  const portalSettings = deps.portal ?? DEFAULT_PORTAL_SETTINGS;
  const apiKeys = new ApiKeyCache(deps.apiKeyCacheMs ?? 10_000);
  const portalSessions = new PortalSessions(deps.models, portalSettings, apiKeys, deps.apiKeyCacheMs ?? 10_000);
  const ingestion = new EventIngestion({ models: deps.models, client: deps.temporal, taskQueue: deps.taskQueue });

  app.use('/v1/admin', adminAuth(deps.adminToken, deps.models, apiKeys), ...body, adminRouter(deps.models, apiKeys), adminTenantsRouter(deps.models, apiKeys, deps.temporal, deps.taskQueue), adminRequeueRouter(deps.temporal, deps.taskQueue));
  // The tenant routers, built once and served twice: under /v1 with an API key, and under
  // /portal/api/v1 with a portal session, so the portal can never show what the API would not.
  // `portal` lists the methods the portal may use (all when absent): it reads events, never sends them.
  const tenantRoutes: { path: string; router: Router; portal?: string[] | false }[] = [
    { path: '/webhooks/:id/deliveries', router: webhookDeliveriesRouter(deps.models) },
    { path: '/webhooks/:id/stats', router: webhookStatsRouter(deps.models, deps.temporal) },
    // A read-only portal session is refused it, as every change (portal-auth.ts).
    { path: '/webhooks/:id/recover', router: webhookRecoverRouter(deps.models, deps.temporal, deps.taskQueue) },
    {
      path: '/webhooks',
      router: webhooksRouter({
        models: deps.models,
        secretBox: deps.secretBox,
        http: deps.http,
        defaultTimeoutSeconds: deps.defaultTimeoutSeconds,
        secretRotationOverlapSeconds: deps.secretRotationOverlapSeconds,
      }),
    },
    { path: '/events', router: eventsRouter(ingestion, deps.models, deps.temporal), portal: ['GET', 'HEAD'] },
    { path: '/deliveries', router: deliveriesRouter(deps.temporal, deps.models, deps.taskQueue) },
    { path: '/stats', router: statsRouter(deps.models) },
    { path: '/operations', router: operationsRouter(deps.temporal) },
    { path: '/event-types', router: eventTypesRouter(deps.models) },
    { path: '/portal-sessions', router: portalSessionsRouter(portalSessions, portalSettings.publicUrl), portal: false },
    // The portal lists, creates, rotates and deletes sources (never PATCH: a secret is typed only once).
    {
      path: '/sources',
      router: sourcesRouter({ models: deps.models, secretBox: deps.secretBox, publicUrl: portalSettings.publicUrl }),
      portal: ['GET', 'HEAD', 'POST', 'DELETE'],
    },
  ];
  // Inbound sources' ingest URLs: no API key (the URL and the provider's signature are the
  // credentials) and no JSON parser (the signature is over the raw bytes as sent).
  app.use('/v1/ingest', ingestRouter(new SourceIngest({ models: deps.models, secretBox: deps.secretBox, ingestion }), deps.bodyLimitBytes));
  const limit = rateLimit(new TenantRateLimiter(deps.rateLimit));
  for (const { path, router } of tenantRoutes) app.use(`/v1${path}`, tenantAuth(deps.models, apiKeys), limit, ...body, router);
  // Opening a portal link: the link's token is in the body, so this body comes before any session.
  app.post('/portal/api/session', ...body);
  app.use(
    '/portal',
    portalRouter({
      sessions: portalSessions,
      tenantRoutes: tenantRoutes.flatMap(({ path, router, portal }) => (portal === false ? [] : [{ path, router, methods: portal }])),
      guards: [limit, ...body],
      publicUrl: portalSettings.publicUrl,
      allowHttpUrls: deps.http.urlGuard.allowsHttp,
    }),
  );

  app.use((req, _res, next) => next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
