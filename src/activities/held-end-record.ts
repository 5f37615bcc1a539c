import { writeCounters } from '../delivery/counter-writes';
import type { EventRef, FirstAttemptResult } from '../delivery/types';
import { FINAL_OUTCOME_OF } from '../delivery/first-attempt-outcomes';
import type { DeliveryOutcomeRecord } from '../delivery/webhook-health';
import type { Models } from '../models';

/** How often the record of a held delivery looks for the page record it waits for. */
const INDEXED_POLL_MS = 200;

/** Longest it waits for that page record before it fails (the fan-out records it again later). */
const INDEXED_WAIT_MS = 15_000;


/** Records a held delivery that ended on its first attempt: `event`'s delivery, its result. */
export type HeldEndRecord = (event: EventRef, result: FirstAttemptResult) => Promise<void>;

/**
 * The record of a held delivery that ended on its first attempt, in the deliveries index: its
 * attempt first (its readers take it from there until the fan-out's history has it), then its
 * outcome with its counters (`recordOutcome`, idempotent per delivery and fan-out run: the worker
 * that saw the answer records it at once, and the fan-out's settle again, changing nothing), and
 * the webhook's last trigger. The delivery's page record, written beside, comes first.
 */
export function heldEndRecorder(models: Models, recordOutcome: (record: DeliveryOutcomeRecord) => Promise<unknown>): HeldEndRecord {
  async function indexed(deliveryId: string): Promise<void> {
    for (let waited = 0; !(await models.Delivery.exists({ _id: deliveryId })); waited += INDEXED_POLL_MS) {
      if (waited >= INDEXED_WAIT_MS) throw new Error('the delivery\'s page record has not come');
      await new Promise((resolve) => setTimeout(resolve, INDEXED_POLL_MS));
    }
  }

  return async function recordHeldEnd(event: EventRef, result: FirstAttemptResult): Promise<void> {
    const outcome = FINAL_OUTCOME_OF[result.outcome];
    if (!outcome) return;
    const { attempt } = result;
    await indexed(result.deliveryId);
    if (attempt) await models.Delivery.updateOne({ _id: result.deliveryId }, { $set: { firstAttempt: { ...attempt, response: null } } });
    await recordOutcome({
      ...event,
      deliveryId: result.deliveryId,
      webhookId: result.webhookId,
      outcome,
      attempts: attempt ? 1 : 0,
      lastError: attempt?.error ?? null,
      firstAttemptAt: attempt?.startedAt ?? null,
      durationMs: outcome === 'delivered' ? (attempt?.durationMs ?? null) : null,
      reason: result.reason ?? null,
    });
    if (attempt) await writeCounters(models, [{ tenantId: event.tenantId, webhookId: result.webhookId, triggeredAt: new Date(attempt.startedAt) }]);
  };
}
