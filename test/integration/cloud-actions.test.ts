import { tenantActions } from '../../bench/cloud-actions';
import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';

/**
 * The capacity model's Temporal Cloud Actions (bench/cloud-actions.ts), counted from the real
 * histories of a delivery on the dev server: docs/scaling.md's cost per delivery rests on them.
 */
describe('Temporal Cloud Actions counted from real histories', () => {
  const ctx = useHarness({ receivers: 1 });

  async function delivered(script: { status: number }[], retrySchedule?: string[]) {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url(`/${tenantId}`), events: ['order.*'], retrySchedule });
    ctx.receiver.respondWith(...script.map((s) => ({ ...s, body: 'ok' })));
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'order.paid', data: {} });
    const { models } = ctx.harness;
    await eventually(async () => ((await models.Delivery.findOne({ tenantId, eventId }).lean())?.status === 'delivered' ? true : undefined), 60_000, 'the delivery');
    // Every run closed: the histories are complete.
    await eventually(
      async () => ((await ctx.harness.client.workflow.count(`TenantId = '${tenantId}' AND ExecutionStatus = 'Running'`)).count === 0 ? true : undefined),
      30_000,
      'its workflows closed',
    );
    return tenantActions(ctx.harness.client, [tenantId]);
  }

  it('a delivery made on its first attempt: its fan-out started, and its local activities as one', async () => {
    const count = await delivered([{ status: 200 }]);
    expect(count).toEqual({ workflows: 1, total: 2, byKind: { 'workflow started': 1, 'local activities (markers of one workflow task)': 1 } });
  });

  it('a delivery retried once: its child start counts twice and its own start not again; each activity attempt and its heartbeat count', async () => {
    const count = await delivered([{ status: 500 }, { status: 200 }], ['1s']);
    expect(count.workflows).toBe(2);
    expect(count.byKind).toMatchObject({
      'workflow started': 1,
      'child workflow started': 2,
      'activity attempt': 1,
      'activity heartbeat (estimate)': 1,
    });
    expect(count.total).toBe(Object.values(count.byKind).reduce((a, b) => a + b, 0));
  });
});
