import type { DeliveryResult } from '../../src/delivery/types';
import { deliveryId } from '../../src/ids';
import { createLogger } from '../../src/logging/logger';
import { eventKey } from '../../src/models/event';
import { startRetentionSweep, sweepRetention } from '../../src/models/retention-sweep';
import { requestsOf } from '../support/receiver';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * Payloads, deliveries and idempotency records expire on one clock (RETENTION_DAYS), tested with a
 * moved clock: the documents' creation times are set that many days back, then the worker's sweep
 * runs. FerretDB v1 has no TTL indexes, and a TTL index could not spare a payload that a retrying
 * delivery still sends, so the sweep is what expires them on every server.
 */
describe('retention (RETENTION_DAYS)', () => {
  const ctx = useHarness({ receivers: 2 });
  const DAYS = 30;
  const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);

  /** Moves an event and its deliveries `days` into the past. */
  async function age(tenantId: string, eventId: string, days: number): Promise<void> {
    await ctx.harness.models.Event.updateOne({ _id: eventKey(tenantId, eventId) }, { $set: { acceptedAt: daysAgo(days) } });
    await ctx.harness.models.Delivery.updateMany({ tenantId, eventId }, { $set: { createdAt: daysAgo(days) } });
  }

  const delivered = (apiKey: string, eventId: string) =>
    eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/events/${eventId}`, { token: apiKey });
      return res.body?.deliveries?.[0]?.status === 'delivered' ? res.body : undefined;
    }, 30_000, `event ${eventId} delivered`);

  it("forgets an event older than the setting (payload, deliveries, idempotency key) by the worker's sweep, and keeps a younger one", async () => {
    const [receiver] = ctx.receivers;
    const { apiKey, tenantId } = await ctx.harness.createTenant('Old events');
    await ctx.harness.createWebhook(apiKey, { url: receiver.url('/old'), events: ['order.*'] });
    const post = (key: string, data: unknown) =>
      ctx.harness.call('POST', '/v1/events', { token: apiKey, headers: { 'idempotency-key': key }, body: { type: 'order.paid', data } });
    expect((await post('order-1', { total: 1 })).status).toBe(202);
    expect((await post('order-2', { total: 2 })).status).toBe(202);
    const [old] = (await delivered(apiKey, 'order-1')).deliveries as { id: string }[];
    await delivered(apiKey, 'order-2');
    // Within the window, the key names the same event: another body is refused.
    expect((await post('order-1', { total: 99 })).status).toBe(409);

    await age(tenantId, 'order-1', DAYS + 1);
    await age(tenantId, 'order-2', DAYS - 1);
    const sweeper = startRetentionSweep(ctx.harness.models, DAYS, createLogger('silent', 'test'), 250);
    try {
      await eventually(async () => ((await ctx.harness.call('GET', '/v1/events/order-1', { token: apiKey })).status === 404 ? true : undefined), 30_000, 'the old event swept');
    } finally {
      clearInterval(sweeper);
    }
    expect((await ctx.harness.call('GET', `/v1/deliveries/${old.id}`, { token: apiKey })).status).toBe(404);
    expect(await ctx.harness.models.Delivery.countDocuments({ tenantId, eventId: 'order-1' })).toBe(0);
    const young = await ctx.harness.call('GET', '/v1/events/order-2', { token: apiKey });
    expect(young.status).toBe(200);
    expect(young.body.event.data).toEqual({ total: 2 });
    expect(young.body.deliveries).toHaveLength(1);

    // Past the window the key is free: another body is accepted, not refused as a conflict.
    expect((await post('order-1', { total: 99 })).status).toBe(202);
  });

  it('keeps the payload of an event whose delivery is still retrying past the setting, sends it, and sweeps it once the delivery ended', async () => {
    const [, receiver] = ctx.receivers;
    receiver.respondWith({ status: 500, body: 'down' }, { status: 200, body: 'back' });
    const { apiKey, tenantId } = await ctx.harness.createTenant('Long retries');
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/slow'), events: ['*'], retrySchedule: ['1s'] });
    // Its retry waits for the retry queue's worker, started again below: the sweep runs while it waits.
    await ctx.harness.stopRetryWorker();
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'order.paid', data: { total: 3 } });
    const id = deliveryId(tenantId, eventId, webhookId);
    await eventually(async () => ((await ctx.harness.models.Delivery.findById(id).lean())?.status === 'retrying' ? true : undefined), 30_000, 'the delivery retrying');

    await age(tenantId, eventId, DAYS + 1);
    await sweepRetention(ctx.harness.models, DAYS);
    expect((await ctx.harness.call('GET', `/v1/events/${eventId}`, { token: apiKey })).status).toBe(200);
    expect(await ctx.harness.models.Delivery.findById(id).lean()).toMatchObject({ status: 'retrying' });

    await ctx.harness.stopWorker();
    await ctx.harness.startWorker();
    const result: DeliveryResult = await ctx.harness.client.workflow.getHandle(id).result();
    expect(result.attempts.map((a) => a.statusCode)).toEqual([500, 200]);
    const [first, retry] = requestsOf(receiver.requests, id);
    // The same event (its timestamp is the moved acceptance time).
    const withoutTime = (body: string) => ({ ...JSON.parse(body), timestamp: undefined });
    const resent = withoutTime(retry.body);
    expect(resent).toEqual(withoutTime(first.body));
    expect(resent).toMatchObject({ id: eventId, data: { total: 3 } });

    // Ended: nothing needs it any more.
    await eventually(async () => ((await ctx.harness.models.Delivery.findById(id).lean())?.status === 'delivered' ? true : undefined), 30_000, 'the delivery recorded');
    expect(await sweepRetention(ctx.harness.models, DAYS)).toEqual({ deliveries: 1, events: 1, tenants: 0 });
    expect((await ctx.harness.call('GET', `/v1/events/${eventId}`, { token: apiKey })).status).toBe(404);
  });

  it('ends a retrying delivery whose payload is no longer stored as failed, with the reason, instead of retrying forever', async () => {
    const [, receiver] = ctx.receivers;
    receiver.respondWith({ status: 500, body: 'down' });
    const { apiKey, tenantId } = await ctx.harness.createTenant('Payload gone');
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/gone-payload'), events: ['*'], retrySchedule: ['1s', '1s'] });
    await ctx.harness.stopRetryWorker();
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'order.paid', data: { total: 4 } });
    const id = deliveryId(tenantId, eventId, webhookId);
    await eventually(async () => ((await ctx.harness.models.Delivery.findById(id).lean())?.status === 'retrying' ? true : undefined), 30_000, 'the delivery retrying');
    // The payload goes (as a sweep racing a late retry, or a history kept longer than payloads);
    // a new worker has no copy of it in memory.
    await ctx.harness.models.Event.deleteOne({ _id: eventKey(tenantId, eventId) });
    await ctx.harness.stopWorker();
    await ctx.harness.startWorker();

    await expect(ctx.harness.client.workflow.getHandle(id).result()).rejects.toThrow();
    const delivery = await eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/deliveries/${id}`, { token: apiKey });
      return res.body?.delivery?.status === 'failed' ? res.body.delivery : undefined;
    }, 30_000, 'the delivery recorded failed');
    expect(delivery.reason).toBe('the event is no longer stored (past the retention period): nothing left to send');
    // Only the first attempt reached the receiver: nothing was sent without its payload.
    expect(requestsOf(receiver.requests, id)).toHaveLength(1);
    expect(delivery.attempts).toHaveLength(1);
  });
});
