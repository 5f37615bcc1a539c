import { Context, log } from '@temporalio/activity';
import { recordDeliveryOutcome, type AutoDisablePolicy, type DeliveryOutcomeRecord, type Disabled } from '../delivery/webhook-health';
import { EventIngestion, type NewEvent } from '../events/event-ingestion';
import { isOperationalEventType, OPERATIONAL_EVENT_TYPES } from '../events/operational-event-types';
import { deliveriesFinished, webhooksDisabled } from '../metrics/metrics';
import type { Models } from '../models';

/**
 * The operational events a finished delivery causes. Their ids derive from the delivery's run,
 * so a retried activity sends each at most once. A failed delivery of an operational event
 * causes none, so failures cannot feed on themselves.
 */
function operationalEvents(record: DeliveryOutcomeRecord, disabled: Disabled | null, runId: string, now: Date): NewEvent[] {
  const events: NewEvent[] = [];
  if (record.outcome !== 'delivered' && !isOperationalEventType(record.eventType)) {
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

/** Counters, auto-disable, metrics and operational events, once per finished delivery. */
export function recordDeliveryOutcomeActivity(models: Models, autoDisable: AutoDisablePolicy) {
  return async function recordOutcome(record: DeliveryOutcomeRecord): Promise<string | null> {
    const now = new Date();
    const disabled = await recordDeliveryOutcome(models, record, autoDisable, now);
    deliveriesFinished.inc({ outcome: record.outcome });
    if (disabled) webhooksDisabled.inc({ reason: disabled.rule });

    const { info, client } = Context.current();
    const ingestion = new EventIngestion({ models, client, taskQueue: info.taskQueue });
    for (const event of operationalEvents(record, disabled, info.workflowExecution?.runId ?? 'unknown-run', now)) {
      // Best effort: the counters above are not idempotent, so this activity must not fail after them.
      await ingestion.accept(record.tenantId, event).catch((err: Error) =>
        log.warn('operational event not sent', { type: event.type, webhookId: record.webhookId, error: err.message }),
      );
    }
    return disabled?.reason ?? null;
  };
}
