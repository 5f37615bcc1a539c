import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import mongoose from 'mongoose';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { cursorSchema } from '../../src/api/list-cursor';
import { OPERATIONS } from '../../src/api/openapi/operations';
import { eventIdSchema, newEventSchema } from '../../src/api/routes/events';
import { retryDelaySchema } from '../../src/delivery/retry-schedule';
import { OPERATIONAL_EVENT_TYPES } from '../../src/events/operational-event-types';
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

  it('every error answer refers to the one error shape, defined once under components (readiness answers 503 with its own body)', () => {
    const errorSchema = (document as unknown as { components: { schemas: { Error: { required: string[]; properties: { error: { required: string[] } } } } } }).components.schemas.Error;
    expect(errorSchema.required).toEqual(['error']);
    expect(errorSchema.properties.error.required).toEqual(expect.arrayContaining(['code', 'message']));
    const errors = Object.entries(document.paths).filter(([path]) => path !== '/readyz').flatMap(([, methods]) =>
      Object.values(methods).flatMap((op) =>
        Object.entries(op.responses as Record<string, { content?: Record<string, { schema: unknown }> }>)
          .filter(([status]) => Number(status) >= 400)
          .map(([, response]) => response.content?.['application/json']?.schema),
      ),
    );
    expect(errors.length).toBeGreaterThan(100);
    expect(new Set(errors.map((schema) => JSON.stringify(schema)))).toEqual(new Set([JSON.stringify({ $ref: '#/components/schemas/Error' })]));
  });

  it('documents the 409 answers where a route gives them', () => {
    const conflicts = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, op]) => '409' in (op.responses as Record<string, unknown>))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(conflicts.sort()).toEqual(['PATCH /v1/webhooks/{id}', 'POST /v1/deliveries/{id}/cancel', 'POST /v1/deliveries/{id}/resend', 'POST /v1/deliveries/{id}/retry', 'POST /v1/events', 'POST /v1/events/batch', 'POST /v1/ingest/{sourceId}/{token}']);
  });

  /** Whether a string meets a string schema of the document (the keywords these schemas use). */
  const meets = (schema: Record<string, unknown>, value: string): boolean => {
    if (schema.pattern !== undefined && !new RegExp(schema.pattern as string, 'u').test(value)) return false;
    if (schema.minLength !== undefined && value.length < (schema.minLength as number)) return false;
    if (schema.maxLength !== undefined && value.length > (schema.maxLength as number)) return false;
    const not = schema.not as { const?: string; enum?: string[] } | undefined;
    return !(not && (not.const === value || not.enum?.includes(value)));
  };
  const operation = (method: string, path: string) => document.paths[path][method] as {
    summary: string;
    security: unknown[];
    parameters: { name: string; in: string; schema: Record<string, unknown> }[];
    requestBody: { content: Record<string, { schema: { properties: Record<string, Record<string, unknown> & { items?: Record<string, unknown> }>; minProperties?: number } }> };
    responses: Record<string, unknown>;
  };
  const bodyOf = (method: string, path: string) => operation(method, path).requestBody.content['application/json'].schema;

  it('refuses what the server refuses: each string the document allows, the zod schema accepts, and the other way round', () => {
    const cases: { name: string; schema: Record<string, unknown>; zod: { safeParse: (v: unknown) => { success: boolean } }; values: string[] }[] = [
      {
        name: 'retrySchedule item',
        schema: bodyOf('post', '/v1/webhooks').properties.retrySchedule.anyOf
          ? ((bodyOf('post', '/v1/webhooks').properties.retrySchedule.anyOf as Record<string, unknown>[]).find((s) => s.type === 'array')!.items as Record<string, unknown>)
          : bodyOf('post', '/v1/webhooks').properties.retrySchedule.items!,
        zod: retryDelaySchema,
        values: ['0d', '0s', '1s', '59s', '86400s', '86401s', '1440m', '1441m', '24h', '25h', '1d', '2d', '01m', '5m', '100000s', '1w', ''],
      },
      {
        name: 'list cursor',
        schema: operation('get', '/v1/webhooks/{id}/deliveries').parameters.find((p) => p.name === 'cursor')!.schema,
        zod: cursorSchema,
        values: ['0', '0.0', '0.dlv_x', '1733380000000.wh_abc-DEF_1', '999999999999999.x', '8640000000000001.x', '-1.x', '01.x', '1.', '1.a.b', 'WzEsIngiXQ', `1.${'a'.repeat(65)}`],
      },
      { name: 'event type', schema: bodyOf('post', '/v1/events').properties.type, zod: newEventSchema.shape.type, values: ['invoice.created', 'webhook.disabled', 'delivery.exhausted', 'webhook.created', 'Bad'] },
      { name: 'event id', schema: bodyOf('post', '/v1/events').properties.id, zod: eventIdSchema, values: ['batch', 'batch.0', 'evt_1', 'a b', ''] },
    ];
    for (const { name, schema, zod, values } of cases) {
      expect(schema).toBeDefined();
      for (const value of values) expect([name, value, meets(schema, value)]).toEqual([name, value, zod.safeParse(value).success]);
    }
    expect(Object.values(OPERATIONAL_EVENT_TYPES).every((type) => !newEventSchema.shape.type.safeParse(type).success)).toBe(true);
    // An empty PATCH changes nothing and is refused: the document says so.
    expect(bodyOf('patch', '/v1/webhooks/{id}').minProperties).toBe(1);
    // The batch names no rule the server adds on top (an id twice is the same event, or 409).
    expect(JSON.stringify(bodyOf('post', '/v1/events/batch'))).not.toMatch(/uniqueItems/);
  });

  it('documents /metrics as needing the metrics or the admin token, and GET /v1/events/batch as 405', () => {
    const metrics = operation('get', '/metrics');
    expect(metrics.security).toEqual([{ metricsToken: [] }, { adminToken: [] }]);
    expect(Object.keys(metrics.responses).sort()).toEqual(['200', '401']);
    expect(operation('get', '/v1/events/{id}').responses).toHaveProperty('405');
    expect(operation('post', '/v1/events').responses).not.toHaveProperty('405');
  });

  it('says what the code does: revocation is cached on other API processes; deliveries come from the index', () => {
    expect(operation('delete', '/v1/admin/tenants/{tenantId}/api-keys/{keyId}').summary).toMatch(/API_KEY_CACHE_SECONDS/);
    expect(operation('get', '/v1/webhooks/{id}/deliveries').summary).toMatch(/deliveries index/);
    expect(JSON.stringify(document)).not.toMatch(/visibility/i);
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
