import { deliveryId } from '../../src/ids';
import type { DeliveryResult } from '../../src/delivery/types';
import { useHarness } from '../support/use-harness';
import { requestsOf } from '../support/receiver';
import { verifiedPayload } from '../support/signatures';
import { eventually } from '../support/stack';

describe('a worker restart in the middle of the schedule (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  it('loses no attempt: the log written before the restart continues after it', async () => {
    ctx.receiver.respondWith({ status: 500, body: 'first' }, { status: 502, body: 'second' }, { status: 200, body: 'third' });
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const { webhookId, secret } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/restart'), events: ['*'], retrySchedule: ['2s', '2s'] });
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'user.created', data: {} });
    const handle = ctx.harness.client.workflow.getHandle(deliveryId(tenantId, eventId, webhookId));


    // Attempt 1 fails inline, attempt 2 in the delivery's workflow; the worker goes away before
    // attempt 3 is due.
    await eventually(async () => {
      const d = await handle.describe().catch(() => undefined);
      return d?.raw.pendingActivities?.[0]?.lastFailure ? true : undefined;
    }, 30_000, 'the second failed attempt');
    await ctx.harness.stopWorker();
    const stopped = await handle.describe();
    expect(stopped.status.name).toBe('RUNNING');
    const [pending] = stopped.raw.pendingActivities!;
    // The activity's second attempt: the delivery's third (its first was the fan-out's).
    expect(pending.attempt).toBe(2);
    // Attempt 3 falls due while no worker runs: it waits on the task queue, nothing is lost.
    const due = Number(pending.nextAttemptScheduleTime!.seconds) * 1000;
    await eventually(() => (Date.now() > due + 500 ? true : undefined), 10_000, 'attempt 3 to fall due');
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect(requestsOf(ctx.receiver.requests, handle.workflowId)).toHaveLength(2);

    await ctx.harness.startWorker();
    const result: DeliveryResult = await handle.result();
    expect(result.attempts.map((a) => [a.attempt, a.statusCode, a.response])).toEqual([
      [1, 500, 'first'],
      [2, 502, 'second'],
      [3, 200, 'third'],
    ]);
    const requests = requestsOf(ctx.receiver.requests, handle.workflowId);
    expect(requests).toHaveLength(3);
    for (const request of requests) expect(verifiedPayload(request, secret)).toMatchObject({ id: eventId });
  });
});
