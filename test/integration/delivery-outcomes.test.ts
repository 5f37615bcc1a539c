import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { freePort } from '../../src/embedded/ports';
import { deliveryId } from '../../src/ids';
import type { AttemptRecord, DeliveryInput, DeliveryResult } from '../../src/delivery/types';
import { storedWebhook } from '../support/stored-webhook';
import { useHarness } from '../support/use-harness';
import { requestsOf } from '../support/receiver';
import { verifiedPayload } from '../support/signatures';
import { eventually } from '../support/stack';
import type { NewWebhook } from '../../packages/client/src';

/** The failure a failed delivery workflow ends with: its type and attempt log. */
async function failureOf(promise: Promise<unknown>): Promise<{ type: string | undefined; message: string; attempts: AttemptRecord[] }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  const failure = cause as ApplicationFailure;
  return { type: failure.type ?? undefined, message: failure.message, attempts: failure.details?.[0] as AttemptRecord[] };
}

describe('delivery outcomes against a scripted receiver (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  /** A webhook on its own receiver path, an event to it, and the ids of the resulting delivery. */
  async function sendOne(webhook: Partial<NewWebhook> & { url: string }, type = 'order.paid') {
    // A tenant per delivery: no other test's webhook matches its event or uses its receiver script.
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const { webhookId, secret } = await ctx.harness.createWebhook(apiKey, { events: [type], ...webhook });
    const eventId = await ctx.harness.sendEvent(apiKey, { type, data: { n: 1 } });
    const id = deliveryId(tenantId, eventId, webhookId);
    return { webhookId, secret, eventId, id, apiKey, tenantId };
  }

  /** As `sendOne`, for a delivery whose first attempt fails and that gets a workflow of its own. */
  async function deliverOne(webhook: Partial<NewWebhook> & { url: string }, type = 'order.paid') {
    const sent = await sendOne(webhook, type);
    const handle = ctx.harness.client.workflow.getHandle(sent.id);
    await eventually(() => handle.describe().then(() => true, () => undefined), 30_000, 'the delivery workflow');
    return { ...sent, handle };
  }

  /** A delivery that ended on its first attempt (no workflow of its own), as the API reads it. */
  async function endedInline(apiKey: string, id: string) {
    const delivery = await eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/deliveries/${id}`, { token: apiKey });
      return res.status === 200 && res.body.delivery.completedAt ? res.body.delivery : undefined;
    }, 30_000, 'the delivery on record');
    await expect(ctx.harness.client.workflow.getHandle(id).describe()).rejects.toThrow(/not found/);
    return delivery;
  }

  const webhookView = async (apiKey: string, webhookId: string) => (await ctx.harness.call('GET', `/v1/webhooks/${webhookId}`, { token: apiKey })).body.webhook;

  it('500, 500, 200: delivered on attempt 3, every attempt signed and on record', async () => {
    const url = ctx.receiver.url('/flaky');
    ctx.receiver.respondWith({ status: 500, body: 'boom' }, { status: 500, body: 'still down' }, { status: 200, body: 'ok' });
    const { webhookId, secret, eventId, id, handle, apiKey, tenantId } = await deliverOne({ url, retrySchedule: ['1s', '1s'] });

    const result: DeliveryResult = await handle.result();
    expect(result.status).toBe('delivered');
    expect(result.attempts).toEqual([
      { attempt: 1, startedAt: expect.any(String), durationMs: expect.any(Number), statusCode: 500, errorClass: null, error: 'HTTP 500', response: 'boom' },
      { attempt: 2, startedAt: expect.any(String), durationMs: expect.any(Number), statusCode: 500, errorClass: null, error: 'HTTP 500', response: 'still down' },
      { attempt: 3, startedAt: expect.any(String), durationMs: expect.any(Number), statusCode: 200, errorClass: null, error: null, response: 'ok' },
    ]);
    const started = result.attempts.map((a) => Date.parse(a.startedAt));
    expect(started[1] - started[0]).toBeGreaterThanOrEqual(1000);
    expect(started[2] - started[1]).toBeGreaterThanOrEqual(1000);

    const requests = requestsOf(ctx.receiver.requests, id);
    expect(requests).toHaveLength(3);
    for (const request of requests) {
      expect(verifiedPayload(request, secret)).toMatchObject({ id: eventId, type: 'order.paid', tenant_id: tenantId, data: { n: 1 } });
    }

    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.searchAttributes.DeliveryStatus).toEqual(['delivered']);
    // The Web UI names the event type and the receiving host, for the workflow and its activity.
    const host = new URL(url).host;
    expect(await description.staticSummary()).toBe(`order.paid → ${host}`);
    const history = await handle.fetchHistory();
    const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes);
    expect(defaultPayloadConverter.fromPayload(scheduled!.userMetadata!.summary!)).toBe(`POST ${host} · order.paid`);
    // Attempt 1 (made inline by the fan-out) is in the delivery's input; each later failed attempt
    // is an event of its history, at the time it failed.
    const input = defaultPayloadConverter.fromPayload<DeliveryInput>(history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0]);
    expect(input.firstAttempt).toEqual(result.attempts[0]);
    const signals = history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'attemptFailed');
    expect(signals).toHaveLength(1);

    const view = await eventually(async () => {
      const w = await webhookView(apiKey, webhookId);
      return w.deliverySuccessCount === 1 ? w : undefined;
    }, 10_000, 'the success counter');
    expect(view).toMatchObject({ deliverySuccessCount: 1, deliveryFailureCount: 0, active: true });
    expect(Date.parse(view.lastTriggeredAt)).toBe(started[2]);
  });

  it('410: the webhook is disabled with a reason, the delivery fails at once', async () => {
    ctx.receiver.respondWith({ status: 410, body: 'gone for good' });
    const { webhookId, id, apiKey, tenantId } = await sendOne({ url: ctx.receiver.url('/gone') });

    const delivery = await endedInline(apiKey, id);
    expect(delivery).toMatchObject({ status: 'failed', reason: 'HTTP 410 Gone' });
    expect(delivery.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 410, response: 'gone for good' })]);
    expect(requestsOf(ctx.receiver.requests, id)).toHaveLength(1);

    const view = await eventually(async () => {
      const w = await webhookView(apiKey, webhookId);
      return w.active === false ? w : undefined;
    }, 10_000, 'the webhook to be disabled');
    expect(view).toMatchObject({ disabledReason: 'the receiver answered 410 Gone', deliveryFailureCount: 1, deliverySuccessCount: 0 });

    // A disabled webhook is no longer matched: the next event fans out to nobody.
    const next = await ctx.harness.sendEvent(apiKey, { type: 'order.paid', data: {} });
    const fanout = await ctx.harness.client.workflow.getHandle(`event/${tenantId}/${next}`).result();
    expect(fanout).toEqual({ deliveries: 0 });
  });

  it('429 with Retry-After: the next attempt waits at least that long, not the 1 s of the schedule', async () => {
    ctx.receiver.respondWith({ status: 429, headers: { 'retry-after': '3' }, body: 'slow down' }, { status: 200 });
    const { handle } = await deliverOne({ url: ctx.receiver.url('/limited'), retrySchedule: ['1s'] });
    const result: DeliveryResult = await handle.result();
    expect(result.attempts.map((a) => a.statusCode)).toEqual([429, 200]);
    expect(Date.parse(result.attempts[1].startedAt) - Date.parse(result.attempts[0].startedAt)).toBeGreaterThanOrEqual(3000);
  });

  it('a receiver slower than the webhook timeout: the attempt times out and is retried', async () => {
    ctx.receiver.respondWith({ status: 200, delayMs: 4000 }, { status: 200, body: 'fast now' });
    const { handle } = await deliverOne({ url: ctx.receiver.url('/slow'), timeoutSeconds: 1, retrySchedule: ['1s'] });
    const result: DeliveryResult = await handle.result();
    expect(result.attempts[0]).toMatchObject({ attempt: 1, statusCode: null, errorClass: 'timeout', response: null });
    expect(result.attempts[0].durationMs).toBeGreaterThanOrEqual(1000);
    expect(result.attempts[0].durationMs).toBeLessThan(4000);
    expect(result.attempts[1]).toMatchObject({ attempt: 2, statusCode: 200, response: 'fast now' });
  });

  it('connection refused on every attempt: exhausted, the workflow fails with the whole log, counters record it', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/nobody`;
    const { webhookId, handle } = await deliverOne({ url: closed, retrySchedule: ['1s', '1s'] });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('DeliveryExhausted');
    expect(failure.attempts.map((a) => [a.attempt, a.errorClass])).toEqual([
      [1, 'connection_refused'],
      [2, 'connection_refused'],
      [3, 'connection_refused'],
    ]);
    const description = await handle.describe();
    expect(description.status.name).toBe('FAILED');
    expect(description.searchAttributes.DeliveryStatus).toEqual(['failed']);
    // The last attempt's own log, built only from what the heartbeats carried across attempts
    // (not from the workflow's copy of reported failures), already holds every attempt.
    const history = await handle.fetchHistory();
    const activityFailure = history.events!.find((e) => e.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!.failure!;
    const carried = defaultPayloadConverter.fromPayload<AttemptRecord[]>(activityFailure.applicationFailureInfo!.details!.payloads![0]);
    expect(carried.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // The operator's query for "all failed deliveries of this webhook" finds it.
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const w of ctx.harness.client.workflow.list({ query: `WebhookId = '${webhookId}' AND DeliveryStatus = 'failed'` })) ids.push(w.workflowId);
      return ids.length ? ids : undefined;
    }, 10_000, 'the visibility query');
    expect(found).toEqual([handle.workflowId]);
    const stored = await eventually(async () => {
      const w = await storedWebhook(ctx.harness.models, webhookId);
      return w?.deliveryFailureCount === 1 ? w : undefined;
    }, 10_000, 'the failure counter');
    expect(stored).toMatchObject({ consecutiveFailureCount: 1, active: true, deliverySuccessCount: 0 });
    expect(stored.failingSince?.toISOString()).toBe(failure.attempts[0].startedAt);
  });

  it('a 5 MB response: delivered, the record keeps its first 1000 characters', async () => {
    const body = 'a'.repeat(1000) + 'b'.repeat(5 * 1024 * 1024);
    ctx.receiver.respondWith({ status: 200, body });
    const { id, apiKey } = await sendOne({ url: ctx.receiver.url('/huge') });
    const delivery = await endedInline(apiKey, id);
    expect(delivery.status).toBe('delivered');
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0].statusCode).toBe(200);
    expect(delivery.attempts[0].response).toBe('a'.repeat(1000));
  });
});
