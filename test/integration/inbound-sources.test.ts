import { createHmac, randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import {
  ingestAcceptedResponseSchema,
  ingestUrlRotationResponseSchema,
  sourceCreatedResponseSchema,
  sourceListResponseSchema,
  sourceResponseSchema,
} from '../../src/api/schemas/source';
import { eventResponseSchema } from '../../src/api/schemas/delivery';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { freePort } from '../../src/embedded/ports';
import { Harness } from '../support/harness';
import { EventIngestion } from '../../src/events/event-ingestion';
import { SourceIngest } from '../../src/sources/source-ingest';
import { issueIngestToken } from '../../src/sources/ingest-token';
import { expectError, pathsOf, valid } from '../support/shapes';
import { verifiedPayload } from '../support/signatures';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

const STANDARD_SECRET = `whsec_${Buffer.from('a standard webhooks secret, 32 b').toString('base64')}`;

/**
 * A signature header with its digest changed: the first four characters of its last run of
 * hex or base64, which carry whole bits (a base64 digest's last characters may hold none).
 */
function tamperDigest(value: string): string {
  const runs = [...value.matchAll(/[A-Za-z0-9+/]{16,}/g)];
  const last = runs.at(-1);
  if (!last || last.index === undefined) throw new Error(`no digest in ${value}`);
  const replacement = last[0].startsWith('0000') ? '1111' : '0000';
  return value.slice(0, last.index) + replacement + value.slice(last.index + 4);
}

interface Signed {
  headers: Record<string, string>;
}

/** How each provider signs a body, with the provider's own library where there is one. */
const providers: {
  type: string;
  secret: string;
  extra?: Record<string, unknown>;
  /** Signs `raw` as the provider would, for the delivery `deliveryId`. */
  sign: (raw: string, deliveryId: string) => Promise<Signed>;
  body: (deliveryId: string) => Record<string, unknown>;
  eventType: string;
  metadata: (deliveryId: string) => Record<string, string>;
  /** The event id, when it is not `<source id>:<delivery id>`. */
  eventId?: (sourceId: string, deliveryId: string) => string;
}[] = [
  {
    type: 'github',
    secret: 'a github webhook secret',
    body: () => ({ ref: 'refs/heads/main', after: 'abc123', repository: { full_name: 'acme/api' } }),
    sign: async (raw, deliveryId) => ({
      headers: {
        'x-hub-signature-256': await sign({ secret: 'a github webhook secret', algorithm: 'sha256' }, raw),
        'x-github-event': 'push',
        'x-github-delivery': deliveryId,
        'x-github-hook-id': '4242',
        'x-github-hook-installation-target-type': 'repository',
        'x-github-hook-installation-target-id': '99',
      },
    }),
    eventType: 'github.push',
    metadata: (id) => ({
      'github-delivery': id,
      'github-event': 'push',
      'github-hook-id': '4242',
      'github-hook-installation-target-type': 'repository',
      'github-hook-installation-target-id': '99',
    }),
  },
  {
    type: 'stripe',
    secret: 'whsec_stripe_endpoint_secret',
    body: (id) => ({ id, object: 'event', type: 'invoice.paid', api_version: '2024-06-20', livemode: false, data: { object: { id: 'in_1', amount_paid: 4200 } } }),
    sign: async (raw) => ({ headers: { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: raw, secret: 'whsec_stripe_endpoint_secret' }) } }),
    eventType: 'stripe.invoice.paid',
    metadata: (id) => ({ 'stripe-event-id': id, 'stripe-api-version': '2024-06-20', 'stripe-livemode': 'false' }),
  },
  {
    type: 'shopify',
    secret: 'shpss_shopify_client_secret',
    body: () => ({ id: 450789469, email: 'jon@example.com', total_price: '403.00' }),
    // Shopify's documented scheme: base64 HMAC-SHA256 of the raw body with the client secret.
    sign: async (raw, deliveryId) => ({
      headers: {
        'x-shopify-hmac-sha256': createHmac('sha256', 'shpss_shopify_client_secret').update(raw).digest('base64'),
        'x-shopify-topic': 'orders/create',
        // Shopify's rule: the event id is the same on every retry; the webhook id may not be.
        'x-shopify-event-id': deliveryId,
        'x-shopify-webhook-id': randomUUID(),
        'x-shopify-shop-domain': 'acme.myshopify.com',
        'x-shopify-api-version': '2025-01',
        'x-shopify-triggered-at': new Date().toISOString(),
      },
    }),
    eventType: 'shopify.orders.create',
    metadata: (id) => ({ 'shopify-event-id': id, 'shopify-topic': 'orders/create', 'shopify-shop-domain': 'acme.myshopify.com', 'shopify-api-version': '2025-01' }),
    eventId: (sourceId, id) => `${sourceId}:orders.create:${id}`,
  },
  {
    type: 'standard-webhooks',
    secret: STANDARD_SECRET,
    body: () => ({ type: 'user.created', data: { id: 'u_1' } }),
    sign: async (raw, deliveryId) => {
      const now = new Date();
      return {
        headers: {
          'webhook-id': deliveryId,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': new Webhook(STANDARD_SECRET).sign(deliveryId, now, raw),
        },
      };
    },
    eventType: 'standard_webhooks.user.created',
    metadata: (id) => ({ 'webhook-id': id }),
  },
  {
    type: 'hmac',
    secret: 'a generic hmac secret',
    extra: { hmac: { header: 'X-Signature', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=', eventTypeHeader: 'X-Event', idHeader: 'X-Delivery' } },
    body: () => ({ order: 7, paid: true }),
    sign: async (raw, deliveryId) => ({
      headers: {
        'x-signature': `sha512=${createHmac('sha512', 'a generic hmac secret').update(raw).digest('base64')}`,
        'x-event': 'order/paid',
        'x-delivery': deliveryId,
      },
    }),
    eventType: 'hmac.order.paid',
    metadata: (id) => ({ 'hmac-delivery-id': id, 'hmac-event': 'order/paid' }),
  },
];

describe('inbound sources', () => {
  const ctx = useHarness({ receivers: 1 });

  async function post(url: string, raw: string, headers: Record<string, string>, contentType = 'application/json') {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body: raw });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  async function createSource(apiKey: string, body: Record<string, unknown>) {
    const res = await ctx.harness.call('POST', '/v1/sources', { token: apiKey, body });
    expect(res.status).toBe(201);
    return valid(sourceCreatedResponseSchema, res.body).source;
  }

  /** The counter's value for one type and result, from GET /metrics. */
  async function counted(type: string, result: string): Promise<number> {
    const text = await (await fetch(`${ctx.harness.baseUrl}/metrics`, { headers: { authorization: `Bearer ${ctx.harness.adminToken}` } })).text();
    const line = text.split('\n').find((l) => l.startsWith(`webhook_source_requests_total{type="${type}",result="${result}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  it('creates, lists, reads and deletes sources; never returns or stores the secret in clear; another tenant gets 404', async () => {
    const { apiKey } = await ctx.harness.createTenant('Sources CRUD');
    const other = await ctx.harness.createTenant('Someone else');
    const secret = `gh-secret-${randomUUID()}`;
    const created = await createSource(apiKey, { name: 'Repo hooks', type: 'github', secret });
    expect(created).toMatchObject({ name: 'Repo hooks', type: 'github', hmac: null, eventTypePrefix: 'github.', previousIngestUrl: null, previousIngestUrlExpiresAt: null });
    expect(created.ingestUrl).toMatch(new RegExp(`^${ctx.harness.baseUrl}/v1/ingest/${created.id}/[A-Za-z0-9_-]{43}$`));
    const token = created.ingestUrl.split('/').pop()!;

    const read = await ctx.harness.call('GET', `/v1/sources/${created.id}`, { token: apiKey });
    expect(read.status).toBe(200);
    expect(valid(sourceResponseSchema, read.body).source).toEqual({ ...created, updatedAt: expect.any(String) });

    const hmac = await createSource(apiKey, { name: 'Generic', type: 'hmac', secret: 'k', hmac: { header: 'X-Sig' } });
    expect(hmac.hmac).toEqual({ header: 'x-sig', algorithm: 'sha256', encoding: 'hex', prefix: '', eventType: 'event', eventTypeHeader: null, idHeader: null });
    await createSource(apiKey, { name: 'Stripe', type: 'stripe', secret: 'whsec_abc' });
    const first = valid(sourceListResponseSchema, (await ctx.harness.call('GET', '/v1/sources?limit=2', { token: apiKey })).body);
    expect(first.sources).toHaveLength(2);
    const second = valid(sourceListResponseSchema, (await ctx.harness.call('GET', `/v1/sources?limit=2&cursor=${first.nextCursor}`, { token: apiKey })).body);
    expect(second).toEqual({ sources: [expect.objectContaining({ id: created.id })], nextCursor: null });

    // The list shows the same ingest URL as create and GET one.
    expect(second.sources[0].ingestUrl).toBe(created.ingestUrl);

    // Never the secret: not in any answer. Neither in clear in the database: the token is there
    // hashed and sealed, the secret sealed.
    const answers = JSON.stringify([read.body, first, second]);
    expect(answers).not.toContain(secret);
    const storedDoc = (await ctx.harness.models.Source.findById(created.id).lean())!;
    const stored = JSON.stringify(storedDoc);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(token);
    expect(ctx.harness.secretBox.decrypt(storedDoc.secret)).toBe(secret);
    expect(ctx.harness.secretBox.decrypt(storedDoc.sealedToken!)).toBe(token);

    // Another tenant: 404 everywhere, and an empty list.
    for (const [method, path] of [['GET', `/v1/sources/${created.id}`], ['DELETE', `/v1/sources/${created.id}`], ['POST', `/v1/sources/${created.id}/rotate-url`]]) {
      expectError(await ctx.harness.call(method, path, { token: other.apiKey }), 404, 'not_found');
    }
    expect((await ctx.harness.call('GET', '/v1/sources', { token: other.apiKey })).body).toEqual({ sources: [], nextCursor: null });
    expectError(await ctx.harness.call('GET', '/v1/sources'), 401, 'unauthorized');

    // Invalid input: 400 in the one error shape, naming the fields.
    const bad = async (body: unknown) => pathsOf(expectError(await ctx.harness.call('POST', '/v1/sources', { token: apiKey, body }), 400, 'validation_failed'));
    expect(await bad({ name: 'x', type: 'gitlab', secret: 's' })).toEqual(['type']);
    expect(await bad({ name: 'x', type: 'stripe', secret: 'sk_live_123' })).toEqual(['secret']);
    expect(await bad({ name: 'x', type: 'standard-webhooks', secret: 'whsec_not base64!' })).toEqual(['secret']);
    expect(await bad({ name: 'x', type: 'hmac', secret: 's' })).toEqual(['hmac']);
    expect(await bad({ name: 'x', type: 'hmac', secret: 's', hmac: { header: 'X-Sig', algorithm: 'md5' } })).toEqual(['hmac.algorithm']);
    expect(await bad({ name: 'x', type: 'github', secret: 's', extra: 1 })).toEqual(['extra']);
    expect(await bad({ name: '', type: 'github', secret: '' })).toEqual(['name', 'secret']);

    expect((await ctx.harness.call('DELETE', `/v1/sources/${created.id}`, { token: apiKey })).status).toBe(204);
    expectError(await ctx.harness.call('GET', `/v1/sources/${created.id}`, { token: apiKey }), 404, 'not_found');
    const raw = '{}';
    expectError(await post(created.ingestUrl, raw, { 'x-hub-signature-256': await sign(secret, raw), 'x-github-event': 'ping', 'x-github-delivery': 'd' }), 404, 'not_found');

    const logs = ctx.harness.apiLogs.join('\n');
    expect(logs).not.toContain(secret);
    expect(logs).not.toContain(token);
  });

  it.each(providers.map((p) => [p.type, p] as const))('%s: a signed request is an event delivered once to a subscribed webhook; the provider\'s retry is the same event', async (_type, provider) => {
    const { apiKey, tenantId } = await ctx.harness.createTenant(`Source ${provider.type}`);
    const source = await createSource(apiKey, { name: provider.type, type: provider.type, secret: provider.secret, ...provider.extra });
    const path = `/source-${provider.type}`;
    const { secret: webhookSecret } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url(path), events: [`${provider.eventType.split('.')[0]}.*`] });
    const deliveryId = provider.type === 'stripe' ? `evt_${randomUUID().replace(/-/g, '')}` : provider.type === 'standard-webhooks' ? `msg_${randomUUID()}` : randomUUID();
    const body = provider.body(deliveryId);
    const raw = JSON.stringify(body, null, 2);

    const accepted = await post(source.ingestUrl, raw, (await provider.sign(raw, deliveryId)).headers);
    const eventId = provider.eventId?.(source.id, deliveryId) ?? `${source.id}:${deliveryId}`;
    expect([accepted.status, accepted.body]).toEqual([202, { id: eventId, type: provider.eventType, status: 'accepted', duplicate: false }]);
    valid(ingestAcceptedResponseSchema, accepted.body);

    const read = await ctx.harness.call('GET', `/v1/events/${encodeURIComponent(accepted.body.id)}`, { token: apiKey });
    expect(read.status).toBe(200);
    const { event } = valid(eventResponseSchema, read.body);
    expect(event).toMatchObject({ id: accepted.body.id, type: provider.eventType, tenant_id: tenantId, data: body });
    expect(event.metadata).toEqual({ 'source-id': source.id, 'source-type': provider.type, ...provider.metadata(deliveryId) });
    expect(JSON.stringify(event.metadata)).not.toMatch(/signature|hmac-sha256/i);

    // The provider retries (same delivery id, signed again): the same event, nothing fanned out again.
    const retried = await post(source.ingestUrl, raw, (await provider.sign(raw, deliveryId)).headers);
    expect([retried.status, retried.body]).toEqual([202, { ...accepted.body, duplicate: true }]);
    expect(await ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, accepted.body.id)).result()).toEqual({ deliveries: 1 });
    const received = await eventually(() => (ctx.receiver.requests.some((r) => r.path === path) ? ctx.receiver.requests.filter((r) => r.path === path) : undefined), 30_000, 'the delivery');
    expect(received).toHaveLength(1);
    expect(verifiedPayload(received[0], webhookSecret)).toMatchObject({ id: accepted.body.id, type: provider.eventType, data: body });
  });

  it('refuses a bad or missing signature with 401, stores nothing and counts it; a Stripe signature over 5 minutes old too', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant('Bad signatures');
    const cases: { provider: (typeof providers)[number]; tamper: (signed: Signed) => Record<string, string> }[] = [];
    for (const provider of providers) {
      cases.push({ provider, tamper: (s) => Object.fromEntries(Object.entries(s.headers).map(([k, v]) => [k, /signature|hmac/.test(k) ? tamperDigest(v) : v])) });
      cases.push({ provider, tamper: (s) => Object.fromEntries(Object.entries(s.headers).filter(([k]) => !/signature|hmac/.test(k))) });
    }
    for (const { provider, tamper } of cases) {
      const source = await createSource(apiKey, { name: provider.type, type: provider.type, secret: provider.secret, ...provider.extra });
      const deliveryId = `d-${randomUUID()}`;
      const raw = JSON.stringify(provider.body(deliveryId));
      const before = await counted(provider.type, 'unauthorized');
      const res = await post(source.ingestUrl, raw, tamper(await provider.sign(raw, deliveryId)));
      expect([provider.type, res.status]).toEqual([provider.type, 401]);
      expectError(res, 401, 'invalid_signature');
      expect(await counted(provider.type, 'unauthorized')).toBe(before + 1);
    }
    // Signed right, but with another source's secret.
    const github = await createSource(apiKey, { name: 'gh', type: 'github', secret: 'the right one' });
    const raw = '{"zen":"hi"}';
    expectError(await post(github.ingestUrl, raw, { 'x-hub-signature-256': await sign('the wrong one', raw), 'x-github-event': 'ping', 'x-github-delivery': 'x' }), 401);

    const stripe = await createSource(apiKey, { name: 'st', type: 'stripe', secret: 'whsec_stale' });
    const stale = JSON.stringify({ id: 'evt_stale', type: 'invoice.paid' });
    const header = Stripe.webhooks.generateTestHeaderString({ payload: stale, secret: 'whsec_stale', timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expectError(await post(stripe.ingestUrl, stale, { 'stripe-signature': header }), 401, 'invalid_signature');

    expect(await ctx.harness.models.Event.countDocuments({ tenantId })).toBe(0);
  });

  it('answers 404 for an unknown URL, 400 for a signed body that is not JSON or lacks its delivery id, 415 for a form, 413 over the limit, 409 for a reused delivery id', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant('Ingest errors');
    const secret = 'gh';
    const source = await createSource(apiKey, { name: 'gh', type: 'github', secret });
    const headers = async (raw: string, delivery = 'd-1') => ({ 'x-hub-signature-256': await sign(secret, raw), 'x-github-event': 'push', 'x-github-delivery': delivery });
    const base = source.ingestUrl.slice(0, source.ingestUrl.lastIndexOf('/'));

    const before = await counted('unknown', 'not_found');
    expectError(await post(`${base}/${'A'.repeat(43)}`, '{}', await headers('{}')), 404, 'not_found');
    expectError(await post(`${ctx.harness.baseUrl}/v1/ingest/src_nothing/${'A'.repeat(43)}`, '{}', await headers('{}')), 404, 'not_found');
    expect(await counted('unknown', 'not_found')).toBe(before + 2);
    // No API key is needed, and one is not enough.
    const withKey = await fetch(`${base}/short`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: '{}' });
    expect(withKey.status).toBe(404);

    expectError(await post(source.ingestUrl, 'not json', await headers('not json')), 400, 'invalid_json');
    const form = 'payload=%7B%7D';
    expectError(await post(source.ingestUrl, form, await headers(form), 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
    const noDelivery = await post(source.ingestUrl, '{}', { 'x-hub-signature-256': await sign(secret, '{}'), 'x-github-event': 'push' });
    expect(pathsOf(expectError(noDelivery, 400, 'validation_failed'))).toEqual(['headers.x-github-delivery']);
    const big = JSON.stringify({ blob: 'x'.repeat(300 * 1024) });
    expectError(await post(source.ingestUrl, big, await headers(big)), 413, 'payload_too_large');
    expect(await ctx.harness.models.Event.countDocuments({ tenantId })).toBe(0);

    expect((await post(source.ingestUrl, '{"v":1}', await headers('{"v":1}', 'same'))).status).toBe(202);
    expectError(await post(source.ingestUrl, '{"v":2}', await headers('{"v":2}', 'same')), 409, 'idempotency_conflict');
  });

  it('PATCH sets the secret a provider shows once its endpoint exists (Stripe): the next request is checked with it; the URL stays', async () => {
    const { apiKey } = await ctx.harness.createTenant('Patch');
    const source = await createSource(apiKey, { name: 'Stripe', type: 'stripe', secret: 'whsec_placeholder' });
    const patch = (body: unknown) => ctx.harness.call('PATCH', `/v1/sources/${source.id}`, { token: apiKey, body });
    expect(pathsOf(expectError(await patch({ secret: 'sk_live_nope' }), 400, 'validation_failed'))).toEqual(['secret']);
    expect(pathsOf(expectError(await patch({ hmac: { header: 'x-sig' } }), 400, 'validation_failed'))).toEqual(['hmac']);
    expectError(await patch({}), 400, 'validation_failed');
    const changed = await patch({ secret: 'whsec_from_the_dashboard', name: 'Stripe live' });
    expect(changed.status).toBe(200);
    expect(valid(sourceResponseSchema, changed.body).source).toMatchObject({ id: source.id, name: 'Stripe live' });
    expect(JSON.stringify(changed.body)).not.toContain('whsec_from_the_dashboard');

    const raw = JSON.stringify({ id: 'evt_patched', type: 'charge.succeeded' });
    const signed = (secret: string) => ({ 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: raw, secret }) });
    expectError(await post(source.ingestUrl, raw, signed('whsec_placeholder')), 401, 'invalid_signature');
    const ok = await post(source.ingestUrl, raw, signed('whsec_from_the_dashboard'));
    expect([ok.status, ok.body.type]).toEqual([202, 'stripe.charge.succeeded']);
  });

  it('rotate-url: the new URL works at once and the previous one for 24 hours; a second rotation ends the oldest', async () => {
    const { apiKey } = await ctx.harness.createTenant('Rotation');
    const secret = `whsec_${Buffer.from('rotation rotation rotation 32 by').toString('base64')}`;
    const source = await createSource(apiKey, { name: 'sw', type: 'standard-webhooks', secret });
    const send = async (url: string, id: string) => {
      const raw = JSON.stringify({ type: 'thing.happened', n: id });
      const now = new Date();
      return post(url, raw, { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, now, raw) });
    };
    const rotatedAt = Date.now();
    const rotation = await ctx.harness.call('POST', `/v1/sources/${source.id}/rotate-url`, { token: apiKey });
    expect(rotation.status).toBe(200);
    const { ingestUrl, previousIngestUrlExpiresAt } = valid(ingestUrlRotationResponseSchema, rotation.body);
    expect(ingestUrl).not.toBe(source.ingestUrl);
    expect(Math.abs(Date.parse(previousIngestUrlExpiresAt) - rotatedAt - 24 * 3600_000)).toBeLessThan(60_000);
    expect((await send(ingestUrl, 'msg_new')).status).toBe(202);
    expect((await send(source.ingestUrl, 'msg_old')).status).toBe(202);
    expect(rotation.body.previousIngestUrl).toBe(source.ingestUrl);
    const read = valid(sourceResponseSchema, (await ctx.harness.call('GET', `/v1/sources/${source.id}`, { token: apiKey })).body);
    expect(read.source).toMatchObject({ ingestUrl, previousIngestUrl: source.ingestUrl, previousIngestUrlExpiresAt });
    const listed = valid(sourceListResponseSchema, (await ctx.harness.call('GET', '/v1/sources', { token: apiKey })).body);
    expect(listed.sources).toEqual([read.source]);
    expect(valid(sourceResponseSchema, (await ctx.harness.call('PATCH', `/v1/sources/${source.id}`, { token: apiKey, body: { name: 'renamed' } })).body).source).toMatchObject({
      ingestUrl,
      previousIngestUrl: source.ingestUrl,
    });
    // Neither token in clear at rest, both sealed.
    const storedDoc = (await ctx.harness.models.Source.findById(source.id).lean())!;
    const stored = JSON.stringify(storedDoc);
    for (const url of [ingestUrl, source.ingestUrl]) expect(stored).not.toContain(url.split('/').pop()!);
    expect(ctx.harness.secretBox.decrypt(storedDoc.previousSealedToken!)).toBe(source.ingestUrl.split('/').pop());

    const again = valid(ingestUrlRotationResponseSchema, (await ctx.harness.call('POST', `/v1/sources/${source.id}/rotate-url`, { token: apiKey })).body);
    expect((await send(again.ingestUrl, 'msg_newest')).status).toBe(202);
    expect((await send(ingestUrl, 'msg_previous')).status).toBe(202);
    expectError(await send(source.ingestUrl, 'msg_oldest'), 404, 'not_found');
    expect(again).toMatchObject({ previousIngestUrl: ingestUrl, source: { ingestUrl: again.ingestUrl, previousIngestUrl: ingestUrl } });
  });

  it('a source stored before sealed tokens (hash only) still ingests; its reads show ingestUrl null until rotate-url', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant('Legacy source');
    const id = `src_legacy${randomUUID().replace(/-/g, '')}`;
    const { token, hash } = issueIngestToken();
    const secret = 'a legacy github secret';
    // As the previous build stored it: no sealedToken, no previousSealedToken.
    await ctx.harness.models.Source.collection.insertOne({
      _id: id as never,
      tenantId,
      name: 'Legacy',
      type: 'github',
      secret: ctx.harness.secretBox.encrypt(secret),
      hmac: null,
      tokenHash: hash,
      previousTokenHash: null,
      previousTokenExpiresAt: null,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    const legacyUrl = `${ctx.harness.baseUrl}/v1/ingest/${id}/${token}`;
    const ping = async (url: string, deliveryId: string) => {
      const raw = JSON.stringify({ zen: deliveryId });
      return post(url, raw, { 'x-hub-signature-256': await sign(secret, raw), 'x-github-event': 'ping', 'x-github-delivery': deliveryId });
    };
    expect((await ping(legacyUrl, 'legacy-1')).status).toBe(202);

    const read = valid(sourceResponseSchema, (await ctx.harness.call('GET', `/v1/sources/${id}`, { token: apiKey })).body).source;
    expect(read).toMatchObject({ id, ingestUrl: null, previousIngestUrl: null, previousIngestUrlExpiresAt: null });
    const listed = valid(sourceListResponseSchema, (await ctx.harness.call('GET', '/v1/sources', { token: apiKey })).body);
    expect(listed.sources).toEqual([read]);

    // Rotating issues a URL that is shown; the legacy one works for the overlap, shown as null.
    const rotated = valid(ingestUrlRotationResponseSchema, (await ctx.harness.call('POST', `/v1/sources/${id}/rotate-url`, { token: apiKey })).body);
    expect(rotated.previousIngestUrl).toBeNull();
    const after = valid(sourceResponseSchema, (await ctx.harness.call('GET', `/v1/sources/${id}`, { token: apiKey })).body).source;
    expect(after).toMatchObject({ ingestUrl: rotated.ingestUrl, previousIngestUrl: null, previousIngestUrlExpiresAt: rotated.previousIngestUrlExpiresAt });
    expect((await ping(legacyUrl, 'legacy-2')).status).toBe(202);
    expect((await ping(rotated.ingestUrl, 'legacy-3')).status).toBe(202);
    expect(ctx.harness.apiLogs.join('\n')).not.toContain(token);
  });
});

describe('inbound sources while Temporal is unreachable', () => {
  const ctx = useHarness({ receivers: 1 });

  it('answers 503 with Retry-After and starts nothing; the provider\'s retry once Temporal is back is accepted and fanned out once', async () => {
    const down = await Harness.start({ apiTemporalAddress: `127.0.0.1:${await freePort()}`, worker: false });
    try {
      // The same database, with an API and a worker that reach Temporal. Each harness seals with
      // its own key: the source is created through `down`, the webhook through `up`.
      const up = await Harness.start({ mongodbUri: down.mongodbUri });
      try {
        const { apiKey, tenantId } = await down.createTenant('Outage');
        await up.createWebhook(apiKey, { url: ctx.receiver.url('/outage'), events: ['github.*'] });
        const created = valid(sourceCreatedResponseSchema, (await down.call('POST', '/v1/sources', { token: apiKey, body: { name: 'gh', type: 'github', secret: 's3cret' } })).body).source;
        const raw = '{"zen":"Keep it logically awesome."}';
        const headers = { 'content-type': 'application/json', 'x-hub-signature-256': await sign('s3cret', raw), 'x-github-event': 'ping', 'x-github-delivery': 'outage-1' };
        const id = `${created.id}:outage-1`;

        const refused = await fetch(created.ingestUrl, { method: 'POST', headers, body: raw });
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBeTruthy();
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('service_unavailable');
        const notStarted = await up.client.workflow.getHandle(eventWorkflowId(tenantId, id)).describe().catch((e: Error) => e.name);
        expect(notStarted).toBe('WorkflowNotFoundError');

        // The provider's retry, through what the ingest route runs, with `down`'s key and `up`'s Temporal.
        const sources = new SourceIngest({ models: up.models, secretBox: down.secretBox, ingestion: new EventIngestion({ models: up.models, client: up.client, taskQueue: up.taskQueue }) });
        const token = created.ingestUrl.split('/').pop()!;
        const accepted = await sources.receive(await sources.open(created.id, token), Buffer.from(raw), headers);
        expect(accepted).toEqual({ id, type: 'github.ping', status: 'accepted', duplicate: false });
        expect(await up.client.workflow.getHandle(eventWorkflowId(tenantId, id)).result()).toEqual({ deliveries: 1 });
        expect(ctx.receiver.requests.filter((r) => r.path === '/outage')).toHaveLength(1);
      } finally {
        await up.close();
      }
    } finally {
      await down.close();
    }
  });
});
