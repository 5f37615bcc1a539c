import { Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { finishDelivery, recordDeliveries, type IndexedDelivery } from '../delivery-records/delivery-index';
import type { DeliveryStatus, FinalOutcome, FirstAttemptResult, FirstAttemptsRecord } from '../delivery/types';
import {
  applyDisableRules,
  counterChange,
  type AutoDisablePolicy,
  type DeliveryOutcomeRecord,
  type Disabled,
} from '../delivery/webhook-health';
import { EventIngestion, type NewEvent } from '../events/event-ingestion';
import { isOperationalEventType, OPERATIONAL_EVENT_TYPES } from '../events/operational-event-types';
import { writeCounters, type CounterChange } from '../delivery/counter-writes';
import type { WebhookCounters } from '../models/webhook-counter';
import { deliveriesFinished, webhooksDisabled } from '../metrics/metrics';
import type { Models } from '../models';
import { eventKey } from '../models/event';

/**
 * The operational events a finished delivery causes. Their ids derive from the delivery and the
 * run that finished it, so a retried record sends each at most once. A failed delivery of an
 * operational event causes none, so failures cannot feed on themselves.
 */
function operationalEvents(record: DeliveryOutcomeRecord, disabled: Disabled | null, runId: string, now: Date): NewEvent[] {
  const events: NewEvent[] = [];
  if ((record.outcome === 'failed' || record.outcome === 'gone') && !isOperationalEventType(record.eventType)) {
    events.push({
      id: `${OPERATIONAL_EVENT_TYPES.deliveryExhausted}:${record.deliveryId}:${runId}`,
      type: OPERATIONAL_EVENT_TYPES.deliveryExhausted,
      data: {
        deliveryId: record.deliveryId,
        eventId: record.eventId,
        eventType: record.eventType,
        webhookId: record.webhookId,
        outcome: record.outcome,
        attempts: record.attempts,
        lastError: record.lastError,
      },
    });
  }
  if (disabled) {
    events.push({
      id: `${OPERATIONAL_EVENT_TYPES.webhookDisabled}:${record.webhookId}:${runId}`,
      type: OPERATIONAL_EVENT_TYPES.webhookDisabled,
      data: { webhookId: record.webhookId, reason: disabled.reason, disabledAt: now.toISOString() },
    });
  }
  return events;
}

interface OutcomeDeps {
  models: Models;
  autoDisable: AutoDisablePolicy;
}

/**
 * After the counters of newly finished deliveries are written: auto-disable (on the counters
 * those writes returned, per webhook), metrics and operational events, for each. Returns the
 * reason per webhook this disabled.
 */
async function afterCounters(
  { models, autoDisable }: OutcomeDeps,
  records: readonly DeliveryOutcomeRecord[],
  countersBy: ReadonlyMap<string, WebhookCounters | null>,
  now: Date,
): Promise<Map<string, string>> {
  const { info, client } = Context.current();
  const runId = info.workflowExecution?.runId ?? 'unknown-run';
  const disabledNow = new Map<string, string>();
  for (const record of records) {
    const disabled = await applyDisableRules(models, record, countersBy.get(record.webhookId) ?? null, autoDisable, now);
    deliveriesFinished.inc({ outcome: record.outcome });
    if (disabled) {
      webhooksDisabled.inc({ reason: disabled.rule });
      disabledNow.set(record.webhookId, disabled.reason);
    }
    await sendOperationalEvents(models, client, info.taskQueue, record, operationalEvents(record, disabled, runId, now));
  }
  return disabledNow;
}

async function sendOperationalEvents(models: Models, client: Client, taskQueue: string, record: DeliveryOutcomeRecord, events: NewEvent[]): Promise<void> {
  if (!events.length) return;
  const ingestion = new EventIngestion({ models, client, taskQueue });
  for (const event of events) {
    // Best effort: the delivery's outcome is already recorded and must not be recorded again.
    await ingestion.accept(record.tenantId, event).catch((err: Error) =>
      log.warn('operational event not sent', { type: event.type, webhookId: record.webhookId, error: err.message }),
    );
  }
}

/**
 * A retried delivery ended (its DeliveryWorkflow, local activity): its status in the index, then
 * counters, auto-disable, metrics and operational events, only if that status change is new.
 */
export function recordDeliveryOutcomeActivity(deps: OutcomeDeps) {
  return async function recordOutcome(record: DeliveryOutcomeRecord): Promise<string | null> {
    const now = new Date();
    const isNew = await finishDelivery(
      deps.models,
      record.deliveryId,
      {
        ...record,
        durationMs: record.durationMs ?? null,
        reason: record.outcome === 'delivered' ? null : (record.reason ?? record.lastError),
        startedAt: record.firstAttemptAt ? new Date(record.firstAttemptAt) : now,
      },
      now,
    );
    if (!isNew) return null;
    const change = counterChange(record, now);
    const [counters] = change ? await writeCounters(deps.models, [change]) : [null];
    return (await afterCounters(deps, [record], new Map([[record.webhookId, counters]]), now)).get(record.webhookId) ?? null;
  };
}

const STATUS_OF: Record<FirstAttemptResult['outcome'], DeliveryStatus> = {
  delivered: 'delivered',
  gone: 'failed',
  refused: 'failed',
  inactive: 'canceled',
  retry: 'retrying',
  unfinished: 'retrying',
};
const FINAL_OF: Partial<Record<FirstAttemptResult['outcome'], FinalOutcome>> = { delivered: 'delivered', gone: 'gone', refused: 'failed' };

/**
 * A page of first attempts (the fan-out, local activity): every delivery of the page in the index
 * with one bulk write, then the counters of those this call recorded (one update per webhook,
 * `lastTriggeredAt` with it), so a replayed record counts nothing twice.
 */
export function recordFirstAttemptsActivity(deps: OutcomeDeps) {
  return async function recordFirstAttempts({ results, fanoutRunId, firstPage, ...event }: FirstAttemptsRecord): Promise<void> {
    const now = new Date();
    const deliveries: IndexedDelivery[] = results.map((r) => {
      const status = STATUS_OF[r.outcome];
      const final = status !== 'retrying';
      return {
        id: r.deliveryId,
        ...event,
        webhookId: r.webhookId,
        status,
        attempts: r.attempt ? 1 : 0,
        durationMs: r.outcome === 'delivered' ? (r.attempt?.durationMs ?? null) : null,
        reason: r.reason ?? null,
        nextAttemptAt: final ? null : new Date(now.getTime() + (r.nextRetryDelayMs ?? 0)),
        fanoutRunId,
        retried: !final,
        createdAt: r.attempt ? new Date(r.attempt.startedAt) : now,
        completedAt: final ? now : null,
      };
    });
    // First the mark that a later page may be recorded, so that a rerun of it looks for its deliveries.
    if (!firstPage) {
      const through = results.reduce((max, r) => (r.webhookId > max ? r.webhookId : max), '');
      await deps.models.Event.updateOne({ _id: eventKey(event.tenantId, event.eventId) }, { $max: { fanoutRecordedThrough: through } });
    }
    const recorded = await recordDeliveries(deps.models, deliveries);
    const finished: DeliveryOutcomeRecord[] = [];
    for (const r of results) {
      const outcome = FINAL_OF[r.outcome];
      if (!outcome || !recorded.has(r.deliveryId)) continue;
      finished.push({
        ...event,
        deliveryId: r.deliveryId,
        webhookId: r.webhookId,
        outcome,
        attempts: 1,
        lastError: r.attempt?.error ?? r.reason ?? null,
        firstAttemptAt: r.attempt?.startedAt ?? null,
      });
    }
    // One change per webhook of the page: its outcome if this call recorded it, and the attempt's time.
    const finishedBy = new Map(finished.map((f) => [f.deliveryId, f]));
    const changes: CounterChange[] = [];
    for (const r of results) {
      const f = finishedBy.get(r.deliveryId);
      const change: CounterChange = (f && counterChange(f, now)) || { tenantId: event.tenantId, webhookId: r.webhookId };
      if (r.attempt) change.triggeredAt = new Date(r.attempt.startedAt);
      if (change.outcome || change.triggeredAt) changes.push(change);
    }
    const counters = await writeCounters(deps.models, changes);
    const countersBy = new Map(changes.map((c, i) => [c.webhookId, counters[i]]));
    for (const r of results) if (r.outcome === 'inactive' && recorded.has(r.deliveryId)) deliveriesFinished.inc({ outcome: 'canceled' });
    await afterCounters(deps, finished.filter((f) => f.outcome !== 'delivered'), countersBy, now);
    for (const f of finished) if (f.outcome === 'delivered') deliveriesFinished.inc({ outcome: 'delivered' });
  };
}
