import { requestsOf } from '../support/receiver';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * A webhook's counters count deliveries by where they stand now, not outcomes: a delivery that
 * failed and was retried to success is one delivered delivery, as the receiver saw it.
 */
describe('webhook counters count deliveries (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  it('a failed delivery retried to success moves from failed to delivered, in the API and the stats', async () => {
    const { harness, receiver } = ctx;
    const { apiKey } = await harness.createTenant();
    const { webhookId } = await harness.createWebhook(apiKey, { url: receiver.url('/flaky'), events: ['order.*'], retrySchedule: ['1s'] });
    const counts = async () => {
      const { webhook } = (await harness.call('GET', `/v1/webhooks/${webhookId}`, { token: apiKey })).body;
      return { delivered: webhook.deliverySuccessCount, failed: webhook.deliveryFailureCount };
    };
    const status = async (id: string) => (await harness.call('GET', `/v1/deliveries/${id}`, { token: apiKey })).body.delivery?.status as string | undefined;

    receiver.respondWith({ status: 500 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      await harness.sendEvent(apiKey, { id: `flaky-${i}`, type: 'order.paid', data: { i } });
      const first = await eventually(() => receiver.requests.find((r) => JSON.parse(r.body).id === `flaky-${i}`), 30_000, `flaky-${i}`);
      ids.push(first.headers['webhook-id'] as string);
    }
    for (const id of ids) await eventually(async () => ((await status(id)) === 'failed' ? true : undefined), 60_000, `${id} failed`);
    await eventually(async () => ((await counts()).failed === 3 ? true : undefined), 30_000, 'three failed');
    expect(await counts()).toEqual({ delivered: 0, failed: 3 });

    // The receiver is fixed; two of the three are retried and delivered.
    receiver.respondWith({ status: 200 });
    for (const id of ids.slice(0, 2)) expect((await harness.call('POST', `/v1/deliveries/${id}/retry`, { token: apiKey })).status).toBe(202);
    for (const id of ids.slice(0, 2)) await eventually(async () => ((await status(id)) === 'delivered' ? true : undefined), 60_000, `${id} delivered`);
    await eventually(async () => ((await counts()).delivered === 2 ? true : undefined), 30_000, 'two delivered');

    // What the receiver saw: 2 deliveries answered 2xx, 1 never.
    const answered = ids.filter((id) => requestsOf(receiver.requests, id).length === 3);
    expect(answered).toEqual(ids.slice(0, 2));
    expect(await counts()).toEqual({ delivered: 2, failed: 1 });
    const stats = (await harness.call('GET', `/v1/webhooks/${webhookId}/stats?hours=2`, { token: apiKey })).body;
    const sum = (key: 'delivered' | 'failed') => stats.hours.reduce((n: number, h: Record<string, number>) => n + h[key], 0);
    expect({ delivered: sum('delivered'), failed: sum('failed') }).toEqual({ delivered: 2, failed: 1 });
  });
});
