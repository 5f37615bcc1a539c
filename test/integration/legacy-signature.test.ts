import { createHmac } from 'node:crypto';
import { webhookCreatedResponseSchema, webhookResponseSchema } from '../../src/api/schemas/webhook';
import { valid } from '../support/shapes';
import { verifiedPayload } from '../support/signatures';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * The legacy `X-Webhook-Signature` (the body's HMAC alone: no timestamp, replayable) is opt-in per
 * webhook: new webhooks go without it, webhooks created before the field keep it. Standard
 * Webhooks signatures are checked by the `standardwebhooks` package on a real receiver.
 */
describe('legacy signature', () => {
  const ctx = useHarness({ receivers: 1 });
  let apiKey: string;

  beforeAll(async () => {
    ({ apiKey } = await ctx.harness.createTenant());
  });

  const call = (method: string, path: string, body?: unknown) => ctx.harness.call(method, path, { token: apiKey, body });
  const create = async (path: string, extra: Record<string, unknown> = {}) => {
    const res = await call('POST', '/v1/webhooks', { url: ctx.receiver.url(path), events: [`${path.slice(1)}.*`], ...extra });
    expect(res.status).toBe(201);
    return valid(webhookCreatedResponseSchema, res.body).webhook;
  };
  /** Sends an event and waits for its delivery to arrive at `path`. */
  const deliveredTo = async (path: string) => {
    const sent = await call('POST', '/v1/events', { type: `${path.slice(1)}.happened`, data: { at: path } });
    expect(sent.status).toBe(202);
    return eventually(() => ctx.receiver.requests.find((r) => r.path === path && JSON.parse(r.body).id === sent.body.id), 30_000, `the delivery to ${path}`);
  };
  const legacyHex = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

  it('is off for a new webhook: the receiver gets Standard Webhooks headers only', async () => {
    const webhook = await create('/modern');
    expect(webhook.legacySignature).toBe(false);
    const request = await deliveredTo('/modern');
    expect(verifiedPayload(request, webhook.secret)).toMatchObject({ type: 'modern.happened' });
    expect(request.headers['x-webhook-signature']).toBeUndefined();
    // The other compatibility headers carry nothing that can be replayed: they stay.
    expect(request.headers['x-webhook-event-type']).toBe('modern.happened');
  });

  it('is sent to a webhook that asks for it, and stops when it is turned off', async () => {
    const webhook = await create('/opted', { legacySignature: true });
    expect(webhook.legacySignature).toBe(true);
    const request = await deliveredTo('/opted');
    expect(verifiedPayload(request, webhook.secret)).toMatchObject({ type: 'opted.happened' });
    expect(request.headers['x-webhook-signature']).toBe(legacyHex(webhook.secret, request.body));

    const off = await call('PATCH', `/v1/webhooks/${webhook.id}`, { legacySignature: false });
    expect(valid(webhookResponseSchema, off.body).webhook.legacySignature).toBe(false);
    expect((await deliveredTo('/opted')).headers['x-webhook-signature']).toBeUndefined();
  });

  it('keeps being sent to a webhook created before the field, also through a PUT that leaves it out', async () => {
    const webhook = await create('/older');
    // As an earlier version stored it: no field at all.
    await ctx.harness.models.Webhook.collection.updateOne({ _id: webhook.id as never }, { $unset: { legacySignature: '' } });
    const read = valid(webhookResponseSchema, (await call('GET', `/v1/webhooks/${webhook.id}`)).body).webhook;
    expect(read.legacySignature).toBe(true);
    const request = await deliveredTo('/older');
    expect(request.headers['x-webhook-signature']).toBe(legacyHex(webhook.secret, request.body));

    const put = await call('PUT', `/v1/webhooks/${webhook.id}`, { url: ctx.receiver.url('/older'), events: ['older.*'] });
    expect(put.status).toBe(200);
    expect(valid(webhookResponseSchema, put.body).webhook.legacySignature).toBe(true);
    const afterPut = await deliveredTo('/older');
    expect(afterPut.headers['x-webhook-signature']).toBe(legacyHex(webhook.secret, afterPut.body));
  });
});
