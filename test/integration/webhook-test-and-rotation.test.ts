import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { secretRotationResponseSchema, webhookCreatedResponseSchema, webhookResponseSchema, webhookTestResponseSchema } from '../../src/api/schemas/webhook';
import { CancelledFailure } from '@temporalio/common';
import type { WorkflowFailedError } from '@temporalio/client';
import type { AttemptRecord } from '../../src/delivery/types';
import { freePort } from '../../src/embedded/ports';
import { deliveryWorkflowId } from '../../src/temporal/workflow-ids';
import { useHarness } from '../support/use-harness';
import type { ReceivedRequest } from '../support/receiver';
import { eventually } from '../support/stack';
import { valid } from '../support/shapes';

/** Verifies a request with the standardwebhooks package (an implementation we did not write). */
const verifies = (secret: string, request: ReceivedRequest): boolean => {
  try {
    new Webhook(secret).verify(request.body, {
      'webhook-id': request.headers['webhook-id'] as string,
      'webhook-timestamp': request.headers['webhook-timestamp'] as string,
      'webhook-signature': request.headers['webhook-signature'] as string,
    });
    return true;
  } catch {
    return false;
  }
};

describe('test a webhook and rotate its secret', () => {
  const ctx = useHarness({ receivers: 1 });
  let apiKey: string;
  let tenantId: string;

  const createWebhook = async (body: Record<string, unknown>) => {
    const res = await ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, body: { events: ['*'], ...body } });
    expect(res.status).toBe(201);
    return valid(webhookCreatedResponseSchema, res.body).webhook;
  };
  const testWebhook = async (id: string) => {
    const res = await ctx.harness.call('POST', `/v1/webhooks/${id}/test`, { token: apiKey });
    expect(res.status).toBe(200);
    return valid(webhookTestResponseSchema, res.body);
  };
  const lastRequestTo = (path: string) => ctx.receiver.requests.filter((r) => r.path === path).at(-1)!;

  beforeAll(async () => {
    ({ apiKey, tenantId } = await ctx.harness.createTenant('Tester'));
  });
  beforeEach(() => ctx.receiver.respondWith({ status: 200, body: 'ok' }));

  it('sends one signed webhook.test event with the custom headers and reports the answer', async () => {
    // With the legacy signature (opt-in), to check it is computed as real attempts do.
    const webhook = await createWebhook({ url: ctx.receiver.url('/test-ok'), headers: { 'X-Team': 'qa', Authorization: 'Bearer receiver-token' }, legacySignature: true });
    const result = await testWebhook(webhook.id);
    expect(result).toEqual({ success: true, statusCode: 200, durationMs: expect.any(Number), response: 'ok', error: null });

    const request = lastRequestTo('/test-ok');
    expect(verifies(webhook.secret, request)).toBe(true);
    expect(JSON.parse(request.body)).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: 'webhook.test',
      timestamp: expect.any(String),
      tenant_id: tenantId,
      data: { webhookId: webhook.id, message: expect.any(String) },
      metadata: {},
    });
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'x-team': 'qa',
      authorization: 'Bearer receiver-token',
      'x-webhook-event-type': 'webhook.test',
      'x-webhook-signature': createHmac('sha256', webhook.secret).update(request.body).digest('hex'),
      'user-agent': expect.stringMatching(/^webhook-service\//),
      'webhook-id': expect.stringMatching(/^dlv_/),
    });
    // A test is not a delivery: the webhook's counters do not move.
    const read = valid(webhookResponseSchema, (await ctx.harness.call('GET', `/v1/webhooks/${webhook.id}`, { token: apiKey })).body).webhook;
    expect(read).toMatchObject({ deliverySuccessCount: 0, deliveryFailureCount: 0, lastTriggeredAt: null });
  });

  it('reports a failing receiver, keeping the first 1000 characters of its answer', async () => {
    const webhook = await createWebhook({ url: ctx.receiver.url('/test-500') });
    ctx.receiver.respondWith({ status: 500, body: `${'e'.repeat(999)}XYZ` });
    const result = await testWebhook(webhook.id);
    expect(result).toMatchObject({ success: false, statusCode: 500, error: null });
    expect(result.response).toBe(`${'e'.repeat(999)}X`);
  });

  it('does not follow a redirect', async () => {
    const webhook = await createWebhook({ url: ctx.receiver.url('/test-redirect') });
    ctx.receiver.respondWith({ status: 302, headers: { location: ctx.receiver.url('/redirect-target') } });
    expect(await testWebhook(webhook.id)).toMatchObject({ success: false, statusCode: 302 });
    expect(ctx.receiver.requests.filter((r) => r.path === '/redirect-target')).toHaveLength(0);
  });

  it('reports network errors and timeouts without a status code', async () => {
    const closed = await createWebhook({ url: `http://127.0.0.1:${await freePort()}/nobody` });
    expect(await testWebhook(closed.id)).toMatchObject({ success: false, statusCode: null, response: null, error: expect.stringMatching(/^connection_refused: /) });

    const slow = await createWebhook({ url: ctx.receiver.url('/test-slow'), timeoutSeconds: 1 });
    ctx.receiver.respondWith({ status: 200, body: 'late', delayMs: 2000 });
    expect(await testWebhook(slow.id)).toMatchObject({ success: false, statusCode: null, error: expect.stringMatching(/^timeout: /) });
  });

  it('rotation: deliveries carry both signatures during the overlap, then only the new one', async () => {
    const webhook = await createWebhook({ url: ctx.receiver.url('/rotating'), legacySignature: true });
    const oldSecret = webhook.secret;
    const before = Date.now();
    const res = await ctx.harness.call('POST', `/v1/webhooks/${webhook.id}/rotate-secret`, { token: apiKey });
    expect(res.status).toBe(200);
    const rotated = valid(secretRotationResponseSchema, res.body);
    expect(rotated.secret).not.toBe(oldSecret);
    const expires = new Date(rotated.previousSecretExpiresAt!).getTime();
    expect(expires).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 86_400_000);

    // Neither secret is ever read back.
    const read = await ctx.harness.call('GET', `/v1/webhooks/${webhook.id}`, { token: apiKey });
    for (const secret of [oldSecret, rotated.secret]) expect(JSON.stringify(read.body)).not.toContain(secret.slice(6));

    // A test event and a real delivery are both signed with the new and the old secret.
    await testWebhook(webhook.id);
    const tested = lastRequestTo('/rotating');
    expect((tested.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    expect([verifies(rotated.secret, tested), verifies(oldSecret, tested)]).toEqual([true, true]);
    expect(tested.headers['x-webhook-signature']).toBe(createHmac('sha256', rotated.secret).update(tested.body).digest('hex'));

    const sent = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { type: 'invoice.created', data: { n: 1 } } });
    expect(sent.status).toBe(202);
    const delivered = await eventually(
      () => ctx.receiver.requests.find((r) => r.path === '/rotating' && JSON.parse(r.body).id === sent.body.id),
      30_000,
      'the delivery',
    );
    expect([verifies(rotated.secret, delivered), verifies(oldSecret, delivered)]).toEqual([true, true]);

    // Once the overlap is over (moved into the past here), only the new secret signs.
    await ctx.harness.models.Webhook.updateOne({ _id: webhook.id }, { $set: { previousSecretExpiresAt: new Date(Date.now() - 1000) } });
    await testWebhook(webhook.id);
    const after = lastRequestTo('/rotating');
    expect((after.headers['webhook-signature'] as string).split(' ')).toHaveLength(1);
    expect([verifies(rotated.secret, after), verifies(oldSecret, after)]).toEqual([true, false]);

    // A second rotation keeps only the secret it replaces.
    const again = valid(secretRotationResponseSchema, (await ctx.harness.call('POST', `/v1/webhooks/${webhook.id}/rotate-secret`, { token: apiKey })).body);
    await testWebhook(webhook.id);
    const twice = lastRequestTo('/rotating');
    expect([verifies(again.secret, twice), verifies(rotated.secret, twice), verifies(oldSecret, twice)]).toEqual([true, true, false]);
  });
});

describe('deleting a webhook while its delivery retries', () => {
  const ctx = useHarness({ receivers: 1 });

  beforeAll(async () => {
    ctx.receiver.respondWith({ status: 500, body: 'down' });
  });

  it('stops the delivery at its next attempt: it ends canceled, not failed', async () => {
    const { apiKey } = await ctx.harness.createTenant('Deleter');
    const created = await ctx.harness.call('POST', '/v1/webhooks', {
      token: apiKey,
      body: { url: ctx.receiver.url('/failing'), events: ['order.placed'], retrySchedule: ['1s', '1s', '1s', '1s', '1s'] },
    });
    expect((await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { type: 'order.placed', data: {} } })).status).toBe(202);
    const first = await eventually(() => ctx.receiver.requests[0], 30_000, 'the first attempt');

    expect((await ctx.harness.call('DELETE', `/v1/webhooks/${created.body.webhook.id}`, { token: apiKey })).status).toBe(204);
    const deletedAt = Date.now();
    // The execution ends Canceled (not Failed), with the reason and the attempt log on record.
    const handle = ctx.harness.client.workflow.getHandle(deliveryWorkflowId(first.headers['webhook-id'] as string));
    // Its first attempt failed inline; the fan-out then hands it to its own workflow.
    await eventually(() => handle.describe().then(() => true, () => undefined), 30_000, 'the delivery workflow');
    const ended = await handle.result().then(
      () => undefined,
      (err: WorkflowFailedError) => err.cause,
    );
    expect(ended).toBeInstanceOf(CancelledFailure);
    const history = (await handle.fetchHistory()).events!;
    const requested = history.find((e) => e.workflowExecutionCancelRequestedEventAttributes);
    expect(requested?.workflowExecutionCancelRequestedEventAttributes?.cause).toBe('the webhook was deleted');
    // The deliveries API reads the same history: every attempt made, and why it stopped.
    const read = await ctx.harness.call('GET', `/v1/deliveries/${first.headers['webhook-id']}`, { token: apiKey });
    expect(read.body.delivery).toMatchObject({ status: 'canceled', reason: 'the webhook was deleted' });
    const attempts = read.body.delivery.attempts as AttemptRecord[];
    // Every attempt made is in the audit log, and none was made after the deletion answered (the
    // schedule had up to five more, a second apart).
    expect(attempts.length).toBe(ctx.receiver.requests.length);
    expect(attempts.filter((a) => Date.parse(a.startedAt) > deletedAt)).toEqual([]);
    expect(ctx.receiver.requests.filter((r) => r.receivedAt > deletedAt)).toEqual([]);
  });
});

describe('rotation without overlap', () => {
  const ctx = useHarness({ receivers: 1, worker: false, secretRotationOverlapSeconds: 0 });

  it('retires the old secret at once when the overlap setting is 0', async () => {
    const { apiKey } = await ctx.harness.createTenant('No overlap');
    const created = valid(webhookCreatedResponseSchema, (await ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, body: { url: ctx.receiver.url('/now'), events: ['*'] } })).body);
    const rotated = valid(secretRotationResponseSchema, (await ctx.harness.call('POST', `/v1/webhooks/${created.webhook.id}/rotate-secret`, { token: apiKey })).body);
    expect(rotated.previousSecretExpiresAt).toBeNull();
    expect((await ctx.harness.call('POST', `/v1/webhooks/${created.webhook.id}/test`, { token: apiKey })).status).toBe(200);
    const request = ctx.receiver.requests.at(-1)!;
    expect([verifies(rotated.secret, request), verifies(created.webhook.secret, request)]).toEqual([true, false]);
  });
});
