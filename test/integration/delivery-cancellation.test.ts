import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';

/** How long the receiver holds the attempt that gets canceled before it answers 200. */
const ANSWER_AFTER_MS = 25_000;

describe('canceling a delivery mid-request (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  it('aborts the attempt in flight: the delivery ends canceled, the receiver never answered, the log shows the aborted attempt', async () => {
    const { apiKey } = await ctx.harness.createTenant();
    ctx.receiver.respondWith({ status: 500, body: 'down' }, { status: 200, body: 'late', delayMs: ANSWER_AFTER_MS });
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/slow'), events: ['*'], retrySchedule: ['1s'], timeoutSeconds: 30 });
    await ctx.harness.sendEvent(apiKey, { id: 'cancel-mid', type: 'a.b', data: {} });
    const held = await eventually(() => ctx.receiver.requests[1], 30_000, 'the second attempt');
    const deliveryId = held.headers['webhook-id'] as string;

    const canceled = await ctx.harness.call('POST', `/v1/deliveries/${deliveryId}/cancel`, { token: apiKey });
    expect(canceled.status).toBe(202);
    await ctx.harness.client.workflow.getHandle(deliveryId).result().catch(() => undefined);
    // Past the moment the receiver answers: a delivery that ended canceled must not have had that answer.
    await new Promise((r) => setTimeout(r, Math.max(0, held.receivedAt + ANSWER_AFTER_MS + 1000 - Date.now())));

    const { body } = await ctx.harness.call('GET', `/v1/deliveries/${deliveryId}`, { token: apiKey });
    expect(body.delivery.status).toBe('canceled');
    expect(ctx.receiver.abandoned.has(held)).toBe(true);
    expect(body.delivery.attempts.map((a: { attempt: number; statusCode: number | null; errorClass: string | null }) => [a.attempt, a.statusCode, a.errorClass])).toEqual([
      [1, 500, null],
      [2, null, 'canceled'],
    ]);
    expect(ctx.receiver.requests).toHaveLength(2);
  });
});
