import { resetWorkflow } from '../support/reset';
import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { deliveryId } from '../../src/ids';
import { requestsOf } from '../support/receiver';
import { guideSection, queryTable } from '../support/operator-guide';

/** docs/operations.md's query for the deliveries still retrying, as an operator pastes it. */
const STILL_RETRYING = queryTable(guideSection('## Find deliveries in the Temporal Web UI')).get('Deliveries still retrying, all tenants')!;

/** What an operator does in the Web UI: Reset a failed delivery to its first workflow task. */
describe('resetting a failed delivery', () => {
  const ctx = useHarness({ receivers: 1 });

  it('redelivers that delivery only', async () => {
    const { apiKey } = await ctx.harness.createTenant();
    const create = (path: string) =>
      ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, body: { url: ctx.receiver.url(path), events: ['invoice.*'], retrySchedule: ['1s'] } });
    await create('/healthy');
    await create('/broken');
    ctx.receiver.respondWith({ status: 500 });
    await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { id: 'inv-9', type: 'invoice.paid', data: {} } });

    // Both fail here (the receiver answers 500 to all), then only /broken's delivery is reset.
    const broken = await eventually(() => ctx.receiver.requests.filter((r) => r.path === '/broken').length === 2 ? ctx.receiver.requests.find((r) => r.path === '/broken') : undefined);
    const deliveryId = broken.headers['webhook-id'] as string;
    const handle = ctx.harness.client.workflow.getHandle(deliveryId);
    await expect(handle.result()).rejects.toThrow();
    await eventually(() => (ctx.receiver.requests.length === 4 ? true : undefined));

    ctx.receiver.respondWith({ status: 200 });
    const history = await handle.fetchHistory();
    const firstTask = history.events!.find((e) => e.workflowTaskCompletedEventAttributes)!;
    const runId = await resetWorkflow(ctx.harness.client, deliveryId, firstTask.eventId, 'receiver fixed');
    const outcome = await ctx.harness.client.workflow.getHandle(deliveryId, runId).result();
    expect(outcome.status).toBe('delivered');
    // Every run of both deliveries has ended (the other one failed for good above), so no request
    // can come later: the count is final.
    expect((await ctx.harness.client.workflow.getHandle(ctx.receiver.requests.find((r) => r.path === '/healthy')!.headers['webhook-id'] as string).describe()).status.name).toBe('FAILED');
    expect(ctx.receiver.requests).toHaveLength(5);
    expect(ctx.receiver.requests[4]).toMatchObject({ path: '/broken', headers: expect.objectContaining({ 'webhook-id': deliveryId }) });
    // The API shows it delivered, with every attempt of both runs in the order made: the inline
    // first attempt, the failed retry, the reset run's success.
    const read = await eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/deliveries/${deliveryId}`, { token: apiKey });
      return res.body.delivery?.status === 'delivered' ? res.body.delivery : undefined;
    }, 10_000, 'the delivery to read as delivered');
    expect(read.attempts.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
  });

  it('resetting the fan-out of a delivered event sends none of its deliveries again', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    ctx.receiver.respondWith({ status: 200 });
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/inline-a'), events: ['order.*'] });
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/inline-b'), events: ['order.*'] });
    await ctx.harness.sendEvent(apiKey, { id: 'ord-1', type: 'order.paid', data: {} });
    const fanout = ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, 'ord-1'));
    expect(await fanout.result()).toEqual({ deliveries: 2 });
    const inline = () => ctx.receiver.requests.filter((r) => r.path.startsWith('/inline-'));
    expect(inline()).toHaveLength(2);

    // The first attempts are local activities of the fan-out: a reset runs them again, unless the
    // page finds its deliveries on record.
    const firstTask = (await fanout.fetchHistory()).events!.find((e) => e.workflowTaskCompletedEventAttributes)!;
    const runId = await resetWorkflow(ctx.harness.client, eventWorkflowId(tenantId, 'ord-1'), firstTask.eventId, 'operator reset');
    expect(await ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, 'ord-1'), runId).result()).toEqual({ deliveries: 2 });
    expect(inline()).toHaveLength(2);
  });

  it("after a reset of a retrying delivery (a batch reset's), the guide's 'still retrying' query lists its running run only", async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    ctx.receiver.respondWith({ status: 500 });
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/still-retrying'), events: ['invoice.*'], retrySchedule: ['1s', '1h'] });
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'invoice.sent', data: {} });
    const id = deliveryId(tenantId, eventId, webhookId);
    // Retrying: attempt 2 failed, attempt 3 an hour away.
    await eventually(() => (requestsOf(ctx.receiver.requests, id).length === 2 ? true : undefined), 60_000, 'attempt 2');
    const handle = ctx.harness.client.workflow.getHandle(id);
    const firstRun = (await handle.describe()).runId;
    const firstTask = (await handle.fetchHistory()).events!.find((e) => e.workflowTaskCompletedEventAttributes)!;
    // The reset terminates the running run, which keeps the DeliveryStatus it had: retrying.
    const newRun = await resetWorkflow(ctx.harness.client, id, firstTask.eventId, 'batch reset');
    const runs = async (query: string) => {
      const found: { runId: string; status: string }[] = [];
      for await (const run of ctx.harness.client.workflow.list({ query })) found.push({ runId: run.runId, status: run.status.name });
      return found;
    };
    // Visibility has both runs, the old one terminated, the new one retrying in its turn.
    await eventually(async () => {
      const all = await runs(`WorkflowId = '${id}' AND DeliveryStatus = 'retrying'`);
      return all.some((r) => r.runId === firstRun && r.status === 'TERMINATED') && all.some((r) => r.runId === newRun) ? true : undefined;
    }, 30_000, 'visibility to show both runs');
    expect(await runs(`${STILL_RETRYING} AND WebhookId = '${webhookId}'`)).toEqual([{ runId: newRun, status: 'RUNNING' }]);
    await handle.terminate('test over');
  });
});
