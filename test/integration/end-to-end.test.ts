import { Webhook } from 'standardwebhooks';
import { Harness } from '../support/harness';
import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';
import { freePort } from '../../src/embedded/ports';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';

describe('one signed event delivered end to end', () => {
  const ctx = useHarness({ receivers: 1 });

  it('admin creates a tenant, the tenant subscribes a webhook, an event reaches the receiver signed', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    expect(apiKey).toMatch(/^whk_/);
    // The API key is stored hashed only.
    const stored = await ctx.harness.models.ApiKey.findOne({ tenantId }).lean();
    expect(JSON.stringify(stored)).not.toContain(apiKey);

    const created = await ctx.harness.call('POST', '/v1/webhooks', {
      token: apiKey,
      body: { url: ctx.receiver.url('/billing'), events: ['invoice.*'], description: 'billing' },
    });
    expect(created.status).toBe(201);
    const { secret, id: webhookId } = created.body.webhook;
    expect(secret).toMatch(/^whsec_/);
    // The secret is stored encrypted, and never read back.
    const doc = await ctx.harness.models.Webhook.findById(webhookId).lean();
    expect(JSON.stringify(doc)).not.toContain(secret.slice(6));
    const read = await ctx.harness.call('GET', `/v1/webhooks/${webhookId}`, { token: apiKey });
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toContain(secret.slice(6));

    const sent = await ctx.harness.call('POST', '/v1/events', {
      token: apiKey,
      body: { type: 'invoice.created', data: { invoiceId: 'inv_1', amount: 4200 }, metadata: { source: 'billing.v2' } },
    });
    expect(sent.status).toBe(202);
    expect(sent.body).toEqual({ id: expect.stringMatching(/^evt_/), status: 'accepted', duplicate: false });

    const request = await eventually(() => ctx.receiver.requests[0], 30_000, 'the delivery');
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/billing');
    expect(request.headers['content-type']).toBe('application/json');

    // Verified by an implementation we did not write.
    const payload = new Webhook(secret).verify(request.body, {
      'webhook-id': request.headers['webhook-id'] as string,
      'webhook-timestamp': request.headers['webhook-timestamp'] as string,
      'webhook-signature': request.headers['webhook-signature'] as string,
    });
    expect(payload).toEqual({
      id: sent.body.id,
      type: 'invoice.created',
      timestamp: expect.any(String),
      tenant_id: tenantId,
      data: { invoiceId: 'inv_1', amount: 4200 },
      metadata: { source: 'billing.v2' },
    });
    expect(request.headers['webhook-id']).toMatch(/^dlv_/);
    expect(request.headers['x-webhook-event-id']).toBe(sent.body.id);
    expect(request.headers['x-webhook-event-type']).toBe('invoice.created');
    expect(new Date(request.headers['x-webhook-timestamp'] as string).toISOString()).toBe(request.headers['x-webhook-timestamp']);
    // The legacy, replayable signature is opt-in (legacySignature): a new webhook does not get it.
    expect(request.headers['x-webhook-signature']).toBeUndefined();
    expect(request.headers['user-agent']).toMatch(/^webhook-service\//);

    // Delivered on its first attempt, made inline by the event's fan-out: the delivery is on
    // record with that attempt, and the fan-out's execution (the Web UI's audit log) completed.
    const deliveryId = request.headers['webhook-id'] as string;
    const onRecord = await eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/deliveries/${deliveryId}`, { token: apiKey });
      return res.status === 200 && res.body.delivery.status === 'delivered' ? res.body.delivery : undefined;
    }, 30_000, 'the delivery on record');
    expect(onRecord).toMatchObject({ id: deliveryId, eventId: sent.body.id, webhookId, status: 'delivered', reason: null });
    expect(onRecord.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, error: null, response: 'ok' })]);
    const fanout = ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, sent.body.id));
    expect(await fanout.result()).toEqual({ deliveries: 1 });
    expect(onRecord.auditLog).toEqual([{ workflowId: eventWorkflowId(tenantId, sent.body.id), runId: (await fanout.describe()).runId }]);
    const attributes = (await fanout.describe()).searchAttributes as Record<string, unknown[]>;
    expect(attributes.EventId).toEqual([sent.body.id]);
    expect(attributes.TenantId).toEqual([tenantId]);
    // No DeliveryWorkflow was needed.
    await expect(ctx.harness.client.workflow.getHandle(deliveryId).describe()).rejects.toThrow(/not found/);
  });

  it('a repeated POST with the same id is the same event and never fans out twice; a different body is 409', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant('Repeat');
    const before = ctx.receiver.requests.length;
    await ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, body: { url: ctx.receiver.url('/repeat'), events: ['*'] } });
    const event = { id: 'order-42', type: 'order.paid', data: { total: 1 } };
    const first = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: event });
    const again = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: event });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ id: 'order-42', status: 'accepted', duplicate: true });
    const conflict = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { ...event, data: { total: 2 } } });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');

    await eventually(() => (ctx.receiver.requests.length > before ? true : undefined), 30_000, 'the delivery');
    // A third POST after delivery finished still does not deliver again: it starts nothing (the
    // one fan-out run has finished, the delivery needed no retry), so nothing can arrive later.
    const fanout = ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, 'order-42'));
    await fanout.result();
    const { runId } = await fanout.describe();
    const third = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: event });
    expect(third.body).toEqual({ id: 'order-42', status: 'accepted', duplicate: true });
    expect((await fanout.describe()).runId).toBe(runId);
    const deliveryId = ctx.receiver.requests.find((r) => r.path === '/repeat')!.headers['webhook-id'] as string;
    await expect(ctx.harness.client.workflow.getHandle(deliveryId).describe()).rejects.toThrow(/not found/);
    expect(ctx.receiver.requests.filter((r) => r.path === '/repeat')).toHaveLength(1);
  });

  it('the Idempotency-Key header names the event when no id is given', async () => {
    const { apiKey } = await ctx.harness.createTenant('Keyed');
    const headers = { 'idempotency-key': 'key-7' };
    const a = await ctx.harness.call('POST', '/v1/events', { token: apiKey, headers, body: { type: 'user.created', data: {} } });
    const b = await ctx.harness.call('POST', '/v1/events', { token: apiKey, headers, body: { type: 'user.created', data: {} } });
    expect(a.body.id).toBe('key-7');
    expect(b.body).toEqual({ id: 'key-7', status: 'accepted', duplicate: true });
  });

  it('answers 401 for a missing or wrong API key, in the one error shape', async () => {
    for (const token of [undefined, 'whk_AAAAAAAAAAA_' + 'A'.repeat(43), 'garbage']) {
      const res = await ctx.harness.call('POST', '/v1/events', { token, body: { type: 'a.b', data: {} } });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String), details: [] } });
    }
  });

  it('answers 400 for invalid JSON and names each invalid field', async () => {
    const { apiKey } = await ctx.harness.createTenant('Bad input');
    const malformed = await ctx.harness.call('POST', '/v1/events', { token: apiKey, rawBody: '{"type": ', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json');

    const invalid = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { type: 'Not A Type', data: {}, extra: 1 } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('validation_failed');
    expect(invalid.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['extra', 'type']);
  });

  it('answers 403 when a tenant API key is used on admin routes', async () => {
    const { apiKey } = await ctx.harness.createTenant('Not admin');
    const res = await ctx.harness.call('POST', '/v1/admin/tenants', { token: apiKey, body: { name: 'x' } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });
});

describe('Temporal unreachable at ingest', () => {
  it('answers 503, not 202', async () => {
    const closedPort = await freePort();
    const harness = await Harness.start({ apiTemporalAddress: `127.0.0.1:${closedPort}`, worker: false });
    try {
      const { apiKey } = await harness.createTenant();
      const res = await harness.call('POST', '/v1/events', { token: apiKey, body: { type: 'invoice.created', data: {} } });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('service_unavailable');
      expect(res.headers.get('retry-after')).toBeTruthy();
    } finally {
      await harness.close();
    }
  });
});
