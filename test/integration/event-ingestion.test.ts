import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../src/embedded/ports';
import { EventIngestion } from '../../src/events/event-ingestion';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { mongo } from 'mongoose';
import { dependencyFailure } from '../../src/api/errors';
import { isDuplicateKey } from '../../src/models/duplicate-key';
import { InsertBatcher } from '../../src/models/insert-batcher';
import { useHarness } from '../support/use-harness';
import { verifiedPayload } from '../support/signatures';
import { eventually } from '../support/stack';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';

describe('event ingestion (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  it('accepts a batch: each event fanned out once, ids given, keyed or generated; a repeat is the same events', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const { secret } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/batch'), events: ['*'] });
    const batch = { events: [{ id: 'a-1', type: 'a.b', data: { i: 0 } }, { type: 'a.c', data: { i: 1 } }] };
    const headers = { 'idempotency-key': 'import-7' };

    const first = await ctx.harness.call('POST', '/v1/events/batch', { token: apiKey, body: batch, headers });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ events: [{ id: 'a-1', status: 'accepted', duplicate: false }, { id: 'import-7.1', status: 'accepted', duplicate: false }] });
    const again = await ctx.harness.call('POST', '/v1/events/batch', { token: apiKey, body: batch, headers });
    expect(again.body.events.map((e: { duplicate: boolean }) => e.duplicate)).toEqual([true, true]);

    const unkeyed = await ctx.harness.call('POST', '/v1/events/batch', { token: apiKey, body: { events: [{ type: 'a.d', data: {} }] } });
    expect(unkeyed.body.events[0].id).toMatch(/^evt_/);

    for (const id of ['a-1', 'import-7.1', unkeyed.body.events[0].id]) {
      expect(await ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, id)).result()).toEqual({ deliveries: 1 });
    }
    await eventually(() => (ctx.receiver.requests.length >= 3 ? true : undefined), 30_000, 'three deliveries');
    expect(ctx.receiver.requests.map((r) => (verifiedPayload(r, secret) as { id: string }).id).sort()).toEqual(['a-1', 'import-7.1', unkeyed.body.events[0].id].sort());
  });

  it('rejects a batch reusing an id with a different body (409, nothing started), over 100 events or duplicated ids (400)', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    await ctx.harness.sendEvent(apiKey, { id: 'taken', type: 'a.b', data: { v: 1 } });
    const conflict = await ctx.harness.call('POST', '/v1/events/batch', {
      token: apiKey,
      body: { events: [{ id: 'fresh', type: 'a.b', data: {} }, { id: 'taken', type: 'a.b', data: { v: 2 } }] },
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({ code: 'idempotency_conflict', details: [{ path: 'events.1', message: expect.any(String) }] });
    const fresh = await ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, 'fresh')).describe().catch((e: Error) => e.name);
    expect(fresh).toBe('WorkflowNotFoundError');

    const tooMany = await ctx.harness.call('POST', '/v1/events/batch', { token: apiKey, body: { events: Array.from({ length: 101 }, () => ({ type: 'a.b', data: {} })) } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details[0].path).toBe('events');

    // An id twice in one batch: the same body is one event (as two requests would be), another body a 409.
    const twice = await ctx.harness.call('POST', '/v1/events/batch', { token: apiKey, body: { events: [{ id: 'x', type: 'a.b', data: {} }, { id: 'x', type: 'a.b', data: {} }] } });
    expect(twice.status).toBe(202);
    expect(twice.body.events.map((e: { id: string }) => e.id)).toEqual(['x', 'x']);
    const differ = await ctx.harness.call('POST', '/v1/events/batch', { token: apiKey, body: { events: [{ id: 'y', type: 'a.b', data: {} }, { id: 'y', type: 'a.b', data: { v: 1 } }] } });
    expect(differ.status).toBe(409);
    expect(differ.body.error.details).toEqual([{ path: 'events.1', message: 'event y appears earlier in the batch with a different body' }]);
  });

  it('answers 413 for a body over the limit (256 KB by default), in the one error shape', async () => {
    const { apiKey } = await ctx.harness.createTenant();
    const res = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { type: 'a.b', data: { blob: 'x'.repeat(300 * 1024) } } });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: 'payload_too_large', message: expect.any(String), details: [] } });
  });

  it('answers duplicate: false and fans out when the first fan-out start of that id failed (Temporal unreachable)', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/retried-ingest'), events: ['*'] });
    // The first try: the payload is stored, then the start fails against a Temporal that is not there.
    const unreachable = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    try {
      const down = new EventIngestion({ models: ctx.harness.models, client: new Client({ connection: unreachable }), taskQueue: ctx.harness.taskQueue });
      await expect(down.accept(tenantId, { id: 'retried-1', type: 'a.b', data: { v: 1 } })).rejects.toThrow();
    } finally {
      await unreachable.close();
    }
    expect(await ctx.harness.models.Event.countDocuments({ tenantId, eventId: 'retried-1' })).toBe(1);

    const retry = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { id: 'retried-1', type: 'a.b', data: { v: 1 } } });
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual({ id: 'retried-1', status: 'accepted', duplicate: false });
    expect(await ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, 'retried-1')).result()).toEqual({ deliveries: 1 });
    await eventually(() => (ctx.receiver.requests.some((r) => r.path === '/retried-ingest') ? true : undefined), 30_000, 'the delivery');

    const again = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { id: 'retried-1', type: 'a.b', data: { v: 1 } } });
    expect(again.body).toEqual({ id: 'retried-1', status: 'accepted', duplicate: true });
  });

  it('answers concurrent POSTs as if each came alone: one of each repeated id fans out, a conflicting body is refused', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const post = (id: string, data: unknown) => ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { id, type: 'a.b', data } });
    const ids = Array.from({ length: 10 }, (_, i) => `same-${i}`);
    // Sent at once, so they share the API's writes: each id twice with one body, one id with two.
    const [answers, conflicting] = await Promise.all([
      Promise.all(ids.flatMap((id) => [post(id, { id }), post(id, { id })])),
      Promise.all([post('conflict-1', { v: 1 }), post('conflict-1', { v: 2 })]),
    ]);
    for (const id of ids) {
      const mine = answers.filter((a) => a.body.id === id);
      expect(mine.map((a) => a.status)).toEqual([202, 202]);
      expect(mine.map((a) => a.body.duplicate).sort()).toEqual([false, true]);
    }
    expect(conflicting.map((a) => a.status).sort()).toEqual([202, 409]);
    expect(conflicting.find((a) => a.status === 409)!.body.error.code).toBe('idempotency_conflict');
    expect(await ctx.harness.models.Event.countDocuments({ tenantId })).toBe(11);
    for (const id of [...ids, 'conflict-1']) {
      expect(await ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, id)).result()).toEqual({ deliveries: 0 });
    }
  });

  it('shares an insert among concurrent writers, each getting its own outcome', async () => {
    const collection = ctx.harness.models.Event.db.collection<{ _id: string; n: number }>(`insert_batcher_${Date.now()}`);
    const batcher = new InsertBatcher(collection);
    const outcomes = await Promise.allSettled([
      batcher.insert({ _id: 'a', n: 1 }),
      batcher.insert({ _id: 'b', n: 2 }),
      batcher.insert({ _id: 'a', n: 3 }),
      batcher.insert({ _id: 'c', n: 4 }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(isDuplicateKey((outcomes[2] as PromiseRejectedResult).reason)).toBe(true);
    expect(await collection.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 'a', n: 1 }, { _id: 'b', n: 2 }, { _id: 'c', n: 4 }]);
    // Alone, a write is made at once, and an existing id is refused.
    await batcher.insert({ _id: 'd', n: 5 });
    await expect(batcher.insert({ _id: 'b', n: 6 })).rejects.toMatchObject({ code: 11000 });
    await collection.drop();
  });

  it('a shared insert whose connection breaks reaches each writer as the driver error, which the API answers 503', async () => {
    // FerretDB through a TCP proxy, which then drops every connection as if FerretDB had been killed.
    const target = new URL(process.env.MONGODB_URI!);
    const sockets = new Set<Socket>();
    const proxy = createServer((downstream) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const socket of [downstream, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
      }
      downstream.pipe(upstream).pipe(downstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const uri = new URL(target);
    uri.host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    uri.pathname = '/insert_batcher_broken';
    const client = new mongo.MongoClient(uri.toString(), { serverSelectionTimeoutMS: 500 });
    try {
      const batcher = new InsertBatcher(client.db().collection<{ _id: string }>(`events_${Date.now()}`));
      await batcher.insert({ _id: 'before' });
      proxy.close();
      for (const socket of sockets) socket.destroy();
      const outcomes = await Promise.allSettled([batcher.insert({ _id: 'a' }), batcher.insert({ _id: 'b' })]);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        expect(dependencyFailure((outcome as PromiseRejectedResult).reason)?.kind).toBe('transient');
      }
    } finally {
      await client.close(true);
      proxy.close();
    }
  });

  it('a shared insert that never settles fails its writers with a timeout the API answers 503, and the next insert goes ahead', async () => {
    const name = `insert_batcher_hung_${Date.now()}`;
    // Created first: FerretDB creates a table on a collection's first insert, which on a loaded
    // machine took longer than the deadline (the full run of 14:13).
    await ctx.harness.models.Event.db.createCollection(name);
    const real = ctx.harness.models.Event.db.collection<{ _id: string }>(name);
    let hang = true;
    // The first write never settles (as one did after FerretDB was killed); the later ones are real.
    const collection = new Proxy(real, {
      get: (target, name) => (name === 'insertMany' && hang ? () => ((hang = false), new Promise(() => undefined)) : Reflect.get(target, name, target)),
    });
    const batcher = new InsertBatcher(collection, 1000);
    const stuck = await Promise.allSettled([batcher.insert({ _id: 'a' }), batcher.insert({ _id: 'b' })]);
    for (const outcome of stuck) {
      expect(outcome.status).toBe('rejected');
      expect(dependencyFailure((outcome as PromiseRejectedResult).reason)?.kind).toBe('transient');
    }
    await batcher.insert({ _id: 'a' });
    expect(await real.find().toArray()).toEqual([{ _id: 'a' }]);
    await real.drop();
  });
});
