import { deliveryId } from '../../src/ids';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { requestsOf } from '../support/receiver';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * A receiver slow to answer does not hold its event's fan-out: past the inline budget (1 s) the
 * fan-out hands the delivery to its workflow with the request still in flight, and that
 * workflow takes the request's outcome over: no second request, the attempt on record as the
 * receiver answered it, and the schedule run from there.
 */
describe('a first attempt slower than the inline budget', () => {
  const ctx = useHarness({ receivers: 2 });
  let apiKey: string;
  let tenantId: string;

  beforeAll(async () => {
    ({ apiKey, tenantId } = await ctx.harness.createTenant('Slow receivers'));
  });

  const deliveryOf = async (eventId: string, webhookId: string) =>
    (await ctx.harness.call('GET', `/v1/deliveries/${deliveryId(tenantId, eventId, webhookId)}`, { token: apiKey })).body.delivery;
  const closedAt = async (eventId: string) => {
    const description = await ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, eventId)).describe();
    return description.closeTime?.getTime();
  };

  it('the fan-out closes while the request is in flight; its 2xx is the delivery\'s one attempt', async () => {
    const [slow, quick] = ctx.receivers;
    slow.respondWith({ status: 200, delayMs: 4000 });
    const slowHook = await ctx.harness.createWebhook(apiKey, { url: slow.url('/slow'), events: ['order.*'] });
    const quickHook = await ctx.harness.createWebhook(apiKey, { url: quick.url('/quick'), events: ['order.*'] });
    const eventId = await ctx.harness.sendEvent(apiKey, { id: 'slow-ok', type: 'order.paid', data: {} });

    const fanoutClosed = await eventually(() => closedAt(eventId), 20_000, 'the fan-out to close');
    const [request] = await eventually(() => (slow.requests.length ? slow.requests : undefined), 10_000, 'the slow request');
    // Closed before the slow receiver answered (4 s after the request), with the quick delivery done.
    expect(fanoutClosed - request.receivedAt).toBeLessThan(4000);
    expect((await deliveryOf(eventId, quickHook.webhookId)).status).toBe('delivered');

    const delivered = await eventually(async () => {
      const delivery = await deliveryOf(eventId, slowHook.webhookId);
      return delivery?.status === 'delivered' ? delivery : undefined;
    }, 30_000, 'the slow delivery delivered');
    expect(delivered.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, errorClass: null })]);
    expect(delivered.attempts[0].durationMs).toBeGreaterThanOrEqual(4000);
    expect(requestsOf(slow.requests, deliveryId(tenantId, eventId, slowHook.webhookId))).toHaveLength(1);
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
  });
});
