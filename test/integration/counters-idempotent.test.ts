import { requestsOf } from '../support/receiver';
import { resetWorkflow } from '../support/reset';
import { eventually } from '../support/stack';
import { storedWebhook } from '../support/stored-webhook';
import { useHarness } from '../support/use-harness';

/**
 * A delivery's outcome is recorded by its DeliveryWorkflow's local activity `recordDeliveryOutcome`.
 * Here that record is run a second time for real: the run is reset to the workflow task that made
 * it, so the new run replays the attempts and records the same outcome again. The counters must
 * not move, nor an operational event be sent twice.
 */
describe('counters are idempotent per delivery (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  it('a replayed record of a failed and of a delivered delivery changes no counter', async () => {
    const { apiKey } = await ctx.harness.createTenant();
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/counted'), events: ['order.*'], retrySchedule: ['1s'] });
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/ops'), events: ['delivery.exhausted'] });
    const counters = async () => {
      const { webhook } = (await ctx.harness.call('GET', `/v1/webhooks/${webhookId}`, { token: apiKey })).body;
      // The failure streak (auto-disable's input) is internal: read from the stored webhook.
      const stored = await storedWebhook(ctx.harness.models, webhookId);
      return [webhook.deliverySuccessCount, webhook.deliveryFailureCount, stored?.consecutiveFailureCount];
    };
    const opsEvents = () => ctx.receiver.requests.filter((r) => r.path === '/ops').length;

    /** Sends an event, waits for its retried delivery's run to end, then records its outcome once more. */
    const deliverAndReplayRecord = async (eventId: string, ended: 'FAILED' | 'COMPLETED') => {
      await ctx.harness.sendEvent(apiKey, { id: eventId, type: 'order.paid', data: {} });
      const first = await eventually(() => ctx.receiver.requests.find((r) => r.path === '/counted' && JSON.parse(r.body).id === eventId), 30_000, eventId);
      const deliveryId = first.headers['webhook-id'] as string;
      const handle = ctx.harness.client.workflow.getHandle(deliveryId);
      await eventually(() => handle.describe().catch(() => undefined), 30_000, 'its DeliveryWorkflow');
      await handle.result().catch(() => undefined);
      const ran = (await handle.describe()).status.name;
      expect(ran).toBe(ended);
      await eventually(async () => ((await ctx.harness.call('GET', `/v1/deliveries/${deliveryId}`, { token: apiKey })).body.delivery?.status?.match(/delivered|failed/) ? true : undefined));
      const before = { counters: await counters(), sent: requestsOf(ctx.receiver.requests, deliveryId).length };

      const events = (await handle.fetchHistory()).events ?? [];
      const marker = [...events].reverse().find((e) => e.markerRecordedEventAttributes)!;
      const lastTask = [...events].reverse().find((e) => e.workflowTaskCompletedEventAttributes && Number(e.eventId) < Number(marker.eventId))!;
      const runId = await resetWorkflow(ctx.harness.client, deliveryId, lastTask.eventId, 'replay the outcome record');
      const reset = ctx.harness.client.workflow.getHandle(deliveryId, runId);
      await reset.result().catch(() => undefined);
      expect((await reset.describe()).status.name).toBe(ran);
      const replayed = (await reset.fetchHistory()).events ?? [];
      // The record ran again in the new run (a marker after the reset point), and sent nothing.
      expect(replayed.filter((e) => e.markerRecordedEventAttributes && Number(e.eventId) > Number(lastTask.eventId))).not.toHaveLength(0);
      expect(requestsOf(ctx.receiver.requests, deliveryId)).toHaveLength(before.sent);
      expect(await counters()).toEqual(before.counters);
      return before.counters;
    };

    ctx.receiver.respondWith({ status: 500 });
    expect(await deliverAndReplayRecord('c-failed', 'FAILED')).toEqual([0, 1, 1]);
    await eventually(() => (opsEvents() === 1 ? true : undefined), 30_000, 'one delivery.exhausted');

    ctx.receiver.respondWith({ status: 500 }, { status: 200 });
    expect(await deliverAndReplayRecord('c-delivered', 'COMPLETED')).toEqual([1, 1, 0]);
    // The replayed failed record sent no second delivery.exhausted (its fan-out, had it started, has ended).
    expect(opsEvents()).toBe(1);
  });
});
