/**
 * A webhook's health after each finished delivery: when a failing webhook is disabled
 * automatically (so a dead receiver stops costing attempts). Applied by the outcome records
 * (activities/record-delivery-outcome.ts), idempotently.
 */
import { SERVICE_ANSWER_REASON } from '../connectors/answers';
import type { WebhookCounters } from '../models/webhook-counter';
import type { FinalOutcome } from './types';

/** When a failing webhook is disabled automatically. */
export interface AutoDisablePolicy {
  /** Consecutive failed deliveries. @default 20 */
  consecutiveFailures: number;
  /** Time since the first failed attempt with no successful delivery after it. @default 5 days */
  failingForMs: number;
}

export const DEFAULT_AUTO_DISABLE: AutoDisablePolicy = { consecutiveFailures: 20, failingForMs: 5 * 86_400_000 };

export interface DeliveryOutcomeRecord {
  tenantId: string;
  webhookId: string;
  deliveryId: string;
  eventId: string;
  eventType: string;
  outcome: FinalOutcome;
  attempts: number;
  /** The last attempt's error or HTTP status, for the `delivery.exhausted` operational event. */
  lastError: string | null;
  /** Start of the delivery's first attempt: a failing streak begins there. */
  firstAttemptAt: string | null;
  /** Duration of the delivered attempt, for the stats. */
  durationMs?: number | null;
  /** Why it was canceled, when it was (the last attempt's error says why it failed). */
  reason?: string | null;
}

const GONE_REASON = 'the receiver answered 410 Gone';

/** Which rule disabled a webhook: a bounded set, fit for a metric label. */
export type DisableRule = 'gone' | 'consecutive_failures' | 'failing_too_long';

export interface Disabled {
  rule: DisableRule;
  reason: string;
}

function describeSpan(ms: number): string {
  const [unit, size] = ms % 86_400_000 === 0 ? ['day', 86_400_000] : ms % 3_600_000 === 0 ? ['hour', 3_600_000] : ms % 60_000 === 0 ? ['minute', 60_000] : ['second', 1000];
  const count = Math.round(ms / (size as number));
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/**
 * Which rule, if any, disables a webhook after this outcome, given its counters after it was
 * counted. A `gone` delivery's last error names a chat service's answer when one ended it
 * (`Slack answered 404 no_service`, connectors/answers.ts): that is the reason then; any other
 * text (a plain 410's `HTTP 410`) keeps the fixed reason, so nothing a receiver wrote becomes one.
 */
export function disableRule(outcome: FinalOutcome, counters: WebhookCounters | null, policy: AutoDisablePolicy, now: Date, lastError?: string | null): Disabled | null {
  if (outcome === 'gone') return { rule: 'gone', reason: lastError && SERVICE_ANSWER_REASON.test(lastError) ? lastError : GONE_REASON };
  if (outcome !== 'failed' || !counters) return null;
  if (counters.consecutiveFailureCount >= policy.consecutiveFailures) {
    return { rule: 'consecutive_failures', reason: `${policy.consecutiveFailures} consecutive deliveries failed` };
  }
  if (counters.failingSince && counters.failingSince.getTime() <= now.getTime() - policy.failingForMs) {
    return { rule: 'failing_too_long', reason: `deliveries have failed for more than ${describeSpan(policy.failingForMs)} without a success` };
  }
  return null;
}
