import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import { eventIdSchema } from '../../src/api/routes/events';
import { sourceInputSchema } from '../../src/api/schemas/source';
import { eventTypeSchema } from '../../src/events/event-type';
import { sourceEventId, sourceEventType } from '../../src/sources/event-naming';
import { HMAC_DEFAULTS } from '../../src/sources/hmac';
import { INGEST_URL_OVERLAP_MS, hashIngestToken, ingestTokenAccepted, issueIngestToken } from '../../src/sources/ingest-token';
import { VERIFIERS } from '../../src/sources/registry';
import type { HmacSettings, SourceRequest } from '../../src/sources/verifier';

const request = (raw: string, headers: Record<string, string>, settings: HmacSettings | null = null): SourceRequest => ({ raw: Buffer.from(raw), headers, settings });

describe('source event types and ids', () => {
  it.each([
    ['github', 'push', 'github.push'],
    ['github', 'pull_request', 'github.pull_request'],
    ['github', 'check-run', 'github.check_run'],
    ['stripe', 'invoice.paid', 'stripe.invoice.paid'],
    ['stripe', 'customer.subscription.created', 'stripe.customer.subscription.created'],
    ['shopify', 'orders/create', 'shopify.orders.create'],
    ['shopify', 'app_subscriptions/update', 'shopify.app_subscriptions.update'],
    ['shopify', 'Orders/Paid', 'shopify.orders.paid'],
    ['standard_webhooks', 'user.created', 'standard_webhooks.user.created'],
    ['standard_webhooks', 'v2:Thing  Happened', 'standard_webhooks.v2.thing_happened'],
    ['hmac', '2fa/enabled', 'hmac.x2fa.enabled'],
    ['hmac', '_private', 'hmac.x_private'],
    ['hmac', '', 'hmac.unknown'],
    ['hmac', undefined, 'hmac.unknown'],
    ['hmac', '///', 'hmac.unknown'],
    ['github', 'é', 'github.unknown'],
  ])('%s + %j -> %s, a valid event type', (prefix, name, expected) => {
    const type = sourceEventType(prefix, name);
    expect(type).toBe(expected);
    expect(eventTypeSchema.safeParse(type).success).toBe(true);
  });

  it('cuts a long name to a valid type of at most 128 characters', () => {
    const type = sourceEventType('github', `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}`);
    expect(type.length).toBeLessThanOrEqual(128);
    expect(eventTypeSchema.safeParse(type).success).toBe(true);
  });

  it('scopes the delivery id to the source; an id our grammar refuses is hashed, still one per delivery', () => {
    expect(sourceEventId('src_abc', '72d3162e-cc78-11e3-81ab-4c9367dc0958')).toBe('src_abc:72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(sourceEventId('src_abc', 'evt_1')).not.toBe(sourceEventId('src_def', 'evt_1'));
    const odd = sourceEventId('src_abc', 'a b/c');
    expect(odd).toMatch(/^src_abc:sha256\.[A-Za-z0-9_-]{43}$/);
    expect(sourceEventId('src_abc', 'a b/c')).toBe(odd);
    for (const id of [odd, sourceEventId('src_abc', 'x'.repeat(500)), sourceEventId('src_abc', 'evt_1')]) expect(eventIdSchema.safeParse(id).success).toBe(true);
  });
});

describe('ingest URL tokens', () => {
  it('takes the current token, and the previous one only until it expires (24 h)', () => {
    const old = issueIngestToken();
    const current = issueIngestToken();
    const rotatedAt = new Date('2026-01-01T00:00:00Z');
    const stored = { tokenHash: current.hash, previousTokenHash: old.hash, previousTokenExpiresAt: new Date(rotatedAt.getTime() + INGEST_URL_OVERLAP_MS) };
    expect(ingestTokenAccepted(stored, current.token, rotatedAt)).toBe(true);
    expect(ingestTokenAccepted(stored, old.token, rotatedAt)).toBe(true);
    expect(ingestTokenAccepted(stored, old.token, new Date(rotatedAt.getTime() + INGEST_URL_OVERLAP_MS - 1))).toBe(true);
    expect(ingestTokenAccepted(stored, old.token, new Date(rotatedAt.getTime() + INGEST_URL_OVERLAP_MS))).toBe(false);
    expect(ingestTokenAccepted(stored, current.token, new Date(rotatedAt.getTime() + 10 * INGEST_URL_OVERLAP_MS))).toBe(true);
    expect(ingestTokenAccepted(stored, issueIngestToken().token, rotatedAt)).toBe(false);
    expect(ingestTokenAccepted(stored, 'short', rotatedAt)).toBe(false);
    expect(current.hash).toBe(hashIngestToken(current.token));
    expect(current.hash).not.toContain(current.token);
  });
});

describe('provider verifiers, against the providers\' own signers', () => {
  const body = JSON.stringify({ id: 'evt_1', type: 'invoice.paid', zero: 0 });

  it('github: X-Hub-Signature-256 made by @octokit/webhooks-methods sign; sha1 and tampered bodies refused', async () => {
    const signature = await sign({ secret: 'gh-secret', algorithm: 'sha256' }, body);
    expect(await VERIFIERS.github.verify(request(body, { 'x-hub-signature-256': signature }), 'gh-secret')).toBe(true);
    expect(await VERIFIERS.github.verify(request(`${body} `, { 'x-hub-signature-256': signature }), 'gh-secret')).toBe(false);
    expect(await VERIFIERS.github.verify(request(body, { 'x-hub-signature-256': signature }), 'other')).toBe(false);
    const sha1 = await sign({ secret: 'gh-secret', algorithm: 'sha1' }, body);
    expect(await VERIFIERS.github.verify(request(body, { 'x-hub-signature-256': sha1 }), 'gh-secret')).toBe(false);
    expect(await VERIFIERS.github.verify(request(body, {}), 'gh-secret')).toBe(false);
  });

  it('stripe: a header from generateTestHeaderString passes; over 5 minutes old, or another secret, fails', async () => {
    const secret = 'whsec_test_secret';
    const fresh = Stripe.webhooks.generateTestHeaderString({ payload: body, secret });
    expect(await VERIFIERS.stripe.verify(request(body, { 'stripe-signature': fresh }), secret)).toBe(true);
    const stale = Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(await VERIFIERS.stripe.verify(request(body, { 'stripe-signature': stale }), secret)).toBe(false);
    expect(await VERIFIERS.stripe.verify(request(body, { 'stripe-signature': fresh }), 'whsec_other')).toBe(false);
    expect(VERIFIERS.stripe.describe(request(body, {}), JSON.parse(body))).toMatchObject({ providerEvent: 'invoice.paid', deliveryId: 'evt_1' });
  });

  it('shopify: the base64 HMAC-SHA256 that OpenSSL computes passes; a hex one or a tampered body fails; the id is the topic and X-Shopify-Event-Id', async () => {
    const secret = 'shpss_0123456789abcdef';
    const openssl = execFileSync('sh', ['-c', `printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$KEY" -binary | base64`], { env: { ...process.env, BODY: body, KEY: secret } })
      .toString()
      .trim();
    expect(await VERIFIERS.shopify.verify(request(body, { 'x-shopify-hmac-sha256': openssl }), secret)).toBe(true);
    const hex = createHmac('sha256', secret).update(body).digest('hex');
    expect(await VERIFIERS.shopify.verify(request(body, { 'x-shopify-hmac-sha256': hex }), secret)).toBe(false);
    expect(await VERIFIERS.shopify.verify(request(`${body}\n`, { 'x-shopify-hmac-sha256': openssl }), secret)).toBe(false);
    const headers = { 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': 'w-1', 'x-shopify-event-id': 'e-1' };
    expect(VERIFIERS.shopify.describe(request(body, headers), {}).deliveryId).toBe('orders.create:e-1');
    expect(VERIFIERS.shopify.describe(request(body, { ...headers, 'x-shopify-webhook-id': 'w-2' }), {}).deliveryId).toBe('orders.create:e-1');
    expect(VERIFIERS.shopify.describe(request(body, { 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': 'w-1' }), {}).deliveryId).toBe('w-1');
  });

  it('standard-webhooks: a signature by the standardwebhooks library passes; another id or an old timestamp fails', async () => {
    const secret = `whsec_${Buffer.from('standard-webhooks-test-secret-32').toString('base64')}`;
    const now = new Date();
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('msg_1', now, body) };
    expect(await VERIFIERS['standard-webhooks'].verify(request(body, headers), secret)).toBe(true);
    expect(await VERIFIERS['standard-webhooks'].verify(request(body, { ...headers, 'webhook-id': 'msg_2' }), secret)).toBe(false);
    const old = new Date(now.getTime() - 10 * 60_000);
    const stale = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(old.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('msg_1', old, body) };
    expect(await VERIFIERS['standard-webhooks'].verify(request(body, stale), secret)).toBe(false);
  });

  it('hmac: its header, algorithm, encoding and prefix as configured', async () => {
    const settings: HmacSettings = { ...HMAC_DEFAULTS, header: 'x-sig', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=' };
    const digest = createHmac('sha512', 'k').update(body).digest('base64');
    expect(await VERIFIERS.hmac.verify(request(body, { 'x-sig': `sha512=${digest}` }, settings), 'k')).toBe(true);
    expect(await VERIFIERS.hmac.verify(request(body, { 'x-sig': digest }, settings), 'k')).toBe(false);
    expect(await VERIFIERS.hmac.verify(request(body, { 'x-other': `sha512=${digest}` }, settings), 'k')).toBe(false);
    const hexSettings: HmacSettings = { ...HMAC_DEFAULTS, header: 'x-sig' };
    expect(await VERIFIERS.hmac.verify(request(body, { 'x-sig': createHmac('sha256', 'k').update(body).digest('hex') }, hexSettings), 'k')).toBe(true);
    expect(await VERIFIERS.hmac.verify(request(body, { 'x-sig': createHmac('sha256', 'k').update(body).digest('base64') }, hexSettings), 'k')).toBe(false);
    // Without an id header, the body is the identity.
    const a = VERIFIERS.hmac.describe(request(body, {}, hexSettings), {});
    expect(a.deliveryId).toBe(VERIFIERS.hmac.describe(request(body, {}, hexSettings), {}).deliveryId);
    expect(a.providerEvent).toBe('event');
    const named = VERIFIERS.hmac.describe(request(body, { 'x-kind': 'Order.Paid', 'x-id': 'd-1' }, { ...hexSettings, eventTypeHeader: 'x-kind', idHeader: 'x-id' }), {});
    expect(named).toMatchObject({ providerEvent: 'Order.Paid', deliveryId: 'd-1' });
  });

  it('creation input: hmac settings only for hmac; Stripe and Standard Webhooks secrets in their formats', () => {
    expect(sourceInputSchema.safeParse({ name: 'gh', type: 'github', secret: 's' }).success).toBe(true);
    expect(sourceInputSchema.safeParse({ name: 'gh', type: 'github', secret: 's', hmac: { header: 'x' } }).success).toBe(false);
    expect(sourceInputSchema.safeParse({ name: 'st', type: 'stripe', secret: 'sk_live_x' }).success).toBe(false);
    expect(sourceInputSchema.safeParse({ name: 'sw', type: 'standard-webhooks', secret: 'whsec_!!' }).success).toBe(false);
    expect(sourceInputSchema.safeParse({ name: 'h', type: 'hmac', secret: 's' }).success).toBe(false);
    const parsed = sourceInputSchema.parse({ name: 'h', type: 'hmac', secret: 's', hmac: { header: 'X-Sig' } });
    expect(parsed).toMatchObject({ hmac: { header: 'x-sig' } });
  });
});
