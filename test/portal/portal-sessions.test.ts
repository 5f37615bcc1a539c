import { createHash } from 'node:crypto';
import { portalSessionStateSchema } from '../../src/api/schemas/portal-session';
import { webhookCreatedResponseSchema, webhookListResponseSchema, webhookResponseSchema } from '../../src/api/schemas/webhook';
import { sourceCreatedResponseSchema, sourceListResponseSchema } from '../../src/api/schemas/source';
import { PortalClient } from '../support/portal-client';
import { expectError, pathsOf, valid } from '../support/shapes';
import { useHarness } from '../support/use-harness';

describe('POST /v1/portal-sessions and the portal session', () => {
  const ctx = useHarness({ worker: false });
  let acme: { tenantId: string; apiKey: string };
  let globex: { tenantId: string; apiKey: string };
  let globexWebhook: string;

  const webhookBody = { url: 'http://127.0.0.1:9/portal', events: ['invoice.*'] };

  /** A fresh open session for `tenant`. */
  async function session(apiKey: string, body?: Record<string, unknown>): Promise<PortalClient> {
    const client = new PortalClient(ctx.harness);
    const link = await PortalClient.link(ctx.harness, apiKey, body);
    expect((await client.open(link.token)).status).toBe(201);
    return client;
  }

  beforeAll(async () => {
    acme = await ctx.harness.createTenant('Acme');
    globex = await ctx.harness.createTenant('Globex');
    globexWebhook = (await ctx.harness.createWebhook(globex.apiKey, webhookBody)).webhookId;
  });

  it('needs an API key and valid options', async () => {
    expectError(await ctx.harness.call('POST', '/v1/portal-sessions', { body: {} }), 401, 'unauthorized');
    expectError(await ctx.harness.call('POST', '/v1/portal-sessions', { token: ctx.harness.adminToken, body: {} }), 401, 'unauthorized');
    const bad = await ctx.harness.call('POST', '/v1/portal-sessions', { token: acme.apiKey, body: { expiresInSeconds: 5, readOnly: 'yes', scope: 'all' } });
    expect(pathsOf(expectError(bad, 400, 'validation_failed'))).toEqual(['expiresInSeconds', 'readOnly', 'scope']);
  });

  it('answers a single-use link with its expiry, the token in the fragment only', async () => {
    const before = Date.now();
    const link = await PortalClient.link(ctx.harness, acme.apiKey);
    const url = new URL(link.url);
    expect(url.origin).toBe(ctx.harness.baseUrl);
    expect(url.pathname).toBe('/portal/open');
    expect(url.search).toBe('');
    expect(link.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Date(link.expiresAt).getTime()).toBeGreaterThanOrEqual(before + 299_000);
    expect(new Date(link.expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 300_000);
    expect(link).toMatchObject({ readOnly: false, sessionTtlSeconds: 3600 });

    const short = await PortalClient.link(ctx.harness, acme.apiKey, { expiresInSeconds: 60, readOnly: true });
    expect(new Date(short.expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(short.readOnly).toBe(true);

    // Only hashes are stored: the token is nowhere in the record.
    const stored = await ctx.harness.models.PortalLink.findById(link.id).lean();
    expect(stored).toMatchObject({ tenantId: acme.tenantId, readOnly: false });
    expect(JSON.stringify(stored)).not.toContain(link.token);
  });

  it('opens once: the cookie is HttpOnly, SameSite=Strict, scoped to /portal; a reused link is refused', async () => {
    const link = await PortalClient.link(ctx.harness, acme.apiKey);
    const client = new PortalClient(ctx.harness);
    const opened = await client.open(link.token);
    expect(opened.status).toBe(201);
    const [pair, ...attributes] = client.setCookie.split('; ');
    expect(pair).toMatch(/^portal_session=[A-Za-z0-9_-]{43}$/);
    // Not Secure: this request came over http and no PUBLIC_URL is set (portal-proxy.test.ts has the https case).
    expect(attributes.sort()).toEqual(['HttpOnly', 'Max-Age=3600', 'Path=/portal', 'SameSite=Strict']);
    expect(valid(portalSessionStateSchema, opened.body).session).toMatchObject({ tenantId: acme.tenantId, tenantName: 'Acme', readOnly: false });
    expect(JSON.stringify(await ctx.harness.models.PortalSession.findById(link.id).lean())).not.toContain(client.cookie.split('=')[1]);

    const again = new PortalClient(ctx.harness);
    expectError(await again.open(link.token), 401, 'portal_link_invalid');
    expect(again.cookie).toBe('');
    expectError(await again.open('not-a-token'), 401, 'portal_link_invalid');
    // The first session still works.
    expect((await client.call('GET', '/portal/api/session')).status).toBe(200);
  });

  it('of two concurrent opens of one link, exactly one gets a session', async () => {
    const link = await PortalClient.link(ctx.harness, acme.apiKey);
    const results = await Promise.all([1, 2, 3].map(() => new PortalClient(ctx.harness).open(link.token)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 401, 401]);
  });

  it('refuses an expired link, and ends an expired session', async () => {
    const link = await PortalClient.link(ctx.harness, acme.apiKey, { expiresInSeconds: 10 });
    // Time passes: the link's expiry is now behind us (FerretDB never runs the TTL sweep).
    await ctx.harness.models.PortalLink.updateOne({ _id: link.id }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    expectError(await new PortalClient(ctx.harness).open(link.token), 401, 'portal_link_invalid');
    // Expired records are swept (by the TTL index on MongoDB; on FerretDB v1, which has none, when links are issued).
    await PortalClient.link(ctx.harness, acme.apiKey);
    expect(await ctx.harness.models.PortalLink.findById(link.id).lean()).toBeNull();

    // A session's expiry passing: set in the database before the session's first request (the
    // API process remembers a session it has seen live for API_KEY_CACHE_SECONDS, checking its
    // expiry on every request; an hour cannot pass in a test).
    const client = await session(acme.apiKey);
    const sessionHash = createHash('sha256').update(client.cookie.split('=')[1]).digest('hex');
    const updated = await ctx.harness.models.PortalSession.updateOne({ sessionHash }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    expect(updated.matchedCount).toBe(1);
    const answers = await client.call('GET', '/portal/api/v1/webhooks');
    expectError(answers, 401, 'portal_session_invalid');
  });

  it('serves the public API\'s answers to the session, scoped to its tenant', async () => {
    const client = await session(acme.apiKey);
    const created = await client.call('POST', '/portal/api/v1/webhooks', { body: webhookBody });
    expect(created.status).toBe(201);
    const webhook = valid(webhookCreatedResponseSchema, created.body).webhook;
    const viaPortal = valid(webhookListResponseSchema, (await client.call('GET', '/portal/api/v1/webhooks')).body);
    const viaApi = valid(webhookListResponseSchema, (await ctx.harness.call('GET', '/v1/webhooks', { token: acme.apiKey })).body);
    expect(viaPortal).toEqual(viaApi);
    expect(viaPortal.webhooks.map((w) => w.id)).toContain(webhook.id);

    // Another tenant's ids: 404, as in the API, and nothing changes.
    for (const [method, path, body] of [
      ['GET', `/portal/api/v1/webhooks/${globexWebhook}`],
      ['PATCH', `/portal/api/v1/webhooks/${globexWebhook}`, { description: 'taken over' }],
      ['POST', `/portal/api/v1/webhooks/${globexWebhook}/rotate-secret`, {}],
      ['DELETE', `/portal/api/v1/webhooks/${globexWebhook}`],
      ['GET', `/portal/api/v1/webhooks/${globexWebhook}/deliveries`],
    ] as const) {
      expectError(await client.call(method, path, { body }), 404, 'not_found');
    }
    expect(valid(webhookResponseSchema, (await ctx.harness.call('GET', `/v1/webhooks/${globexWebhook}`, { token: globex.apiKey })).body).webhook.description).toBeNull();

    // The portal reads events but never sends them, and cannot mint more links.
    expectError(await client.call('POST', '/portal/api/v1/events', { body: { type: 'invoice.created', data: {} } }), 404, 'not_found');
    expectError(await client.call('POST', '/portal/api/v1/portal-sessions', { body: {} }), 404, 'not_found');
  });

  it('lists, creates, rotates and deletes sources for the session\'s tenant; never a secret, never PATCH', async () => {
    const client = await session(acme.apiKey);
    const created = await client.call('POST', '/portal/api/v1/sources', { body: { name: 'GitHub via portal', type: 'github', secret: 'portal-source-secret' } });
    expect(created.status).toBe(201);
    const source = valid(sourceCreatedResponseSchema, created.body).source;
    expect(source.ingestUrl).toContain(`/v1/ingest/${source.id}/`);
    const viaPortal = valid(sourceListResponseSchema, (await client.call('GET', '/portal/api/v1/sources')).body);
    expect(viaPortal).toEqual(valid(sourceListResponseSchema, (await ctx.harness.call('GET', '/v1/sources', { token: acme.apiKey })).body));
    expect(viaPortal.sources.map((s) => s.id)).toContain(source.id);
    expect(JSON.stringify(viaPortal)).not.toContain('portal-source-secret');
    const rotated = await client.call('POST', `/portal/api/v1/sources/${source.id}/rotate-url`, { body: {} });
    expect(rotated.status).toBe(200);
    expect(rotated.body.ingestUrl).not.toBe(source.ingestUrl);
    // A secret is typed once, at creation: the portal does not change one.
    expectError(await client.call('PATCH', `/portal/api/v1/sources/${source.id}`, { body: { secret: 'replaced' } }), 404, 'not_found');

    // Another tenant's source: 404, as in the API, and it stays.
    const theirs = await ctx.harness.call('POST', '/v1/sources', { token: globex.apiKey, body: { name: 'Globex', type: 'github', secret: 'globex-secret' } });
    for (const [method, path, body] of [
      ['GET', `/portal/api/v1/sources/${theirs.body.source.id}`],
      ['POST', `/portal/api/v1/sources/${theirs.body.source.id}/rotate-url`, {}],
      ['DELETE', `/portal/api/v1/sources/${theirs.body.source.id}`],
    ] as const) {
      expectError(await client.call(method, path, { body }), 404, 'not_found');
    }
    expect((await ctx.harness.call('GET', `/v1/sources/${theirs.body.source.id}`, { token: globex.apiKey })).status).toBe(200);

    expect((await client.call('DELETE', `/portal/api/v1/sources/${source.id}`)).status).toBe(204);
    expect((await ctx.harness.call('GET', `/v1/sources/${source.id}`, { token: acme.apiKey })).status).toBe(404);
  });

  it('refuses a change without the session\'s CSRF token, or from another origin', async () => {
    const client = await session(acme.apiKey);
    const before = await ctx.harness.models.Webhook.countDocuments({ tenantId: acme.tenantId });
    expectError(await client.call('POST', '/portal/api/v1/webhooks', { body: webhookBody, csrf: null }), 403, 'csrf_failed');
    expectError(await client.call('POST', '/portal/api/v1/webhooks', { body: webhookBody, csrf: 'x'.repeat(43) }), 403, 'csrf_failed');
    const other = await session(acme.apiKey);
    expectError(await client.call('POST', '/portal/api/v1/webhooks', { body: webhookBody, csrf: other.csrfToken }), 403, 'csrf_failed');
    expectError(await client.call('POST', '/portal/api/v1/webhooks', { body: webhookBody, headers: { origin: 'https://evil.example' } }), 403, 'csrf_failed');
    expectError(await client.call('DELETE', '/portal/api/session', { csrf: null }), 403, 'csrf_failed');
    expect(await ctx.harness.models.Webhook.countDocuments({ tenantId: acme.tenantId })).toBe(before);
    // Without a cookie nothing is reached at all.
    expectError(await ctx.harness.call('GET', '/portal/api/v1/webhooks'), 401, 'portal_session_invalid');
  });

  it('a read-only session reads everything and changes nothing', async () => {
    const { webhookId } = await ctx.harness.createWebhook(acme.apiKey, webhookBody);
    const client = await session(acme.apiKey, { readOnly: true });
    expect(valid(portalSessionStateSchema, (await client.call('GET', '/portal/api/session')).body).session.readOnly).toBe(true);
    expect((await client.call('GET', `/portal/api/v1/webhooks/${webhookId}`)).status).toBe(200);
    const before = await ctx.harness.models.Webhook.findById(webhookId).lean();
    for (const [method, path, body] of [
      ['POST', '/portal/api/v1/webhooks', webhookBody],
      ['PATCH', `/portal/api/v1/webhooks/${webhookId}`, { active: false }],
      ['PUT', `/portal/api/v1/webhooks/${webhookId}`, webhookBody],
      ['POST', `/portal/api/v1/webhooks/${webhookId}/rotate-secret`, {}],
      ['POST', `/portal/api/v1/webhooks/${webhookId}/test`, {}],
      ['DELETE', `/portal/api/v1/webhooks/${webhookId}`],
    ] as const) {
      expectError(await client.call(method, path, { body }), 403, 'read_only_session');
    }
    expect(await ctx.harness.models.Webhook.findById(webhookId).lean()).toEqual(before);
    // Signing out is allowed to every session.
    expect((await client.call('DELETE', '/portal/api/session')).status).toBe(204);
    expectError(await client.call('GET', '/portal/api/session'), 401, 'portal_session_invalid');
  });

  it('ends the sessions of a revoked API key', async () => {
    const issued = await ctx.harness.call('POST', `/v1/admin/tenants/${acme.tenantId}/api-keys`, { token: ctx.harness.adminToken });
    const client = await session(issued.body.apiKey);
    expect((await client.call('GET', '/portal/api/v1/webhooks')).status).toBe(200);
    expect((await ctx.harness.call('DELETE', `/v1/admin/tenants/${acme.tenantId}/api-keys/${issued.body.id}`, { token: ctx.harness.adminToken })).status).toBe(204);
    expectError(await client.call('GET', '/portal/api/v1/webhooks'), 401, 'portal_session_invalid');
  });

  it('serves the pages with a strict Content-Security-Policy, no inline script or style, nothing from elsewhere', async () => {
    for (const path of ['/portal/', '/portal/open', '/portal/webhooks/wh_x/deliveries']) {
      const res = await fetch(ctx.harness.baseUrl + path);
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      // Plain http on loopback (no https PUBLIC_URL): no HSTS, which would pin the host to https.
      expect(res.headers.get('strict-transport-security')).toBeNull();
      const html = await res.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/<style|\sstyle=/);
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
      for (const asset of [...html.matchAll(/(?:src|href)="(\/portal\/assets\/[^"]+)"/g)].map((m) => m[1])) {
        expect((await fetch(ctx.harness.baseUrl + asset)).status).toBe(200);
      }
    }
  });
});
