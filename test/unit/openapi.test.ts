import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import mongoose from 'mongoose';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { OPERATIONS } from '../../src/api/openapi/operations';
import { healthResponseSchema } from '../../src/api/schemas/service';
import { SecretBox } from '../../src/crypto/secret-box';
import { WebhookHttpClient } from '../../src/delivery/http-client';
import { createModels } from '../../src/models';
import { appRoutes } from '../support/app-routes';

/** The app as main.ts builds it, with connections that are never opened: enough to serve the docs. */
function offlineApp() {
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  const mongo = mongoose.createConnection();
  return createApp({
    models: createModels(mongo),
    mongo,
    temporal: new Client({ connection }),
    temporalConnection: connection,
    taskQueue: 'unused',
    secretBox: new SecretBox('k1', Buffer.alloc(32)),
    logger: pino({ level: 'silent' }),
    adminToken: 'a'.repeat(32),
    bodyLimitBytes: 1024,
    http: new WebhookHttpClient({ allowHttp: false, allowedCidrs: [], userAgent: 'test' }),
    defaultTimeoutSeconds: 10,
    secretRotationOverlapSeconds: 86400,
    rateLimit: { perSecond: 1, burst: 1 },
  });
}

describe('OpenAPI document and /docs', () => {
  const app = offlineApp();
  let server: Server;
  let base: string;
  let document: { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };

  beforeAll(async () => {
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    document = (await res.json()) as typeof document;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('is OpenAPI 3.1 and lists every route the app serves, and nothing it does not', () => {
    expect(document.openapi).toBe('3.1.0');
    // The portal's own routes (its session, and /portal/api/v1/*: the same routers as /v1 behind a
    // session cookie) are not the public API; the portal tests check that they mirror /v1.
    const served = appRoutes(app)
      .filter((r) => !r.path.startsWith('/portal/'))
      .map((r) => `${r.method.toUpperCase()} ${r.path}`)
      .sort();
    const documented = Object.entries(document.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    // The walk must see the routes at all (a broken walk would make the comparison vacuous).
    expect(served).toEqual(expect.arrayContaining(['POST /v1/webhooks', 'GET /v1/webhooks/{id}', 'DELETE /v1/admin/tenants/{tenantId}/api-keys/{keyId}']));
    expect(documented).toEqual(served);
  });

  it('serves under /portal/api/v1 only routes that /v1 serves (the portal uses the public API\'s routers)', () => {
    const routes = appRoutes(app).map((r) => `${r.method} ${r.path}`);
    const mirrored = routes.filter((r) => r.includes(' /portal/api/v1/')).map((r) => r.replace(' /portal/api/v1/', ' /v1/'));
    expect(mirrored).toEqual(expect.arrayContaining(['post /v1/webhooks', 'get /v1/webhooks/{id}/deliveries', 'post /v1/deliveries/{id}/retry']));
    for (const route of mirrored) expect(routes).toContain(route);
  });

  it('describes requests and responses from the zod schemas the routes validate with', () => {
    const create = document.paths['/v1/webhooks'].post as {
      requestBody: { required: boolean; content: Record<string, { schema: { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean } }> };
      responses: Record<string, { content?: Record<string, { schema: { properties: Record<string, { properties?: Record<string, unknown> }> } }> }>;
      security: unknown[];
    };
    const body = create.requestBody.content['application/json'].schema;
    expect(create.requestBody.required).toBe(true);
    expect(body.required.sort()).toEqual(['events', 'url']);
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.timeoutSeconds).toMatchObject({ type: 'integer', minimum: 1, maximum: 30 });
    expect(Object.keys(create.responses).sort()).toEqual(['201', '400', '401', '413', '415', '429', '500', '503']);
    expect(body.properties.url).toMatchObject({ type: 'string', format: 'uri', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', maxLength: 2048 });
    expect(JSON.stringify(body.properties.retrySchedule)).toContain('between 1s and 24h');
    expect(create.responses['201'].content!['application/json'].schema.properties.webhook.properties).toHaveProperty('secret');
    expect(create.security).toEqual([{ apiKey: [] }]);

    const list = document.paths['/v1/webhooks'].get as { parameters: { name: string; in: string; schema: Record<string, unknown> }[]; responses: Record<string, { content: Record<string, { schema: { properties: Record<string, { items?: { properties: Record<string, unknown> } }> } }> }> };
    expect(list.parameters.map((p) => `${p.in}:${p.name}`).sort()).toEqual(['query:active', 'query:cursor', 'query:event', 'query:limit']);
    expect(list.parameters.find((p) => p.name === 'limit')!.schema).toMatchObject({ minimum: 1, maximum: 100, default: 50 });
    // The list item has no secret: the same schema tests validate list answers with.
    expect(list.responses['200'].content['application/json'].schema.properties.webhooks.items!.properties).not.toHaveProperty('secret');

    const revoke = document.paths['/v1/admin/tenants/{tenantId}/api-keys/{keyId}'].delete as { parameters: { name: string; in: string; required: boolean }[]; responses: Record<string, unknown> };
    expect(revoke.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'keyId', in: 'path', required: true })]));
    expect(revoke.responses).toHaveProperty('403');
  });

  it('documents the 409 answers where a route gives them', () => {
    const conflicts = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, op]) => '409' in (op.responses as Record<string, unknown>))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(conflicts.sort()).toEqual(['POST /v1/deliveries/{id}/cancel', 'POST /v1/deliveries/{id}/resend', 'POST /v1/deliveries/{id}/retry', 'POST /v1/events', 'POST /v1/events/batch']);
  });

  it('answers /healthz in its documented shape', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(healthResponseSchema.safeParse(await res.json()).success).toBe(true);
  });

  it('has one entry per operation and unique operation ids', () => {
    const ids = OPERATIONS.map((op) => document.paths[op.path][op.method].operationId);
    expect(new Set(ids).size).toBe(OPERATIONS.length);
  });

  it('serves /docs as a page that loads only local assets, and the assets are there', async () => {
    const page = await fetch(`${base}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain("url: '/openapi.json'");
    expect(html).toContain('validatorUrl: null');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets).toEqual(['/docs/assets/swagger-ui.css', '/docs/assets/swagger-ui-bundle.js']);
    for (const asset of assets) {
      const res = await fetch(base + asset);
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
  });
});
