import { operationAcceptedSchema, operationResponseSchema } from '../../src/api/schemas/operation';
import { DEFAULT_CIRCUIT_POLICY } from '../../src/delivery/circuit-policy';
import { runningRecover } from '../../src/delivery-records/requeue-operation';
import { deliveryId } from '../../src/ids';
import { PortalClient } from '../support/portal-client';
import { requestsOf } from '../support/receiver';
import { expectError, pathsOf, valid } from '../support/shapes';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * A tenant recovers its webhook once the receiver works again: the failed deliveries of a window
 * are sent again, rate-limited and durably (the admin requeue's workflow), and nothing else is.
 */
describe('webhook recover', () => {
  // 30+ failures in a row would auto-disable the webhook (default: after 20) and open its circuit
  // breaker (after 10), which would hold the recovered deliveries for a probe: both out of the way.
  const ctx = useHarness({
    receivers: 1,
    activities: { autoDisable: { consecutiveFailures: 1000, failingForMs: 5 * 86_400_000 }, circuit: { ...DEFAULT_CIRCUIT_POLICY, enabled: false } },
  });
  let acme: { tenantId: string; apiKey: string };
  let globex: { tenantId: string; apiKey: string };
  let webhookId = '';

  const call = (method: string, path: string, apiKey: string, body?: unknown) => ctx.harness.call(method, path, { token: apiKey, body });
  const idOf = (eventId: string) => deliveryId(acme.tenantId, eventId, webhookId);
  const send = async (eventId: string) => expect((await call('POST', '/v1/events', acme.apiKey, { id: eventId, type: 'order.paid', data: {} })).status).toBe(202);
  const statusOf = async (eventId: string) => (await call('GET', `/v1/deliveries/${idOf(eventId)}`, acme.apiKey)).body?.delivery?.status as string | undefined;
  const until = (eventId: string, status: string) => eventually(async () => ((await statusOf(eventId)) === status ? true : undefined), 60_000, `${eventId} ${status}`);
  const operation = async (id: string, apiKey = acme.apiKey) => valid(operationResponseSchema, (await call('GET', `/v1/operations/${id}`, apiKey)).body).operation;

  beforeAll(async () => {
    acme = await ctx.harness.createTenant('Acme');
    globex = await ctx.harness.createTenant('Globex');
    ({ webhookId } = await ctx.harness.createWebhook(acme.apiKey, { url: ctx.receiver.url('/orders'), events: ['order.*'], retrySchedule: ['1s'] }));
  });

  it('sends again exactly the failed deliveries of the window, once each; delivered ones and those outside it are not sent', async () => {
    // Down: a failure before the window.
    ctx.receiver.respondWith({ status: 500, body: 'down' });
    await send('before-0');
    await until('before-0', 'failed');
    const since = new Date().toISOString();

    // In the window: 30 failures, one delivered at once, and one delivered on its retry.
    const failing = Array.from({ length: 30 }, (_, i) => `in-${i}`);
    await Promise.all(failing.map(send));
    await Promise.all(failing.map((id) => until(id, 'failed')));
    ctx.receiver.respondWith({ status: 200, body: 'ok' });
    await send('in-ok');
    await until('in-ok', 'delivered');
    ctx.receiver.respondPerDelivery({ status: 500, body: 'down' }, { status: 200, body: 'ok' });
    await send('in-late-ok');
    await until('in-late-ok', 'delivered');
    // Its index entry says failed again (as a stale index would): the recover lists it, and
    // Temporal's ALLOW_DUPLICATE_FAILED_ONLY on its completed workflow still refuses to send it.
    await ctx.harness.models.Delivery.updateOne({ _id: idOf('in-late-ok') }, { $set: { status: 'failed' } });
    const windowEnd = new Date().toISOString();

    // After the window: another failure.
    ctx.receiver.respondWith({ status: 500, body: 'down' });
    await send('after-0');
    await until('after-0', 'failed');

    // The receiver is back.
    ctx.receiver.respondWith({ status: 200, body: 'ok' });
    const before = ctx.receiver.requests.length;
    const started = await call('POST', `/v1/webhooks/${webhookId}/recover`, acme.apiKey, { since, until: windowEnd });
    expect(started.status).toBe(202);
    const { operationId, alreadyRunning } = valid(operationAcceptedSchema, started.body);
    expect(operationId).toMatch(/^op_/);
    expect(alreadyRunning).toBe(false);
    // Read at once: it starts 10 a second and waits a second after each ten, so it is still running.
    expect(await operation(operationId)).toMatchObject({
      id: operationId,
      type: 'recover',
      status: 'running',
      filter: { tenantId: acme.tenantId, webhookId, since, until: windowEnd },
      dryRun: false,
      completedAt: null,
    });

    // Asked again while it runs (31 deliveries at 10 a second: 4 s at least): the same operation.
    await eventually(async () => ((await runningRecover(ctx.harness.client, acme.tenantId, webhookId)) === operationId ? true : undefined), 10_000, 'the recover listed as running');
    const again = await call('POST', `/v1/webhooks/${webhookId}/recover`, acme.apiKey, { since: new Date(Date.now() - 3_600_000).toISOString() });
    expect(again.status).toBe(202);
    expect(valid(operationAcceptedSchema, again.body)).toEqual({ operationId, alreadyRunning: true });

    const done = await eventually(async () => {
      const op = await operation(operationId);
      return op.status === 'completed' ? op : undefined;
    }, 120_000, 'the recover');
    expect(done.progress).toEqual({ matched: 31, requeued: 30, skipped: 1, errors: 0 });
    // The refused one is left as its index said, not reopened as pending with no run to end it.
    expect((await ctx.harness.models.Delivery.findById(idOf('in-late-ok')).lean())?.status).toBe('failed');
    await Promise.all(failing.map((id) => until(id, 'delivered')));

    // What the receiver saw: each recovered delivery once, nothing else.
    const after = ctx.receiver.requests.slice(before);
    expect(after).toHaveLength(30);
    expect(new Set(after.map((r) => r.headers['webhook-id']))).toEqual(new Set(failing.map(idOf)));
    expect(new Set(after.map((r) => r.headers['webhook-id'])).size).toBe(done.progress!.requeued);
    for (const id of ['before-0', 'in-ok', 'in-late-ok', 'after-0']) expect([id, requestsOf(after, idOf(id))]).toEqual([id, []]);
    expect(await statusOf('before-0')).toBe('failed');
    expect(await statusOf('after-0')).toBe('failed');

    // Another tenant's view: not found, whatever it asks.
    expectError(await call('GET', `/v1/operations/${operationId}`, globex.apiKey), 404, 'not_found');
    expectError(await call('POST', `/v1/webhooks/${webhookId}/recover`, globex.apiKey, { since }), 404, 'not_found');
    // The admin sees every operation, a recover included.
    const admin = await ctx.harness.call('GET', `/v1/admin/operations/${operationId}`, { token: ctx.harness.adminToken });
    expect(valid(operationResponseSchema, admin.body).operation).toEqual(done);
    // An admin's requeue, even of this tenant alone, is not the tenant's operation.
    const requeue = await ctx.harness.call('POST', '/v1/admin/requeue', { token: ctx.harness.adminToken, body: { tenantId: acme.tenantId, dryRun: true } });
    expect(requeue.status).toBe(202);
    expectError(await call('GET', `/v1/operations/${requeue.body.operationId}`, acme.apiKey), 404, 'not_found');
    const adminView = await ctx.harness.call('GET', `/v1/admin/operations/${requeue.body.operationId}`, { token: ctx.harness.adminToken });
    expect(adminView.body.operation.type).toBe('requeue');
  }, 300_000);

  it('refuses a bad window with the fields named, an unknown webhook or operation with 404', async () => {
    const recover = (body: unknown, id = webhookId) => call('POST', `/v1/webhooks/${id}/recover`, acme.apiKey, body);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    expect(pathsOf(expectError(await recover({}), 400, 'validation_failed'))).toEqual(['since']);
    expect(pathsOf(expectError(await recover({ since: 'yesterday' }), 400, 'validation_failed'))).toEqual(['since']);
    expect(pathsOf(expectError(await recover({ since: hourAgo, until: '2026-13-01T00:00:00Z' }), 400))).toEqual(['until']);
    const future = expectError(await recover({ since: new Date(Date.now() + 3_600_000).toISOString() }), 400);
    expect(future).toEqual([{ path: 'since', message: 'must not be in the future' }]);
    expect(expectError(await recover({ since: hourAgo, until: hourAgo }), 400)).toEqual([{ path: 'until', message: 'must be after since' }]);
    expect(expectError(await recover({ since: hourAgo, limit: 5 }), 400)).toEqual([{ path: 'limit', message: 'unknown field' }]);
    expectError(await recover({ since: hourAgo }, 'wh_nobody'), 404, 'not_found');
    expectError(await call('GET', '/v1/operations/op_nothing', acme.apiKey), 404, 'not_found');
    expect(pathsOf(expectError(await call('GET', '/v1/operations/nothing', acme.apiKey), 400))).toEqual(['params.id']);
  });

  it('through the portal: a full session recovers and follows it, a read-only session is refused', async () => {
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const readOnly = new PortalClient(ctx.harness);
    await readOnly.open((await PortalClient.link(ctx.harness, acme.apiKey, { readOnly: true })).token);
    expectError(await readOnly.call('POST', `/portal/api/v1/webhooks/${webhookId}/recover`, { body: { since } }), 403, 'read_only_session');

    const full = new PortalClient(ctx.harness);
    await full.open((await PortalClient.link(ctx.harness, acme.apiKey)).token);
    const started = await full.call('POST', `/portal/api/v1/webhooks/${webhookId}/recover`, { body: { since } });
    expect(started.status).toBe(202);
    const { operationId } = valid(operationAcceptedSchema, started.body);
    const viaPortal = await eventually(async () => {
      const res = await full.call('GET', `/portal/api/v1/operations/${operationId}`);
      return res.body.operation.status === 'completed' ? res.body.operation : undefined;
    }, 60_000, 'the recover through the portal');
    // Failed in the last hour, after the first test: the two outside its window, now delivered.
    expect(viaPortal).toMatchObject({ type: 'recover', filter: { webhookId, since } });
    // The delivered one the first test's stale index calls failed is matched again, and refused again.
    expect(viaPortal.progress).toEqual({ matched: 3, requeued: 2, skipped: 1, errors: 0 });
    await until('before-0', 'delivered');
    await until('after-0', 'delivered');
    // A read-only session may follow it.
    expect((await readOnly.call('GET', `/portal/api/v1/operations/${operationId}`)).body.operation.id).toBe(operationId);
  }, 120_000);
});
