/**
 * Records of outcomes are retried until the database takes them, but one that can never pass
 * (invalid data) would stall its workflow, and a fan-out with it: it fails as `RecordRejected`,
 * non-retryable, and the workflow logs it and goes on (its outbox, if written, stays set).
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import { mongo, Error as MongooseError } from 'mongoose';
import { DeliveryFailureType } from '../delivery/failure-types';
import type { DeliveryOutcomeRecord } from '../delivery/webhook-health';

/** Thrown when a record's input is not a record of an outcome (a bug, never a passing condition). */
export class InvalidRecordError extends Error {
  override readonly name = 'InvalidRecordError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** MongoDB server codes of a write that can never pass as it is (bad value, type, field name, size, validation). */
const PERMANENT_SERVER_CODES = new Set([2, 9, 14, 40, 52, 55, 56, 57, 66, 121, 10334, 17419, 17420]);

/** Whether an error of a record is one no retry can pass. */
export function isPermanentRecordError(err: unknown): boolean {
  if (err instanceof InvalidRecordError || err instanceof RangeError) return true;
  if (err instanceof MongooseError.ValidationError || err instanceof MongooseError.CastError || err instanceof MongooseError.StrictModeError) return true;
  if (err instanceof mongo.BSON.BSONError || err instanceof mongo.MongoInvalidArgumentError) return true;
  if (err instanceof mongo.MongoServerError || err instanceof mongo.MongoBulkWriteError) {
    const code = typeof err.code === 'number' ? err.code : Number(err.code);
    return PERMANENT_SERVER_CODES.has(code);
  }
  return false;
}

/** Runs a record activity; a permanent error leaves it as `RecordRejected`, non-retryable. */
export function rejectingPermanentErrors<A extends unknown[], R>(record: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    try {
      return await record(...args);
    } catch (err) {
      if (!isPermanentRecordError(err)) throw err;
      log.error('record rejected', { error: (err as Error).message });
      throw ApplicationFailure.create({ type: DeliveryFailureType.RecordRejected, message: `record rejected: ${(err as Error).message}`, nonRetryable: true });
    }
  };
}

const OUTCOMES = new Set(['delivered', 'failed', 'gone', 'canceled']);

/** A delivery's outcome record as it must be: ids, a known outcome, a count, a time that parses. */
export function checkedRecord(record: DeliveryOutcomeRecord): DeliveryOutcomeRecord {
  for (const field of ['tenantId', 'webhookId', 'deliveryId', 'eventId', 'eventType'] as const) {
    if (typeof record?.[field] !== 'string' || !record[field]) throw new InvalidRecordError(field, 'a non-empty string is required');
  }
  if (!OUTCOMES.has(record.outcome)) throw new InvalidRecordError('outcome', `unknown outcome ${JSON.stringify(record.outcome)}`);
  if (!Number.isInteger(record.attempts) || record.attempts < 0) throw new InvalidRecordError('attempts', 'a count is required');
  if (record.firstAttemptAt != null && Number.isNaN(Date.parse(record.firstAttemptAt))) throw new InvalidRecordError('firstAttemptAt', 'not a time');
  return record;
}
