import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { deliveryId } from '../../src/ids';
import { RETRY_JITTER } from '../../src/delivery/retry-jitter';
import { retryDelayAfter } from '../../src/delivery/retry-schedule';
import type { AttemptRecord, DeliveryInput, DeliveryResult } from '../../src/delivery/types';
import { Harness } from '../support/harness';
import { TestReceiver, requestsOf } from '../support/receiver';
import { verifiedPayload } from '../support/signatures';
import { eventually } from '../support/stack';
import { storedWebhook } from '../support/stored-webhook';
import { eventTimeMs, startTimeSkipping, type HistoryEvent } from '../support/time-skipping';
import type { NewWebhook } from '../../packages/client/src';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/**
 * How far an attempt may sit from its offset. The schedule's delays start once the attempt
 * before is recorded; an inline first attempt's page record (bulk writes on FerretDB, on a
 * loaded 2-core machine) has taken just over a second before the retry's timer started.
 */
const TOLERANCE = 2 * SECOND;

/** Server times of each attempt's start, from the delivery's history (virtual time here). */
function attemptTimes(events: HistoryEvent[], attempts: AttemptRecord[]): number[] {
  // Attempt 1 was made inline by the fan-out, just before it started this workflow with that
  // attempt in its input: it started when this workflow did, less its duration. A failed attempt
  // that is retried is recorded by its `attemptFailed` signal, at the time it failed: its start
  // is that minus its duration. The final attempt has its ActivityTaskStarted.
  const started = events[0];
  const input = defaultPayloadConverter.fromPayload<DeliveryInput>(started.workflowExecutionStartedEventAttributes!.input!.payloads![0]);
  const first = eventTimeMs(started) - (input.firstAttempt?.durationMs ?? 0);
  const failed = events
    .filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'attemptFailed')
    .map((e) => {
      const record = defaultPayloadConverter.fromPayload<AttemptRecord>(e.workflowExecutionSignaledEventAttributes!.input!.payloads![0]);
      return eventTimeMs(e) - (record.durationMs ?? 0);
    });
  const last = events.filter((e) => e.activityTaskStartedEventAttributes).map(eventTimeMs);
  expect(1 + failed.length + last.length).toBe(attempts.length);
  return [first, ...failed, ...last];
}

describe('the attempt schedule on the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  let harness: Harness;
  let receiver: TestReceiver;

  beforeAll(async () => {
    receiver = await new TestReceiver().start();
  });
  afterAll(async () => {
    await receiver?.stop();
  });
  // A server per test: once one test has skipped hours ahead, the test server no longer skips
  // time for workflows started afterwards (their history clock lags its current time).
  beforeEach(async () => {
    env = await startTimeSkipping();
    harness = await Harness.start({ testEnv: env });
  });
  afterEach(async () => {
    await harness?.close();
    await env?.teardown();
  });

  /** A webhook on its own receiver path, an event to it, and the handle of its delivery. */
  async function deliverOne(webhook: Partial<NewWebhook> & { url: string }) {
    // A tenant per delivery: no other test's webhook matches its event or uses its receiver script.
    const { apiKey, tenantId } = await harness.createTenant();
    const { webhookId, secret } = await harness.createWebhook(apiKey, { events: ['invoice.*'], ...webhook });
    const eventId = await harness.sendEvent(apiKey, { type: 'invoice.paid', data: { amount: 5 } });
    const id = deliveryId(tenantId, eventId, webhookId);
    const handle: WorkflowHandle = harness.client.workflow.getHandle(id);
    await eventually(() => handle.describe().then(() => true, () => undefined), 30_000, 'the delivery workflow');
    return { webhookId, secret, eventId, id, handle, apiKey, tenantId };
  }

  /** Waits (without skipping time) until the first attempt failed and the delivery shows `retrying`. */
  async function untilRetrying(handle: WorkflowHandle) {
    return eventually(async () => {
      const description = await handle.describe().catch(() => undefined);
      return description?.searchAttributes.DeliveryStatus?.[0] === 'retrying' ? description : undefined;
    }, 30_000, 'the delivery to show retrying');
  }

  it('runs the default schedule: attempts after 1m, 5m, 15m, 1h, 2h, each ±20 % (this delivery\'s own jitter, ± 2 s), then fails with all six on record', async () => {
    receiver.respondWith({ status: 503, body: 'maintenance' });
    const { secret, eventId, id, handle } = await deliverOne({ url: receiver.url('/default-schedule') });

    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(failure.type).toBe('DeliveryExhausted');
    const attempts = failure.details![0] as AttemptRecord[];
    expect(attempts.map((a) => [a.attempt, a.statusCode, a.error, a.response])).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) => [n, 503, 'HTTP 503', 'maintenance']),
    );

    const history = await handle.fetchHistory();
    const times = attemptTimes(history.events!, attempts);
    const scheduled = [1 * MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE, 120 * MINUTE];
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Within the jitter's bounds, and exactly this delivery's draw (the same on every run).
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(scheduled[i]! * (1 - RETRY_JITTER) - TOLERANCE);
      expect(gap).toBeLessThanOrEqual(scheduled[i]! * (1 + RETRY_JITTER) + TOLERANCE);
      expect(Math.abs(gap - retryDelayAfter(null, i + 1, id)!)).toBeLessThanOrEqual(TOLERANCE);
    });

    const requests = requestsOf(receiver.requests, id);
    expect(requests).toHaveLength(6);
    for (const request of requests) expect(verifiedPayload(request, secret)).toMatchObject({ id: eventId });
    const description = await handle.describe();
    expect(description.status.name).toBe('FAILED');
    expect(description.searchAttributes.DeliveryStatus).toEqual(['failed']);
  });

  it('honours Retry-After on 429 up to the configured maximum (1 h), instead of the 1 min of the schedule', async () => {
    receiver.respondWith({ status: 429, headers: { 'retry-after': '7200' } }, { status: 200 });
    const { handle } = await deliverOne({ url: receiver.url('/rate-limited') });
    const result: DeliveryResult = await handle.result();
    expect(result.attempts.map((a) => a.statusCode)).toEqual([429, 200]);
    const times = attemptTimes((await handle.fetchHistory()).events!, result.attempts);
    expect(Math.abs(times[1] - times[0] - 60 * MINUTE)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('shows a running delivery: retrying, the pending attempt count, the last failure and the log so far', async () => {
    receiver.respondWith({ status: 500, body: 'oops' }, { status: 500, body: 'again' }, { status: 200 });
    const { handle, id, apiKey } = await deliverOne({ url: receiver.url('/running') });
    // Attempt 1 failed inline; the delivery's workflow waits the schedule's first delay.
    const waiting = await untilRetrying(handle);
    expect(waiting.raw.pendingActivities ?? []).toEqual([]);
    // The fan-out starts the delivery's workflow, then records the page in the deliveries index.
    const read = await eventually(async () => {
      const res = await harness.call('GET', `/v1/deliveries/${id}`, { token: apiKey });
      return res.body.delivery?.nextAttemptAt ? res : undefined;
    }, 30_000, 'the delivery in the index');
    expect(read.body.delivery).toMatchObject({ status: 'retrying', attempts: [expect.objectContaining({ attempt: 1, statusCode: 500, response: 'oops' })] });
    const due = Date.parse(read.body.delivery.nextAttemptAt) - Date.parse(read.body.delivery.attempts[0].startedAt);
    expect(Math.abs(due - retryDelayAfter(null, 1, id)!)).toBeLessThanOrEqual(TOLERANCE);

    // Attempt 2 fails too: the Web UI's pending activity shows the attempt count, the last failure
    // and the log so far (attempt 1 carried from the fan-out, attempt 2).
    await env.sleep('70s');
    const description = await eventually(async () => {
      const d = await handle.describe();
      return d.raw.pendingActivities?.[0]?.lastFailure ? d : undefined;
    }, 30_000, 'the second attempt to fail');
    expect(description.status.name).toBe('RUNNING');
    const [pending] = description.raw.pendingActivities!;
    expect(pending.attempt).toBe(2);
    expect(pending.lastFailure?.message).toBe('HTTP 500');
    const log = defaultPayloadConverter.fromPayload<AttemptRecord[]>(pending.heartbeatDetails!.payloads![0]);
    expect(log).toEqual([
      expect.objectContaining({ attempt: 1, statusCode: 500, response: 'oops' }),
      expect.objectContaining({ attempt: 2, statusCode: 500, response: 'again' }),
    ]);

    const result: DeliveryResult = await handle.result();
    expect(result.attempts.map((a) => a.statusCode)).toEqual([500, 500, 200]);
  });

  it('applies a secret rotation from the next attempt; both signatures verify during the overlap', async () => {
    receiver.respondWith({ status: 500 }, { status: 200 });
    const { webhookId, secret: oldSecret, id, handle } = await deliverOne({ url: receiver.url('/rotation') });
    await untilRetrying(handle);
    expect(() => verifiedPayload(requestsOf(receiver.requests, id)[0], oldSecret)).not.toThrow();
    // Rotated while the fan-out may still be writing the first attempt's counters: those go to
    // the counters document, so they cannot put the old secret back (docs/database.md).

    // As rotate-secret stores it: the new secret, the old one valid for an overlap.
    const newSecret = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
    await harness.models.Webhook.updateOne(
      { _id: webhookId },
      { $set: { secret: harness.secretBox.encrypt(newSecret), previousSecret: harness.secretBox.encrypt(oldSecret), previousSecretExpiresAt: new Date(Date.now() + 3_600_000) } },
    );
    await handle.result();
    const second = requestsOf(receiver.requests, id)[1];
    expect(verifiedPayload(second, newSecret)).toMatchObject({ type: 'invoice.paid' });
    expect(verifiedPayload(second, oldSecret)).toMatchObject({ type: 'invoice.paid' });
    expect((second.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
  });

  it('an operator cancel while the delivery waits for its next attempt ends it canceled, nothing more sent', async () => {
    receiver.respondWith({ status: 500 });
    const { id, handle } = await deliverOne({ url: receiver.url('/operator-cancel') });
    await untilRetrying(handle);
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const description = await handle.describe();
    expect(description.status.name).toBe('CANCELLED');
    expect(description.searchAttributes.DeliveryStatus).toEqual(['canceled']);
    expect(requestsOf(receiver.requests, id)).toHaveLength(1);
  });

  it.each([
    ['deactivated', { $set: { active: false } }, 'the webhook is disabled: deactivated'],
    ['disabled', { $set: { active: false, disabledReason: '20 consecutive deliveries failed' } }, 'the webhook is disabled: 20 consecutive deliveries failed'],
    ['deleted', null, 'the webhook was deleted'],
  ] as const)('a webhook %s while the delivery retries: the next attempt does not send, the delivery ends canceled with the reason', async (_what, update, reason) => {
    receiver.respondWith({ status: 500 });
    const { webhookId, id, handle } = await deliverOne({ url: receiver.url(`/live-${_what}`) });
    await untilRetrying(handle);
    if (update) await harness.models.Webhook.updateOne({ _id: webhookId }, update);
    else await harness.models.Webhook.deleteOne({ _id: webhookId });

    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const description = await handle.describe();
    expect(description.status.name).toBe('CANCELLED');
    expect(description.searchAttributes.DeliveryStatus).toEqual(['canceled']);
    const history = await handle.fetchHistory();
    const requested = history.events!.find((e) => e.workflowExecutionCancelRequestedEventAttributes);
    expect(requested?.workflowExecutionCancelRequestedEventAttributes?.cause).toBe(reason);
    expect(requestsOf(receiver.requests, id)).toHaveLength(1);
    if (update) {
      const stored = await storedWebhook(harness.models, webhookId);
      expect(stored).toMatchObject({ deliveryFailureCount: 0, deliverySuccessCount: 0 });
    }
  });
});
