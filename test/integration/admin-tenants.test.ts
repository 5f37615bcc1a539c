import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { tenantListResponseSchema, tenantResponseSchema } from '../../src/api/schemas/admin';
import { deliveryId } from '../../src/ids';
import { eventKey } from '../../src/models/event';
import { sweepRetention } from '../../src/models/retention-sweep';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { PortalClient } from '../support/portal-client';
import { requestsOf } from '../support/receiver';
import { expectError, pathsOf, valid } from '../support/shapes';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';
import { Harness } from '../support/harness';
import { freePort } from '../../src/embedded/ports';

describe('admin tenants: list, search, rename, delete', () => {
  const ctx = useHarness({ receivers: 1 });
  const admin = () => ({ token: ctx.harness.adminToken });

  async function list(query: string) {
    const res = await ctx.harness.call('GET', `/v1/admin/tenants${query}`, admin());
    expect(res.status).toBe(200);
    return valid(tenantListResponseSchema, res.body);
  }

  /** Every page of a listing, following nextCursor. */
  async function allPages(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(`?${query}${query ? '&' : ''}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.tenants.length).toBeLessThanOrEqual(limit);
      ids.push(...page.tenants.map((t) => t.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    return { ids, pages };
  }

  it('lists live tenants newest first in pages, and finds them by a case-insensitive name prefix', async () => {
    const names = ['Zeta Alpha', 'zeta beta', 'Omega', 'ZETA Gamma', 'Big Zeta'];
    const created: string[] = [];
    for (const name of names) created.push((await ctx.harness.createTenant(name)).tenantId);

    const everything = await allPages('', 2);
    expect(everything.ids).toEqual([...created].reverse());
    expect(everything.pages).toBe(3);

    // A prefix, whatever its case: not a name that only contains it ('Big Zeta').
    const zeta = await allPages(`name=${encodeURIComponent('zeta')}`, 2);
    expect(zeta.ids).toEqual([created[3], created[1], created[0]]);
    expect(zeta.pages).toBe(2);
    expect((await list(`?name=${encodeURIComponent('ZETA B')}`)).tenants.map((t) => t.name)).toEqual(['zeta beta']);
    expect((await list(`?name=${encodeURIComponent('  omega ')}`)).tenants.map((t) => t.id)).toEqual([created[2]]);
    // Regex characters are text.
    expect((await list(`?name=${encodeURIComponent('.*')}`)).tenants).toEqual([]);
    const one = (await list('?limit=1')).tenants[0];
    expect(one).toEqual({ id: created[4], name: 'Big Zeta', createdAt: expect.any(String), updatedAt: expect.any(String) });
  });

  it('reads and renames a tenant; the search follows the new name', async () => {
    const { tenantId, apiKey } = await ctx.harness.createTenant('Old Name Ltd');
    const read = await ctx.harness.call('GET', `/v1/admin/tenants/${tenantId}`, admin());
    expect(read.status).toBe(200);
    expect(valid(tenantResponseSchema, read.body).tenant).toMatchObject({ id: tenantId, name: 'Old Name Ltd' });

    const renamed = await ctx.harness.call('PATCH', `/v1/admin/tenants/${tenantId}`, { ...admin(), body: { name: '  Ünïcode Renamed  ' } });
    expect(renamed.status).toBe(200);
    const tenant = valid(tenantResponseSchema, renamed.body).tenant;
    expect(tenant).toMatchObject({ id: tenantId, name: 'Ünïcode Renamed', createdAt: read.body.tenant.createdAt });
    expect(Date.parse(tenant.updatedAt)).toBeGreaterThanOrEqual(Date.parse(tenant.createdAt));
    expect((await ctx.harness.call('GET', `/v1/admin/tenants/${tenantId}`, admin())).body.tenant.name).toBe('Ünïcode Renamed');
    expect((await list(`?name=${encodeURIComponent('ÜNÏCODE')}`)).tenants.map((t) => t.id)).toEqual([tenantId]);
    expect((await list(`?name=${encodeURIComponent('old name')}`)).tenants).toEqual([]);
    // The tenant's key goes on working.
    expect((await ctx.harness.call('GET', '/v1/webhooks', { token: apiKey })).status).toBe(200);
  });

  it('answers bad input with 400 naming the field, and unknown tenants with 404', async () => {
    const { tenantId } = await ctx.harness.createTenant('Validated');
    const bad = async (method: string, path: string, body?: unknown) => pathsOf(expectError(await ctx.harness.call(method, path, { ...admin(), body }), 400, 'validation_failed'));
    expect(await bad('PATCH', `/v1/admin/tenants/${tenantId}`, { name: '   ' })).toEqual(['name']);
    expect(await bad('PATCH', `/v1/admin/tenants/${tenantId}`, { name: 'x'.repeat(201) })).toEqual(['name']);
    expect(await bad('PATCH', `/v1/admin/tenants/${tenantId}`, {})).toEqual(['name']);
    expect((await bad('PATCH', `/v1/admin/tenants/${tenantId}`, { name: 'ok', active: false })).length).toBe(1);
    expect(await bad('GET', '/v1/admin/tenants?limit=0')).toEqual(['query.limit']);
    expect(await bad('GET', '/v1/admin/tenants?limit=101')).toEqual(['query.limit']);
    expect(await bad('GET', '/v1/admin/tenants?cursor=not-a-cursor')).toEqual(['query.cursor']);
    expect(await bad('GET', '/v1/admin/tenants?name=')).toEqual(['query.name']);
    expect(await bad('GET', '/v1/admin/tenants?colour=red')).toHaveLength(1);
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      expectError(await ctx.harness.call(method, '/v1/admin/tenants/ten_nobody', { ...admin(), body: method === 'PATCH' ? { name: 'x' } : undefined }), 404, 'not_found');
    }
    expect((await ctx.harness.call('GET', `/v1/admin/tenants/${tenantId}`, admin())).body.tenant.name).toBe('Validated');
  });

  it('refuses a tenant key on the admin tenant routes with 403, and no token with 401', async () => {
    const { tenantId, apiKey } = await ctx.harness.createTenant('Not an admin');
    for (const [method, path] of [
      ['GET', '/v1/admin/tenants'],
      ['GET', `/v1/admin/tenants/${tenantId}`],
      ['PATCH', `/v1/admin/tenants/${tenantId}`],
      ['DELETE', `/v1/admin/tenants/${tenantId}`],
    ]) {
      expectError(await ctx.harness.call(method, path, { token: apiKey, body: method === 'PATCH' ? { name: 'Mine now' } : undefined }), 403, 'forbidden');
      expectError(await ctx.harness.call(method, path, {}), 401, 'unauthorized');
    }
    expect((await ctx.harness.call('GET', `/v1/admin/tenants/${tenantId}`, admin())).body.tenant.name).toBe('Not an admin');
    expect((await ctx.harness.call('GET', '/v1/webhooks', { token: apiKey })).status).toBe(200);
  });

  it('deleting a tenant stops its keys, portal and ingest URLs at once, hides it, keeps its record; another tenant goes on', async () => {
    const { tenantId, apiKey } = await ctx.harness.createTenant('Leaving Co');
    const second = await ctx.harness.call('POST', `/v1/admin/tenants/${tenantId}/api-keys`, admin());
    // Both keys used, so this API process has them cached.
    for (const key of [apiKey, second.body.apiKey]) expect((await ctx.harness.call('GET', '/v1/webhooks', { token: key })).status).toBe(200);
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/leaving'), events: ['*'] });
    const source = (await ctx.harness.call('POST', '/v1/sources', { token: apiKey, body: { name: 'Repo', type: 'github', secret: 'gh-secret-0123456789' } })).body.source;
    const unsigned = () => fetch(source.ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect((await unsigned()).status).toBe(401);
    const portal = new PortalClient(ctx.harness);
    expect((await portal.open((await PortalClient.link(ctx.harness, apiKey)).token)).status).toBe(201);
    expect((await portal.call('GET', '/portal/api/v1/webhooks')).status).toBe(200);
    const unopened = await PortalClient.link(ctx.harness, apiKey);

    const other = await ctx.harness.createTenant('Staying Co');
    await ctx.harness.createWebhook(other.apiKey, { url: ctx.receiver.url('/staying'), events: ['*'] });

    expect((await ctx.harness.call('DELETE', `/v1/admin/tenants/${tenantId}`, admin())).status).toBe(204);
    for (const key of [apiKey, second.body.apiKey]) {
      expectError(await ctx.harness.call('GET', '/v1/webhooks', { token: key }), 401, 'unauthorized');
      expectError(await ctx.harness.call('POST', '/v1/events', { token: key, body: { type: 'a.b', data: {} } }), 401, 'unauthorized');
    }
    expect((await portal.call('GET', '/portal/api/v1/webhooks')).status).toBe(401);
    expect((await new PortalClient(ctx.harness).open(unopened.token)).status).not.toBe(201);
    expect((await unsigned()).status).toBe(404);

    // Gone from the admin routes; DELETE again is 204.
    for (const method of ['GET', 'PATCH']) {
      expectError(await ctx.harness.call(method, `/v1/admin/tenants/${tenantId}`, { ...admin(), body: method === 'PATCH' ? { name: 'Back' } : undefined }), 404, 'not_found');
    }
    expectError(await ctx.harness.call('POST', `/v1/admin/tenants/${tenantId}/api-keys`, admin()), 404, 'not_found');
    expect((await list(`?name=${encodeURIComponent('leaving')}`)).tenants).toEqual([]);
    expect((await allPages('', 100)).ids).not.toContain(tenantId);
    expect((await ctx.harness.call('DELETE', `/v1/admin/tenants/${tenantId}`, admin())).status).toBe(204);
    // The record stays, for the retention sweep.
    expect((await ctx.harness.models.Tenant.findById(tenantId).lean())?.deletedAt).toBeInstanceOf(Date);

    // The other tenant: its key works and its event is delivered.
    const eventId = await ctx.harness.sendEvent(other.apiKey, { type: 'still.here', data: {} });
    await eventually(() => ctx.receiver.requests.find((r) => r.path === '/staying' && JSON.parse(r.body).id === eventId), 30_000, 'the other tenant\'s delivery');
    expect((await ctx.harness.call('GET', `/v1/admin/tenants/${other.tenantId}`, admin())).status).toBe(200);
    expect(ctx.receiver.requests.filter((r) => r.path === '/leaving')).toEqual([]);
  });

  it('deleting a tenant cancels its retrying deliveries at once: they read canceled, the receiver gets nothing after', async () => {
    const { tenantId, apiKey } = await ctx.harness.createTenant('Retrying Co');
    ctx.receiver.respondWith({ status: 503, body: 'down' });
    // Next attempt an hour away: only the deletion can end it within the test.
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/slow-retries'), events: ['*'], retrySchedule: ['1s', '1h'] });
    // Attempts every 3 s: one would come during the test if the deletion let it.
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/fast-retries'), events: ['*'], retrySchedule: ['1s', '3s', '3s', '3s', '3s', '3s', '3s', '3s', '3s', '3s'] });
    await ctx.harness.sendEvent(apiKey, { type: 'invoice.created', data: { n: 1 } });
    const on = (path: string) => ctx.receiver.requests.filter((r) => r.path === path);
    await eventually(() => (on('/slow-retries').length >= 2 ? true : undefined), 30_000, 'the slow delivery\'s second attempt');
    const fastBefore = on('/fast-retries').length;
    // Just after an attempt of the fast one, so none is in flight while the tenant is deleted.
    await eventually(() => (on('/fast-retries').length > Math.max(fastBefore, 1) ? true : undefined), 30_000, 'a retry of the fast delivery');
    const ids = [on('/slow-retries')[0], on('/fast-retries')[0]].map((r) => r.headers['webhook-id'] as string);
    const retrying = await ctx.harness.models.Delivery.find({ _id: { $in: ids } }).lean();
    expect(retrying.map((d) => d.status)).toEqual(['retrying', 'retrying']);

    const deleted = await ctx.harness.call('DELETE', `/v1/admin/tenants/${tenantId}`, admin());
    const deletedAt = Date.now();
    expect(deleted.status).toBe(204);

    for (const id of ids) {
      const err = await ctx.harness.client.workflow.getHandle(id).result().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    }
    // Promptly: within seconds, not at the next scheduled attempt an hour away.
    expect(Date.now() - deletedAt).toBeLessThan(60_000);
    const records = await eventually(async () => {
      const docs = await ctx.harness.models.Delivery.find({ _id: { $in: ids } }).lean();
      return docs.every((d) => d.status === 'canceled' && d.reason) ? docs : undefined;
    }, 30_000, 'the deliveries to read canceled');
    expect(records.filter((d) => d._id === ids[0]).map((d) => d.reason)).toEqual(['the tenant was deleted']);
    for (const id of ids) expect(requestsOf(ctx.receiver.requests, id).filter((r) => r.receivedAt > deletedAt)).toEqual([]);
    expect((await ctx.harness.client.workflow.getHandle(ids[0]).describe()).status.name).toBe('CANCELLED');
    ctx.receiver.respondWith({ status: 200, body: 'ok' });
  });

  /** The index entries of `ids` once every one has ended. */
  const ended = (ids: string[]) =>
    eventually(async () => {
      const docs = await ctx.harness.models.Delivery.find({ _id: { $in: ids } }).lean();
      return docs.length === ids.length && docs.every((d) => d.status !== 'pending' && d.status !== 'retrying') ? docs : undefined;
    }, 90_000, 'every delivery to end');

  it('deleting a tenant stops its FIFO line: the delivery retrying and those waiting behind it end canceled, nothing more is sent', async () => {
    const { tenantId, apiKey } = await ctx.harness.createTenant('Ordered Co');
    ctx.receiver.respondWith({ status: 500, body: 'down' });
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/fifo'), events: ['*'], ordering: 'fifo', retrySchedule: ['1s', '1h'] });
    const eventIds: string[] = [];
    for (let i = 0; i < 3; i++) eventIds.push(await ctx.harness.sendEvent(apiKey, { type: 'order.step', data: { i } }));
    const on = () => ctx.receiver.requests.filter((r) => r.path === '/fifo');
    // The line's first delivery has made its second attempt; the next one is an hour away, the others wait behind it.
    await eventually(() => (on().length >= 2 ? true : undefined), 30_000, 'the first delivery\'s second attempt');

    expect((await ctx.harness.call('DELETE', `/v1/admin/tenants/${tenantId}`, admin())).status).toBe(204);
    const deletedAt = Date.now();
    const docs = await ended(eventIds.map((eventId) => deliveryId(tenantId, eventId, webhookId)));
    expect(docs.map((d) => d.status)).toEqual(['canceled', 'canceled', 'canceled']);
    expect(Date.now() - deletedAt).toBeLessThan(90_000);
    expect(on().filter((r) => r.receivedAt > deletedAt)).toEqual([]);
    expect(new Set(on().map((r) => r.headers['webhook-id'])).size).toBe(1);
    ctx.receiver.respondWith({ status: 200, body: 'ok' });
  });

  it('deleting a tenant stops first attempts held for their rate-limit slots: none is sent after it', async () => {
    const { tenantId, apiKey } = await ctx.harness.createTenant('Paced Co');
    ctx.receiver.respondWith({ status: 200, body: 'ok' });
    // One request every 2 s: the fan-out holds the others for their slots, up to 14 s away.
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/paced'), events: ['*'], rateLimitPerSecond: 0.5 });
    const events = Array.from({ length: 8 }, (_, i) => ({ id: `paced-${i}`, type: 'paced.tick', data: { i } }));
    expect((await ctx.harness.call('POST', '/v1/events/batch', { token: apiKey, body: { events } })).status).toBe(202);
    const on = () => ctx.receiver.requests.filter((r) => r.path === '/paced');
    await eventually(() => (on().length >= 1 ? true : undefined), 30_000, 'the first paced request');

    expect((await ctx.harness.call('DELETE', `/v1/admin/tenants/${tenantId}`, admin())).status).toBe(204);
    const deletedAt = Date.now();
    const docs = await ended(events.map((e) => deliveryId(tenantId, e.id, webhookId)));
    expect(on().filter((r) => r.receivedAt > deletedAt)).toEqual([]);
    const sent = new Set(on().map((r) => r.headers['webhook-id'] as string));
    expect(docs.filter((d) => d.status === 'delivered').map((d) => d._id).sort()).toEqual([...sent].sort());
    expect(docs.filter((d) => d.status !== 'delivered').map((d) => d.status)).toEqual(Array(8 - sent.size).fill('canceled'));
    expect(sent.size).toBeLessThanOrEqual(4);
  });

  it('an event accepted before the deletion but not yet fanned out sends nothing', async () => {
    const { tenantId, apiKey } = await ctx.harness.createTenant('Accepted Co');
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/accepted'), events: ['*'] });
    await ctx.harness.stopWorker();
    try {
      const eventId = await ctx.harness.sendEvent(apiKey, { type: 'order.paid', data: {} });
      expect((await ctx.harness.call('DELETE', `/v1/admin/tenants/${tenantId}`, admin())).status).toBe(204);
      await ctx.harness.startWorker();
      expect(await ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, eventId)).result()).toEqual({ deliveries: 0 });
    } finally {
      await ctx.harness.startWorker();
    }
    expect(ctx.receiver.requests.filter((r) => r.path === '/accepted')).toEqual([]);
  });

  it('a deleted tenant\'s events and deliveries stay until the retention sweep takes them at their usual time; its record goes RETENTION_DAYS after the deletion', async () => {
    const DAYS = 30;
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
    const { tenantId, apiKey } = await ctx.harness.createTenant('Retained Co');
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/retained'), events: ['*'] });
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'order.paid', data: { total: 5 } });
    await eventually(async () => ((await ctx.harness.models.Delivery.findOne({ tenantId, eventId }).lean())?.status === 'delivered' ? true : undefined), 30_000, 'the delivery');
    expect((await ctx.harness.call('DELETE', `/v1/admin/tenants/${tenantId}`, admin())).status).toBe(204);

    const kept = async () => ({
      event: await ctx.harness.models.Event.exists({ _id: eventKey(tenantId, eventId) }).then(Boolean),
      deliveries: await ctx.harness.models.Delivery.countDocuments({ tenantId }),
      tenant: await ctx.harness.models.Tenant.exists({ _id: tenantId }).then(Boolean),
      keys: await ctx.harness.models.ApiKey.countDocuments({ tenantId }),
    });
    await sweepRetention(ctx.harness.models, DAYS);
    expect(await kept()).toEqual({ event: true, deliveries: 1, tenant: true, keys: 1 });

    // Its data reaches the retention age: swept as any tenant's; the record waits for its own.
    await ctx.harness.models.Event.updateOne({ _id: eventKey(tenantId, eventId) }, { $set: { acceptedAt: daysAgo(DAYS + 1) } });
    await ctx.harness.models.Delivery.updateMany({ tenantId }, { $set: { createdAt: daysAgo(DAYS + 1) } });
    await sweepRetention(ctx.harness.models, DAYS);
    expect(await kept()).toEqual({ event: false, deliveries: 0, tenant: true, keys: 1 });

    await ctx.harness.models.Tenant.updateOne({ _id: tenantId }, { $set: { deletedAt: daysAgo(DAYS + 1) } });
    expect((await sweepRetention(ctx.harness.models, DAYS)).tenants).toBe(1);
    expect(await kept()).toEqual({ event: false, deliveries: 0, tenant: false, keys: 0 });
    expectError(await ctx.harness.call('DELETE', `/v1/admin/tenants/${tenantId}`, admin()), 404, 'not_found');
  });
});

describe('admin tenant deletion with Temporal unreachable', () => {
  it('answers 503 with Retry-After once the tenant\'s keys and webhooks are gone, so the admin retries the DELETE', async () => {
    const harness = await Harness.start({ apiTemporalAddress: `127.0.0.1:${await freePort()}`, worker: false });
    try {
      const { tenantId, apiKey } = await harness.createTenant('Unlucky Co');
      const res = await harness.call('DELETE', `/v1/admin/tenants/${tenantId}`, { token: harness.adminToken });
      expectError(res, 503, 'service_unavailable');
      expect(res.headers.get('retry-after')).toBeTruthy();
      expectError(await harness.call('GET', '/v1/webhooks', { token: apiKey }), 401, 'unauthorized');
      expectError(await harness.call('GET', `/v1/admin/tenants/${tenantId}`, { token: harness.adminToken }), 404, 'not_found');
    } finally {
      await harness.close();
    }
  });
});
