import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  TimeoutFailure,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { mergeAttemptLogs, restoreAttemptLog } from '../delivery/attempt-log';
import { DeliveryFailureType, NON_RETRYABLE_FAILURE_TYPES, OWN_FAILURE_REASON } from '../delivery/failure-types';
import type { AttemptRecord, DeliveryInput, DeliveryResult, DeliveryStatus as Status, FinalOutcome } from '../delivery/types';
import { attemptFailedSignal } from '../temporal/delivery-signals';
import { failureMessage, isRecordRejected } from './record-rejected';
import { literal } from '../temporal/literal';
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

/**
 * The patch that makes an attempt an HTTP request: the deliver activity numbers attempts from its
 * log and ends the delivery itself when the log reaches the end of the schedule, so its retry
 * policy has no attempt limit and a failure of the service's own parts spends no attempt. Runs
 * begun before it keep the limit of their retry policy (schedule length + 1).
 */
export const ATTEMPTS_FROM_LOG = 'attempts-from-log';

/**
 * The patch that lets a delivery go on when its record is refused for good (`RecordRejected`):
 * logged with its ids, the outcome stays the one in this history. Before it, such a failure
 * failed the workflow.
 */
export const RECORD_REJECTED = 'record-rejected';

const KNOWN_FAILURE_TYPES: ReadonlySet<string> = new Set(Object.values(DeliveryFailureType));

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
    const attempts = restoreAttemptLog(cause.details?.[0]);
    // A retryable failure reaching the workflow means the RetryPolicy ran out of attempts (runs
    // begun before ATTEMPTS_FROM_LOG). One of the service's own parts, or an error of no type of
    // ours, is never shown: its text may name a database, a role or a port (the worker logged it).
    if (cause.type === DeliveryFailureType.OwnFailure || !cause.type || !KNOWN_FAILURE_TYPES.has(cause.type)) {
      return { type: DeliveryFailureType.Exhausted, message: OWN_FAILURE_REASON, attempts };
    }
    const type = cause.type === DeliveryFailureType.Retryable ? DeliveryFailureType.Exhausted : (cause.type as DeliveryFailureType);
    return { type, message: cause.message, attempts };
  }
  if (cause instanceof CancelledFailure) {
    return { type: DeliveryFailureType.Exhausted, message: cause.message, attempts: restoreAttemptLog(cause.details?.[0]) };
  }
  if (cause instanceof TimeoutFailure) {
    return { type: DeliveryFailureType.Exhausted, message: 'the last attempt did not complete; its outcome is unknown', attempts: restoreAttemptLog(cause.lastHeartbeatDetails) };
  }
  return { type: DeliveryFailureType.Exhausted, message: OWN_FAILURE_REASON, attempts: [] };
}

/**
 * One delivery of one event to one webhook. The attempt schedule is the deliver activity's
 * RetryPolicy: the activity sets each `nextRetryDelay` from the webhook's schedule and ends the
 * delivery (`Exhausted`) when its attempt log reaches the schedule's end (runs begun before
 * ATTEMPTS_FROM_LOG: `maximumAttempts` stops it). The execution's status is the delivery's: Running (pending or
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
  // No attempt limit: the activity ends the delivery when its log reaches the end of the schedule.
  const attemptsFromLog = patched(ATTEMPTS_FROM_LOG);
  const cancellation = current || patched(TRUTHFUL_CANCELLATION)
    ? ({ heartbeatTimeout: '10 seconds', cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } as const)
    : {};
  const { deliver } = proxyActivities<Activities>({
    // The per-attempt HTTP timeout (≤ 30 s) is enforced inside the activity; this is the backstop.
    startToCloseTimeout: '1 minute',
    ...cancellation,
    summary,
    retry: {
      ...(attemptsFromLog ? {} : { maximumAttempts: inlineFirst ? input.maxAttempts - 1 : input.maxAttempts }),
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
    summary: `counters of ${literal(input.webhookId)}`,
  });
  const { tenantId, eventId, deliveryId, webhookId } = input;
  // Counters are recorded even if an operator cancels the workflow meanwhile. A record refused for
  // good is logged, and the delivery ends as its history says.
  const record = async (outcome: FinalOutcome, attempts: AttemptRecord[], reason?: string): Promise<void> => {
    try {
      await CancellationScope.nonCancellable(() =>
        recordDeliveryOutcome({
          tenantId,
          webhookId,
          deliveryId,
          eventId,
          eventType: input.eventType,
          outcome,
          attempts: attempts.length,
          lastError: attempts.at(-1)?.error ?? null,
          firstAttemptAt: attempts[0]?.startedAt ?? null,
          durationMs: outcome === 'delivered' ? (attempts.at(-1)?.durationMs ?? null) : null,
          reason,
        }),
      );
    } catch (err) {
      if (!isRecordRejected(err) || !patched(RECORD_REJECTED)) throw err;
      log.error('delivery outcome not recorded: the record was rejected', { tenantId, eventId, deliveryId, webhookId, outcome, error: failureMessage(err) });
    }
  };

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
