import { webhookResponseSchema, webhookTestResponseSchema } from '../../src/api/schemas/webhook';
import { deliveryId } from '../../src/ids';
import { ChatReceivers, type ChatRequest } from '../support/chat-receivers';
import { verifiedPayload } from '../support/signatures';
import { expectError, pathsOf, valid } from '../support/shapes';
import { eventually } from '../support/stack';
import { tenantCalls } from '../support/tenant-calls';
import { useHarness } from '../support/use-harness';

/** Emoji (surrogate pairs), CJK, RTL, combining marks, and what would break the messages' syntax. */
const UNICODE = '😀🚀 日本語 עברית é̃ ```fence``` <!channel> @everyone & <@123> ';
/** A large event: long strings, many keys, unicode everywhere. */
const LARGE = {
  note: `${UNICODE}${'long text '.repeat(5000)}`,
  ...Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`field_${i}_${UNICODE.slice(0, 8)}`, { index: i, label: UNICODE, nested: { ok: true } }])),
};

describe('chat connectors: Slack, Discord and Teams formats against receivers that check their documented rules', () => {
  const ctx = useHarness();
  const chat = new ChatReceivers();
  let apiKey: string;
  let tenantId: string;
  const { call, create } = tenantCalls(ctx, () => apiKey);

  beforeAll(async () => {
    await chat.start();
    ({ apiKey, tenantId } = await ctx.harness.createTenant('Chat'));
  });
  afterAll(() => chat.stop());

  let webhooks = 0;
  /** A webhook to a receiver path, subscribed to its own event type so no other test's event reaches it. */
  async function chatWebhook(path: string, format: string, extra: Record<string, unknown> = {}) {
    const type = `chat.${path.slice(1).replace(/[^a-z]/g, '_')}_${++webhooks}`;
    const webhook = await create({ url: chat.url(path), events: [type], format, ...extra });
    return { ...webhook, type };
  }

  /** The requests of one delivery to a path, once there are `count` of them. */
  const requestsOfDelivery = (path: string, id: string, count = 1) =>
    eventually(() => {
      const found = chat.to(path).filter((r) => r.headers['webhook-id'] === id);
      return found.length >= count ? found : undefined;
    }, 30_000, `${count} request(s) to ${path}`);

  const deliveryView = async (id: string) => (await call('GET', `/v1/deliveries/${id}`)).body.delivery;
  const webhookView = async (id: string) => valid(webhookResponseSchema, (await call('GET', `/v1/webhooks/${id}`)).body).webhook;

  it('format on create, PATCH, PUT and reads; standard by default; PUT without it resets it', async () => {
    const plain = await create({});
    expect(plain.format).toBe('standard');
    const slack = await create({ format: 'slack' });
    expect(slack.format).toBe('slack');
    expect((await webhookView(slack.id)).format).toBe('slack');
    const listed = (await call('GET', '/v1/webhooks')).body.webhooks as { id: string; format: string }[];
    expect(listed.find((w) => w.id === slack.id)?.format).toBe('slack');

    // PATCH without the field keeps it; with it, changes it.
    expect(valid(webhookResponseSchema, (await call('PATCH', `/v1/webhooks/${slack.id}`, { description: 'x' })).body).webhook.format).toBe('slack');
    expect(valid(webhookResponseSchema, (await call('PATCH', `/v1/webhooks/${slack.id}`, { format: 'teams' })).body).webhook.format).toBe('teams');
    const put = await call('PUT', `/v1/webhooks/${slack.id}`, { url: slack.url, events: ['invoice.*'], format: 'discord' });
    expect(valid(webhookResponseSchema, put.body).webhook.format).toBe('discord');
    // PUT replaces the whole webhook: left out, the format goes back to standard.
    const reset = await call('PUT', `/v1/webhooks/${slack.id}`, { url: slack.url, events: ['invoice.*'] });
    expect(valid(webhookResponseSchema, reset.body).webhook.format).toBe('standard');

    // A webhook stored before the field reads as standard.
    await ctx.harness.models.Webhook.collection.updateOne({ _id: plain.id as never }, { $unset: { format: '' } });
    expect((await webhookView(plain.id)).format).toBe('standard');
  });

  it('refuses an unknown format on create, PUT and PATCH with 400 naming the field', async () => {
    const webhook = await create({});
    for (const format of ['mattermost', 'Slack', '', null, 3]) {
      for (const [method, path, body] of [
        ['POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['*'], format }],
        ['PUT', `/v1/webhooks/${webhook.id}`, { url: 'http://127.0.0.1:9/hook', events: ['*'], format }],
        ['PATCH', `/v1/webhooks/${webhook.id}`, { format }],
      ] as const) {
        const details = expectError(await call(method, path, body), 400, 'validation_failed');
        expect([method, format, pathsOf(details)]).toEqual([method, format, ['format']]);
      }
    }
  });

  it('is in the OpenAPI document on create, PUT, PATCH and reads', async () => {
    const document = (await ctx.harness.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    for (const [path, method] of [['/v1/webhooks', 'post'], ['/v1/webhooks/{id}', 'put'], ['/v1/webhooks/{id}', 'patch'], ['/v1/webhooks/{id}', 'get']]) {
      const operation = JSON.stringify(document.paths[path][method]);
      expect([path, method, operation]).toEqual([path, method, expect.stringContaining('"format":{')]);
      expect(operation).toContain('"enum":["standard","slack","discord","teams"]');
    }
  });

  it.each([
    ['slack', '/slack/ok', 200],
    ['discord', '/discord/ok', 204],
    ['teams', '/teams/ok', 202],
  ])('%s: a small and a large unicode event are each delivered as a message the service accepts, signed as sent', async (format, path, status) => {
    const webhook = await chatWebhook(path, format);
    for (const data of [{ amount: 1200, currency: 'EUR', customer: 'Zoë' }, LARGE]) {
      const eventId = await ctx.harness.sendEvent(apiKey, { type: webhook.type, data });
      const id = deliveryId(tenantId, eventId, webhook.id);
      const [request] = await requestsOfDelivery(path, id);
      expect([request.status, request.problems]).toEqual([status, []]);
      // The body the service got is the one signed (Standard Webhooks headers as for any format).
      expect(verifiedPayload({ ...request, method: 'POST' }, webhook.secret)).toEqual(JSON.parse(request.body));
      expect(request.body).toContain(webhook.type);
      expect(request.headers['x-webhook-event-id']).toBe(eventId);
      const delivered = await eventually(async () => {
        const d = await deliveryView(id);
        return d?.status === 'delivered' ? d : undefined;
      }, 30_000, 'the delivery delivered');
      expect(delivered.attempts).toHaveLength(1);
      if (data === LARGE) expect(request.body).toMatch(/truncated, \d+ more characters/);
      else expect(request.body).toContain('Zoë');
    }
  });

  it.each([
    ['/slack/no_service', 'Slack answered 404 no_service', 404],
    ['/slack/channel_is_archived', 'Slack answered 410 channel_is_archived', 410],
  ])('Slack %s disables the webhook, saying what Slack answered', async (path, reason, status) => {
    const webhook = await chatWebhook(path, 'slack');
    const eventId = await ctx.harness.sendEvent(apiKey, { type: webhook.type, data: { n: 1 } });
    const id = deliveryId(tenantId, eventId, webhook.id);
    await requestsOfDelivery(path, id);
    const view = await eventually(async () => {
      const w = await webhookView(webhook.id);
      return w.active ? undefined : w;
    }, 30_000, 'the webhook disabled');
    expect(view.disabledReason).toBe(reason);
    const delivery = await eventually(async () => {
      const d = await deliveryView(id);
      return d?.status === 'failed' ? d : undefined;
    }, 30_000, 'the delivery failed');
    expect(delivery.attempts).toEqual([expect.objectContaining({ statusCode: status, error: reason })]);
    // Never sent again: one request.
    expect(chat.to(path).filter((r) => r.headers['webhook-id'] === id)).toHaveLength(1);
  });

  it('Discord 404 Unknown Webhook (10015) disables the webhook', async () => {
    const webhook = await chatWebhook('/discord/unknown-webhook', 'discord');
    const eventId = await ctx.harness.sendEvent(apiKey, { type: webhook.type, data: { n: 1 } });
    await requestsOfDelivery('/discord/unknown-webhook', deliveryId(tenantId, eventId, webhook.id));
    const view = await eventually(async () => {
      const w = await webhookView(webhook.id);
      return w.active ? undefined : w;
    }, 30_000, 'the webhook disabled');
    expect(view.disabledReason).toBe('Discord answered 404 Unknown Webhook (code 10015)');
  });

  it('Slack 400 invalid_payload is a retry with a clear error, the answer kept; the webhook stays active', async () => {
    const webhook = await chatWebhook('/slack/invalid_payload', 'slack');
    const eventId = await ctx.harness.sendEvent(apiKey, { type: webhook.type, data: { n: 1 } });
    const id = deliveryId(tenantId, eventId, webhook.id);
    await requestsOfDelivery('/slack/invalid_payload', id);
    const delivery = await eventually(async () => {
      const d = await deliveryView(id);
      return d?.status === 'retrying' && d.attempts?.length ? d : undefined;
    }, 30_000, 'the delivery retrying');
    expect(delivery.attempts[0]).toMatchObject({ statusCode: 400, response: 'invalid_payload', error: expect.stringMatching(/^Slack answered 400 invalid_payload: the message as rendered/) });
    expect((await webhookView(webhook.id)).active).toBe(true);
  });

  it('Discord 429 retry_after (1.5 s, in its body) is honoured: the next attempt comes no sooner, though the schedule says 1 s', async () => {
    const path = '/discord/rate-limited';
    const webhook = await chatWebhook(path, 'discord', { retrySchedule: ['1s'] });
    const eventId = await ctx.harness.sendEvent(apiKey, { type: webhook.type, data: { n: 1 } });
    const id = deliveryId(tenantId, eventId, webhook.id);
    const [limited, next] = (await requestsOfDelivery(path, id, 2)) as [ChatRequest, ChatRequest];
    expect(limited.status).toBe(429);
    expect([next.status, next.problems]).toEqual([204, []]);
    expect(next.receivedAt - limited.answeredAt).toBeGreaterThanOrEqual(1500);
    const delivery = await eventually(async () => {
      const d = await deliveryView(id);
      return d?.status === 'delivered' ? d : undefined;
    }, 30_000, 'the delivery delivered');
    expect(delivery.attempts[0]).toMatchObject({ statusCode: 429, error: 'Discord answered 429 rate limited' });
  });

  it('POST /v1/webhooks/{id}/test sends webhook.test in the webhook\'s format and reads the answer as the service documents it', async () => {
    for (const [format, path, status] of [['slack', '/slack/ok', 200], ['discord', '/discord/ok', 204], ['teams', '/teams/ok', 202]] as const) {
      const webhook = await chatWebhook(path, format);
      const before = chat.to(path).length;
      const res = await call('POST', `/v1/webhooks/${webhook.id}/test`);
      expect(valid(webhookTestResponseSchema, res.body)).toMatchObject({ success: true, statusCode: status, error: null });
      const request = chat.to(path)[before];
      expect([format, request.problems]).toEqual([format, []]);
      expect(request.body).toContain('webhook.test');
    }
    const dead = await chatWebhook('/slack/no_service', 'slack');
    const res = await call('POST', `/v1/webhooks/${dead.id}/test`);
    expect(valid(webhookTestResponseSchema, res.body)).toMatchObject({ success: false, statusCode: 404, response: 'no_service', error: 'Slack answered 404 no_service' });
    // A test is not a delivery: it disables nothing.
    expect((await webhookView(dead.id)).active).toBe(true);
  });
});
