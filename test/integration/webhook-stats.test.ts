import { deliveryListResponseSchema } from '../../src/api/schemas/delivery';
import { webhookStatsResponseSchema } from '../../src/api/schemas/webhook-stats';
import { expectError, pathsOf, valid } from '../support/shapes';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

describe('GET /v1/webhooks/{id}/stats and the eventType filter of deliveries', () => {
  const ctx = useHarness({ receivers: 1 });
  let tenant: { tenantId: string; apiKey: string };
  let webhookId: string;

  const deliveries = async (query: string) =>
    valid(deliveryListResponseSchema, (await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/deliveries${query}`, { token: tenant.apiKey })).body).deliveries;

  beforeAll(async () => {
    tenant = await ctx.harness.createTenant();
    ({ webhookId } = await ctx.harness.createWebhook(tenant.apiKey, { url: ctx.receiver.url(), events: ['invoice.*'], retrySchedule: ['1s'] }));
    // One delivery fails (two attempts of 500), then one is delivered.
    ctx.receiver.respondWith({ status: 500, body: 'down' });
    await ctx.harness.sendEvent(tenant.apiKey, { type: 'invoice.voided', data: {} });
    await eventually(async () => ((await deliveries('?status=failed')).length ? true : undefined), 30_000, 'the failed delivery');
    ctx.receiver.respondWith({ status: 200, body: 'ok' });
    await ctx.harness.sendEvent(tenant.apiKey, { type: 'invoice.paid', data: {} });
    await eventually(async () => ((await deliveries('?status=delivered')).length ? true : undefined), 30_000, 'the delivered delivery');
  });

  it('filters deliveries by event type', async () => {
    expect((await deliveries('?eventType=invoice.paid')).map((d) => [d.eventType, d.status])).toEqual([['invoice.paid', 'delivered']]);
    expect((await deliveries('?eventType=invoice.voided')).map((d) => [d.eventType, d.status])).toEqual([['invoice.voided', 'failed']]);
    expect(await deliveries('?eventType=invoice.created')).toEqual([]);
    expect(pathsOf(expectError(await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/deliveries?eventType=Bad Type`, { token: tenant.apiKey }), 400))).toEqual(['query.eventType']);
  });

  it('counts deliveries per hour by outcome and lists the attempts with their durations', async () => {
    const res = await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/stats`, { token: tenant.apiKey });
    expect(res.status).toBe(200);
    const stats = valid(webhookStatsResponseSchema, res.body);
    expect(stats.hours).toHaveLength(72);
    const hourMs = 3_600_000;
    expect(new Date(stats.to).getTime() - new Date(stats.from).getTime()).toBe(72 * hourMs);
    expect(new Date(stats.to).getTime()).toBeGreaterThan(Date.now());
    const totals = stats.hours.reduce((t, h) => ({ delivered: t.delivered + h.delivered, failed: t.failed + h.failed, other: t.other + h.canceled + h.inProgress }), { delivered: 0, failed: 0, other: 0 });
    expect(totals).toEqual({ delivered: 1, failed: 1, other: 0 });
    // The current hour holds both (or the previous one, right at an hour's turn).
    expect(stats.hours.slice(-2).reduce((n, h) => n + h.delivered + h.failed, 0)).toBe(2);

    expect(stats.attempts.map((a) => a.statusCode).sort()).toEqual([200, 500, 500]);
    for (const a of stats.attempts) expect(a.durationMs).toBeGreaterThanOrEqual(0);
    const times = stats.attempts.map((a) => a.startedAt);
    expect(times).toEqual([...times].sort());

    const short = valid(webhookStatsResponseSchema, (await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/stats?hours=3`, { token: tenant.apiKey })).body);
    expect(short.hours).toHaveLength(3);
  });

  it('refuses bad windows and another tenant\'s webhook', async () => {
    expect(pathsOf(expectError(await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/stats?hours=0`, { token: tenant.apiKey }), 400))).toEqual(['query.hours']);
    expect(pathsOf(expectError(await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/stats?hours=169`, { token: tenant.apiKey }), 400))).toEqual(['query.hours']);
    const other = await ctx.harness.createTenant('Other');
    expectError(await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/stats`, { token: other.apiKey }), 404, 'not_found');
  });
});
