import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/** Tenants can subscribe to what the service itself reports about their webhooks. */
describe('operational events', () => {
  const ctx = useHarness({ receivers: 2 });

  it('sends delivery.exhausted and webhook.disabled to webhooks subscribed to them, never to *', async () => {
    const { harness, receivers: [failing, ops] } = ctx;
    const { apiKey, tenantId } = await harness.createTenant();
    const create = (url: string, events: string[]) =>
      harness.call('POST', '/v1/webhooks', { token: apiKey, body: { url, events, retrySchedule: ['1s'] } }).then((r) => r.body.webhook.id as string);
    const failingId = await create(failing.url('/orders'), ['order.*']);
    await create(ops.url('/ops'), ['delivery.*', 'webhook.disabled']);
    await create(ops.url('/everything'), ['*']);
    const opsEvents = () => ops.requests.filter((r) => r.path === '/ops').map((r) => JSON.parse(r.body));

    failing.respondWith({ status: 500, body: 'broken' });
    await harness.call('POST', '/v1/events', { token: apiKey, body: { id: 'o-1', type: 'order.paid', data: {} } });
    const [exhausted] = await eventually(() => (opsEvents().length >= 1 ? opsEvents() : undefined), 30_000, 'delivery.exhausted');
    expect(exhausted).toMatchObject({
      type: 'delivery.exhausted',
      data: { eventId: 'o-1', eventType: 'order.paid', webhookId: failingId, outcome: 'failed', attempts: 2, lastError: 'HTTP 500' },
    });
    expect(exhausted.data.deliveryId).toBe(failing.requests[0].headers['webhook-id']);

    failing.respondWith({ status: 410 });
    await harness.call('POST', '/v1/events', { token: apiKey, body: { id: 'o-2', type: 'order.paid', data: {} } });
    const events = await eventually(() => (opsEvents().length >= 3 ? opsEvents() : undefined), 30_000, 'webhook.disabled');
    expect(events.map((e) => e.type).sort()).toEqual(['delivery.exhausted', 'delivery.exhausted', 'webhook.disabled']);
    expect(events.find((e) => e.type === 'webhook.disabled')).toMatchObject({ data: { webhookId: failingId, reason: 'the receiver answered 410 Gone' } });
    expect(events.find((e) => e.type === 'delivery.exhausted' && e.data.eventId === 'o-2')).toMatchObject({ data: { outcome: 'gone' } });

    // The catch-all webhook got the two orders, and none of the operational events: each of their
    // fan-outs (which would have made that first attempt) has finished.
    for (const event of events) await harness.client.workflow.getHandle(eventWorkflowId(tenantId, event.id)).result();
    expect(ops.requests.filter((r) => r.path === '/everything').map((r) => JSON.parse(r.body).type)).toEqual(['order.paid', 'order.paid']);
    const types = await harness.call('GET', '/v1/event-types', { token: apiKey });
    expect(JSON.stringify(types.body)).toContain('webhook.disabled');
  });
});
