import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';

describe('deliveries API', () => {
  const ctx = useHarness({ receivers: 1 });
  let tenant: { apiKey: string; tenantId: string };
  let other: { apiKey: string; tenantId: string };
  beforeAll(async () => {
    tenant = await ctx.harness.createTenant('Owner');
    other = await ctx.harness.createTenant('Other');
  });

  async function webhook(path: string, retrySchedule: string[]) {
    const res = await ctx.harness.call('POST', '/v1/webhooks', { token: tenant.apiKey, body: { url: ctx.receiver.url(path), events: [`${path.slice(1)}.*`], retrySchedule } });
    return res.body.webhook.id as string;
  }
  const send = (type: string, id: string) => ctx.harness.call('POST', '/v1/events', { token: tenant.apiKey, body: { id, type, data: {} } });
  const list = (webhookId: string, query = '', token = tenant.apiKey) => ctx.harness.call('GET', `/v1/webhooks/${webhookId}/deliveries${query}`, { token });
  /** Waits until the webhook has a delivery with `status`, and returns it. */
  const firstWith = (webhookId: string, status: string) =>
    eventually(async () => (await list(webhookId, `?status=${status}`)).body.deliveries[0], 30_000, `a ${status} delivery`);

  it('retries a failed delivery once; a delivered one is 409 and never sent twice', async () => {
    ctx.receiver.respondWith({ status: 500 });
    const webhookId = await webhook('/retry', ['1s']);
    await send('retry.now', 'r-1');
    const failed = await firstWith(webhookId, 'failed');
    expect(failed).toMatchObject({ eventId: 'r-1', eventType: 'retry.now', webhookId, status: 'failed' });
    const detail = await ctx.harness.call('GET', `/v1/deliveries/${failed.id}`, { token: tenant.apiKey });
    expect(detail.status).toBe(200);
    expect(detail.body.delivery).toMatchObject({ id: failed.id, status: 'failed', nextAttemptAt: null, reason: expect.stringContaining('HTTP 500') });
    expect(detail.body.delivery.attempts).toEqual([
      expect.objectContaining({ attempt: 1, statusCode: 500, error: 'HTTP 500', durationMs: expect.any(Number), startedAt: expect.any(String) }),
      expect.objectContaining({ attempt: 2, statusCode: 500, error: 'HTTP 500' }),
    ]);
    expect((await ctx.harness.call('GET', `/v1/deliveries/${failed.id}`, { token: other.apiKey })).status).toBe(404);

    expect((await ctx.harness.call('POST', `/v1/deliveries/${failed.id}/retry`, { token: other.apiKey })).status).toBe(404);
    ctx.receiver.respondWith({ status: 200 });
    const retried = await ctx.harness.call('POST', `/v1/deliveries/${failed.id}/retry`, { token: tenant.apiKey });
    expect(retried.status).toBe(202);
    await eventually(async () => ((await list(webhookId, '?status=delivered')).body.deliveries.length === 1 ? true : undefined));
    const sent = ctx.receiver.requests.filter((r) => r.path === '/retry');
    expect(sent).toHaveLength(3);

    const again = await ctx.harness.call('POST', `/v1/deliveries/${failed.id}/retry`, { token: tenant.apiKey });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_delivered');
    expect(ctx.receiver.requests.filter((r) => r.path === '/retry')).toHaveLength(3);
    // The list shows the delivery once, as it is now.
    expect((await list(webhookId)).body.deliveries).toEqual([expect.objectContaining({ id: failed.id, status: 'delivered' })]);
  });

  it('cancels a retrying delivery; it ends canceled and gets no further attempt', async () => {
    ctx.receiver.respondWith({ status: 503 });
    const webhookId = await webhook('/cancel', ['1h']);
    await send('cancel.now', 'c-1');
    const retrying = await firstWith(webhookId, 'retrying');
    // A retrying delivery shows its attempts so far and when the next one is due.
    const running = await ctx.harness.call('GET', `/v1/deliveries/${retrying.id}`, { token: tenant.apiKey });
    expect(running.body.delivery).toMatchObject({ status: 'retrying', attempts: [expect.objectContaining({ attempt: 1, statusCode: 503 })] });
    // The schedule's 1 h, less its jitter (at most 20 %) and the seconds since the attempt.
    expect(Date.parse(running.body.delivery.nextAttemptAt) - Date.now()).toBeGreaterThan(45 * 60_000);
    const busy = await ctx.harness.call('POST', `/v1/deliveries/${retrying.id}/retry`, { token: tenant.apiKey });
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('delivery_in_progress');
    expect((await ctx.harness.call('POST', `/v1/deliveries/${retrying.id}/cancel`, { token: other.apiKey })).status).toBe(404);

    const canceled = await ctx.harness.call('POST', `/v1/deliveries/${retrying.id}/cancel`, { token: tenant.apiKey });
    expect(canceled.status).toBe(202);
    const ended = await firstWith(webhookId, 'canceled');
    expect(ended).toMatchObject({ id: retrying.id, status: 'canceled', completedAt: expect.any(String) });
    expect(ctx.receiver.requests.filter((r) => r.path === '/cancel')).toHaveLength(1);
    const twice = await ctx.harness.call('POST', `/v1/deliveries/${retrying.id}/cancel`, { token: tenant.apiKey });
    expect(twice.status).toBe(409);
  });

  it('pages newest first with an opaque cursor, and refuses a bad one', async () => {
    ctx.receiver.respondWith({ status: 200 });
    const webhookId = await webhook('/paged', ['1s']);
    for (const id of ['p-1', 'p-2', 'p-3']) {
      await send('paged.now', id);
      await eventually(async () => ((await list(webhookId)).body.deliveries.some((d: { eventId: string }) => d.eventId === id) ? true : undefined));
    }
    const first = await list(webhookId, '?limit=2');
    expect(first.body.deliveries.map((d: { eventId: string }) => d.eventId)).toEqual(['p-3', 'p-2']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await list(webhookId, `?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.deliveries.map((d: { eventId: string }) => d.eventId)).toEqual(['p-1']);
    expect(second.body.nextCursor).toBeNull();

    const bad = await list(webhookId, '?cursor=not%20a%20cursor&limit=500');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['query.cursor', 'query.limit']);
    expect((await list(webhookId, '', other.apiKey)).status).toBe(404);
  });

  it('reads an event with each of its deliveries and their attempts', async () => {
    const res = await ctx.harness.call('GET', '/v1/events/r-1', { token: tenant.apiKey });
    expect(res.status).toBe(200);
    expect(res.body.event).toMatchObject({ id: 'r-1', type: 'retry.now', tenant_id: tenant.tenantId, data: {} });
    expect(res.body.deliveries).toEqual([expect.objectContaining({ eventId: 'r-1', status: 'delivered' })]);
    // Every attempt, across the inline first attempt, the retrying workflow's run and the retry's run.
    expect(res.body.deliveries[0].attempts.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(res.body.deliveries[0].auditLog).toHaveLength(3);
    expect((await ctx.harness.call('GET', '/v1/events/r-1', { token: other.apiKey })).status).toBe(404);
    expect((await ctx.harness.call('GET', '/v1/events/no-such-event', { token: tenant.apiKey })).status).toBe(404);
  });

  it('reports stats for the last 24 hours', async () => {
    const stats = await ctx.harness.call('GET', '/v1/stats', { token: tenant.apiKey });
    expect(stats.status).toBe(200);
    // The mean duration of each delivered delivery's delivered attempt, as its audit log shows it.
    const durations: number[] = [];
    for (const hook of (await ctx.harness.call('GET', '/v1/webhooks', { token: tenant.apiKey })).body.webhooks as { id: string }[]) {
      for (const { id } of (await list(hook.id, '?status=delivered')).body.deliveries as { id: string }[]) {
        const { attempts } = (await ctx.harness.call('GET', `/v1/deliveries/${id}`, { token: tenant.apiKey })).body.delivery;
        durations.push(attempts.at(-1).durationMs);
      }
    }
    expect(durations).toHaveLength(4);
    // Deliveries, not runs: r-1 (failed, then retried and delivered), the canceled one, p-1..p-3.
    expect(stats.body).toEqual({
      webhooks: { active: 3, total: 3 },
      deliveries24h: { total: 5, successful: 4, failed: 0, avgDurationMs: Math.round(durations.reduce((a, b) => a + b, 0) / durations.length) },
    });
    expect((await ctx.harness.call('GET', '/v1/stats', { token: other.apiKey })).body.deliveries24h.total).toBe(0);
  });

  it('a retry while the failed run is still closing waits for it; one still running leaves the index as it was', async () => {
    ctx.receiver.respondWith({ status: 500 });
    const webhookId = await webhook('/closing', ['1h']);
    await send('closing.now', 'cl-1');
    const retrying = await firstWith(webhookId, 'retrying');
    const run = ctx.harness.client.workflow.getHandle(retrying.id);
    await eventually(() => run.describe().catch(() => undefined), 30_000, 'its DeliveryWorkflow');
    // A run records its outcome in the index, then closes: in between, the index says failed
    // while the run is still open.
    const failedInIndex = () => ctx.harness.models.Delivery.updateOne({ _id: retrying.id }, { $set: { status: 'failed', completedAt: new Date() } });
    const indexStatus = async () => (await ctx.harness.models.Delivery.findById(retrying.id).lean())?.status;

    // Still open after the wait (here it sleeps an hour): 409, and the index still says failed.
    await failedInIndex();
    const busy = await ctx.harness.call('POST', `/v1/deliveries/${retrying.id}/retry`, { token: tenant.apiKey });
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('delivery_in_progress');
    expect(await indexStatus()).toBe('failed');

    // It closes while the retry waits: the retry starts a new run, which delivers.
    ctx.receiver.respondWith({ status: 200 });
    const closing = new Promise((resolve) => setTimeout(resolve, 500)).then(() => run.terminate('closing'));
    const retried = await ctx.harness.call('POST', `/v1/deliveries/${retrying.id}/retry`, { token: tenant.apiKey });
    await closing;
    expect(retried.status).toBe(202);
    await eventually(async () => ((await indexStatus()) === 'delivered' ? true : undefined), 30_000, 'delivered');
    expect(ctx.receiver.requests.filter((r) => r.path === '/closing').map((r) => r.headers['webhook-id'])).toEqual([retrying.id, retrying.id]);
  });

  it('retries a failed delivery whose workflow ended before the deliveries index existed', async () => {
    ctx.receiver.respondWith({ status: 500 });
    const webhookId = await webhook('/legacy', ['1s']);
    await send('legacy.now', 'l-1');
    const failed = await firstWith(webhookId, 'failed');
    // As if it had failed before this version: its workflow ended, the index knows nothing of it.
    await ctx.harness.client.workflow.getHandle(failed.id).result().catch(() => undefined);
    await ctx.harness.models.Delivery.deleteOne({ _id: failed.id });
    expect((await list(webhookId)).body.deliveries).toEqual([]);

    expect((await ctx.harness.call('POST', `/v1/deliveries/${failed.id}/retry`, { token: other.apiKey })).status).toBe(404);
    ctx.receiver.respondWith({ status: 200 });
    expect((await ctx.harness.call('POST', `/v1/deliveries/${failed.id}/retry`, { token: tenant.apiKey })).status).toBe(202);
    const delivered = await firstWith(webhookId, 'delivered');
    expect(delivered).toMatchObject({ id: failed.id, eventId: 'l-1' });
    expect(ctx.receiver.requests.filter((r) => r.path === '/legacy')).toHaveLength(3);
  });

  it('reads a delivery and its event whose history Temporal no longer has: from the index, with the first attempt it kept', async () => {
    const hook = await webhook('/gone', ['1s']);
    await send('gone.now', 'gone-1');
    const delivered = await firstWith(hook, 'delivered');
    const before = (await ctx.harness.call('GET', `/v1/deliveries/${delivered.id}`, { token: tenant.apiKey })).body.delivery;
    expect(before.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200 })]);
    // The fan-out run the index names is gone (its retention ended first, or the cluster's data was replaced).
    await ctx.harness.models.Delivery.updateOne({ _id: delivered.id }, { $set: { fanoutRunId: '00000000-0000-4000-8000-000000000000' } });
    const read = await ctx.harness.call('GET', `/v1/deliveries/${delivered.id}`, { token: tenant.apiKey });
    expect(read.status).toBe(200);
    // The index's record of the attempt: all of it but the response excerpt, which only the history held.
    expect(read.body.delivery).toMatchObject({ id: delivered.id, status: 'delivered', attempts: [{ ...before.attempts[0], response: null }] });
    // A delivery indexed before the index kept first attempts: read without them.
    await ctx.harness.models.Delivery.updateOne({ _id: delivered.id }, { $unset: { firstAttempt: 1 } });
    const event = await ctx.harness.call('GET', '/v1/events/gone-1', { token: tenant.apiKey });
    expect(event.status).toBe(200);
    expect(event.body.deliveries).toEqual([expect.objectContaining({ id: delivered.id, status: 'delivered', attempts: [] })]);
  });
});
