import { deliveryId } from '../../src/ids';
import { freePort } from '../../src/embedded/ports';
import { storedWebhook } from '../support/stored-webhook';
import { useHarness } from '../support/use-harness';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';

describe('webhook counters and auto-disable (dev server)', () => {
  // Disable after 2 consecutive failed deliveries, or after failing for 1 hour.
  const ctx = useHarness({ receivers: 1, activities: { autoDisable: { consecutiveFailures: 2, failingForMs: 3_600_000 } } });

  /** Sends an event and waits until its delivery to `webhookId` has ended and been counted. */
  async function deliverAndSettle(apiKey: string, tenantId: string, webhookId: string) {
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'job.done', data: {} });
    // The fan-out records a delivery that ended on its first attempt before it completes; a
    // retried one gets a workflow of its own, which records it before it ends.
    await ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, eventId)).result();
    await ctx.harness.client.workflow.getHandle(deliveryId(tenantId, eventId, webhookId)).result().catch(() => undefined);
    return storedWebhook(ctx.harness.models, webhookId);
  }

  const webhookView = async (apiKey: string, webhookId: string) => (await ctx.harness.call('GET', `/v1/webhooks/${webhookId}`, { token: apiKey })).body.webhook;

  it('disables a webhook after the configured number of consecutive failed deliveries, with a reason', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const dead = `http://127.0.0.1:${await freePort()}/dead`;
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: dead, events: ['job.*'], retrySchedule: ['1s'] });

    const first = await deliverAndSettle(apiKey, tenantId, webhookId);
    expect(first).toMatchObject({ active: true, consecutiveFailureCount: 1, deliveryFailureCount: 1 });
    const second = await deliverAndSettle(apiKey, tenantId, webhookId);
    expect(second).toMatchObject({ active: false, consecutiveFailureCount: 2, deliveryFailureCount: 2 });
    expect(await webhookView(apiKey, webhookId)).toMatchObject({ active: false, disabledReason: '2 consecutive deliveries failed', deliveryFailureCount: 2 });

    // Enabled again, it starts a new streak: one more failure does not disable it, a second does.
    const enabled = await ctx.harness.call('PATCH', `/v1/webhooks/${webhookId}`, { token: apiKey, body: { active: true } });
    expect(enabled.body.webhook).toMatchObject({ active: true, disabledReason: null, deliveryFailureCount: 2 });
    const third = await deliverAndSettle(apiKey, tenantId, webhookId);
    expect(third).toMatchObject({ active: true, consecutiveFailureCount: 1, deliveryFailureCount: 3 });
    const fourth = await deliverAndSettle(apiKey, tenantId, webhookId);
    expect(fourth).toMatchObject({ active: false, consecutiveFailureCount: 2, deliveryFailureCount: 4 });
  });

  it('disables a webhook whose deliveries have failed for longer than the configured span', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const dead = `http://127.0.0.1:${await freePort()}/dead`;
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: dead, events: ['job.*'], retrySchedule: ['1s'] });
    // As if its first failure had been two hours ago.
    await ctx.harness.models.WebhookCounter.updateOne({ _id: webhookId, tenantId }, { $set: { failingSince: new Date(Date.now() - 2 * 3_600_000) } }, { upsert: true });

    const after = await deliverAndSettle(apiKey, tenantId, webhookId);
    expect(after).toMatchObject({ active: false, consecutiveFailureCount: 1 });
    expect(after?.disabledReason).toBe('deliveries have failed for more than 1 hour without a success');
  });

  it('a success resets the failing streak', async () => {
    ctx.receiver.respondWith({ status: 500 });
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/recovering'), events: ['job.*'], retrySchedule: ['1s'] });
    const failed = await deliverAndSettle(apiKey, tenantId, webhookId);
    expect(failed).toMatchObject({ consecutiveFailureCount: 1, active: true });
    expect(failed?.failingSince).toBeInstanceOf(Date);

    ctx.receiver.respondWith({ status: 200 });
    const recovered = await deliverAndSettle(apiKey, tenantId, webhookId);
    expect(recovered).toMatchObject({ consecutiveFailureCount: 0, failingSince: null, deliverySuccessCount: 1, deliveryFailureCount: 1, active: true });
  });
});
