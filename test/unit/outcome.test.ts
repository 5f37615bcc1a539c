import type { HttpResult } from '../../src/delivery/http-client';
import { classifyAttempt, parseRetryAfter } from '../../src/delivery/outcome';

const response = (statusCode: number, retryAfter?: string): HttpResult => ({ kind: 'response', statusCode, retryAfter, body: '', durationMs: 1 });
const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('classifyAttempt: the one classifier of attempt outcomes', () => {
  it.each([200, 201, 204, 299])('%i is delivered', (status) => {
    expect(classifyAttempt(response(status), NOW)).toEqual({ kind: 'delivered' });
  });

  it('410 is gone', () => {
    expect(classifyAttempt(response(410), NOW)).toEqual({ kind: 'gone' });
  });

  it.each([301, 302, 307, 308, 400, 401, 404, 408, 409, 500, 502, 504])('%i is retried on the schedule, redirects not followed', (status) => {
    expect(classifyAttempt(response(status), NOW)).toEqual({ kind: 'retry', reason: `HTTP ${status}` });
  });

  it.each([429, 503])('%i honours Retry-After in seconds or as an HTTP date', (status) => {
    expect(classifyAttempt(response(status, '120'), NOW)).toEqual({ kind: 'retry', reason: `HTTP ${status}`, retryAfterMs: 120_000 });
    expect(classifyAttempt(response(status, 'Thu, 01 Jan 2026 00:10:00 GMT'), NOW)).toEqual({ kind: 'retry', reason: `HTTP ${status}`, retryAfterMs: 600_000 });
    expect(classifyAttempt(response(status), NOW)).toEqual({ kind: 'retry', reason: `HTTP ${status}`, retryAfterMs: undefined });
  });

  it('ignores Retry-After on other statuses', () => {
    expect(classifyAttempt(response(500, '120'), NOW)).toEqual({ kind: 'retry', reason: 'HTTP 500' });
  });

  it.each(['timeout', 'connection_refused', 'connection_reset', 'dns', 'tls', 'network'] as const)('a %s error is retried on the schedule', (errorClass) => {
    expect(classifyAttempt({ kind: 'error', errorClass, message: 'Error: boom', durationMs: 3 }, NOW)).toEqual({ kind: 'retry', reason: `${errorClass}: Error: boom` });
  });

  it('a URL refused by the SSRF guard is not retried', () => {
    expect(classifyAttempt({ kind: 'error', errorClass: 'url_refused', message: 'URL refused: private address', durationMs: 0 }, NOW)).toEqual({
      kind: 'refused',
      reason: 'URL refused: private address',
    });
  });

  it('parses Retry-After, ignoring what is not a delay or a date', () => {
    expect(parseRetryAfter(' 5 ', NOW)).toBe(5000);
    expect(parseRetryAfter('1.5', NOW)).toBe(1500);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});
