import { filterTestResponseSchema, webhookListResponseSchema, webhookResponseSchema } from '../../src/api/schemas/webhook';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { expectError, pathsOf, valid } from '../support/shapes';
import { eventually } from '../support/stack';
import { tenantCalls } from '../support/tenant-calls';
import { useHarness } from '../support/use-harness';

describe('payload filters', () => {
  const ctx = useHarness({ receivers: 1 });
  let apiKey: string;
  let tenantId: string;
  const { call, create } = tenantCalls(ctx, () => apiKey);
  const bigSpender = { 'data.amount': { $gte: 1000 }, 'metadata.region': { $in: ['eu'] } };

  beforeAll(async () => {
    ({ apiKey, tenantId } = await ctx.harness.createTenant('Filters'));
  });

  it('create, read, list, PATCH and PUT carry the filter; null clears it', async () => {
    const plain = await create({});
    expect(plain.filter).toBeNull();
    const webhook = await create({ filter: bigSpender });
    expect(webhook.filter).toEqual(bigSpender);
    const read = await call('GET', `/v1/webhooks/${webhook.id}`);
    expect(valid(webhookResponseSchema, read.body).webhook.filter).toEqual(bigSpender);
    const list = valid(webhookListResponseSchema, (await call('GET', '/v1/webhooks')).body);
    expect(list.webhooks.find((w) => w.id === webhook.id)!.filter).toEqual(bigSpender);

    // PATCH without the field keeps it; with one, replaces it whole.
    const described = await call('PATCH', `/v1/webhooks/${webhook.id}`, { description: 'eu' });
    expect(valid(webhookResponseSchema, described.body).webhook.filter).toEqual(bigSpender);
    const other = { $or: [{ type: 'invoice.paid' }, { 'data.status': { $regex: '^over', $options: 'i' } }] };
    const patched = await call('PATCH', `/v1/webhooks/${webhook.id}`, { filter: other });
    expect(valid(webhookResponseSchema, patched.body).webhook.filter).toEqual(other);
    expect(valid(webhookResponseSchema, (await call('GET', `/v1/webhooks/${webhook.id}`)).body).webhook.filter).toEqual(other);

    const cleared = await call('PATCH', `/v1/webhooks/${webhook.id}`, { filter: null });
    expect(valid(webhookResponseSchema, cleared.body).webhook.filter).toBeNull();

    const put = await call('PUT', `/v1/webhooks/${webhook.id}`, { url: webhook.url, events: ['invoice.*'], filter: bigSpender });
    expect(valid(webhookResponseSchema, put.body).webhook.filter).toEqual(bigSpender);
    // PUT replaces the whole webhook: a filter left out goes back to none.
    const replaced = await call('PUT', `/v1/webhooks/${webhook.id}`, { url: webhook.url, events: ['invoice.*'] });
    expect(valid(webhookResponseSchema, replaced.body).webhook.filter).toBeNull();
  });

  it('is in the OpenAPI document: the field on create, PUT, PATCH and reads, and the filter-test route', async () => {
    const document = (await ctx.harness.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const ofOperation = (path: string, method: string) => JSON.stringify(document.paths[path][method]);
    for (const [path, method] of [['/v1/webhooks', 'post'], ['/v1/webhooks/{id}', 'put'], ['/v1/webhooks/{id}', 'patch'], ['/v1/webhooks/{id}', 'get']]) {
      expect([path, method, ofOperation(path, method)]).toEqual([path, method, expect.stringContaining('"filter":{')]);
    }
    expect(ofOperation('/v1/webhooks/{id}', 'patch')).toContain('$where');
    expect(ofOperation('/v1/webhooks/{id}/filter-test', 'post')).toMatch(/"matches":\{"type":"boolean"/);
  });

  it('refuses an invalid filter on create, PUT and PATCH with 400, naming the filter', async () => {
    const webhook = await create({ filter: bigSpender });
    const cases: [unknown, string[]][] = [
      [{ 'data.a': { $elemMatch: { x: 1 } } }, ['filter.data.a.$elemMatch']],
      [{ $where: 'this.data.amount > 1000' }, ['filter.$where']],
      [{ $expr: { $gt: ['$data.amount', 1000] } }, ['filter.$expr']],
      [{ 'data.name': { $regex: 'a'.repeat(257) } }, ['filter.data.name.$regex']],
      [{ 'data.name': { $regex: '(unclosed' } }, ['filter.data.name.$regex']],
      [{ 'data.name': 'x'.repeat(4100) }, ['filter']],
      [{ 'data.a': { $in: 'eu' } }, ['filter.data.a.$in']],
      [['data.a'], ['filter']],
      ['{"data.a": 1}', ['filter']],
    ];
    for (const [filter, paths] of cases) {
      for (const [method, path, body] of [
        ['POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['*'], filter }],
        ['PUT', `/v1/webhooks/${webhook.id}`, { url: 'http://127.0.0.1:9/hook', events: ['*'], filter }],
        ['PATCH', `/v1/webhooks/${webhook.id}`, { filter }],
      ] as const) {
        const details = expectError(await call(method, path, body), 400, 'validation_failed');
        expect([method, filter, pathsOf(details)]).toEqual([method, filter, paths]);
      }
    }
    const where = expectError(await call('PATCH', `/v1/webhooks/${webhook.id}`, { filter: { $where: 'true' } }), 400);
    expect(where[0].message).toMatch(/\$where is not allowed/);
    // Nothing was changed by the refused requests.
    expect(valid(webhookResponseSchema, (await call('GET', `/v1/webhooks/${webhook.id}`)).body).webhook.filter).toEqual(bigSpender);
  });

  it('POST /v1/webhooks/{id}/filter-test answers whether the webhook would get an event', async () => {
    const filtered = await create({ filter: bigSpender });
    const unfiltered = await create({});
    const test = async (id: string, event: Record<string, unknown>) => {
      const res = await call('POST', `/v1/webhooks/${id}/filter-test`, event);
      expect(res.status).toBe(200);
      return valid(filterTestResponseSchema, res.body).matches;
    };
    const big = { type: 'invoice.created', data: { amount: 1500 }, metadata: { region: 'eu' } };
    expect(await test(filtered.id, big)).toBe(true);
    expect(await test(filtered.id, { ...big, data: { amount: 500 } })).toBe(false);
    expect(await test(filtered.id, { ...big, metadata: { region: 'us' } })).toBe(false);
    expect(await test(filtered.id, { type: 'invoice.created', data: { amount: 1500 } })).toBe(false);
    // The envelope is the receiver's: id, type and tenant_id can be filtered on too.
    await call('PATCH', `/v1/webhooks/${filtered.id}`, { filter: { id: 'inv-7', tenant_id: tenantId, type: 'invoice.paid' } });
    expect(await test(filtered.id, { id: 'inv-7', type: 'invoice.paid', data: {} })).toBe(true);
    expect(await test(filtered.id, { id: 'inv-8', type: 'invoice.paid', data: {} })).toBe(false);
    // No filter: every event of its types; a type it does not subscribe to never matches.
    expect(await test(unfiltered.id, { type: 'invoice.created', data: null })).toBe(true);
    expect(await test(unfiltered.id, { type: 'user.created', data: { amount: 1500 } })).toBe(false);
    // Testing stores and sends nothing.
    expect((await call('GET', `/v1/events/inv-7`)).status).toBe(404);

    // Another tenant's webhook: 404.
    const other = await ctx.harness.createTenant('Other');
    expectError(await call('POST', `/v1/webhooks/${filtered.id}/filter-test`, big, other.apiKey), 404, 'not_found');
    expectError(await call('POST', '/v1/webhooks/wh_missing/filter-test', big), 404, 'not_found');
    // A body that is not an event: 400, each field named.
    expect(pathsOf(expectError(await call('POST', `/v1/webhooks/${filtered.id}/filter-test`, { data: {} }), 400, 'validation_failed'))).toEqual(['type']);
    expect(pathsOf(expectError(await call('POST', `/v1/webhooks/${filtered.id}/filter-test`, { type: 'Bad Type', data: {}, extra: 1 }), 400))).toEqual(['extra', 'type']);
  });

  it('an event the filter refuses makes no delivery: no attempt, no record, no count', async () => {
    const receiver = ctx.receiver;
    const { tenantId: tenant, apiKey: key } = await ctx.harness.createTenant('Filtered deliveries');
    const { webhookId: everything } = await ctx.harness.createWebhook(key, { url: receiver.url('/all'), events: ['invoice.created'] });
    const { webhookId: big } = await ctx.harness.createWebhook(key, { url: receiver.url('/big'), events: ['invoice.created'], filter: { 'data.amount': { $gte: 1000 } } });
    const received = (path: string) => receiver.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body) as { id: string });
    const send = async (id: string, amount: number) => {
      const res = await call('POST', '/v1/events', { id, type: 'invoice.created', data: { amount } }, key);
      expect(res.status).toBe(202);
      return ctx.harness.client.workflow.getHandle(eventWorkflowId(tenant, id)).result();
    };

    // 500: only the unfiltered webhook's receiver gets it, and the fan-out counts one delivery.
    expect(await send('small-1', 500)).toEqual({ deliveries: 1 });
    await eventually(() => (received('/all').some((e) => e.id === 'small-1') ? true : undefined), 30_000, 'the unfiltered delivery');
    // 1500: both.
    expect(await send('large-1', 1500)).toEqual({ deliveries: 2 });
    await eventually(() => (received('/big').some((e) => e.id === 'large-1') && received('/all').some((e) => e.id === 'large-1') ? true : undefined), 30_000, 'both deliveries');

    // Both fan-outs have completed, so nothing more can come: the filtered webhook got one event.
    expect(received('/big').map((e) => e.id)).toEqual(['large-1']);
    expect(received('/all').map((e) => e.id).sort()).toEqual(['large-1', 'small-1']);
    const deliveries = async (webhookId: string) =>
      ((await call('GET', `/v1/webhooks/${webhookId}/deliveries`, undefined, key)).body.deliveries as { eventId: string; status: string }[]).map((d) => `${d.eventId}:${d.status}`).sort();
    expect(await eventually(async () => ((await deliveries(big)).length ? deliveries(big) : undefined), 30_000, 'the index')).toEqual(['large-1:delivered']);
    expect(await eventually(async () => ((await deliveries(everything)).length === 2 ? deliveries(everything) : undefined), 30_000, 'the index')).toEqual([
      'large-1:delivered',
      'small-1:delivered',
    ]);
    const counters = async (webhookId: string) => (await call('GET', `/v1/webhooks/${webhookId}`, undefined, key)).body.webhook;
    expect(await eventually(async () => ((await counters(everything)).deliverySuccessCount === 2 ? counters(everything) : undefined), 30_000, 'the counters')).toMatchObject({
      deliverySuccessCount: 2,
      deliveryFailureCount: 0,
    });
    expect(await counters(big)).toMatchObject({ deliverySuccessCount: received('/big').length, deliveryFailureCount: 0 });
    // The event's own view lists only the deliveries made.
    const small = await call('GET', '/v1/events/small-1', undefined, key);
    expect(small.body.deliveries.map((d: { webhookId: string }) => d.webhookId)).toEqual([everything]);
  });
});
