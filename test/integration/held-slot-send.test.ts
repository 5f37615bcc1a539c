import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { deliverFirstAttemptsActivity } from '../../src/activities/first-attempt';
import { InFlightAttempts, type HeldAttempt } from '../../src/activities/in-flight-attempts';
import { PageCache } from '../../src/activities/page-cache';
import { SENT_ELSEWHERE_REASON } from '../../src/activities/scheduled-attempt';
import { settleHeldActivity } from '../../src/activities/settle-held';
import { CircuitBreakers } from '../../src/delivery/circuit-breaker';
import { DEFAULT_CIRCUIT_POLICY } from '../../src/delivery/circuit-policy';
import { WebhookHttpClient } from '../../src/delivery/http-client';
import { RATE_SLOT_LATE_MS, reserveSlot, slotKey } from '../../src/delivery/rate-limit';
import { sweepRetention } from '../../src/models/retention-sweep';
import type { FirstAttemptResult, RecordedFirstAttempts } from '../../src/delivery/types';
import { recordDeliveries } from '../../src/delivery-records/delivery-index';
import { deliveryId } from '../../src/ids';
import { Transformations } from '../../src/transformations/transformations';
import { requestsOf } from '../support/receiver';
import { useHarness } from '../support/use-harness';

/**
 * A fan-out's batch that scheduled a first attempt for its rate-limit slot is made again in another
 * worker process (the workflow task that held its result was lost): the delivery kept its slot, so
 * both processes hold a request for the same slot. The receiver must see it once.
 */
describe('a first attempt scheduled for its rate-limit slot by two processes', () => {
  const ctx = useHarness({ receivers: 1, worker: false });

  /** What one worker process holds: its own in-flight requests, caches and breakers. */
  const workerDeps = () => ({
    models: ctx.harness.models,
    secretBox: ctx.harness.secretBox,
    http: new WebhookHttpClient({ allowHttp: true, allowedCidrs: ['127.0.0.0/8'], userAgent: 'webhook-service/test' }),
    cache: new PageCache(),
    retryAfterMaxMs: 1000,
    breakers: new CircuitBreakers(ctx.harness.models, DEFAULT_CIRCUIT_POLICY, async () => undefined, () => undefined),
    inFlight: new InFlightAttempts(),
    transformations: new Transformations(),
    recordHeldEnd: async () => undefined,
  });
  const activityEnvironment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN', () => undefined) });

  /** A delivery of a webhook limited to 1/s whose next two slots are taken (its own about two seconds away), indexed as its fan-out's page record leaves it: held, pending. */
  async function limitedDelivery(path: string) {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: ctx.receiver.url(path), events: ['slot.test'], rateLimitPerSecond: 1 });
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'slot.test', data: { n: 1 } });
    const id = deliveryId(tenantId, eventId, webhookId);
    for (const other of [`${path}-a`, `${path}-b`]) await reserveSlot(ctx.harness.models, { deliveryId: other, webhookId, perSecond: 1 });
    await recordDeliveries(ctx.harness.models, [
      { id, tenantId, webhookId, eventId, eventType: 'slot.test', status: 'pending', attempts: 0, durationMs: null, reason: null, nextAttemptAt: null, fanoutRunId: 'run-1', retried: false, createdAt: new Date(), completedAt: null, held: true },
    ]);
    const batch = { tenantId, eventId, eventType: 'slot.test', deliveries: [{ deliveryId: id, webhookId }], holdSlots: true };
    return { tenantId, eventId, webhookId, id, batch };
  }

  /** The fan-out's settle of the delivery in `process`, which holds nothing of it: delivered, from the 2xx the sender kept on the delivery. */
  async function expectSettledDelivered(process: ReturnType<typeof workerDeps>, { tenantId, eventId, webhookId, id }: Awaited<ReturnType<typeof limitedDelivery>>, scheduled: FirstAttemptResult['scheduled']) {
    const settled = (await activityEnvironment().run(settleHeldActivity(process), { tenantId, eventId, eventType: 'slot.test', deliveries: [{ deliveryId: id, webhookId, scheduled }] })) as RecordedFirstAttempts;
    expect(settled.results).toEqual([expect.objectContaining({ deliveryId: id, outcome: 'delivered', attempt: expect.objectContaining({ attempt: 1, statusCode: 200 }) })]);
  }

  it('leaves once, from the holder that claimed the slot; the other settles it from what the first kept', async () => {
    const delivery = await limitedDelivery('/slot');
    const { webhookId, id, batch } = delivery;
    const [first, second] = [workerDeps(), workerDeps()];
    const [made] = (await activityEnvironment().run(deliverFirstAttemptsActivity(first), batch)) as unknown as FirstAttemptResult[];
    const [madeAgain] = (await activityEnvironment().run(deliverFirstAttemptsActivity(second), batch)) as unknown as FirstAttemptResult[];
    // Both scheduled it, for the one slot its delivery kept, with no attempt on record.
    expect(made).toMatchObject({ outcome: 'unfinished', attempt: null, scheduled: { perSecond: 1 } });
    expect(madeAgain.scheduled).toEqual(made.scheduled);

    const held = (await Promise.all([first.inFlight.take(id), second.inFlight.take(id)])) as HeldAttempt[];
    const sent = held.filter((h) => !('notSent' in h));
    expect(sent).toHaveLength(1);
    expect(held.filter((h) => 'notSent' in h)).toEqual([{ notSent: 'elsewhere', reason: SENT_ELSEWHERE_REASON }]);
    const requests = requestsOf(ctx.receiver.requests, id);
    expect(requests).toHaveLength(1);
    // In its slot (a timer may fire a millisecond early), two seconds after the batch.
    const sentAt = Date.parse(requests[0].headers['x-webhook-timestamp'] as string);
    expect(sentAt - made.scheduled!.at).toBeGreaterThanOrEqual(-5);
    expect(sentAt - made.scheduled!.at).toBeLessThan(RATE_SLOT_LATE_MS);

    // Settled where the holder that did not send runs (the fan-out keeps one batch's result):
    // delivered, from the 2xx the sender kept on the delivery; no second request.
    const loser = held[0] === sent[0] ? second : first;
    const loserHeld = held[0] === sent[0] ? held[1] : held[0];
    loser.inFlight.hold(id, Promise.resolve(loserHeld));
    await expectSettledDelivered(loser, delivery, made.scheduled);
    expect(requestsOf(ctx.receiver.requests, id)).toHaveLength(1);

    // The claim is kept 10 minutes past its slot, then swept (FerretDB v1 has no TTL index).
    const claim = { _id: slotKey(webhookId, 1, made.scheduled!.at) };
    expect(await ctx.harness.models.WebhookRateSend.countDocuments(claim)).toBe(1);
    await sweepRetention(ctx.harness.models, 30, new Date(made.scheduled!.at + 9 * 60_000));
    expect(await ctx.harness.models.WebhookRateSend.countDocuments(claim)).toBe(1);
    await sweepRetention(ctx.harness.models, 30, new Date(made.scheduled!.at + 11 * 60_000));
    expect(await ctx.harness.models.WebhookRateSend.countDocuments(claim)).toBe(0);
  });

  it('leaves once when the batch is made again just before the slot, and would send it inline', async () => {
    const delivery = await limitedDelivery('/slot-near');
    const { id, batch } = delivery;
    const [first, second] = [workerDeps(), workerDeps()];
    const [made] = (await activityEnvironment().run(deliverFirstAttemptsActivity(first), batch)) as unknown as FirstAttemptResult[];
    expect(made).toMatchObject({ outcome: 'unfinished', attempt: null, scheduled: { perSecond: 1 } });
    // Made again 150 ms before the slot: near enough that a batch waits for the slot and sends inline.
    await new Promise((resolve) => setTimeout(resolve, made.scheduled!.at - 150 - Date.now()));
    const [madeAgain] = (await activityEnvironment().run(deliverFirstAttemptsActivity(second), batch)) as unknown as FirstAttemptResult[];
    // It did not send: the first holder had claimed the slot's send; the fan-out holds it, to settle after its timeout.
    expect(madeAgain).toMatchObject({ outcome: 'unfinished', attempt: null, rateLimited: true, scheduled: made.scheduled });
    expect(madeAgain.settleInMs).toBeGreaterThan(0);
    expect(await first.inFlight.take(id)).toMatchObject({ record: { attempt: 1, statusCode: 200 } });
    expect(second.inFlight.take(id)).toBeUndefined();
    expect(requestsOf(ctx.receiver.requests, id)).toHaveLength(1);
    await expectSettledDelivered(second, delivery, madeAgain.scheduled);
    expect(requestsOf(ctx.receiver.requests, id)).toHaveLength(1);
  });
});
