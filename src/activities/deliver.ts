import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { SecretBox } from '../crypto/secret-box';
import { completeAttemptRecord, openAttemptRecord, restoreAttemptLog } from '../delivery/attempt-log';
import { DeliveryFailureType } from '../delivery/failure-types';
import type { WebhookHttpClient } from '../delivery/http-client';
import { classifyAttempt } from '../delivery/outcome';
import { delayAfterAttempt } from '../delivery/retry-schedule';
import { buildSignedRequest } from '../delivery/signed-request';
import type { AttemptRecord, DeliveryInput, DeliveryResult } from '../delivery/types';
import { eventEnvelope } from '../events/event-envelope';
import { attemptDuration, deliveriesFinished, deliveryAttempts, retriesScheduled, statusClass } from '../metrics/metrics';
import type { Models } from '../models';
import { eventKey, type EventDoc } from '../models/event';
import { signingSecrets, type StoredWebhookSecrets } from '../signing/signing-secrets';
import { attemptFailedSignal } from '../temporal/delivery-signals';

export interface DeliverDeps {
  models: Models;
  secretBox: SecretBox;
  http: WebhookHttpClient;
  /** Upper bound on a receiver's `Retry-After`. */
  retryAfterMaxMs: number;
}

/** Asks Temporal to cancel this delivery's workflow, with the reason on record in its history. */
async function cancelOwnWorkflow(reason: string): Promise<void> {
  const { info, client } = Context.current();
  await client.workflowService.requestCancelWorkflowExecution({
    namespace: info.workflowNamespace,
    workflowExecution: info.workflowExecution,
    identity: `deliver activity ${info.activityId}`,
    reason,
  });
}

/** Best effort: the delivery's outcome never depends on it, only its `retrying` status does. */
async function reportFailedAttempt(record: AttemptRecord): Promise<void> {
  const { info, client } = Context.current();
  if (!info.workflowExecution) return;
  try {
    const { workflowId, runId } = info.workflowExecution;
    await client.workflow.getHandle(workflowId, runId).signal(attemptFailedSignal, record);
  } catch (err) {
    log.warn('could not report the failed attempt to the workflow', { attempt: record.attempt, error: (err as Error).message });
  }
}

/**
 * One HTTP attempt of a delivery. The webhook is read live (URL, secret, headers, state), so a
 * change made while a delivery is retrying applies from its next attempt. Throws an
 * `ApplicationFailure` of one of the `DeliveryFailureType`s for anything but a 2xx; a retryable
 * one carries the schedule's `nextRetryDelay`, so the activity's RetryPolicy runs the schedule.
 */
export function deliverActivity({ models, secretBox, http, retryAfterMaxMs }: DeliverDeps) {
  return async function deliver(input: DeliveryInput): Promise<DeliveryResult> {
    const context = Context.current();
    const attempt = context.info.attempt;
    const previous = restoreAttemptLog(context.info.heartbeatDetails);
    const logContext = { deliveryId: input.deliveryId, eventId: input.eventId, webhookId: input.webhookId, attempt };
    const fail = (type: DeliveryFailureType, message: string, attempts: AttemptRecord[], nextRetryDelay?: number) =>
      ApplicationFailure.create({ type, message, details: [attempts], nonRetryable: type !== DeliveryFailureType.Retryable, nextRetryDelay });

    const webhook = await models.Webhook.findOne({ _id: input.webhookId, tenantId: input.tenantId }).lean();
    if (!webhook || !webhook.active) {
      const reason = !webhook ? 'the webhook was deleted' : `the webhook is disabled: ${webhook.disabledReason ?? 'deactivated'}`;
      log.info('delivery canceled', { ...logContext, reason });
      await cancelOwnWorkflow(reason);
      deliveriesFinished.inc({ outcome: 'canceled' });
      throw fail(DeliveryFailureType.WebhookInactive, reason, previous);
    }
    const event = await models.Event.findById(eventKey(input.tenantId, input.eventId)).lean<EventDoc>();
    if (!event) throw new Error(`event ${input.eventId} is missing from storage`);

    const startedAt = new Date();
    const secrets = signingSecrets(webhook as StoredWebhookSecrets, secretBox, startedAt);
    const request = buildSignedRequest({
      deliveryId: input.deliveryId,
      envelope: eventEnvelope(event),
      secrets,
      customHeaders: webhook.headers.map((h) => ({ name: h.name as string, value: h.value as string })),
      now: startedAt,
    });

    context.heartbeat([...previous, openAttemptRecord(attempt, startedAt)]);
    const result = await http.post(webhook.url, request.headers, request.body, webhook.timeoutSeconds * 1000);
    const record = completeAttemptRecord(attempt, startedAt, result);
    const status_class = statusClass(record.statusCode);
    deliveryAttempts.inc({ status_class });
    attemptDuration.observe({ status_class }, result.durationMs / 1000);
    const attempts = [...previous, record];
    // Sent with the failure too (last heartbeat details), so the next attempt starts from this log.
    context.heartbeat(attempts);
    await models.Webhook.updateOne({ _id: webhook._id }, { $set: { lastTriggeredAt: startedAt } });

    const outcome = classifyAttempt(result, Date.now());
    switch (outcome.kind) {
      case 'delivered':
        log.info('delivered', { ...logContext, statusCode: record.statusCode, durationMs: record.durationMs });
        return { status: 'delivered', attempts };
      case 'gone':
        log.warn('receiver answered 410 Gone', logContext);
        throw fail(DeliveryFailureType.Gone, 'HTTP 410 Gone', attempts);
      case 'refused':
        log.warn('URL refused', { ...logContext, reason: outcome.reason });
        throw fail(DeliveryFailureType.UrlRefused, outcome.reason, attempts);
      case 'retry': {
        const scheduled = delayAfterAttempt(webhook.retrySchedule, attempt);
        if (scheduled === undefined || attempt >= input.maxAttempts) {
          log.warn('delivery exhausted', { ...logContext, reason: outcome.reason });
          throw fail(DeliveryFailureType.Exhausted, `${outcome.reason} (attempt ${attempt}, the last)`, attempts);
        }
        const nextRetryDelay = Math.max(scheduled, Math.min(outcome.retryAfterMs ?? 0, retryAfterMaxMs));
        log.info('attempt failed, retry scheduled', { ...logContext, reason: outcome.reason, nextRetryDelay });
        retriesScheduled.inc();
        await reportFailedAttempt(record);
        throw fail(DeliveryFailureType.Retryable, outcome.reason, attempts, nextRetryDelay);
      }
    }
  };
}
