import { deliveryId } from '../../src/ids';
import type { DeliveryResult } from '../../src/delivery/types';
import { Harness } from '../support/harness';
import { TestReceiver, requestsOf } from '../support/receiver';
import { verifiedPayload } from '../support/signatures';
import { eventually } from '../support/stack';

describe('a worker restart in the middle of the schedule (dev server)', () => {
  let harness: Harness;
  let receiver: TestReceiver;

  beforeAll(async () => {
    harness = await Harness.start();
    receiver = await new TestReceiver().start();
  });
  afterAll(async () => {
    await harness?.close();
    await receiver?.stop();
  });

  it('loses no attempt: the log written before the restart continues after it', async () => {
    receiver.respondWith({ status: 500, body: 'first' }, { status: 502, body: 'second' }, { status: 200, body: 'third' });
    const { apiKey, tenantId } = await harness.createTenant();
    const { webhookId, secret } = await harness.createWebhook(apiKey, { url: receiver.url('/restart'), events: ['*'], retrySchedule: ['2s', '2s'] });
    const eventId = await harness.sendEvent(apiKey, { type: 'user.created', data: {} });
    const handle = harness.client.workflow.getHandle(deliveryId(tenantId, eventId, webhookId));

    // Attempt 1 fails; the worker goes away before attempt 2 is due.
    await eventually(async () => {
      const d = await handle.describe().catch(() => undefined);
      return d?.searchAttributes.DeliveryStatus?.[0] === 'retrying' ? true : undefined;
    }, 30_000, 'the first failed attempt');
    await harness.stopWorker();
    const stopped = await handle.describe();
    expect(stopped.status.name).toBe('RUNNING');
    const [pending] = stopped.raw.pendingActivities!;
    expect(pending.attempt).toBe(2);
    // Attempt 2 falls due while no worker runs: it waits on the task queue, nothing is lost.
    const due = Number(pending.nextAttemptScheduleTime!.seconds) * 1000;
    await eventually(() => (Date.now() > due + 500 ? true : undefined), 10_000, 'attempt 2 to fall due');
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect(requestsOf(receiver.requests, handle.workflowId)).toHaveLength(1);

    await harness.startWorker();
    const result: DeliveryResult = await handle.result();
    expect(result.attempts.map((a) => [a.attempt, a.statusCode, a.response])).toEqual([
      [1, 500, 'first'],
      [2, 502, 'second'],
      [3, 200, 'third'],
    ]);
    const requests = requestsOf(receiver.requests, handle.workflowId);
    expect(requests).toHaveLength(3);
    for (const request of requests) expect(verifiedPayload(request, secret)).toMatchObject({ id: eventId });
  });
});
