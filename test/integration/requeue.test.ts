import { DEFAULT_CIRCUIT_POLICY } from '../../src/delivery/circuit-policy';
import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';

/** Operators requeue failed deliveries in bulk once a receiver has recovered. */
describe('bulk requeue', () => {
  // 50 failures in a row would auto-disable the webhook (default: after 20) and cancel the rest,
  // and open its circuit breaker (after 10), holding the retries and the requeued deliveries for
  // its probe; this test is about requeueing, so both are out of its way.
  const ctx = useHarness({
    receivers: 1,
    activities: { autoDisable: { consecutiveFailures: 1000, failingForMs: 5 * 86_400_000 }, circuit: { ...DEFAULT_CIRCUIT_POLICY, enabled: false } },
  });

  it('fails 50 deliveries, requeues them all after the fix, and each is delivered exactly once more', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    ctx.receiver.respondWith({ status: 500, body: 'down' });
    const created = await ctx.harness.call('POST', '/v1/webhooks', {
      token: apiKey,
      body: { url: ctx.receiver.url('/down'), events: ['order.*'], retrySchedule: ['1s'] },
    });
    const webhookId = created.body.webhook.id;
    for (let i = 0; i < 50; i++) {
      const res = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { id: `order-${i}`, type: 'order.paid', data: { i } } });
      expect(res.status).toBe(202);
    }
    const failed = await eventually(
      async () => {
        const page = await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/deliveries?status=failed&limit=100`, { token: apiKey });
        return page.body.deliveries.length === 50 ? page.body.deliveries : undefined;
      },
      180_000,
      '50 failed deliveries',
    );
    expect(new Set(failed.map((d: { id: string }) => d.id)).size).toBe(50);
    expect(ctx.receiver.requests).toHaveLength(100); // 2 attempts each: first at once, one retry

    // A dry run counts without sending.
    const dry = await ctx.harness.call('POST', '/v1/admin/requeue', { token: ctx.harness.adminToken, body: { tenantId, webhookId, dryRun: true } });
    expect(dry.status).toBe(202);
    const dryResult = await eventually(async () => {
      const op = await ctx.harness.call('GET', `/v1/admin/operations/${dry.body.operationId}`, { token: ctx.harness.adminToken });
      return op.body.operation.status === 'completed' ? op.body.operation : undefined;
    }, 60_000, 'the dry run');
    expect(dryResult.progress).toEqual({ matched: 50, requeued: 0, skipped: 0, errors: 0 });
    expect(ctx.receiver.requests).toHaveLength(100);

    ctx.receiver.respondWith({ status: 200, body: 'ok' });
    const before = ctx.receiver.requests.length;
    const op = await ctx.harness.call('POST', '/v1/admin/requeue', { token: ctx.harness.adminToken, body: { tenantId, webhookId, ratePerSecond: 25 } });
    expect(op.status).toBe(202);
    const done = await eventually(
      async () => {
        const res = await ctx.harness.call('GET', `/v1/admin/operations/${op.body.operationId}`, { token: ctx.harness.adminToken });
        return res.body.operation.status === 'completed' ? res.body.operation : undefined;
      },
      120_000,
      'the requeue operation',
    );
    expect(done.progress).toEqual({ matched: 50, requeued: 50, skipped: 0, errors: 0 });

    const delivered = await eventually(async () => {
      const page = await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/deliveries?status=delivered&limit=100`, { token: apiKey });
      return page.body.deliveries.length === 50 ? page.body.deliveries : undefined;
    }, 120_000, '50 delivered deliveries');
    const after = ctx.receiver.requests.slice(before);
    expect(after).toHaveLength(50);
    const perDelivery = new Map<string, number>();
    for (const r of after) perDelivery.set(r.headers['webhook-id'] as string, (perDelivery.get(r.headers['webhook-id'] as string) ?? 0) + 1);
    expect([...perDelivery.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(perDelivery.keys())).toEqual(new Set(delivered.map((d: { id: string }) => d.id)));

    // Requeued failures are no longer listed as failed; a second requeue finds nothing.
    const stillFailed = await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/deliveries?status=failed`, { token: apiKey });
    expect(stillFailed.body.deliveries).toEqual([]);
    const again = await ctx.harness.call('POST', '/v1/admin/requeue', { token: ctx.harness.adminToken, body: { tenantId, webhookId } });
    const againDone = await eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/admin/operations/${again.body.operationId}`, { token: ctx.harness.adminToken });
      return res.body.operation.status === 'completed' ? res.body.operation : undefined;
    }, 60_000, 'the second requeue');
    expect(againDone.progress.requeued).toBe(0);
    expect(ctx.receiver.requests.length).toBe(before + 50);
    // A bound, not a speed claim: this shares the dev server with the 2,000-webhook fan-out test.
  }, 300_000);
});
