import { apiKeyIssuedResponseSchema, apiKeyListResponseSchema, tenantCreatedResponseSchema } from '../../src/api/schemas/admin';
import { webhookCreatedResponseSchema, webhookListResponseSchema } from '../../src/api/schemas/webhook';
import { deliveryId } from '../../src/ids';
import { appRoutes, type AppRoute } from '../support/app-routes';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';
import { expectError, pathsOf, valid } from '../support/shapes';

describe('tenant isolation', () => {
  // A worker and a receiver: the owner's delivery exists (delivered), so the walk of
  // /v1/deliveries/{id} is about another tenant's real delivery, not an id nobody has.
  const ctx = useHarness({ receivers: 1 });
  let owner: { tenantId: string; apiKey: string };
  let other: { tenantId: string; apiKey: string };
  let tenantRoutes: AppRoute[];
  let ids: Record<string, string>;

  /** A request body the route accepts, so that the answer is about ownership and not about input. */
  const validBodies: Record<string, unknown> = {
    'put /v1/webhooks/{id}': { url: 'http://127.0.0.1:9/taken-over', events: ['*'] },
    'patch /v1/webhooks/{id}': { description: 'taken over' },
    'post /v1/webhooks/{id}/filter-test': { type: 'invoice.created', data: {} },
    'post /v1/webhooks/{id}/transformation-test': { event: { type: 'invoice.created', data: {} } },
    'patch /v1/sources/{id}': { name: 'taken over' },
    'post /v1/webhooks/{id}/recover': { since: new Date(Date.now() - 3_600_000).toISOString() },
  };

  /** The route's path with the owner's ids filled in, by resource (the first segment after /v1/). */
  const concrete = (route: AppRoute) =>
    route.path.replace(/\{(\w+)\}/g, (_m, param: string) => {
      const resource = route.path.split('/')[2];
      const id = param === 'id' ? ids[resource] : undefined;
      if (!id) throw new Error(`no owner id known for {${param}} of ${route.method.toUpperCase()} ${route.path}: extend this test`);
      return id;
    });

  beforeAll(async () => {
    owner = await ctx.harness.createTenant('Owner');
    other = await ctx.harness.createTenant('Other');
    const created = await ctx.harness.call('POST', '/v1/webhooks', {
      token: owner.apiKey,
      body: { url: ctx.receiver.url('/owner'), events: ['*'], headers: { Authorization: 'Bearer owner-only' } },
    });
    const webhookId = valid(webhookCreatedResponseSchema, created.body).webhook.id;
    const event = await ctx.harness.call('POST', '/v1/events', { token: owner.apiKey, body: { type: 'invoice.created', data: {} } });
    expect(event.status).toBe(202);
    const source = await ctx.harness.call('POST', '/v1/sources', { token: owner.apiKey, body: { name: 'Owner\'s repo', type: 'github', secret: 'owner-only' } });
    expect(source.status).toBe(201);
    // An operation the owner started: a recover (of nothing failed).
    const recover = await ctx.harness.call('POST', `/v1/webhooks/${webhookId}/recover`, { token: owner.apiKey, body: { since: new Date(Date.now() - 3_600_000).toISOString() } });
    expect(recover.status).toBe(202);
    ids = {
      webhooks: webhookId,
      events: event.body.id,
      deliveries: deliveryId(owner.tenantId, event.body.id, webhookId),
      sources: source.body.source.id,
      operations: recover.body.operationId,
    };
    const mine = await eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/deliveries/${ids.deliveries}`, { token: owner.apiKey });
      return res.body?.delivery?.status === 'delivered' ? res.body.delivery : undefined;
    }, 30_000, "the owner's delivery");
    expect(mine.id).toBe(ids.deliveries);
    // Ingest URLs take no API key (the URL and the provider's signature are the credentials): inbound-sources.test.ts.
    tenantRoutes = appRoutes(ctx.harness.app).filter((r) => r.path.startsWith('/v1/') && !r.path.startsWith('/v1/admin/') && !r.path.startsWith('/v1/ingest/'));
  });

  it('finds the tenant routes to walk', () => {
    const names = tenantRoutes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'post /v1/webhooks',
        'get /v1/webhooks',
        'get /v1/webhooks/{id}',
        'patch /v1/webhooks/{id}',
        'put /v1/webhooks/{id}',
        'delete /v1/webhooks/{id}',
        'post /v1/webhooks/{id}/rotate-secret',
        'post /v1/webhooks/{id}/test',
        'post /v1/webhooks/{id}/filter-test',
        'post /v1/webhooks/{id}/transformation-test',
        'post /v1/events',
        'get /v1/event-types',
        'post /v1/sources',
        'get /v1/sources/{id}',
        'patch /v1/sources/{id}',
        'delete /v1/sources/{id}',
        'post /v1/sources/{id}/rotate-url',
        'post /v1/webhooks/{id}/recover',
        'get /v1/operations/{id}',
      ]),
    );
  });

  it('answers 404 on every route that names another tenant\'s resource, and changes nothing', async () => {
    const before = await ctx.harness.models.Webhook.findById(ids.webhooks).lean();
    const sourceBefore = await ctx.harness.models.Source.findById(ids.sources).lean();
    const withIds = tenantRoutes.filter((r) => r.path.includes('{'));
    expect(withIds.length).toBeGreaterThanOrEqual(6);
    for (const route of withIds) {
      const res = await ctx.harness.call(route.method.toUpperCase(), concrete(route), { token: other.apiKey, body: validBodies[`${route.method} ${route.path}`] });
      expect([route, res.status]).toEqual([route, 404]);
      expectError(res, 404, 'not_found');
    }
    // Not changed, not rotated, not deleted.
    expect(await ctx.harness.models.Webhook.findById(ids.webhooks).lean()).toEqual(before);
    expect(await ctx.harness.models.Source.findById(ids.sources).lean()).toEqual(sourceBefore);
    // The owner still sees it.
    expect((await ctx.harness.call('GET', `/v1/webhooks/${ids.webhooks}`, { token: owner.apiKey })).status).toBe(200);
    // The owner's delivery was not retried, resent or canceled by the walk: still delivered, sent once.
    const delivery = await ctx.harness.call('GET', `/v1/deliveries/${ids.deliveries}`, { token: owner.apiKey });
    expect(delivery.body.delivery).toMatchObject({ status: 'delivered', attempts: [expect.objectContaining({ statusCode: 200 })] });
    expect(ctx.receiver.requests).toHaveLength(1);
  });

  it('never lists another tenant\'s webhooks', async () => {
    const list = valid(webhookListResponseSchema, (await ctx.harness.call('GET', '/v1/webhooks', { token: other.apiKey })).body);
    expect(list).toEqual({ webhooks: [], count: 0, nextCursor: null });
    const filtered = valid(webhookListResponseSchema, (await ctx.harness.call('GET', '/v1/webhooks?event=invoice.created', { token: other.apiKey })).body);
    expect(filtered.count).toBe(0);
  });

  it('answers 401 on every tenant route without a key, with a malformed key, and with an unknown one', async () => {
    const unknown = `whk_AAAAAAAAAAA_${'A'.repeat(43)}`;
    for (const route of tenantRoutes) {
      for (const token of [undefined, 'not-a-key', unknown]) {
        const res = await ctx.harness.call(route.method.toUpperCase(), concrete(route), { token });
        expect([route, token, res.status]).toEqual([route, token, 401]);
        expectError(res, 401, 'unauthorized');
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
  });
});

describe('admin: tenants and API keys', () => {
  const ctx = useHarness({ worker: false });
  const admin = (method: string, path: string, body?: unknown) => ctx.harness.call(method, `/v1/admin${path}`, { token: ctx.harness.adminToken, body });

  it('creates a tenant with a first key, issues more, lists them without the keys, and revokes one at once', async () => {
    const created = await admin('POST', '/tenants', { name: '  Acme Corp  ' });
    expect(created.status).toBe(201);
    const { tenant, apiKey: firstKey, apiKeyId: firstKeyId } = valid(tenantCreatedResponseSchema, created.body);
    expect(tenant.name).toBe('Acme Corp');

    const issued = await admin('POST', `/tenants/${tenant.id}/api-keys`);
    expect(issued.status).toBe(201);
    const second = valid(apiKeyIssuedResponseSchema, issued.body);
    expect(second.apiKey).not.toBe(firstKey);
    for (const key of [firstKey, second.apiKey]) expect((await ctx.harness.call('GET', '/v1/webhooks', { token: key })).status).toBe(200);

    const listed = await admin('GET', `/tenants/${tenant.id}/api-keys`);
    const { apiKeys } = valid(apiKeyListResponseSchema, listed.body);
    expect(apiKeys.map((k) => k.id)).toEqual([firstKeyId, second.id]);
    expect(apiKeys.map((k) => k.revokedAt)).toEqual([null, null]);
    expect(firstKey.startsWith(apiKeys[0].prefix)).toBe(true);
    for (const key of [firstKey, second.apiKey]) expect(JSON.stringify(listed.body)).not.toContain(key.slice(16));
    // Stored hashed only.
    const stored = await ctx.harness.models.ApiKey.find({ tenantId: tenant.id }).lean();
    expect(JSON.stringify(stored)).not.toContain(firstKey.slice(16));

    expect((await admin('DELETE', `/tenants/${tenant.id}/api-keys/${firstKeyId}`)).status).toBe(204);
    expectError(await ctx.harness.call('GET', '/v1/webhooks', { token: firstKey }), 401, 'unauthorized');
    expect((await ctx.harness.call('GET', '/v1/webhooks', { token: second.apiKey })).status).toBe(200);
    // Revoking again is harmless and keeps the first revocation time.
    const revokedAt = valid(apiKeyListResponseSchema, (await admin('GET', `/tenants/${tenant.id}/api-keys`)).body).apiKeys[0].revokedAt;
    expect(revokedAt).not.toBeNull();
    expect((await admin('DELETE', `/tenants/${tenant.id}/api-keys/${firstKeyId}`)).status).toBe(204);
    expect(valid(apiKeyListResponseSchema, (await admin('GET', `/tenants/${tenant.id}/api-keys`)).body).apiKeys[0].revokedAt).toBe(revokedAt);
  });

  it('keeps one tenant\'s keys out of another tenant\'s admin paths: 404', async () => {
    const a = valid(tenantCreatedResponseSchema, (await admin('POST', '/tenants', { name: 'A' })).body);
    const b = valid(tenantCreatedResponseSchema, (await admin('POST', '/tenants', { name: 'B' })).body);
    expectError(await admin('DELETE', `/tenants/${b.tenant.id}/api-keys/${a.apiKeyId}`), 404, 'not_found');
    expect((await ctx.harness.call('GET', '/v1/webhooks', { token: a.apiKey })).status).toBe(200);
    expectError(await admin('POST', '/tenants/ten_missing/api-keys'), 404, 'not_found');
    expectError(await admin('GET', '/tenants/ten_missing/api-keys'), 404, 'not_found');
  });

  it('needs the admin token: none or a wrong one is 401, a tenant key is 403', async () => {
    const { apiKey } = await ctx.harness.createTenant('Tenant');
    expectError(await ctx.harness.call('POST', '/v1/admin/tenants', { body: { name: 'x' } }), 401, 'unauthorized');
    expectError(await ctx.harness.call('POST', '/v1/admin/tenants', { token: 'adm_wrong', body: { name: 'x' } }), 401, 'unauthorized');
    expectError(await ctx.harness.call('POST', '/v1/admin/tenants', { token: apiKey, body: { name: 'x' } }), 403, 'forbidden');
  });

  it('validates admin input by field path', async () => {
    expect(pathsOf(expectError(await admin('POST', '/tenants', { name: '   ' }), 400, 'validation_failed'))).toEqual(['name']);
    expect(pathsOf(expectError(await admin('POST', '/tenants', { name: 'x', plan: 'pro' }), 400, 'validation_failed'))).toEqual(['plan']);
  });
});

describe('bodies are parsed only after authentication', () => {
  const ctx = useHarness({ worker: false });
  // 256 KB that would fail parsing: an anonymous caller gets 401, never the parser's 400.
  const malformed = `{"type": "invoice.created", "data": "${'x'.repeat(256 * 1024 - 64)}`;

  it('an anonymous or wrongly keyed 256 KB malformed body gets 401 on tenant and admin routes, not 400', async () => {
    const { apiKey } = await ctx.harness.createTenant('Parsed');
    for (const [method, path] of [['POST', '/v1/events'], ['POST', '/v1/events/batch'], ['PUT', '/v1/webhooks/wh_x'], ['POST', '/v1/admin/tenants']]) {
      for (const token of [undefined, 'not-a-key']) {
        const res = await ctx.harness.call(method, path, { token, rawBody: malformed, headers: { 'content-type': 'application/json' } });
        expect([method, path, token, res.status]).toEqual([method, path, token, 401]);
        expectError(res, 401, 'unauthorized');
      }
    }
    // A body that is not JSON at all: 401 too, not 415.
    expectError(await ctx.harness.call('POST', '/v1/events', { rawBody: 'a=b', headers: { 'content-type': 'text/plain' } }), 401, 'unauthorized');
    // With the key, the same body is parsed and refused for what it is.
    expectError(await ctx.harness.call('POST', '/v1/events', { token: apiKey, rawBody: malformed, headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    expectError(await ctx.harness.call('POST', '/v1/admin/tenants', { token: ctx.harness.adminToken, rawBody: malformed, headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
  });
});
