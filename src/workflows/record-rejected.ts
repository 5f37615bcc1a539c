import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { DeliveryFailureType } from '../delivery/failure-types';

/**
 * True when a record activity refused its input for good (`RecordRejected`, non-retryable): the
 * workflows log it and go on, where a retry could never pass and would stall them.
 */
export function isRecordRejected(err: unknown): boolean {
  // A local activity's failure reaches the workflow as itself, an activity's wrapped in ActivityFailure.
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure && failure.type === DeliveryFailureType.RecordRejected;
}

/** The error's text for the worker's log (never shown to tenants). */
export function failureMessage(err: unknown): string {
  return (err instanceof ActivityFailure && err.cause ? err.cause : (err as Error)).message;
}
