import { randomUUID } from 'node:crypto';
import { Harness } from '../support/harness';
import { TestReceiver } from '../support/receiver';
import { eventually } from '../support/stack';

/** What an operator does in the Web UI: Reset a failed delivery to its first workflow task. */
describe('resetting a failed delivery', () => {
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

  it('redelivers that delivery only', async () => {
    const { apiKey } = await harness.createTenant();
    const create = (path: string) =>
      harness.call('POST', '/v1/webhooks', { token: apiKey, body: { url: receiver.url(path), events: ['invoice.*'], retrySchedule: ['1s'] } });
    await create('/healthy');
    await create('/broken');
    receiver.respondWith({ status: 500 });
    await harness.call('POST', '/v1/events', { token: apiKey, body: { id: 'inv-9', type: 'invoice.paid', data: {} } });

    // Both fail here (the receiver answers 500 to all), then only /broken's delivery is reset.
    const broken = await eventually(() => receiver.requests.filter((r) => r.path === '/broken').length === 2 ? receiver.requests.find((r) => r.path === '/broken') : undefined);
    const deliveryId = broken.headers['webhook-id'] as string;
    const handle = harness.client.workflow.getHandle(deliveryId);
    await expect(handle.result()).rejects.toThrow();
    await eventually(() => (receiver.requests.length === 4 ? true : undefined));

    receiver.respondWith({ status: 200 });
    const history = await handle.fetchHistory();
    const firstTask = history.events!.find((e) => e.workflowTaskCompletedEventAttributes)!;
    const { runId } = await harness.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: deliveryId },
      workflowTaskFinishEventId: firstTask.eventId,
      reason: 'receiver fixed',
      requestId: randomUUID(),
    });
    const outcome = await harness.client.workflow.getHandle(deliveryId, runId).result();
    expect(outcome.status).toBe('delivered');
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.requests).toHaveLength(5);
    expect(receiver.requests[4]).toMatchObject({ path: '/broken', headers: expect.objectContaining({ 'webhook-id': deliveryId }) });
  });
});
