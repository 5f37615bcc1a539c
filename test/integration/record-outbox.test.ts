import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { mongo } from 'mongoose';
import { createActivities } from '../../src/activities';
import { DeliveryFailureType } from '../../src/delivery/failure-types';
import { WebhookHttpClient } from '../../src/delivery/http-client';
import { storedWebhook } from '../support/stored-webhook';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * A record of an outcome changes the deliveries index, then owes counters, auto-disable and
 * operational events (DESIGN.md decision 11). A database fault right after the index change (the
 * record's test seam throws the driver's network error there, once per delivery) fails the record
 * midway; its retry must still do all of it, exactly once.
 */
describe('outcome records: a fault after the index change loses no side effect (dev server)', () => {
  const faulted = new Set<string>();
  const ctx = useHarness({
    receivers: 3,
    activities: {
      // One failed delivery disables a webhook: auto-disable is one of the effects to keep.
      autoDisable: { consecutiveFailures: 1, failingForMs: 86_400_000 },
      recordFaults: {
        afterIndexChange: (ids) => {
          const fresh = ids.filter((id) => !faulted.has(id));
          if (!fresh.length) return;
          for (const id of fresh) faulted.add(id);
          throw new mongo.MongoNetworkError('connection reset by the test, after the index change');
        },
      },
    },
  });

  async function webhookState(apiKey: string, webhookId: string) {
    const { webhook } = (await ctx.harness.call('GET', `/v1/webhooks/${webhookId}`, { token: apiKey })).body;
    const stored = await storedWebhook(ctx.harness.models, webhookId);
    return { delivered: webhook.deliverySuccessCount, failed: webhook.deliveryFailureCount, streak: stored?.consecutiveFailureCount, active: webhook.active };
  }

  it('a retried delivery that failed: counters, auto-disable, delivery.exhausted and webhook.disabled once each', async () => {
    const { harness, receivers: [failing, ops] } = ctx;
    const { apiKey } = await harness.createTenant();
    const { webhookId } = await harness.createWebhook(apiKey, { url: failing.url('/orders'), events: ['order.*'], retrySchedule: ['1s'] });
    await harness.createWebhook(apiKey, { url: ops.url('/ops'), events: ['delivery.exhausted', 'webhook.disabled'] });
    failing.respondWith({ status: 500 });
    await harness.sendEvent(apiKey, { id: 'outbox-1', type: 'order.paid', data: {} });
    const deliveryId = (await eventually(() => failing.requests[0], 30_000, 'first attempt')).headers['webhook-id'] as string;
    await eventually(() => harness.client.workflow.getHandle(deliveryId).describe().catch(() => undefined), 30_000, 'its DeliveryWorkflow');
    await harness.client.workflow.getHandle(deliveryId).result().catch(() => undefined);
    expect(faulted.has(deliveryId)).toBe(true);

    const opsTypes = () => ops.requests.filter((r) => r.path === '/ops').map((r) => JSON.parse(r.body).type as string).sort();
    await eventually(() => (opsTypes().length >= 2 ? true : undefined), 30_000, 'the operational events');
    await eventually(async () => ((await harness.models.Delivery.findById(deliveryId).lean())?.effects ? undefined : true), 30_000, 'the outbox cleared');
    expect(await webhookState(apiKey, webhookId)).toEqual({ delivered: 0, failed: 1, streak: 1, active: false });
    // Their fan-outs have ended: nothing more can arrive.
    expect(opsTypes()).toEqual(['delivery.exhausted', 'webhook.disabled']);
    expect(failing.requests).toHaveLength(2);
  });

  it("a page's first attempts (delivered, 410 Gone): counters, auto-disable and delivery.exhausted once each", async () => {
    const { harness, receivers: [receiver, ops, goneReceiver] } = ctx;
    const { apiKey } = await harness.createTenant();
    const ok = await harness.createWebhook(apiKey, { url: receiver.url('/ok'), events: ['invoice.*'] });
    const gone = await harness.createWebhook(apiKey, { url: goneReceiver.url('/gone'), events: ['invoice.*'] });
    await harness.createWebhook(apiKey, { url: ops.url('/page-ops'), events: ['delivery.exhausted', 'webhook.disabled'] });
    receiver.respondWith({ status: 200 });
    goneReceiver.respondWith({ status: 410 });
    await harness.sendEvent(apiKey, { id: 'outbox-2', type: 'invoice.paid', data: {} });
    await eventually(() => (receiver.requests.some((r) => r.path === '/ok') && goneReceiver.requests.length ? true : undefined), 30_000, 'both first attempts');
    const opsTypes = () => ops.requests.filter((r) => r.path === '/page-ops').map((r) => JSON.parse(r.body).type as string).sort();
    await eventually(() => (opsTypes().length >= 2 ? true : undefined), 30_000, 'the operational events');
    await eventually(async () => ((await webhookState(apiKey, ok.webhookId)).delivered === 1 ? true : undefined), 30_000, 'the delivered count');
    await eventually(async () => ((await harness.models.Delivery.countDocuments({ eventId: 'outbox-2', effects: { $ne: null } })) === 0 ? true : undefined), 30_000, 'the outboxes cleared');
    const ids = (await harness.models.Delivery.find({ eventId: 'outbox-2' }).lean()).map((d) => d._id);
    expect(ids.every((id) => faulted.has(id))).toBe(true);
    expect(await webhookState(apiKey, ok.webhookId)).toEqual({ delivered: 1, failed: 0, streak: 0, active: true });
    expect(await webhookState(apiKey, gone.webhookId)).toEqual({ delivered: 0, failed: 1, streak: 1, active: false });
    expect(opsTypes()).toEqual(['delivery.exhausted', 'webhook.disabled']);
  });

  it("a page's load finishes the outbox of a delivery it finds recorded (its batch's worker died after the index write, before the counters)", async () => {
    const { harness, receivers: [receiver] } = ctx;
    const { apiKey, tenantId } = await harness.createTenant();
    const { webhookId } = await harness.createWebhook(apiKey, { url: receiver.url('/rerun'), events: ['refund.*'] });
    receiver.respondWith({ status: 200 });
    await harness.sendEvent(apiKey, { id: 'outbox-rerun', type: 'refund.paid', data: {} });
    const deliveryId = (await eventually(() => receiver.requests.find((r) => r.path === '/rerun'), 30_000, 'the first attempt')).headers['webhook-id'] as string;
    await eventually(async () => ((await webhookState(apiKey, webhookId)).delivered === 1 ? true : undefined), 30_000, 'the delivered count');
    await eventually(async () => ((await harness.models.Delivery.findById(deliveryId).lean())?.effects ? undefined : true), 30_000, 'the outbox cleared');

    // The state a killed worker leaves: the index written with its outbox, the counters not.
    const effects = { runId: 'run-of-a-killed-worker', outcome: 'delivered', from: null, attempts: 1, lastError: null, firstAttemptAt: null, at: new Date() };
    await harness.models.Delivery.collection.updateOne({ _id: deliveryId as never }, { $set: { effects, effectsKey: 'page-of-a-killed-worker' } });
    await harness.models.WebhookCounter.collection.updateOne({ _id: webhookId as never }, { $inc: { deliverySuccessCount: -1 } });
    expect((await webhookState(apiKey, webhookId)).delivered).toBe(0);

    // The fan-out's rerun loads the page: the delivery is recorded (not sent again), and what it owed is done.
    const http = new WebhookHttpClient({ allowHttp: true, allowedCidrs: ['127.0.0.0/8'], userAgent: 'test' });
    const input = { tenantId, eventId: 'outbox-rerun', eventType: 'refund.paid', after: null, limit: 100 };
    try {
      const activities = createActivities({ models: harness.models, secretBox: harness.secretBox, http });
      const load = () => new MockActivityEnvironment(undefined, { client: harness.client }).run(activities.loadFanoutPage, input);
      const page = (await load()) as Awaited<ReturnType<typeof activities.loadFanoutPage>>;
      expect(page.webhooks).toEqual([expect.objectContaining({ deliveryId, recorded: true })]);
      expect((await webhookState(apiKey, webhookId)).delivered).toBe(1);
      expect((await harness.models.Delivery.findById(deliveryId).lean())?.effects).toBeFalsy();
      // Done once: a second load finds nothing owed and counts nothing again.
      await load();
      expect((await webhookState(apiKey, webhookId)).delivered).toBe(1);
    } finally {
      await http.close();
    }
    expect(receiver.requests.filter((r) => r.path === '/rerun')).toHaveLength(1);
  });

  it('a record that can never pass is rejected at once (RecordRejected, not retried), and the index is untouched', async () => {
    const { harness } = ctx;
    const http = new WebhookHttpClient({ allowHttp: true, allowedCidrs: ['127.0.0.0/8'], userAgent: 'test' });
    try {
      const activities = createActivities({ models: harness.models, secretBox: harness.secretBox, http });
      const env = new MockActivityEnvironment(undefined, { client: harness.client });
      const record = { tenantId: 'ten_x', webhookId: 'wh_x', deliveryId: 'dlv_rejected', eventId: 'e', eventType: 'order.paid', outcome: 'failed' as const, attempts: 2, lastError: 'HTTP 500', firstAttemptAt: 'not a time' };
      const failure = await env.run(activities.recordDeliveryOutcome, record).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: DeliveryFailureType.RecordRejected, nonRetryable: true });
      expect((failure as Error).message).toContain('firstAttemptAt');
      expect(await harness.models.Delivery.findById('dlv_rejected').lean()).toBeNull();
    } finally {
      await http.close();
    }
  });
});
