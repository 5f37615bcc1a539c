import { createServer, type Server, type Socket } from 'node:net';
import { request } from 'node:http';
import { MAX_JSON_DEPTH } from '../../src/api/json-body';
import { Harness } from '../support/harness';
import { useHarness } from '../support/use-harness';
import { expectError, pathsOf } from '../support/shapes';

/** JSON text of `{"a": {"a": ... 1 ...}}` nested `depth` levels deep. */
const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** A request through node:http, for what fetch() refuses to send (TRACE, oversized headers). */
function rawRequest(baseUrl: string, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: Number(new URL(baseUrl).port), method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('bad input gets the right 4xx in the one error shape, and the process stays up', () => {
  const ctx = useHarness({ worker: false });
  let apiKey: string;
  let tenantId: string;

  beforeAll(async () => {
    ({ apiKey, tenantId } = await ctx.harness.createTenant('Fuzzed'));
  });

  it.each([1_000, 10_000])('event data nested %i levels deep is 400, and nothing is accepted', async (depth) => {
    const single = await ctx.harness.call('POST', '/v1/events', {
      token: apiKey,
      rawBody: `{"id":"deep-${depth}","type":"invoice.created","data":${nested(depth)}}`,
      headers: { 'content-type': 'application/json' },
    });
    expectError(single, 400, 'invalid_json');
    expect(single.body.error.message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    expectError(await ctx.harness.call('GET', `/v1/events/deep-${depth}`, { token: apiKey }), 404, 'not_found');

    // In a batch, the good event next to the deep one is not accepted either.
    const batch = await ctx.harness.call('POST', '/v1/events/batch', {
      token: apiKey,
      rawBody: `{"events":[{"id":"fine-${depth}","type":"invoice.created","data":{}},{"type":"invoice.created","data":${nested(depth)}}]}`,
      headers: { 'content-type': 'application/json' },
    });
    expectError(batch, 400, 'invalid_json');
    expectError(await ctx.harness.call('GET', `/v1/events/fine-${depth}`, { token: apiKey }), 404, 'not_found');
    expect((await ctx.harness.call('GET', '/healthz')).status).toBe(200);
  });

  it('data nested just within the bound is accepted', async () => {
    const res = await ctx.harness.call('POST', '/v1/events', {
      token: apiKey,
      // The body is level 1 and `data` level 2: MAX_JSON_DEPTH - 1 levels of data fit.
      rawBody: `{"type":"invoice.created","data":${nested(MAX_JSON_DEPTH - 2)}}`,
      headers: { 'content-type': 'application/json' },
    });
    // No worker runs here: 202 means accepted and durably recorded.
    expect(res.status).toBe(202);
  });

  it('invalid UTF-8 is 400', async () => {
    const res = await fetch(`${ctx.harness.baseUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from('{"type":"invoice.created","data":{"name":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}}')]),
    });
    expectError({ status: res.status, body: await res.json() }, 400, 'invalid_json');
  });

  it('a metadata key or custom header named __proto__ is refused, not silently dropped', async () => {
    const metadata = await ctx.harness.call('POST', '/v1/webhooks', {
      token: apiKey,
      rawBody: '{"url":"http://127.0.0.1:9/","events":["*"],"metadata":{"__proto__":"x","team":"billing"}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(pathsOf(expectError(metadata, 400, 'validation_failed'))).toEqual(['metadata.__proto__']);
    const headers = await ctx.harness.call('POST', '/v1/webhooks', {
      token: apiKey,
      rawBody: '{"url":"http://127.0.0.1:9/","events":["*"],"headers":{"__proto__":"x"}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(pathsOf(expectError(headers, 400, 'validation_failed'))).toEqual(['headers.__proto__']);
    const list = await ctx.harness.call('GET', '/v1/webhooks', { token: apiKey });
    expect(list.body.webhooks).toEqual([]);
  });

  it('a NUL character in stored text (metadata, description, tenant name) is 400, never a 500 from the database', async () => {
    // Found by `npm run fuzz`: PostgreSQL under FerretDB cannot store U+0000.
    const webhook = await ctx.harness.call('POST', '/v1/webhooks', {
      token: apiKey,
      body: { url: 'http://127.0.0.1:9/', events: ['*'], description: 'a\u0000b', metadata: { 'k\u0000': 'v', team: 'x\u0000' } },
    });
    expect(pathsOf(expectError(webhook, 400, 'validation_failed'))).toEqual(['description', 'metadata.k\u0000', 'metadata.team']);
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: 'http://127.0.0.1:9/', events: ['nul.*'] });
    for (const method of ['PATCH', 'PUT']) {
      const update = await ctx.harness.call(method, `/v1/webhooks/${webhookId}`, {
        token: apiKey,
        body: { url: 'http://127.0.0.1:9/', events: ['nul.*'], metadata: { team: '\u0000' } },
      });
      expect(pathsOf(expectError(update, 400, 'validation_failed'))).toEqual(['metadata.team']);
    }
    const batch = await ctx.harness.call('POST', '/v1/events/batch', {
      token: apiKey,
      body: { events: [{ id: 'nul-ok', type: 'nul.test', data: { text: 'a\u0000b' } }, { id: 'nul-bad', type: 'nul.test', data: {}, metadata: { m: '\u0000' } }] },
    });
    expect(pathsOf(expectError(batch, 400, 'validation_failed'))).toEqual(['events.1.metadata.m']);
    expect(await ctx.harness.models.Event.countDocuments({ tenantId, eventId: { $in: ['nul-ok', 'nul-bad'] } })).toBe(0); // the batch is refused whole
    const tenant = await ctx.harness.call('POST', '/v1/admin/tenants', { token: ctx.harness.adminToken, body: { name: 'Acme\u0000' } });
    expect(pathsOf(expectError(tenant, 400, 'validation_failed'))).toEqual(['name']);
    // Event data holds it (stored serialised) and is accepted.
    expect(await ctx.harness.sendEvent(apiKey, { id: 'nul-data', type: 'nul.test', data: { text: 'a\u0000b' } })).toBe('nul-data');
  });

  it('a method the path does not serve is 405 with Allow; an unknown path stays 404', async () => {
    const trace = await rawRequest(ctx.harness.baseUrl, 'TRACE', '/v1/webhooks', { authorization: `Bearer ${apiKey}` });
    expectError(trace, 405, 'method_not_allowed');
    expect(trace.headers.allow).toBe('GET, HEAD, POST');
    const del = await ctx.harness.call('DELETE', '/v1/events', { token: apiKey });
    expectError(del, 405, 'method_not_allowed');
    expect(del.headers.get('allow')).toBe('GET, HEAD, POST');
    expectError(await ctx.harness.call('PUT', '/v1/webhooks/wh_x/test', { token: apiKey }), 405, 'method_not_allowed');
    expectError(await ctx.harness.call('DELETE', '/v1/nowhere', { token: apiKey }), 404, 'not_found');
  });

  it('a malformed percent-escape in a path parameter is 400, with or without a key, in the API and the portal', async () => {
    for (const path of ['/v1/webhooks/%FF/deliveries', '/v1/events/%ZZ', '/v1/webhooks/%E0%A4%A', '/portal/api/v1/webhooks/%FF/deliveries']) {
      for (const token of [apiKey, undefined]) {
        const res = await ctx.harness.call('GET', path, { token });
        expect([path, token, res.status]).toEqual([path, token, 400]);
        expectError(res, 400, 'invalid_path');
      }
    }
  });

  it('a cursor that is not one the service made is 400, whatever time it names (never a 500)', async () => {
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: 'http://127.0.0.1:9/', events: ['cursor.*'] });
    const outOfRange = Buffer.from(JSON.stringify([8_640_000_000_000_001, 'dlv_x'])).toString('base64url');
    for (const cursor of [outOfRange, '8640000000000001.dlv_x', '9007199254740991.wh_x', '-1.wh_x', '1.', 'x']) {
      for (const path of [`/v1/webhooks/${webhookId}/deliveries`, '/v1/webhooks', '/v1/events/some-event']) {
        const res = await ctx.harness.call('GET', `${path}?cursor=${encodeURIComponent(cursor)}`, { token: apiKey });
        expect([cursor, path, res.status]).toEqual([cursor, path, 400]);
        expect(pathsOf(expectError(res, 400, 'validation_failed'))).toEqual(['query.cursor']);
      }
    }
    // The largest time a cursor can name is a time a Date holds.
    expect((await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/deliveries?cursor=999999999999999.dlv_x`, { token: apiKey })).status).toBe(200);
  });

  it('HEAD works wherever GET does, and OPTIONS lists exactly the methods routed', async () => {
    for (const path of ['/v1/webhooks', '/healthz', '/openapi.json']) {
      const head = await fetch(`${ctx.harness.baseUrl}${path}`, { method: 'HEAD', headers: { authorization: `Bearer ${apiKey}` } });
      expect([path, head.status]).toEqual([path, 200]);
      expect(head.headers.get('content-type')).toContain('application/json');
    }
    const options = async (path: string) => {
      const res = await fetch(`${ctx.harness.baseUrl}${path}`, { method: 'OPTIONS', headers: { authorization: `Bearer ${apiKey}` } });
      expect(res.status).toBe(204);
      return res.headers.get('allow');
    };
    expect(await options('/v1/events/batch')).toBe('POST');
    expect(await options('/v1/events/evt_1')).toBe('GET, HEAD');
    expect(await options('/v1/webhooks/wh_1')).toBe('DELETE, GET, HEAD, PATCH, PUT');
    // /v1/events/batch is its own path, as the OpenAPI document has it: GET there is 405, and no event is named batch.
    const get = await ctx.harness.call('GET', '/v1/events/batch', { token: apiKey });
    expectError(get, 405, 'method_not_allowed');
    expect(get.headers.get('allow')).toBe('POST');
    const named = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { id: 'batch', type: 'invoice.created', data: {} } });
    expect(pathsOf(expectError(named, 400, 'validation_failed'))).toEqual(['id']);
  });

  it('a body id and a different Idempotency-Key are 400; the same in both is accepted', async () => {
    const differ = await ctx.harness.call('POST', '/v1/events', { token: apiKey, headers: { 'idempotency-key': 'key-a' }, body: { id: 'id-b', type: 'invoice.created', data: {} } });
    expect(pathsOf(expectError(differ, 400, 'validation_failed'))).toEqual(['headers.idempotency-key']);
    for (const id of ['id-b', 'key-a']) expectError(await ctx.harness.call('GET', `/v1/events/${id}`, { token: apiKey }), 404, 'not_found');
    const same = await ctx.harness.call('POST', '/v1/events', { token: apiKey, headers: { 'idempotency-key': 'same-1' }, body: { id: 'same-1', type: 'invoice.created', data: {} } });
    expect(same.status).toBe(202);
    expect(same.body.id).toBe('same-1');
  });

  it('tenants cannot send the service\'s own operational event types', async () => {
    for (const type of ['webhook.disabled', 'delivery.exhausted']) {
      const single = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { id: `forged-${type}`, type, data: {} } });
      expect(pathsOf(expectError(single, 400, 'validation_failed'))).toEqual(['type']);
      const batch = await ctx.harness.call('POST', '/v1/events/batch', { token: apiKey, body: { events: [{ id: `fine-${type}`, type: 'invoice.created', data: {} }, { type, data: {} }] } });
      expect(pathsOf(expectError(batch, 400, 'validation_failed'))).toEqual(['events.1.type']);
      expect(await ctx.harness.models.Event.countDocuments({ tenantId, eventId: { $in: [`forged-${type}`, `fine-${type}`] } })).toBe(0);
    }
    // Types that only share a family are the tenant's own.
    expect((await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { type: 'webhook.created', data: {} } })).status).toBe(202);
  });

  it('a batch may repeat an id with the same body (one event); with another body it is 409 and nothing is accepted', async () => {
    const event = { id: 'twice-1', type: 'invoice.created', data: { n: 1, m: [1, 2] }, metadata: { a: 'b' } };
    const reordered = { metadata: { a: 'b' }, data: { m: [1, 2], n: 1 }, type: 'invoice.created', id: 'twice-1' };
    const same = await ctx.harness.call('POST', '/v1/events/batch', { token: apiKey, body: { events: [event, reordered] } });
    expect(same.status).toBe(202);
    expect(same.body.events.map((e: { id: string }) => e.id)).toEqual(['twice-1', 'twice-1']);
    expect(same.body.events.map((e: { duplicate: boolean }) => e.duplicate).sort()).toEqual([false, true]);
    expect(await ctx.harness.models.Event.countDocuments({ tenantId, eventId: 'twice-1' })).toBe(1);

    const differ = await ctx.harness.call('POST', '/v1/events/batch', {
      token: apiKey,
      body: { events: [{ id: 'twice-ok', type: 'invoice.created', data: {} }, { id: 'twice-2', type: 'invoice.created', data: { v: 1 } }, { id: 'twice-2', type: 'invoice.created', data: { v: 2 } }] },
    });
    expect(pathsOf(expectError(differ, 409, 'idempotency_conflict'))).toEqual(['events.2']);
    // An Idempotency-Key names events without an id `<key>.<index>`: a clash with a given id counts too.
    const keyed = await ctx.harness.call('POST', '/v1/events/batch', {
      token: apiKey,
      headers: { 'idempotency-key': 'bk' },
      body: { events: [{ type: 'invoice.created', data: {} }, { id: 'bk.0', type: 'invoice.created', data: { other: true } }] },
    });
    expect(pathsOf(expectError(keyed, 409, 'idempotency_conflict'))).toEqual(['events.1']);
    expect(await ctx.harness.models.Event.countDocuments({ tenantId, eventId: { $in: ['twice-ok', 'twice-2', 'bk.0'] } })).toBe(0);
  });

  it('headers over 16 KB get 431 in the one error shape, and the server keeps serving', async () => {
    const res = await rawRequest(ctx.harness.baseUrl, 'GET', '/v1/webhooks', { 'x-filler': 'x'.repeat(20 * 1024) });
    expectError(res, 431, 'headers_too_large');
    expect((await ctx.harness.call('GET', '/v1/webhooks', { token: apiKey })).status).toBe(200);
  });

  it('admin routes: a revoked or made-up API key is 401, only a valid tenant key is 403', async () => {
    const issued = await ctx.harness.call('POST', `/v1/admin/tenants/${tenantId}/api-keys`, { token: ctx.harness.adminToken });
    expect(issued.status).toBe(201);
    expectError(await ctx.harness.call('GET', `/v1/admin/tenants/${tenantId}/api-keys`, { token: issued.body.apiKey }), 403, 'forbidden');
    expect((await ctx.harness.call('DELETE', `/v1/admin/tenants/${tenantId}/api-keys/${issued.body.id}`, { token: ctx.harness.adminToken })).status).toBe(204);
    expectError(await ctx.harness.call('GET', `/v1/admin/tenants/${tenantId}/api-keys`, { token: issued.body.apiKey }), 401, 'unauthorized');
    const madeUp = `${issued.body.apiKey.slice(0, 8)}${'A'.repeat(issued.body.apiKey.length - 8)}`;
    expectError(await ctx.harness.call('GET', `/v1/admin/tenants/${tenantId}/api-keys`, { token: madeUp }), 401, 'unauthorized');
  });

  it('request logs hold the path, never the query string (where a pasted key would land)', async () => {
    const pasted = `whk_pasted${'Z'.repeat(40)}`;
    await ctx.harness.call('GET', `/v1/webhooks?cursor=${pasted}`, { token: apiKey });
    const logs = ctx.harness.apiLogs.join('\n');
    expect(logs).toContain('"path":"/v1/webhooks"');
    expect(logs).not.toContain(pasted);
  });
});

describe('Temporal failures: transient ones are 503 with Retry-After within a bound, permanent ones 500', () => {
  describe('a Temporal that accepts connections and never answers (frozen)', () => {
    let silent: Server;
    const sockets: Socket[] = [];
    let harness: Harness;
    beforeAll(async () => {
      silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      harness = await Harness.start({ worker: false, apiTemporalAddress: `127.0.0.1:${(silent.address() as { port: number }).port}` });
    });
    afterAll(async () => {
      await harness?.close();
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => silent.close(r));
    });

    it('POST /v1/events answers 503 with Retry-After, and /readyz 503, both within seconds', async () => {
      const ctx = { harness };
      const { apiKey } = await ctx.harness.createTenant('Frozen');
      let started = Date.now();
      const res = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { type: 'invoice.created', data: {} } });
      expectError(res, 503, 'service_unavailable');
      expect(res.headers.get('retry-after')).toBe('5');
      expect(Date.now() - started).toBeLessThan(30_000);
      started = Date.now();
      const ready = await ctx.harness.call('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ temporal: false, mongodb: true });
      expect(Date.now() - started).toBeLessThan(15_000);
    }, 60_000);
  });

  describe('a namespace that does not exist (a configuration error)', () => {
    const ctx = useHarness({ worker: false, apiNamespace: 'no-such-namespace' });

    it('POST /v1/events answers 500 saying retrying will not help, not 503', async () => {
      const { apiKey } = await ctx.harness.createTenant('Misconfigured');
      const res = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { type: 'invoice.created', data: {} } });
      expectError(res, 500, 'dependency_error');
      expect(res.headers.get('retry-after')).toBeNull();
      expect(res.body.error.message).toMatch(/no-such-namespace/);
      expect(res.body.error.message).toMatch(/retrying will not help/);
    });
  });
});
