import { Transformations } from '../../src/transformations/transformations';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { DeliveryInput } from '../../src/delivery/types';
import { SecretBox } from '../../src/crypto/secret-box';
import { DeliveryFailureType, OWN_FAILURE_REASON } from '../../src/delivery/failure-types';
import { deliveryId } from '../../src/ids';
import { generateWebhookSecret } from '../../src/signing/webhook-secret';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { deliverAndRecordFirstAttemptsActivity } from '../../src/activities/first-attempt';
import { CircuitBreakers } from '../../src/delivery/circuit-breaker';
import { DEFAULT_CIRCUIT_POLICY } from '../../src/delivery/circuit-policy';
import { InFlightAttempts } from '../../src/activities/in-flight-attempts';
import { PageCache } from '../../src/activities/page-cache';
import { WebhookHttpClient } from '../../src/delivery/http-client';
import type { FirstAttemptsRecord, RecordedFirstAttempts } from '../../src/delivery/types';
import { useHarness } from '../support/use-harness';
import { requestsOf } from '../support/receiver';
import { eventually } from '../support/stack';

describe('first attempts in batches (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  it('an attempt of a batch that cannot be made goes to a retry alone, with no attempt spent; the others of its batch are delivered', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const ok = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/batch-ok'), events: ['order.paid'] });
    const locked = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url('/batch-locked'), events: ['order.paid'], retrySchedule: ['1h'] });
    // A secret stored under a key this deployment does not hold: its request cannot be signed.
    const secret = generateWebhookSecret();
    const otherKey = new SecretBox('k-other', randomBytes(32));
    await ctx.harness.models.Webhook.updateOne({ _id: locked.webhookId }, { secret: otherKey.encrypt(secret) });

    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'order.paid', data: { n: 1 } });
    const okId = deliveryId(tenantId, eventId, ok.webhookId);
    const lockedId = deliveryId(tenantId, eventId, locked.webhookId);

    // The locked one's delivery is handed to a retry with no first attempt: none reached the receiver.
    const handle = ctx.harness.client.workflow.getHandle(lockedId);
    const description = await eventually(() => handle.describe().catch(() => undefined), 30_000, 'the locked delivery workflow');
    expect(description.status.name).toBe('RUNNING');
    const history = await handle.fetchHistory();
    const input = defaultPayloadConverter.fromPayload<DeliveryInput>(
      history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0],
    );
    expect(input.firstAttempt).toBeUndefined();
    expect(input.maxAttempts).toBe(2);

    // The other delivery of the same batch: delivered once, inline, and read back with its attempt.
    const delivered = await eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/deliveries/${okId}`, { token: apiKey });
      return res.status === 200 && res.body.delivery.status === 'delivered' ? res.body.delivery : undefined;
    }, 30_000, 'the other delivery delivered');
    expect(delivered.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200 })]);
    expect(requestsOf(ctx.receiver.requests, okId)).toHaveLength(1);
    expect(requestsOf(ctx.receiver.requests, lockedId)).toHaveLength(0);
    await expect(ctx.harness.client.workflow.getHandle(okId).describe()).rejects.toThrow(/not found/);

    // Its workflow keeps failing to sign, which spends no attempt (Web UI: Last Failure); what the
    // API shows: no attempt, a reason that names no internal detail.
    const ownFailure = await eventually(async () => {
      const pending = (await handle.describe()).raw.pendingActivities?.[0];
      return pending?.lastFailure?.applicationFailureInfo?.type === DeliveryFailureType.OwnFailure && (pending.attempt ?? 0) >= 2 ? pending : undefined;
    }, 30_000, 'the retry to fail on the unreadable secret');
    expect(ownFailure.lastFailure!.message).toBe(OWN_FAILURE_REASON);
    const retrying = (await ctx.harness.call('GET', `/v1/deliveries/${lockedId}`, { token: apiKey })).body.delivery;
    expect(retrying.attempts).toEqual([]);
    expect(retrying.reason).toBe(OWN_FAILURE_REASON);

    // The key is back: the delivery makes its first attempt, its own, delivered.
    await ctx.harness.models.Webhook.updateOne({ _id: locked.webhookId }, { secret: ctx.harness.secretBox.encrypt(secret) });
    expect(await handle.result()).toMatchObject({ status: 'delivered', attempts: [expect.objectContaining({ attempt: 1, statusCode: 200 })] });
    expect(requestsOf(ctx.receiver.requests, lockedId)).toHaveLength(1);
    const read = await eventually(async () => {
      const res = await ctx.harness.call('GET', `/v1/deliveries/${lockedId}`, { token: apiKey });
      return res.body.delivery?.status === 'delivered' ? res.body.delivery : undefined;
    }, 30_000, 'the locked delivery to read as delivered');
    expect(read.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200 })]);
  });

  it("a batch records what ended on its first attempt; a record that fails is left to the fan-out, and the attempts stand", async () => {
    const { tenantId } = await ctx.harness.createTenant();
    const deps = { models: ctx.harness.models, secretBox: ctx.harness.secretBox, http: new WebhookHttpClient({ allowHttp: true, allowedCidrs: ['127.0.0.0/8'], userAgent: 'webhook-service/test' }), cache: new PageCache(), retryAfterMaxMs: 1000, breakers: new CircuitBreakers(ctx.harness.models, DEFAULT_CIRCUIT_POLICY, async () => undefined, () => undefined), inFlight: new InFlightAttempts(), transformations: new Transformations() };
    // A webhook deleted since the page was read: its delivery ends at once, canceled, with no request.
    const batch = { tenantId, eventId: 'gone-1', eventType: 'a.b', deliveries: [{ deliveryId: 'dlv_batch_gone', webhookId: 'wh_deleted' }], record: { fanoutRunId: 'run-1', firstPage: true } };
    // The activity's own logs (a canceled delivery, a record left to the fan-out) are not the test's output.
    const activityEnvironment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN', () => undefined) });
    const records: FirstAttemptsRecord[] = [];
    const recording = deliverAndRecordFirstAttemptsActivity(deps, async (record) => void records.push(record));
    const made = (await activityEnvironment().run(recording, batch)) as RecordedFirstAttempts;
    expect(made).toEqual({ results: [expect.objectContaining({ deliveryId: 'dlv_batch_gone', outcome: 'inactive' })], recorded: ['dlv_batch_gone'] });
    expect(records).toEqual([{ tenantId, eventId: 'gone-1', eventType: 'a.b', fanoutRunId: 'run-1', firstPage: true, results: made.results }]);

    const failing = deliverAndRecordFirstAttemptsActivity(deps, () => Promise.reject(new Error('MongoDB is down')));
    const unrecorded = await activityEnvironment().run(failing, batch);
    expect(unrecorded).toEqual({ results: made.results, recorded: [] });
    // A page with more to come: the attempts alone, recorded by the fan-out beside the next page.
    const notAsked = await activityEnvironment().run(recording, { ...batch, record: null });
    expect(notAsked).toEqual({ results: made.results, recorded: [] });
    expect(records).toHaveLength(1);
  });
});
