import { useHarness } from '../support/use-harness';
import { expectError, pathsOf } from '../support/shapes';

describe('input limits and errors', () => {
  const ctx = useHarness({ worker: false });
  let apiKey: string;

  beforeAll(async () => {
    ({ apiKey } = await ctx.harness.createTenant('Limits'));
  });

  it('413 for a body over the limit', async () => {
    const res = await ctx.harness.call('POST', '/v1/webhooks', {
      token: apiKey,
      body: { url: 'http://127.0.0.1:9/', events: ['*'], description: 'x'.repeat(300 * 1024) },
    });
    expectError(res, 413, 'payload_too_large');
  });

  it('415 for a body that is not JSON, or JSON in a charset that is not a UTF', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, rawBody: 'url=x', headers: { 'content-type': contentType } });
      expect([contentType, res.status]).toEqual([contentType, 415]);
      expectError(res, 415, 'unsupported_media_type');
    }
    const latin1 = await ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, rawBody: '{}', headers: { 'content-type': 'application/json; charset=iso-8859-1' } });
    expectError(latin1, 415, 'unsupported_media_type');
  });

  it('400 for malformed JSON, and for unknown fields with their path named', async () => {
    const malformed = await ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, rawBody: '{"url": ', headers: { 'content-type': 'application/json' } });
    expectError(malformed, 400, 'invalid_json');
    const unknown = await ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, body: { url: 'http://127.0.0.1:9/', events: ['*'], secret: 'whsec_mine', tenantId: 'ten_x' } });
    expect(pathsOf(expectError(unknown, 400, 'validation_failed'))).toEqual(['secret', 'tenantId']);
    const notObject = await ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, body: ['url'] });
    expect(pathsOf(expectError(notObject, 400, 'validation_failed'))).toEqual(['(root)']);
  });

  it('404 in the one shape for a route that does not exist', async () => {
    expectError(await ctx.harness.call('GET', '/v1/nothing-here', { token: apiKey }), 404, 'not_found');
  });
});

describe('per-tenant rate limit', () => {
  // A burst of 3, then one request every 20 s: the 4th request is refused whatever the machine's speed.
  const ctx = useHarness({ worker: false, rateLimit: { perSecond: 0.05, burst: 3 } });

  it('answers 429 with Retry-After once a tenant spends its burst, across routes and keys, and only for that tenant', async () => {
    const busy = await ctx.harness.createTenant('Busy');
    const calm = await ctx.harness.createTenant('Calm');
    const statuses = [];
    for (const path of ['/v1/webhooks', '/v1/event-types', '/v1/webhooks']) statuses.push((await ctx.harness.call('GET', path, { token: busy.apiKey })).status);
    expect(statuses).toEqual([200, 200, 200]);

    const limited = await ctx.harness.call('GET', '/v1/event-types', { token: busy.apiKey });
    expectError(limited, 429, 'rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);

    // A second key of the same tenant shares its bucket.
    const second = await ctx.harness.call('POST', `/v1/admin/tenants/${busy.tenantId}/api-keys`, { token: ctx.harness.adminToken });
    expectError(await ctx.harness.call('GET', '/v1/webhooks', { token: second.body.apiKey }), 429, 'rate_limited');
    // Admin routes and other tenants are not affected.
    expect((await ctx.harness.call('GET', '/v1/webhooks', { token: calm.apiKey })).status).toBe(200);
  });
});
