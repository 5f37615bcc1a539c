import { createHash } from 'node:crypto';
import { Context, log } from '@temporalio/activity';
import {
  clearEffects,
  clearPageEffects,
  finishDelivery,
  keepDisableDecision,
  pendingEffectsOf,
  recordDeliveries,
  type IndexedDelivery,
} from '../delivery-records/delivery-index';
import type { DeliveryStatus, FirstAttemptResult, FirstAttemptsRecord } from '../delivery/types';
import { disableRule, type AutoDisablePolicy, type DeliveryOutcomeRecord, type Disabled, type DisableRule } from '../delivery/webhook-health';
import type { NewEvent } from '../events/event-ingestion';
import { isOperationalEventType, OPERATIONAL_EVENT_TYPES } from '../events/operational-event-types';
import { releaseCounterKeys, writeCounters, type CounterChange } from '../delivery/counter-writes';
import type { WebhookCounters } from '../models/webhook-counter';
import { deliveriesFinished, webhooksDisabled } from '../metrics/metrics';
import type { Models } from '../models';
import { countedAs, type DeliveryDoc, type PendingEffects } from '../models/delivery';
import { eventKey } from '../models/event';
import type { OperationalEventSender } from './operational-event-sender';
import { checkedRecord, rejectingPermanentErrors } from './record-rejected';
import { FINAL_OUTCOME_OF } from '../delivery/first-attempt-outcomes';

/**
 * A test seam: runs right after a record wrote final outcomes to the deliveries index (their
 * outbox set), before anything they owe. A fault thrown here is a record failing midway.
 */
export interface RecordFaults {
  afterIndexChange?: (deliveryIds: readonly string[]) => Promise<void> | void;
}

export interface OutcomeDeps {
  models: Models;
  autoDisable: AutoDisablePolicy;
  /** One per activities instance: operational events share its ingestion (and insert batcher). */
  operationalEvents: OperationalEventSender;
  faults?: RecordFaults;
}

/** A delivery whose recorded change still owes its effects (its outbox). */
interface Owed {
  tenantId: string;
  webhookId: string;
  deliveryId: string;
  eventId: string;
  eventType: string;
  effects: PendingEffects;
  /** Which record wrote the outbox: its clear and the disable decision are conditional on it. */
  effectsKey: string;
  /** When the outbox was read (or written by this record): a change read too long ago is read again. */
  readAt: number;
}

/** The ledger key of a change's counter update: one per delivery and recording run. */
export function ledgerKey(deliveryId: string, runId: string): string {
  return createHash('sha256').update(`${deliveryId}\n${runId}`).digest('base64url').slice(0, 22);
}

/** What a change moves on its webhook's counters; null when nothing (a canceled delivery never counted). */
function counterChangeOf({ tenantId, webhookId, deliveryId, effects, readAt }: Owed): CounterChange | null {
  const outcome = countedAs(effects.outcome) ?? 'canceled';
  if (outcome === 'canceled' && !effects.from) return null;
  const failedSince = effects.firstAttemptAt ? new Date(effects.firstAttemptAt) : effects.at;
  return {
    tenantId,
    webhookId,
    outcome,
    from: effects.from,
    key: ledgerKey(deliveryId, effects.runId),
    deliveryId,
    readAt,
    ...(outcome === 'failed' ? { failedSince } : {}),
  };
}

/** The `delivery.exhausted` event a failed delivery causes (none for an operational event's own delivery, so failures cannot feed on themselves). */
function exhaustedEvent(owed: Owed): NewEvent | null {
  const { effects } = owed;
  if ((effects.outcome !== 'failed' && effects.outcome !== 'gone') || isOperationalEventType(owed.eventType)) return null;
  return {
    id: `${OPERATIONAL_EVENT_TYPES.deliveryExhausted}:${owed.deliveryId}:${effects.runId}`,
    type: OPERATIONAL_EVENT_TYPES.deliveryExhausted,
    data: {
      deliveryId: owed.deliveryId,
      eventId: owed.eventId,
      eventType: owed.eventType,
      webhookId: owed.webhookId,
      outcome: effects.outcome,
      attempts: effects.attempts,
      lastError: effects.lastError,
    },
  };
}

/**
 * Auto-disable of a failed delivery's webhook, idempotent: the decision (on the counters after its
 * change) is kept in the outbox before the webhook is disabled, conditional on it still being
 * active; `webhook.disabled` is sent when this delivery's decision is the one that disabled it
 * (its `disabledAt`), so a redo sends it again under the same id, and a concurrent one not at all.
 */
async function autoDisable(deps: OutcomeDeps, owed: Owed, counters: WebhookCounters | null): Promise<Disabled | null> {
  const { models } = deps;
  const { effects } = owed;
  let decision = effects.disable;
  if (!decision) {
    const rule = disableRule(effects.outcome, counters, deps.autoDisable, effects.at, effects.lastError);
    if (!rule) return null;
    decision = { ...rule, at: new Date() };
    await keepDisableDecision(models, owed.deliveryId, owed.effectsKey, decision);
  }
  const filter = { _id: owed.webhookId, tenantId: owed.tenantId };
  const updated = await models.Webhook.updateOne({ ...filter, active: true }, { $set: { active: false, disabledReason: decision.reason, disabledAt: decision.at } });
  if (updated.modifiedCount > 0) webhooksDisabled.inc({ reason: decision.rule });
  const webhook = updated.modifiedCount > 0 ? null : await models.Webhook.findOne(filter).select({ active: 1, disabledAt: 1 }).lean<{ active: boolean; disabledAt: Date | null }>();
  const ours = updated.modifiedCount > 0 || (webhook && !webhook.active && webhook.disabledAt?.getTime() === new Date(decision.at).getTime());
  if (!ours) return null;
  await deps.operationalEvents.send(owed.tenantId, {
    id: `${OPERATIONAL_EVENT_TYPES.webhookDisabled}:${owed.webhookId}:${effects.runId}`,
    type: OPERATIONAL_EVENT_TYPES.webhookDisabled,
    data: { webhookId: owed.webhookId, reason: decision.reason, disabledAt: new Date(decision.at).toISOString() },
  });
  return { rule: decision.rule as DisableRule, reason: decision.reason };
}

/**
 * Does what the recorded changes owe, each idempotently: counters (ledger keys), then for each
 * failed one auto-disable and its operational events. Returns the reason per webhook disabled.
 */
async function doEffects(deps: OutcomeDeps, owed: readonly Owed[], triggered: readonly CounterChange[] = []): Promise<Map<string, string>> {
  const own = owed.map(counterChangeOf);
  const changes = [...own.filter((c): c is CounterChange => c !== null), ...triggered];
  const written = await writeCounters(deps.models, changes);
  const countersOf = new Map(changes.map((c, i) => [c, written[i]]));
  const disabledNow = new Map<string, string>();
  for (const [i, o] of owed.entries()) {
    if (o.effects.outcome !== 'failed' && o.effects.outcome !== 'gone') continue;
    const change = own[i];
    const disabled = await autoDisable(deps, o, change ? (countersOf.get(change) ?? null) : null);
    if (disabled) disabledNow.set(o.webhookId, disabled.reason);
    const exhausted = exhaustedEvent(o);
    if (exhausted) await deps.operationalEvents.send(o.tenantId, exhausted);
  }
  return disabledNow;
}

/** Once a change's effects are all done: its outbox cleared, its metric counted, its ledger key free to go. */
async function cleared(deps: OutcomeDeps, o: Owed): Promise<void> {
  if (!(await clearEffects(deps.models, o.deliveryId, o.effectsKey))) return;
  deliveriesFinished.inc({ outcome: o.effects.outcome });
  releaseCounterKeys(o.tenantId, o.webhookId, [ledgerKey(o.deliveryId, o.effects.runId)]);
}

/** A delivery found in the index with its outbox still set, as a page's load reads it. */
export type RecordedWithOutbox = Pick<DeliveryDoc, '_id' | 'tenantId' | 'webhookId' | 'eventId' | 'eventType' | 'effects' | 'effectsKey'>;

/**
 * Finishes what deliveries found recorded still owe (a batch whose worker died after its
 * record's index write and before the counters): the fan-out's rerun skips recorded deliveries,
 * so no page record lists them again, and the page's load, which finds them, finishes them.
 */
export function owedEffectsFinisher(deps: OutcomeDeps) {
  return async function finishOwedEffects(docs: readonly RecordedWithOutbox[], readAt: number): Promise<void> {
    const owed: Owed[] = docs.flatMap((d) =>
      d.effects && d.effectsKey
        ? [{ tenantId: d.tenantId, webhookId: d.webhookId, deliveryId: d._id, eventId: d.eventId, eventType: d.eventType, effects: d.effects, effectsKey: d.effectsKey, readAt }]
        : [],
    );
    if (!owed.length) return;
    await doEffects(deps, owed);
    for (const o of owed) await cleared(deps, o);
    log.info('effects of recorded deliveries finished by the page that found them', { eventId: owed[0].eventId, deliveries: owed.length });
  };
}

const MAX_ROUNDS = 5;

/**
 * A retried delivery ended (its DeliveryWorkflow, local activity): its status in the index with
 * the outbox of what that change owes, then counters, auto-disable, metrics and operational
 * events, then the outbox cleared. A retry finds the outbox still set and does the rest again;
 * an earlier change's effects still owed are done first.
 */
export function recordDeliveryOutcomeActivity(deps: OutcomeDeps) {
  return rejectingPermanentErrors(async function recordOutcome(input: DeliveryOutcomeRecord): Promise<string | null> {
    const record = checkedRecord(input);
    const runId = Context.current().info.workflowExecution?.runId ?? 'unknown-run';
    const owedOf = (effects: PendingEffects, effectsKey: string, readAt: number): Owed => ({ ...record, effects, effectsKey, readAt });
    // Another change's effects first (at most a few: each loop clears one outbox).
    for (let round = 1; ; round++) {
      if (round > MAX_ROUNDS) throw new Error(`delivery ${record.deliveryId}: an earlier outcome's effects are still owed`);
      const now = new Date();
      const readAt = Date.now();
      const finished = await finishDelivery(
        deps.models,
        record.deliveryId,
        {
          ...record,
          runId,
          durationMs: record.durationMs ?? null,
          reason: record.outcome === 'delivered' ? null : (record.reason ?? record.lastError),
          startedAt: record.firstAttemptAt ? new Date(record.firstAttemptAt) : now,
        },
        now,
      );
      if (finished.kind === 'done') return null;
      if (finished.kind === 'finished') await deps.faults?.afterIndexChange?.([record.deliveryId]);
      const owed = owedOf(finished.effects, finished.effectsKey, readAt);
      const disabled = await doEffects(deps, [owed]);
      await cleared(deps, owed);
      if (finished.kind !== 'blocked') return finished.kind === 'finished' || finished.effects.runId === runId ? (disabled.get(record.webhookId) ?? null) : null;
    }
  });
}

const STATUS_OF: Record<FirstAttemptResult['outcome'], DeliveryStatus> = {
  delivered: 'delivered',
  gone: 'failed',
  refused: 'failed',
  inactive: 'canceled',
  retry: 'retrying',
  unfinished: 'retrying',
  // In a FIFO webhook's line: no attempt yet, its DeliveryWorkflow started in its turn.
  queued: 'pending',
  // Held by its fan-out (its request in flight, or its rate-limit slot soon): settled there when due.
  held: 'pending',
};

/** Which page record wrote an outbox: its run and the deliveries it lists, so a clear clears exactly its own. */
function pageEffectsKey(fanoutRunId: string, results: readonly FirstAttemptResult[]): string {
  const ids = results.map((r) => r.deliveryId).sort();
  return createHash('sha256').update(`${fanoutRunId}\n${ids.join('\n')}`).digest('base64url').slice(0, 22);
}

/**
 * A page of first attempts (the fan-out, local activity): every delivery of the page in the index
 * with one bulk write, the final ones with their outbox, then what those owe (their counters in one
 * update per webhook, `lastTriggeredAt` with it; auto-disable and operational events of the failed
 * ones), then their outboxes cleared in one update. A retried record does the effects still owed by
 * the deliveries it finds recorded with their outbox set, so a replayed record counts nothing twice
 * and a record that failed midway loses nothing.
 */
export function recordFirstAttemptsActivity(deps: OutcomeDeps) {
  return rejectingPermanentErrors(async function recordFirstAttempts({ results, fanoutRunId, firstPage, ...event }: FirstAttemptsRecord): Promise<void> {
    const now = new Date();
    const effectsKey = pageEffectsKey(fanoutRunId, results);
    const deliveries: IndexedDelivery[] = results.map((r) => {
      const status = STATUS_OF[r.outcome];
      const outcome = FINAL_OUTCOME_OF[r.outcome];
      const final = outcome !== undefined;
      const delivery: IndexedDelivery = {
        id: r.deliveryId,
        ...event,
        webhookId: r.webhookId,
        status,
        attempts: r.attempt ? 1 : 0,
        durationMs: r.outcome === 'delivered' ? (r.attempt?.durationMs ?? null) : null,
        reason: r.reason ?? null,
        nextAttemptAt: final || r.outcome === 'queued' ? null : new Date(now.getTime() + (r.nextRetryDelayMs ?? 0)),
        fanoutRunId,
        retried: !final,
        createdAt: r.attempt ? new Date(r.attempt.startedAt) : now,
        completedAt: final ? now : null,
        ...(r.attempt ? { firstAttempt: { ...r.attempt, response: null } } : {}),
        ...(r.outcome === 'held' ? { held: true as const } : {}),
      };
      if (!outcome) return delivery;
      const effects: PendingEffects = {
        runId: fanoutRunId,
        outcome,
        from: null,
        attempts: 1,
        lastError: r.attempt?.error ?? r.reason ?? null,
        firstAttemptAt: r.attempt?.startedAt ?? null,
        at: now,
      };
      return { ...delivery, counted: countedAs(outcome), effects, effectsKey };
    });
    // First the mark that a later page may be recorded, so that a rerun of it looks for its deliveries.
    if (!firstPage) {
      const through = results.reduce((max, r) => (r.webhookId > max ? r.webhookId : max), '');
      await deps.models.Event.updateOne({ _id: eventKey(event.tenantId, event.eventId) }, { $max: { fanoutRecordedThrough: through } });
    }
    const writtenAt = Date.now();
    const recorded = await recordDeliveries(deps.models, deliveries);
    const inserted: Owed[] = deliveries.flatMap((d) =>
      d.effects && recorded.has(d.id) ? [{ ...event, deliveryId: d.id, webhookId: d.webhookId, effects: d.effects, effectsKey, readAt: writtenAt }] : [],
    );
    if (inserted.length) await deps.faults?.afterIndexChange?.(inserted.map((o) => o.deliveryId));
    // Recorded before (a retried or replayed record, or the delivery's own workflow): what they still owe.
    const earlier = new Set(results.filter((r) => !recorded.has(r.deliveryId)).map((r) => r.deliveryId));
    const readAt = Date.now();
    const stillOwed: Owed[] = (await pendingEffectsOf(deps.models, event.tenantId, event.eventId, earlier)).filter((doc) => doc.effectsKey).map((doc) => ({
      ...event,
      deliveryId: doc._id,
      webhookId: doc.webhookId,
      effects: doc.effects!,
      effectsKey: doc.effectsKey!,
      readAt,
    }));
    // The attempts' times move `lastTriggeredAt` up (idempotent: `$max`).
    const triggered: CounterChange[] = results.flatMap((r) => (r.attempt ? [{ tenantId: event.tenantId, webhookId: r.webhookId, triggeredAt: new Date(r.attempt.startedAt) }] : []));
    await doEffects(deps, [...inserted, ...stillOwed], triggered);
    if (inserted.length && (await clearPageEffects(deps.models, event.tenantId, event.eventId, effectsKey)) > 0) {
      for (const o of inserted) {
        deliveriesFinished.inc({ outcome: o.effects.outcome });
        releaseCounterKeys(o.tenantId, o.webhookId, [ledgerKey(o.deliveryId, o.effects.runId)]);
      }
    }
    for (const o of stillOwed) await cleared(deps, o);
    if (stillOwed.length) log.info('effects of an earlier record done', { eventId: event.eventId, deliveries: stillOwed.length });
  });
}
