import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { useHarness } from '../support/use-harness';
import { expectError, pathsOf } from '../support/shapes';

/**
 * Writes `head` and `body` on a raw socket and keeps it open (as a client whose body is still
 * coming would); resolves with the answer once the server closes the connection.
 */
function rawExchange(baseUrl: string, head: string, body: string): Promise<{ status: number; headers: string; body: unknown; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(baseUrl).port), '127.0.0.1', () => socket.write(head.replace(/\n/g, '\r\n') + '\r\n' + body));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [headers, payload] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0), headers, body: payload ? JSON.parse(payload) : undefined, ms: Date.now() - started });
    });
  });
}

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

  it('413 at once for a declared Content-Length over the limit, though the body never arrives', async () => {
    // 10 GB declared, 7 bytes sent: the answer must not wait for the rest (it waited for Node's
    // five-minute request timeout, then never said 413).
    for (const token of [apiKey, undefined]) {
      const res = await rawExchange(
        ctx.harness.baseUrl,
        `POST /v1/events HTTP/1.1\nHost: x\n${token ? `Authorization: Bearer ${token}\n` : ''}Content-Type: application/json\nContent-Length: 10000000000\n`,
        '{"type"',
      );
      expectError(res, 413, 'payload_too_large');
      expect(res.headers).toMatch(/\r\nconnection: close/i);
      expect(res.ms).toBeLessThan(5_000);
    }
  });

  it('415 for JSON in UTF-16 (JSON is UTF-8), 400 for a body that is not the gzip its Content-Encoding names', async () => {
    const utf16 = await fetch(`${ctx.harness.baseUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json; charset=utf-16' },
      body: Buffer.from('{"type":"invoice.created","data":{}}', 'utf16le'),
    });
    expectError({ status: utf16.status, body: await utf16.json() }, 415, 'unsupported_media_type');
    for (const [charset, status] of [['utf-8', 202], ['UTF-8', 202], ['"utf-8"', 202], ['utf-32', 415], ['utf8', 415]] as const) {
      const res = await ctx.harness.call('POST', '/v1/events', { token: apiKey, rawBody: '{"type":"invoice.created","data":{}}', headers: { 'content-type': `application/json; charset=${charset}` } });
      expect([charset, res.status]).toEqual([charset, status]);
    }

    const notGzip = await fetch(`${ctx.harness.baseUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: '{"type":"invoice.created","data":{}}',
    });
    expectError({ status: notGzip.status, body: await notGzip.json() }, 400, 'invalid_body');
    const gzipped = await fetch(`${ctx.harness.baseUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync('{"type":"invoice.created","data":{"gzipped":true}}'),
    });
    expect(gzipped.status).toBe(202);
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

describe('a request body that arrives too slowly', () => {
  const BODY_TIMEOUT_MS = 1_000;
  const ctx = useHarness({ worker: false, bodyTimeoutMs: BODY_TIMEOUT_MS });

  it('gets 408 in the one error shape once the body deadline passes, with or without a key', async () => {
    const { apiKey } = await ctx.harness.createTenant('Slow');
    for (const token of [apiKey, undefined]) {
      const res = await rawExchange(
        ctx.harness.baseUrl,
        `POST /v1/events HTTP/1.1\nHost: x\n${token ? `Authorization: Bearer ${token}\n` : ''}Content-Type: application/json\nContent-Length: 100\n`,
        '{"type"',
      );
      if (token) {
        expectError(res, 408, 'request_timeout');
        expect(res.headers).toMatch(/\r\nconnection: close/i);
      } else {
        // Refused before its body was read; the connection still does not outlive the deadline.
        expectError(res, 401, 'unauthorized');
      }
      expect(res.ms).toBeGreaterThanOrEqual(token ? BODY_TIMEOUT_MS - 50 : 0);
      expect(res.ms).toBeLessThan(BODY_TIMEOUT_MS + 4_000);
    }
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
