import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  TimeoutFailure,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { mergeAttemptLogs, restoreAttemptLog } from '../delivery/attempt-log';
import { DeliveryFailureType, NON_RETRYABLE_FAILURE_TYPES } from '../delivery/failure-types';
import type { AttemptRecord, DeliveryInput, DeliveryResult, DeliveryStatus as Status, FinalOutcome } from '../delivery/types';
import { attemptFailedSignal } from '../temporal/delivery-signals';
import { startedAtVersion } from '../temporal/workflow-version';
import { DeliveryStatus } from '../temporal/search-attributes';

/** The patch that records a canceled delivery in the deliveries index. */
export const RECORD_CANCELED = 'record-canceled';

/**
 * The patch that makes cancellation truthful: the deliver activity heartbeats (so it learns of a
 * cancellation and aborts its request), and the workflow waits for it to finish canceling, so a
 * delivery never ends Canceled while an attempt it does not know of reached the receiver.
 */
export const TRUTHFUL_CANCELLATION = 'truthful-cancellation';

function setStatus(status: Status): void {
  upsertSearchAttributes([{ key: DeliveryStatus, value: status }]);
}

interface DeliveryFailure {
  type: DeliveryFailureType;
  message: string;
  attempts: AttemptRecord[];
}

/** What the deliver activity's final failure says: its type, message and attempt log. */
function deliveryFailure(err: unknown): DeliveryFailure {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure) {
    // A retryable failure reaching the workflow means the RetryPolicy ran out of attempts.
    const type = cause.type === DeliveryFailureType.Retryable || !cause.type ? DeliveryFailureType.Exhausted : (cause.type as DeliveryFailureType);
    return { type, message: cause.message, attempts: restoreAttemptLog(cause.details?.[0]) };
  }
  if (cause instanceof CancelledFailure) {
    return { type: DeliveryFailureType.Exhausted, message: cause.message, attempts: restoreAttemptLog(cause.details?.[0]) };
  }
  if (cause instanceof TimeoutFailure) {
    return { type: DeliveryFailureType.Exhausted, message: `the last attempt timed out (${cause.message})`, attempts: restoreAttemptLog(cause.lastHeartbeatDetails) };
  }
  return { type: DeliveryFailureType.Exhausted, message: (cause ?? (err as Error)).message, attempts: [] };
}

/**
 * One delivery of one event to one webhook. The attempt schedule is the deliver activity's
 * RetryPolicy: the activity sets each `nextRetryDelay` from the webhook's schedule and
 * `maximumAttempts` stops it. The execution's status is the delivery's: Running (pending or
 * retrying), Completed (delivered), Failed (exhausted, 410 Gone, URL refused), Canceled (the
 * webhook was deleted or disabled meanwhile, or an operator canceled it), so the Web UI shows it
 * and resetting or requeueing this execution retries exactly this delivery.
 */
export async function DeliveryWorkflow(input: DeliveryInput): Promise<DeliveryResult> {
  const summary = `POST ${input.host} · ${input.eventType}`;
  // Handed over by the fan-out after its inline first attempt: that attempt is not repeated.
  const inlineFirst = input.firstAttempt;
  // Started at version 1 or later: both patches of this workflow are in, with no marker to record.
  const current = startedAtVersion(input, 1);
  const cancellation = current || patched(TRUTHFUL_CANCELLATION)
    ? ({ heartbeatTimeout: '10 seconds', cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } as const)
    : {};
  const { deliver } = proxyActivities<Activities>({
    // The per-attempt HTTP timeout (≤ 30 s) is enforced inside the activity; this is the backstop.
    startToCloseTimeout: '1 minute',
    ...cancellation,
    summary,
    retry: {
      maximumAttempts: inlineFirst ? input.maxAttempts - 1 : input.maxAttempts,
      // Delays come from nextRetryDelay; these only apply if an attempt dies without one (worker lost).
      initialInterval: '10 seconds',
      backoffCoefficient: 2,
      maximumInterval: '10 minutes',
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
    },
  });
  const { recordDeliveryOutcome } = proxyLocalActivities<Activities>({
    startToCloseTimeout: '10 seconds',
    // MongoDB being down must delay the counters, never skip them.
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
    summary: `counters of ${input.webhookId}`,
  });
  // Counters are recorded even if an operator cancels the workflow meanwhile.
  const record = (outcome: FinalOutcome, attempts: AttemptRecord[], reason?: string) =>
    CancellationScope.nonCancellable(() =>
      recordDeliveryOutcome({
        tenantId: input.tenantId,
        webhookId: input.webhookId,
        deliveryId: input.deliveryId,
        eventId: input.eventId,
        eventType: input.eventType,
        outcome,
        attempts: attempts.length,
        lastError: attempts.at(-1)?.error ?? null,
        firstAttemptAt: attempts[0]?.startedAt ?? null,
        durationMs: outcome === 'delivered' ? (attempts.at(-1)?.durationMs ?? null) : null,
        reason,
      }),
    );

  // Failed attempts reported as they happen: the status, and a second copy of the log.
  const reported = new Map<number, AttemptRecord>();
  setHandler(attemptFailedSignal, (attempt) => {
    reported.set(attempt.attempt, attempt);
    setStatus('retrying');
  });

  // Runs begun before first attempts moved inline never have one, so their histories replay unchanged.
  if (inlineFirst) reported.set(inlineFirst.attempt, inlineFirst);
  let result: DeliveryResult;
  try {
    // The schedule's first delay follows the inline attempt; the activity's RetryPolicy runs the rest.
    if (inlineFirst) await sleep(input.firstDelayMs ?? 0);
    result = await deliver(input);
  } catch (err) {
    const failure = deliveryFailure(err);
    const attempts = mergeAttemptLogs(failure.attempts, [...reported.values()]);
    // A resend that did not succeed leaves the delivery as it was: delivered (only inputs of
    // resends, which old runs never had, take this path).
    if (input.resendId) throw ApplicationFailure.create({ type: failure.type, message: `resend failed: ${failure.message}`, details: [attempts], nonRetryable: true });
    if (isCancellation(err) || CancellationScope.current().consideredCancelled || failure.type === DeliveryFailureType.WebhookInactive) {
      setStatus('canceled');
      // The deliveries index learns of the cancellation (runs begun before it existed did not record one).
      if (current || patched(RECORD_CANCELED)) await record('canceled', attempts, failure.message);
      // Ends the execution Canceled when cancellation was requested (the activity requests it
      // for an inactive webhook, with the reason); otherwise it fails with the reason.
      throw new CancelledFailure(failure.message, [attempts]);
    }
    setStatus('failed');
    await record(failure.type === DeliveryFailureType.Gone ? 'gone' : 'failed', attempts);
    throw ApplicationFailure.create({ type: failure.type, message: `delivery failed: ${failure.message}`, details: [attempts], nonRetryable: true });
  }
  setStatus('delivered');
  await record('delivered', result.attempts);
  return { status: 'delivered', attempts: mergeAttemptLogs(result.attempts, [...reported.values()]) };
}
