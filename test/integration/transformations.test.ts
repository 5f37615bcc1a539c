import { deliveryResponseSchema } from '../../src/api/schemas/delivery';
import { transformationTestResponseSchema, webhookResponseSchema } from '../../src/api/schemas/webhook';
import { deliveryId } from '../../src/ids';
import { codeVersion } from '../../src/transformations/transformation';
import { requestsOf } from '../support/receiver';
import { expectError, pathsOf, valid } from '../support/shapes';
import { verifiedPayload } from '../support/signatures';
import { eventually } from '../support/stack';
import { tenantCalls } from '../support/tenant-calls';
import { useHarness } from '../support/use-harness';

/** Slack-style: the event becomes `{text}`, sent with PUT to another path and a header of its own. */
const RESHAPE = `
function handler(webhook) {
  webhook.payload = { text: webhook.eventType + ' #' + webhook.payload.data.n };
  webhook.method = 'PUT';
  webhook.url = webhook.url.replace('/orig', '/moved');
  webhook.headers['X-Shaped-By'] = 'transformation';
  return webhook;
}`;
const CANCEL = 'function handler(webhook) { return { ...webhook, cancel: webhook.payload.data.n > 10 }; }';
const THROWS = 'function handler(webhook) { throw new Error("no template for " + webhook.eventType); }';

describe('payload transformations', () => {
  const ctx = useHarness({ receivers: 1 });
  let apiKey: string;
  let tenantId: string;
  const { call, create } = tenantCalls(ctx, () => apiKey);

  beforeAll(async () => {
    ({ apiKey, tenantId } = await ctx.harness.createTenant('Transformations'));
  });

  const readDelivery = async (id: string) => {
    const res = await call('GET', `/v1/deliveries/${id}`);
    return res.status === 200 ? valid(deliveryResponseSchema, res.body).delivery : undefined;
  };
  const settled = (id: string, status: string) =>
    eventually(async () => {
      const delivery = await readDelivery(id);
      return delivery?.status === status ? delivery : undefined;
    }, 60_000, `delivery ${id} ${status}`);

  it('create, read, PATCH and PUT carry the transformation; code that does not compile is refused with its line', async () => {
    const webhook = await create({ transformation: { code: RESHAPE } });
    expect(webhook.transformation).toEqual({ code: RESHAPE, enabled: true, version: codeVersion(RESHAPE) });
    const off = await call('PATCH', `/v1/webhooks/${webhook.id}`, { transformation: { code: RESHAPE, enabled: false } });
    expect(valid(webhookResponseSchema, off.body).webhook.transformation).toMatchObject({ enabled: false });
    const replaced = await call('PUT', `/v1/webhooks/${webhook.id}`, { url: webhook.url, events: ['invoice.*'] });
    expect(valid(webhookResponseSchema, replaced.body).webhook.transformation).toBeNull();

    const broken = 'function handler(webhook) {\n  const x = ;\n  return webhook;\n}';
    const details = expectError(await call('POST', '/v1/webhooks', { url: webhook.url, events: ['*'], transformation: { code: broken } }), 400, 'validation_failed');
    expect(details).toEqual([{ path: 'transformation.code', message: expect.stringMatching(/^SyntaxError: .*\(line 2\)$/) }]);
    const noHandler = expectError(await call('PATCH', `/v1/webhooks/${webhook.id}`, { transformation: { code: 'const handle = (w) => w;' } }), 400);
    expect(noHandler).toEqual([{ path: 'transformation.code', message: 'the code must define function handler(webhook)' }]);
    const tooBig = expectError(await call('PATCH', `/v1/webhooks/${webhook.id}`, { transformation: { code: `${RESHAPE}//${'x'.repeat(64 * 1024)}` } }), 400);
    expect(pathsOf(tooBig)).toEqual(['transformation.code']);
    // Refused requests changed nothing.
    expect(valid(webhookResponseSchema, (await call('GET', `/v1/webhooks/${webhook.id}`)).body).webhook.transformation).toBeNull();
  });

  it('transformation-test answers what would be sent, signed, or that it cancels, or its error; nothing is sent', async () => {
    const webhook = await create({ url: 'http://127.0.0.1:9/orig', headers: { 'X-Team': 'billing', Authorization: 'Bearer s3cret' }, transformation: { code: RESHAPE } });
    const test = async (body: Record<string, unknown>) => {
      const res = await call('POST', `/v1/webhooks/${webhook.id}/transformation-test`, body);
      expect(res.status).toBe(200);
      return valid(transformationTestResponseSchema, res.body);
    };
    const event = { type: 'invoice.paid', data: { n: 7 } };
    const sent = await test({ event });
    expect(sent).toMatchObject({ outcome: 'send', error: null, transformation: codeVersion(RESHAPE) });
    expect(sent.request).toMatchObject({ method: 'PUT', url: 'http://127.0.0.1:9/moved', body: '{"text":"invoice.paid #7"}' });
    expect(sent.request!.headers).toMatchObject({ 'x-shaped-by': 'transformation', 'x-team': 'billing', authorization: '[sensitive]', 'content-type': 'application/json' });
    expect(sent.request!.headers['webhook-signature']).toMatch(/^v1,/);

    // Code not yet saved: tried, not stored.
    expect(await test({ event: { ...event, data: { n: 11 } }, code: CANCEL })).toEqual({ outcome: 'cancel', request: null, error: null, transformation: codeVersion(CANCEL) });
    expect(await test({ event, code: THROWS })).toEqual({ outcome: 'failed', request: null, error: 'transformation_failed: no template for invoice.paid', transformation: codeVersion(THROWS) });
    expect(valid(webhookResponseSchema, (await call('GET', `/v1/webhooks/${webhook.id}`)).body).webhook.transformation?.code).toBe(RESHAPE);

    // The sandbox: nothing of the host, a time limit, a memory limit, and a checked result.
    const host = await test({ event, code: 'function handler(w) { w.payload = [typeof require, typeof process, typeof fetch, typeof setTimeout, typeof std, typeof os, typeof globalThis.console]; return w; }' });
    expect(JSON.parse(host.request!.body)).toEqual(Array(7).fill('undefined'));
    expect((await test({ event, code: 'function handler(w) { for (;;) {} }' })).error).toBe('transformation_failed: time limit exceeded');
    expect((await test({ event, code: 'function handler(w) { const a = []; for (;;) a.push(new Array(1e5).fill(a.length)); }' })).error).toMatch(/^transformation_failed: (memory limit exceeded|time limit exceeded)$/);
    expect((await test({ event, code: 'function handler(w) { w.method = "DELETE"; return w; }' })).error).toBe('transformation_failed: handler returned a wrong shape: method: method must be POST or PUT');
    expect((await test({ event, code: 'function handler(w) { w.headers["Webhook-Signature"] = "forged"; return w; }' })).error).toMatch(/^transformation_failed: handler returned a wrong shape: headers\.Webhook-Signature: is reserved/);
    expect((await test({ event, code: 'function handler(w) { return 42; }' })).error).toBe('transformation_failed: handler must return an object (the webhook, changed)');
    expect((await test({ event, code: 'async function handler(w) { return w; }' })).error).toBe('transformation_failed: TypeError: handler must return its result, not a promise');
    // Code given that does not compile: 400, like on save.
    expect(pathsOf(expectError(await call('POST', `/v1/webhooks/${webhook.id}/transformation-test`, { event, code: 'function handler( {' }), 400))).toEqual(['code']);
    // No transformation at all: the envelope, as sent today.
    const plain = await create({});
    const envelope = valid(transformationTestResponseSchema, (await call('POST', `/v1/webhooks/${plain.id}/transformation-test`, { event })).body);
    expect(envelope).toMatchObject({ outcome: 'send', transformation: null });
    expect(JSON.parse(envelope.request!.body)).toMatchObject({ type: 'invoice.paid', data: { n: 7 }, tenant_id: tenantId });
    // A connector format: the code starts from its default rendering.
    const slack = await create({ format: 'slack', transformation: { code: 'function handler(w) { w.payload.text = "Billing: " + w.payload.text; w.payload.blocks.splice(1); return w; }' } });
    const rendered = valid(transformationTestResponseSchema, (await call('POST', `/v1/webhooks/${slack.id}/transformation-test`, { event })).body);
    const message = JSON.parse(rendered.request!.body) as { text: string; blocks: { type: string }[] };
    expect(message.text).toMatch(/^Billing: .*invoice\.paid/);
    expect(message.blocks).toEqual([expect.objectContaining({ type: 'header' })]);
    const other = await ctx.harness.createTenant('Other');
    expectError(await call('POST', `/v1/webhooks/${webhook.id}/transformation-test`, { event }, other.apiKey), 404, 'not_found');
  });

  it('a transformed delivery is sent as the code shaped it, signed over the body sent, with the version on its attempt', async () => {
    const receiver = ctx.receiver;
    const { webhookId, secret } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/orig'), events: ['invoice.paid'], transformation: { code: RESHAPE } });
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'invoice.paid', data: { n: 1 } });
    const id = deliveryId(tenantId, eventId, webhookId);
    const delivery = await settled(id, 'delivered');
    const [request] = requestsOf(receiver.requests, id);
    expect({ method: request.method, path: request.path, shapedBy: request.headers['x-shaped-by'] }).toEqual({ method: 'PUT', path: '/moved', shapedBy: 'transformation' });
    expect(verifiedPayload(request, secret)).toEqual({ text: 'invoice.paid #1' });
    expect(delivery.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, transformation: codeVersion(RESHAPE) })]);

    // The test event goes out the same way.
    const before = receiver.requests.length;
    expect((await call('POST', `/v1/webhooks/${webhookId}/test`)).body).toMatchObject({ success: true, statusCode: 200 });
    const test = receiver.requests.slice(before).find((r) => r.headers['x-webhook-event-type'] === 'webhook.test');
    expect(test && { method: test.method, path: test.path, body: verifiedPayload(test, secret) }).toEqual({ method: 'PUT', path: '/moved', body: { text: 'webhook.test #undefined' } });
  });

  it('the retries run it too, from the webhook as it is at each attempt: a cancel ends the delivery canceled with no request', async () => {
    const receiver = ctx.receiver;
    receiver.respondPerDelivery({ status: 500, body: 'down' }, { status: 200 });
    try {
      const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/orig'), events: ['invoice.paid'], retrySchedule: ['3s'], transformation: { code: RESHAPE } });
      const eventId = await ctx.harness.sendEvent(apiKey, { type: 'invoice.paid', data: { n: 12 } });
      const id = deliveryId(tenantId, eventId, webhookId);
      await eventually(() => (requestsOf(receiver.requests, id).length === 1 ? true : undefined), 30_000, 'the first attempt');
      // Before the second attempt (3 s ± 20 % later), the code now cancels events with n > 10.
      expect((await call('PATCH', `/v1/webhooks/${webhookId}`, { transformation: { code: CANCEL } })).status).toBe(200);
      const canceled = await settled(id, 'canceled');
      expect(canceled.reason).toBe('canceled by its transformation: handler returned cancel: true');
      expect(canceled.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 500, transformation: codeVersion(RESHAPE) })]);
      expect(requestsOf(receiver.requests, id)).toHaveLength(1);

      // A first attempt the code cancels: canceled at once, no request, no attempt.
      const skipped = await ctx.harness.sendEvent(apiKey, { type: 'invoice.paid', data: { n: 13 } });
      const skippedId = deliveryId(tenantId, skipped, webhookId);
      expect(await settled(skippedId, 'canceled')).toMatchObject({ attempts: [], reason: 'canceled by its transformation: handler returned cancel: true' });
      expect(requestsOf(receiver.requests, skippedId)).toHaveLength(0);
    } finally {
      receiver.respondWith({ status: 200, body: 'ok' });
    }
  });

  it('code that fails fails the attempt with no request, is not retried on the schedule, and the delivery is requeueable after a fix', async () => {
    const receiver = ctx.receiver;
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/orig'), events: ['invoice.paid'], retrySchedule: ['1s', '1s'], transformation: { code: THROWS } });
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'invoice.paid', data: { n: 2 } });
    const id = deliveryId(tenantId, eventId, webhookId);
    const failed = await settled(id, 'failed');
    expect(failed.attempts).toEqual([
      expect.objectContaining({ attempt: 1, statusCode: null, errorClass: 'transformation_failed', error: 'transformation_failed: no template for invoice.paid', transformation: codeVersion(THROWS) }),
    ]);
    expect(requestsOf(receiver.requests, id)).toHaveLength(0);

    // Fixed, then retried: delivered, shaped by the new code.
    expect((await call('PATCH', `/v1/webhooks/${webhookId}`, { transformation: { code: RESHAPE } })).status).toBe(200);
    expect((await call('POST', `/v1/deliveries/${id}/retry`)).status).toBe(202);
    const delivered = await settled(id, 'delivered');
    expect(delivered.attempts.map((a) => [a.attempt, a.errorClass, a.statusCode, a.transformation])).toEqual([
      [1, 'transformation_failed', null, codeVersion(THROWS)],
      [2, null, 200, codeVersion(RESHAPE)],
    ]);
    expect(requestsOf(receiver.requests, id).map((r) => r.body)).toEqual(['{"text":"invoice.paid #2"}']);
  });

  it('a URL the code sets goes through the SSRF guard like a stored one', async () => {
    const code = 'function handler(w) { w.url = "http://169.254.169.254/latest/meta-data"; return w; }';
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/orig'), events: ['invoice.paid'], transformation: { code } });
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'invoice.paid', data: { n: 3 } });
    const failed = await settled(deliveryId(tenantId, eventId, webhookId), 'failed');
    expect(failed.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: null, errorClass: 'url_refused', transformation: codeVersion(code) })]);
  });
});
