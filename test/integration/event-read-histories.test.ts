import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * `GET /v1/events/{id}` reads every delivery's attempts; the first attempts of all of them are in
 * the event's fan-out history. That history is fetched once for the request, not once per delivery.
 */
describe('reading an event with many deliveries (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  it("fetches the fan-out run's history once, and every delivery still has its attempt", async () => {
    const { harness, receiver } = ctx;
    const { apiKey, tenantId } = await harness.createTenant();
    const webhooks = 30;
    for (let i = 0; i < webhooks; i++) await harness.createWebhook(apiKey, { url: receiver.url(`/r${i}`), events: ['report.ready'] });
    await harness.sendEvent(apiKey, { id: 'many-1', type: 'report.ready', data: {} });
    await harness.client.workflow.getHandle(eventWorkflowId(tenantId, 'many-1')).result();
    await eventually(async () => {
      const { body } = await harness.call('GET', '/v1/events/many-1?limit=100', { token: apiKey });
      return body.deliveries?.length === webhooks && body.deliveries.every((d: { status: string }) => d.status === 'delivered') ? true : undefined;
    }, 30_000, 'every delivery recorded');

    // Counts the history fetches the API's client makes (the harness's client serves the API).
    const fetched: string[] = [];
    const workflows = harness.client.workflow;
    const getHandle = workflows.getHandle.bind(workflows);
    const spy = jest.spyOn(workflows, 'getHandle').mockImplementation((...args: Parameters<typeof getHandle>) => {
      const handle = getHandle(...args);
      const fetchHistory = handle.fetchHistory.bind(handle);
      handle.fetchHistory = () => {
        fetched.push(args[0]);
        return fetchHistory();
      };
      return handle;
    });
    try {
      const { status, body } = await harness.call('GET', '/v1/events/many-1?limit=100', { token: apiKey });
      expect(status).toBe(200);
      expect(body.deliveries).toHaveLength(webhooks);
      for (const d of body.deliveries) expect(d.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200 })]);
      expect(fetched.filter((id) => id === eventWorkflowId(tenantId, 'many-1'))).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
  });
});
