import { mongo } from 'mongoose';
import type { Models } from '../models';
import { createdHourOf } from '../models/delivery';
import type { DeliveryStatus, FinalOutcome } from '../delivery/types';
import { isDuplicateKey } from '../models/duplicate-key';

/**
 * Writes to the deliveries index (models/delivery.ts). Every write is idempotent: a record
 * replayed by Temporal (a retried local activity, a reset) changes nothing, and says so, so the
 * caller moves the webhook's counters only for a transition that is new.
 */

/** A delivery as the fan-out's page record writes it. */
export interface IndexedDelivery {
  id: string;
  tenantId: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  durationMs: number | null;
  reason: string | null;
  nextAttemptAt: Date | null;
  fanoutRunId: string | null;
  retried: boolean;
  createdAt: Date;
  completedAt: Date | null;
}

const OPEN: DeliveryStatus[] = ['pending', 'retrying'];

/**
 * Records a page of deliveries in one unordered insert: those already recorded (a retried
 * delivery's workflow may have finished one first; a replayed record) fail alone with a
 * duplicate key. An insert, not upserts: FerretDB runs an upsert as a read and a write per
 * document, which made this write half of a page's cost. Returns the ids this call inserted.
 */
export async function recordDeliveries(models: Models, deliveries: readonly IndexedDelivery[]): Promise<Set<string>> {
  if (!deliveries.length) return new Set();
  const docs = deliveries.map(({ id, ...fields }) => ({ _id: id, ...fields, createdHour: createdHourOf(fields.createdAt) }));
  const inserted = new Set(docs.map((doc) => doc._id));
  try {
    await models.Delivery.collection.insertMany(docs as unknown as mongo.OptionalId<mongo.Document>[], { ordered: false });
  } catch (err) {
    if (!(err instanceof mongo.MongoBulkWriteError)) throw err;
    const writeErrors = ([] as mongo.WriteError[]).concat(err.writeErrors);
    if (!writeErrors.length || writeErrors.some((e) => !isDuplicateKey(e))) throw err;
    for (const e of writeErrors) inserted.delete(docs[e.index]._id);
  }
  return inserted;
}

export interface DeliveryEnd {
  tenantId: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  outcome: FinalOutcome;
  attempts: number;
  durationMs: number | null;
  reason: string | null;
  /** Start of its first attempt: where a delivery recorded for the first time (older runs) begins. */
  startedAt: Date;
}

const STATUS_OF: Record<FinalOutcome, DeliveryStatus> = { delivered: 'delivered', failed: 'failed', gone: 'failed', canceled: 'canceled' };

/**
 * Moves an open delivery to its final status, or a failed or canceled one to delivered (a run
 * reset in the Web UI or CLI succeeded). True when this call made the transition: false when the
 * delivery already had that status (the record was replayed) or was delivered.
 */
export async function finishDelivery(models: Models, id: string, end: DeliveryEnd, now: Date): Promise<boolean> {
  const from: DeliveryStatus[] = end.outcome === 'delivered' ? [...OPEN, 'failed', 'canceled'] : OPEN;
  const filter = { _id: id, status: { $in: from } };
  const $set = { status: STATUS_OF[end.outcome], attempts: end.attempts, durationMs: end.durationMs, reason: end.reason, completedAt: now, nextAttemptAt: null };
  try {
    const result = await models.Delivery.updateOne(
      filter,
      {
        $set,
        // A delivery that started before this index existed, or whose page record is still to come.
        $setOnInsert: { tenantId: end.tenantId, webhookId: end.webhookId, eventId: end.eventId, eventType: end.eventType, createdAt: end.startedAt, createdHour: createdHourOf(end.startedAt), retried: true, fanoutRunId: null },
      },
      { upsert: true },
    );
    return result.modifiedCount + result.upsertedCount > 0;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // The upsert met a delivery it did not match: one with a final status (already recorded), or
    // the page record's, inserted between the upsert's read and its insert: the update decides.
    const result = await models.Delivery.updateOne(filter, { $set });
    return result.modifiedCount > 0;
  }
}

/** A failed attempt was followed by a scheduled retry (best effort: the status shown by lists). */
export async function markRetrying(models: Models, id: string, attempts: number, nextAttemptAt: Date | null): Promise<void> {
  await models.Delivery.updateOne({ _id: id, status: { $in: OPEN } }, { $set: { status: 'retrying', attempts, nextAttemptAt } });
}

/** A failed or canceled delivery is started again (retry, requeue). True when this call reopened it. */
export async function reopenDelivery(models: Models, id: string): Promise<boolean> {
  const result = await models.Delivery.updateOne(
    { _id: id, status: { $in: ['failed', 'canceled'] } },
    { $set: { status: 'pending', retried: true, completedAt: null, reason: null, nextAttemptAt: null } },
  );
  return result.modifiedCount > 0;
}
