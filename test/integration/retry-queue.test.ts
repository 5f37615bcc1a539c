import { tsToMs } from '@temporalio/common/lib/time';
import type { DeliveryResult } from '../../src/delivery/types';
import { deliveryId } from '../../src/ids';
import { requestsOf } from '../support/receiver';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

describe('retried deliveries on a task queue of their own (dev server)', () => {
  const ctx = useHarness({ receivers: 2 });

  it('a delivery waiting for its retry holds up no fresh first attempt, and is retried on the retry queue', async () => {
    const [failing, healthy] = ctx.receivers;
    failing.respondWith({ status: 500, body: 'down' }, { status: 200, body: 'back' });
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const down = await ctx.harness.createWebhook(apiKey, { url: failing.url('/down'), events: ['order.*'], retrySchedule: ['1s'] });
    const up = await ctx.harness.createWebhook(apiKey, { url: healthy.url('/up'), events: ['user.*'] });
    // Nothing polls the retry queue from here on, as when a retry storm has taken all of its slots.
    await ctx.harness.stopRetryWorker();

    const retriedEvent = await ctx.harness.sendEvent(apiKey, { type: 'order.paid', data: {} });
    const handle = ctx.harness.client.workflow.getHandle(deliveryId(tenantId, retriedEvent, down.webhookId));
    const waiting = await eventually(() => handle.describe().catch(() => undefined), 30_000, 'the delivery workflow');
    expect(waiting.taskQueue).toBe(`${ctx.harness.taskQueue}-retries`);
    expect(waiting.searchAttributes.DeliveryStatus).toEqual(['retrying']);
    const [firstAttempt] = requestsOf(failing.requests, handle.workflowId);
    expect(firstAttempt).toBeDefined();

    // A fresh event's first attempt is made while the retry waits.
    const freshEvent = await ctx.harness.sendEvent(apiKey, { type: 'user.created', data: {} });
    const freshId = deliveryId(tenantId, freshEvent, up.webhookId);
    const [fresh] = await eventually(() => (requestsOf(healthy.requests, freshId).length === 1 ? requestsOf(healthy.requests, freshId) : undefined), 30_000, 'the fresh delivery');
    // The retried delivery's first workflow task was scheduled before the fresh event was sent,
    // and the worker serving the main queue meanwhile never took it: nothing has run the delivery
    // (not even its wait for the retry), and nothing was sent again.
    const { events } = await handle.fetchHistory();
    const scheduled = events!.find((e) => e.workflowTaskScheduledEventAttributes);
    expect(tsToMs(scheduled!.eventTime)).toBeLessThan(fresh.receivedAt);
    expect(events!.filter((e) => e.workflowTaskStartedEventAttributes)).toEqual([]);
    expect(requestsOf(failing.requests, handle.workflowId)).toHaveLength(1);
    expect((await handle.describe()).status.name).toBe('RUNNING');

    await ctx.harness.stopWorker();
    await ctx.harness.startWorker();
    const result: DeliveryResult = await handle.result();
    expect(result.attempts.map((a) => [a.attempt, a.statusCode, a.response])).toEqual([
      [1, 500, 'down'],
      [2, 200, 'back'],
    ]);
    expect(requestsOf(failing.requests, handle.workflowId)).toHaveLength(2);
  });

  it('a failed delivery retried through the API runs on the retry queue too', async () => {
    const [failing] = ctx.receivers;
    failing.respondWith({ status: 500, body: 'down' }, { status: 500, body: 'still down' }, { status: 200, body: 'back' });
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: failing.url('/again'), events: ['*'], retrySchedule: ['1s'] });
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'order.paid', data: {} });
    const id = deliveryId(tenantId, eventId, webhookId);
    await eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/deliveries/${id}`, { token: apiKey });
      return res.body?.delivery?.status === 'failed' ? true : undefined;
    }, 30_000, 'the delivery to fail');

    const retry = await ctx.harness.call('POST', `/v1/deliveries/${id}/retry`, { token: apiKey });
    expect(retry.status).toBe(202);
    const handle = ctx.harness.client.workflow.getHandle(id);
    const result: DeliveryResult = await handle.result();
    expect(result.attempts.at(-1)).toMatchObject({ statusCode: 200, response: 'back' });
    expect((await handle.describe()).taskQueue).toBe(`${ctx.harness.taskQueue}-retries`);
    expect(requestsOf(failing.requests, id)).toHaveLength(3);
  });
});
