import { completeAttemptRecord, mergeAttemptLogs, openAttemptRecord, restoreAttemptLog } from '../../src/delivery/attempt-log';
import type { AttemptRecord } from '../../src/delivery/types';

const at = new Date('2026-01-01T00:00:00Z');

describe('the attempt log', () => {
  it('records a response, a failure status and a network error', () => {
    expect(completeAttemptRecord(1, at, { kind: 'response', statusCode: 200, retryAfter: undefined, body: 'ok', durationMs: 12 })).toEqual({
      attempt: 1, startedAt: '2026-01-01T00:00:00.000Z', durationMs: 12, statusCode: 200, errorClass: null, error: null, response: 'ok',
    });
    expect(completeAttemptRecord(2, at, { kind: 'response', statusCode: 503, retryAfter: '5', body: 'busy', durationMs: 7 })).toMatchObject({
      statusCode: 503, errorClass: null, error: 'HTTP 503', response: 'busy',
    });
    expect(completeAttemptRecord(3, at, { kind: 'error', errorClass: 'timeout', message: 'TimeoutError: aborted', durationMs: 5000 })).toMatchObject({
      statusCode: null, errorClass: 'timeout', error: 'TimeoutError: aborted', response: null,
    });
  });

  it('marks an attempt left open (its worker stopped mid-request) as worker_lost, keeping the rest', () => {
    const done = completeAttemptRecord(1, at, { kind: 'response', statusCode: 500, retryAfter: undefined, body: '', durationMs: 3 });
    const restored = restoreAttemptLog([done, openAttemptRecord(2, at)]);
    expect(restored[0]).toEqual(done);
    expect(restored[1]).toMatchObject({ attempt: 2, durationMs: null, statusCode: null, errorClass: 'worker_lost', error: expect.stringContaining('outcome is unknown') });
    expect(restoreAttemptLog(undefined)).toEqual([]);
  });

  it('merges two copies of a log by attempt number, the first copy winning', () => {
    const record = (attempt: number, statusCode: number): AttemptRecord => ({ ...openAttemptRecord(attempt, at), durationMs: 1, statusCode, error: `HTTP ${statusCode}` });
    expect(mergeAttemptLogs([record(1, 500), record(3, 200)], [record(2, 502), record(1, 599)])).toEqual([record(1, 500), record(2, 502), record(3, 200)]);
  });
});
