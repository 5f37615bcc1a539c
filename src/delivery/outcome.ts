import { classifyChatAnswer } from '../connectors/answers';
import type { WebhookFormat } from '../connectors/render';
import type { HttpResult } from './http-client';

/** What one attempt means for its delivery. */
export type AttemptOutcome =
  | { kind: 'delivered' }
  /**
   * 410 Gone, or a chat service's answer that its webhook URL is dead: disable the webhook, no
   * more attempts. `reason`: what the service answered (absent: a plain 410).
   */
  | { kind: 'gone'; reason?: string }
  /** The URL or its address is refused by the SSRF guard: retrying cannot help. */
  | { kind: 'refused'; reason: string }
  /** Anything else: retry on the schedule, no sooner than `retryAfterMs` when the receiver asked. */
  | { kind: 'retry'; reason: string; retryAfterMs?: number };

/** Parses `Retry-After` (delta seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  // Delta seconds; fractional ones too (Discord sends `1.5`), which Date.parse would read as a date.
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value.trim()) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The one function that classifies an HTTP result into an outcome. A chat format's answers are
 * read as its service documents them first (connectors/answers.ts); the rest as any receiver's.
 */
export function classifyAttempt(result: HttpResult, now: number, format: WebhookFormat = 'standard'): AttemptOutcome {
  if (result.kind === 'error') {
    return result.errorClass === 'url_refused'
      ? { kind: 'refused', reason: result.message }
      : { kind: 'retry', reason: `${result.errorClass}: ${result.message}` };
  }
  const chat = format === 'standard' ? null : classifyChatAnswer(format, result);
  if (chat) return chat;
  const { statusCode } = result;
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered' };
  if (statusCode === 410) return { kind: 'gone' };
  if (statusCode === 429 || statusCode === 503) {
    return { kind: 'retry', reason: `HTTP ${statusCode}`, retryAfterMs: parseRetryAfter(result.retryAfter, now) };
  }
  // 3xx included: redirects are not followed, the receiver must fix its URL.
  return { kind: 'retry', reason: `HTTP ${statusCode}` };
}
