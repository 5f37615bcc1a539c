import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DeliveryFailureType, NON_RETRYABLE_FAILURE_TYPES } from '../delivery/failure-types';
import type { DeliveryInput, DeliveryOutcome, DeliveryStatus as Status } from '../delivery/types';
import { DeliveryStatus } from '../temporal/search-attributes';

function setStatus(status: Status): void {
  upsertSearchAttributes([{ key: DeliveryStatus, value: status }]);
}

/**
 * One delivery of one event to one webhook. The attempt schedule is the activity's RetryPolicy:
 * the activity sets each `nextRetryDelay` from the webhook's schedule, and `maximumAttempts`
 * stops it. Completed = delivered, Failed = exhausted or refused, so the Web UI status is the
 * delivery's status and resetting this execution retries exactly this delivery.
 */
export async function DeliveryWorkflow(input: DeliveryInput): Promise<DeliveryOutcome> {
  const { deliver } = proxyActivities<Activities>({
    // The per-attempt HTTP timeout (≤ 30 s) is enforced inside the activity; this is the backstop.
    startToCloseTimeout: '1 minute',
    summary: `deliver ${input.eventType} (${workflowInfo().workflowId})`,
    retry: {
      maximumAttempts: input.maxAttempts,
      // Delays come from nextRetryDelay; these only apply if an attempt dies without one (worker crash).
      initialInterval: '10 seconds',
      backoffCoefficient: 2,
      maximumInterval: '10 minutes',
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
    },
  });

  try {
    const outcome = await deliver(input);
    setStatus(outcome.status);
    return outcome;
  } catch (err) {
    setStatus('failed');
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure) {
      throw ApplicationFailure.create({
        type: cause.type ?? DeliveryFailureType.Retryable,
        message: `delivery failed: ${cause.message}`,
        details: cause.details ? [...cause.details] : [],
        nonRetryable: true,
      });
    }
    throw err;
  }
}
