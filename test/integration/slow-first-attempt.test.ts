import { deliveryId } from '../../src/ids';
import { WorkflowNotFoundError } from '@temporalio/client';
import { RATE_SLOT_LATE_MS } from '../../src/delivery/rate-limit';
import { requestsOf } from '../support/receiver';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * A receiver slow to answer does not hold its event's batch of first attempts: past the inline
 * budget (1 s) the fan-out holds the delivery with its request still in flight and settles the
 * answer itself once the request's time is up, on a timer: no second request, the attempt on
 * record as the receiver answered it, and a workflow of its own only for a delivery that must be
 * retried. A rate-limited delivery waits in its fan-out for its slot the same way.
 */
describe('a first attempt slower than the inline budget', () => {
  const ctx = useHarness({ receivers: 3 });
  let apiKey: string;
  let tenantId: string;

  beforeAll(async () => {
    ({ apiKey, tenantId } = await ctx.harness.createTenant('Slow receivers'));
  });

  const deliveryOf = async (eventId: string, webhookId: string) =>
    (await ctx.harness.call('GET', `/v1/deliveries/${deliveryId(tenantId, eventId, webhookId)}`, { token: apiKey })).body.delivery;
  const ownWorkflow = (eventId: string, webhookId: string) =>
    ctx.harness.client.workflow.getHandle(deliveryId(tenantId, eventId, webhookId)).describe().then(
      () => true,
      (err: unknown) => (err instanceof WorkflowNotFoundError ? false : Promise.reject(err)),
    );

  it('the other deliveries end at once; the slow one is pending with its request open, then delivered by its fan-out: one request, no workflow of its own', async () => {
    const [slow, quick] = ctx.receivers;
    slow.respondWith({ status: 200, delayMs: 4000 });
    const slowHook = await ctx.harness.createWebhook(apiKey, { url: slow.url('/slow'), events: ['order.*'], timeoutSeconds: 6 });
    const quickHook = await ctx.harness.createWebhook(apiKey, { url: quick.url('/quick'), events: ['order.*'] });
    const eventId = await ctx.harness.sendEvent(apiKey, { id: 'slow-ok', type: 'order.paid', data: {} });

    const [request] = await eventually(() => (slow.requests.length ? slow.requests : undefined), 10_000, 'the slow request');
    await eventually(async () => ((await deliveryOf(eventId, quickHook.webhookId))?.status === 'delivered' ? true : undefined), 10_000, 'the quick delivery');
    // Recorded before the slow receiver answered (4 s after its request), the slow one pending with its attempt open.
    const pending = await deliveryOf(eventId, slowHook.webhookId);
    expect(Date.now() - request.receivedAt).toBeLessThan(4000);
    expect(pending.status).toBe('pending');
    expect(pending.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: null, durationMs: null })]);

    const delivered = await eventually(async () => {
      const delivery = await deliveryOf(eventId, slowHook.webhookId);
      return delivery?.status === 'delivered' ? delivery : undefined;
    }, 30_000, 'the slow delivery delivered');
    expect(delivered.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, errorClass: null })]);
    expect(delivered.attempts[0].durationMs).toBeGreaterThanOrEqual(4000);
    expect(requestsOf(slow.requests, deliveryId(tenantId, eventId, slowHook.webhookId))).toHaveLength(1);
    expect(await ownWorkflow(eventId, slowHook.webhookId)).toBe(false);
  });

  it('deliveries over a rate limit wait in their fan-outs for their slots: sent a slot apart, none with a workflow of its own', async () => {
    const receiver = ctx.receivers[2];
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/paced'), events: ['invoice.*'], rateLimitPerSecond: 1 });
    const eventIds = await Promise.all([1, 2, 3].map((n) => ctx.harness.sendEvent(apiKey, { id: `paced-${n}`, type: 'invoice.paid', data: { n } })));
    for (const eventId of eventIds) {
      const delivered = await eventually(async () => {
        const delivery = await deliveryOf(eventId, webhookId);
        return delivery?.status === 'delivered' ? delivery : undefined;
      }, 30_000, `${eventId} delivered`);
      // Read as soon as it is delivered (recorded by the worker that sent it, before its fan-out settles it): its one attempt.
      expect(delivered.attempts.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode])).toEqual([[1, 200]]);
    }
    const arrivals = eventIds.map((eventId) => requestsOf(receiver.requests, deliveryId(tenantId, eventId, webhookId)));
    expect(arrivals.map((requests) => requests.length)).toEqual([1, 1, 1]);
    const times = arrivals.map(([request]) => request.receivedAt).sort((a, b) => a - b);
    // Slots of 1 s, each request sent at most RATE_SLOT_LATE_MS after its own: without the limit all three arrive within milliseconds.
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(1000 - RATE_SLOT_LATE_MS);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(1000 - RATE_SLOT_LATE_MS);
    expect(await Promise.all(eventIds.map((eventId) => ownWorkflow(eventId, webhookId)))).toEqual([false, false, false]);
  });

  it('a slow failure is attempt 1 of the schedule: one retry follows, after the schedule\'s delay', async () => {
    const receiver = ctx.receivers[1];
    receiver.respondWith({ status: 503, delayMs: 2000 }, { status: 200 });
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/slow-fail'), events: ['refund.*'], retrySchedule: ['2s', '2s'] });
    const eventId = await ctx.harness.sendEvent(apiKey, { id: 'slow-fail', type: 'refund.made', data: {} });
    const delivered = await eventually(async () => {
      const delivery = await deliveryOf(eventId, webhookId);
      return delivery?.status === 'delivered' ? delivery : undefined;
    }, 40_000, 'the delivery delivered');
    expect(delivered.attempts.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode])).toEqual([[1, 503], [2, 200]]);
    const requests = requestsOf(receiver.requests, deliveryId(tenantId, eventId, webhookId));
    expect(requests).toHaveLength(2);
    // The retry waits the schedule's delay (2 s, jittered ±20 %) after the slow answer.
    expect(requests[1].receivedAt - requests[0].receivedAt).toBeGreaterThanOrEqual(2000 + 1600);
    expect(await ownWorkflow(eventId, webhookId)).toBe(true);
  });
});
