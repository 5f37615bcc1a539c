import { resetWorkflow } from '../support/reset';
import { useHarness } from '../support/use-harness';
import { verifiedPayload } from '../support/signatures';
import { eventually } from '../support/stack';

describe('resending a delivered delivery (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  it('sends it again with the same webhook-id, audited as a new attempt; once per resend, whatever resets its run', async () => {
    const { apiKey } = await ctx.harness.createTenant();
    const other = await ctx.harness.createTenant('Other');
    const { webhookId, secret } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/resend'), events: ['*'], retrySchedule: ['1s'] });
    await ctx.harness.sendEvent(apiKey, { id: 'resend-1', type: 'a.b', data: { n: 1 } });
    const first = await eventually(() => ctx.receiver.requests[0], 30_000, 'the delivery');
    const deliveryId = first.headers['webhook-id'] as string;
    const read = () => ctx.harness.call('GET', `/v1/deliveries/${deliveryId}`, { token: apiKey });
    await eventually(async () => ((await read()).body.delivery?.status === 'delivered' ? true : undefined), 10_000, 'delivered');

    expect((await ctx.harness.call('POST', `/v1/deliveries/${deliveryId}/resend`, { token: other.apiKey })).status).toBe(404);
    expect((await ctx.harness.call('POST', '/v1/deliveries/dlv_nosuchdelivery/resend', { token: apiKey })).status).toBe(404);
    expect(ctx.receiver.requests).toHaveLength(1);

    const resent = await ctx.harness.call('POST', `/v1/deliveries/${deliveryId}/resend`, { token: apiKey });
    expect(resent.status).toBe(202);
    expect(resent.body).toEqual({ id: deliveryId, status: 'delivered' });
    const second = await eventually(() => ctx.receiver.requests[1], 30_000, 'the resent request');
    expect(second.headers['webhook-id']).toBe(deliveryId);
    expect(verifiedPayload(second, secret)).toEqual(verifiedPayload(first, secret));
    const run = ctx.harness.client.workflow.getHandle(deliveryId);
    expect((await run.result()).status).toBe('delivered');

    const detail = (await read()).body.delivery;
    expect(detail.status).toBe('delivered');
    expect(detail.attempts.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode])).toEqual([
      [1, 200],
      [2, 200],
    ]);
    // A resend is an attempt, not a second delivery: the webhook's counters do not move.
    const webhook = await ctx.harness.call('GET', `/v1/webhooks/${webhookId}`, { token: apiKey });
    expect(webhook.body.webhook).toMatchObject({ deliverySuccessCount: 1, deliveryFailureCount: 0 });

    // An operator resets the resend's run (Web UI or CLI): that resend was made, it is not made again.
    const history = await run.fetchHistory();
    const firstTask = history.events!.find((e) => e.workflowTaskCompletedEventAttributes)!;
    const runId = await resetWorkflow(ctx.harness.client, deliveryId, firstTask.eventId, 'resend again?');
    expect((await ctx.harness.client.workflow.getHandle(deliveryId, runId).result()).status).toBe('delivered');
    expect(ctx.receiver.requests).toHaveLength(2);
  });

  it('refuses to resend a delivery that is not delivered (409): a failed one is retried instead', async () => {
    const { apiKey } = await ctx.harness.createTenant();
    ctx.receiver.respondWith({ status: 500 });
    try {
      await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/down'), events: ['*'], retrySchedule: ['1s'] });
      await ctx.harness.sendEvent(apiKey, { id: 'resend-2', type: 'a.b', data: {} });
      const sent = await eventually(() => ctx.receiver.requests.find((r) => r.path === '/down'), 30_000, 'the first attempt');
      const deliveryId = sent.headers['webhook-id'] as string;
      await ctx.harness.client.workflow.getHandle(deliveryId).result().catch(() => undefined);
      await eventually(async () => ((await ctx.harness.call('GET', `/v1/deliveries/${deliveryId}`, { token: apiKey })).body.delivery?.status === 'failed' ? true : undefined));
      const refused = await ctx.harness.call('POST', `/v1/deliveries/${deliveryId}/resend`, { token: apiKey });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('not_delivered');
    } finally {
      ctx.receiver.respondWith({ status: 200 });
    }
  });
});
