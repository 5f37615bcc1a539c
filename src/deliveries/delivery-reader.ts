import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { tsToDate } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { mergeAttemptLogs } from '../delivery/attempt-log';
import type { AttemptRecord } from '../delivery/types';
import { attemptFailedSignal } from '../temporal/delivery-signals';
import { DeliveryStatus, EventId, EventType, TenantId, WebhookId } from '../temporal/search-attributes';
import type { DeliverySummary } from './delivery-list';
import { deliveryStatus } from './delivery-status';

/** One delivery with every attempt, read from its workflow's history (the audit log). */
export interface DeliveryDetail extends DeliverySummary {
  attempts: AttemptRecord[];
  /** When the next attempt is due, while the delivery is retrying. */
  nextAttemptAt: string | null;
  /** Why it failed or was canceled. */
  reason: string | null;
}

type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
type Failure = temporal.api.failure.v1.IFailure | null | undefined;

/**
 * Reads a delivery: status from the execution, attempts from wherever the history holds them.
 * A finished attempt log is the deliver activity's result or failure details; failed attempts
 * are also signalled as they happen; a running delivery's log is its pending activity's
 * heartbeat. All copies are merged by attempt number, so no recorded attempt is left out.
 * `undefined` when there is no such delivery or it belongs to another tenant.
 */
export async function readDelivery(client: Client, id: string, tenantId: string): Promise<DeliveryDetail | undefined> {
  const handle = client.workflow.getHandle(id);
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  const attributes = description.typedSearchAttributes;
  if (description.type !== 'DeliveryWorkflow' || attributes.get(TenantId) !== tenantId) return undefined;

  const converter = client.workflow.options.loadedDataConverter.payloadConverter;
  const first = (payloads: Payloads) => (payloads?.payloads?.[0] ? converter.fromPayload(payloads.payloads[0]) : undefined);
  const logIn = (value: unknown): AttemptRecord[] => (Array.isArray(value) ? (value as AttemptRecord[]) : []);
  const failureLog = (failure: Failure) => logIn(first(failure?.applicationFailureInfo?.details));

  let final: AttemptRecord[] = [];
  let signalled: AttemptRecord[] = [];
  let reason: string | null = null;
  const history = await client.workflow.getHandle(id, description.runId).fetchHistory();
  for (const event of history.events ?? []) {
    if (event.activityTaskCompletedEventAttributes) {
      final = mergeAttemptLogs(logIn((first(event.activityTaskCompletedEventAttributes.result) as { attempts?: unknown })?.attempts), final);
    } else if (event.activityTaskFailedEventAttributes) {
      const failure = event.activityTaskFailedEventAttributes.failure;
      final = mergeAttemptLogs(failureLog(failure), final);
      reason = failure?.message ?? reason;
    } else if (event.activityTaskCanceledEventAttributes) {
      final = mergeAttemptLogs(logIn(first(event.activityTaskCanceledEventAttributes.details)), final);
    } else if (event.workflowExecutionSignaledEventAttributes?.signalName === attemptFailedSignal.name) {
      signalled = mergeAttemptLogs([first(event.workflowExecutionSignaledEventAttributes.input) as AttemptRecord], signalled);
    } else if (event.workflowExecutionCancelRequestedEventAttributes) {
      reason = event.workflowExecutionCancelRequestedEventAttributes.cause || 'canceled on request';
    } else if (event.workflowExecutionTerminatedEventAttributes) {
      reason = event.workflowExecutionTerminatedEventAttributes.reason || 'terminated';
    }
  }

  let nextAttemptAt: string | null = null;
  const pending = description.raw.pendingActivities?.[0];
  if (pending) {
    final = mergeAttemptLogs(final, mergeAttemptLogs(logIn(first(pending.heartbeatDetails)), failureLog(pending.lastFailure)));
    nextAttemptAt = pending.nextAttemptScheduleTime ? (tsToDate(pending.nextAttemptScheduleTime).toISOString() ?? null) : null;
  }
  const status = deliveryStatus(description.status.name, attributes.get(DeliveryStatus));
  return {
    id,
    eventId: attributes.get(EventId) ?? '',
    eventType: attributes.get(EventType) ?? '',
    webhookId: attributes.get(WebhookId) ?? '',
    status,
    createdAt: description.startTime.toISOString(),
    completedAt: description.closeTime?.toISOString() ?? null,
    attempts: mergeAttemptLogs(final, signalled),
    nextAttemptAt,
    reason: status === 'delivered' ? null : reason,
  };
}
