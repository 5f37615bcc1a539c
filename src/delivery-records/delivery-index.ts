import { mongo } from 'mongoose';
import type { Models } from '../models';
import { countedAs, createdHourOf, type Counted, type DeliveryDoc, type PendingEffects } from '../models/delivery';
import type { AttemptRecord, DeliveryStatus, FinalOutcome } from '../delivery/types';
import { isDuplicateKey } from '../models/duplicate-key';

/**
 * Writes to the deliveries index (models/delivery.ts). Every write is idempotent: a record
 * replayed by Temporal (a retried local activity, a reset) changes nothing, and says so. A status
 * change writes its outbox (`effects`) with it, so what it owes is redone until it is all done.
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
  /** The inline first attempt, without its response excerpt (the Delivery model's `firstAttempt`). */
  firstAttempt?: AttemptRecord;
  /** Held by its fan-out, to be settled there (the Delivery model's `held`). */
  held?: true;
  /** A final one: what the counters count it as, what its recording owes, and which record owes it. */
  counted?: Counted | null;
  effects?: PendingEffects;
  effectsKey?: string;
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
  /** The run recording it, and what its operational events say. */
  runId: string;
  lastError: string | null;
}

const STATUS_OF: Record<FinalOutcome, DeliveryStatus> = { delivered: 'delivered', failed: 'failed', gone: 'failed', canceled: 'canceled' };

/**
 * What finishing a delivery came to: `finished`, this call made the change and owes its effects;
 * `pending`, it was made before (a retried or replayed record) and its effects are not all done;
 * `blocked`, an earlier change's effects are not all done (do them, then finish again); `done`,
 * made before and all its effects done.
 */
export type FinishResult = { kind: 'finished' | 'pending' | 'blocked'; effects: PendingEffects; effectsKey: string } | { kind: 'done' };

/** Rounds of the conditional writes below before a record gives up (retried by Temporal). */
const MAX_FINISH_ROUNDS = 5;

/**
 * Moves an open delivery to its final status, or a failed or canceled one to delivered (a run
 * reset in the Web UI or CLI succeeded), and with it writes the outbox of what the change owes
 * (PendingEffects, whose `from` is what the counters counted it as). No read on the way of a
 * first record: one conditional update per case of `counted` (never counted, the common case
 * and an upsert; counted failed; indexed before `counted` was kept, failed), then a read only when
 * none matched, to say why.
 */
export async function finishDelivery(models: Models, id: string, end: DeliveryEnd, now: Date): Promise<FinishResult> {
  const from: DeliveryStatus[] = end.outcome === 'delivered' ? [...OPEN, 'failed', 'canceled'] : OPEN;
  const collection = models.Delivery.collection;
  const fields = { status: STATUS_OF[end.outcome], attempts: end.attempts, durationMs: end.durationMs, reason: end.reason, completedAt: now, nextAttemptAt: null, counted: countedAs(end.outcome) };
  const effectsFrom = (was: Counted | null): PendingEffects => ({
    runId: end.runId,
    outcome: end.outcome,
    from: was,
    attempts: end.attempts,
    lastError: end.lastError,
    firstAttemptAt: end.startedAt.toISOString(),
    at: now,
  });
  // A delivery that started before this index existed, or whose page record is still to come.
  const $setOnInsert = {
    tenantId: end.tenantId,
    webhookId: end.webhookId,
    eventId: end.eventId,
    eventType: end.eventType,
    createdAt: end.startedAt,
    createdHour: createdHourOf(end.startedAt),
    retried: true,
    fanoutRunId: null,
  };
  const cases: { filter: Record<string, unknown>; was: Counted | null; upsert: boolean }[] = [
    { filter: { status: { $in: from.filter((s) => s !== 'failed') }, counted: null }, was: null, upsert: true },
    { filter: { status: { $in: from }, counted: 'failed' }, was: 'failed', upsert: false },
    ...(from.includes('failed') ? [{ filter: { status: 'failed', counted: { $exists: false } }, was: 'failed' as const, upsert: false }] : []),
  ];
  for (let round = 0; round < MAX_FINISH_ROUNDS; round++) {
    for (const { filter, was, upsert } of cases) {
      const effects = effectsFrom(was);
      try {
        const result = await collection.updateOne(
          { _id: id as never, ...filter, effects: null },
          { $set: { ...fields, effects, effectsKey: end.runId }, ...(upsert ? { $setOnInsert } : {}) },
          { upsert },
        );
        if (result.modifiedCount + result.upsertedCount > 0) return { kind: 'finished', effects, effectsKey: end.runId };
      } catch (err) {
        // The upsert met a delivery it did not match (recorded already, or the page record's insert came first).
        if (!isDuplicateKey(err)) throw err;
      }
    }
    const doc = await models.Delivery.findById(id).select({ status: 1, effects: 1, effectsKey: 1 }).lean<Pick<DeliveryDoc, '_id' | 'status' | 'effects' | 'effectsKey'>>();
    if (!doc) continue;
    const owed = doc.effects && doc.effectsKey ? { effects: doc.effects, effectsKey: doc.effectsKey } : null;
    if (!from.includes(doc.status)) return owed ? { kind: 'pending', ...owed } : { kind: 'done' };
    if (owed) return { kind: 'blocked', ...owed };
    // Changed between the writes and the read: try again.
  }
  throw new Error(`delivery ${id} kept changing while its outcome was recorded`);
}

/** Clears a delivery's outbox once everything its change owed is done (`key`: its `effectsKey`). True when this call cleared it. */
export async function clearEffects(models: Models, id: string, key: string): Promise<boolean> {
  const result = await models.Delivery.collection.updateOne({ _id: id as never, effectsKey: key }, { $unset: { effects: '', effectsKey: '' } });
  return result.modifiedCount > 0;
}

/** Clears the outboxes a page record wrote (`effectsKey`), in one update; returns how many it cleared. */
export async function clearPageEffects(models: Models, tenantId: string, eventId: string, effectsKey: string): Promise<number> {
  const result = await models.Delivery.collection.updateMany({ tenantId, eventId, effectsKey }, { $unset: { effects: '', effectsKey: '' } });
  return result.modifiedCount;
}

/** Keeps auto-disable's decision in the outbox before it is applied. */
export async function keepDisableDecision(models: Models, id: string, key: string, disable: NonNullable<PendingEffects['disable']>): Promise<void> {
  await models.Delivery.collection.updateOne({ _id: id as never, effectsKey: key }, { $set: { 'effects.disable': disable } });
}

/** Deliveries of an event, among `ids`, whose outbox is not cleared: what a retried page record still owes. */
export async function pendingEffectsOf(models: Models, tenantId: string, eventId: string, ids: ReadonlySet<string>): Promise<Pick<DeliveryDoc, '_id' | 'webhookId' | 'effects' | 'effectsKey'>[]> {
  if (!ids.size) return [];
  const docs = await models.Delivery.collection
    .find<Pick<DeliveryDoc, '_id' | 'webhookId' | 'effects' | 'effectsKey'>>({ tenantId, eventId, effects: { $ne: null } }, { projection: { webhookId: 1, effects: 1, effectsKey: 1 } })
    .toArray();
  return docs.filter((doc) => ids.has(doc._id) && doc.effects);
}

/** A failed attempt was followed by a scheduled retry (best effort: the status shown by lists). */
export async function markRetrying(models: Models, id: string, attempts: number, nextAttemptAt: Date | null): Promise<void> {
  await models.Delivery.updateOne({ _id: id, status: { $in: OPEN } }, { $set: { status: 'retrying', attempts, nextAttemptAt } });
}

/**
 * A held delivery went to its workflow (held-first-attempts.ts): `retrying` once an attempt is on
 * record, else still `pending`; no longer held, so a rerun of its fan-out skips it.
 */
export async function markHandedOver(models: Models, id: string, firstAttempt: AttemptRecord | null, nextAttemptAt: Date | null): Promise<void> {
  const attempt = firstAttempt ? { attempts: 1, firstAttempt: { ...firstAttempt, response: null } } : { attempts: 0 };
  await models.Delivery.collection.updateOne(
    { _id: id as never, status: { $in: OPEN } },
    { $set: { status: firstAttempt ? 'retrying' : 'pending', ...attempt, nextAttemptAt }, $unset: { held: '' } },
  );
}

/**
 * A failed or canceled delivery is started again (retry, requeue). True when this call reopened
 * it. It keeps counting as what it ended as (`counted`) until it ends again; one indexed before
 * `counted` was kept gets it from its status first.
 */
export async function reopenDelivery(models: Models, id: string): Promise<boolean> {
  const reopen = { status: 'pending', retried: true, completedAt: null, reason: null, nextAttemptAt: null };
  const legacy = await models.Delivery.collection.updateOne({ _id: id as never, status: 'failed', counted: { $exists: false } }, { $set: { ...reopen, counted: 'failed' } });
  if (legacy.modifiedCount > 0) return true;
  const result = await models.Delivery.collection.updateOne({ _id: id as never, status: { $in: ['failed', 'canceled'] } }, { $set: reopen });
  return result.modifiedCount > 0;
}
