import type { Models } from '../models';
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
 * Updates a webhook's counters after one of its deliveries ended, and disables it when the
 * receiver is gone or has failed too long. Each step is one atomic update whose filter carries
 * its condition, so concurrent deliveries never lose a count or disable twice (plain CRUD, as
 * MongoDB and FerretDB both run it). Says why when this call disabled the webhook.
 */
export async function recordDeliveryOutcome(
  models: Models,
  { tenantId, webhookId, outcome, firstAttemptAt }: DeliveryOutcomeRecord,
  policy: AutoDisablePolicy,
  now: Date,
): Promise<Disabled | null> {
  const { Webhook } = models;
  const key = { _id: webhookId, tenantId };
  if (outcome === 'delivered') {
    await Webhook.updateOne(key, { $inc: { deliverySuccessCount: 1 }, $set: { consecutiveFailureCount: 0, failingSince: null } });
    return null;
  }
  await Webhook.updateOne({ ...key, failingSince: null }, { $set: { failingSince: firstAttemptAt ? new Date(firstAttemptAt) : now } });
  await Webhook.updateOne(key, { $inc: { deliveryFailureCount: 1, consecutiveFailureCount: 1 } });

  const rules: [Record<string, unknown>, Disabled][] =
    outcome === 'gone'
      ? [[{}, { rule: 'gone', reason: GONE_REASON }]]
      : [
          [{ consecutiveFailureCount: { $gte: policy.consecutiveFailures } }, { rule: 'consecutive_failures', reason: `${policy.consecutiveFailures} consecutive deliveries failed` }],
          [
            { failingSince: { $lte: new Date(now.getTime() - policy.failingForMs) } },
            { rule: 'failing_too_long', reason: `deliveries have failed for more than ${describeSpan(policy.failingForMs)} without a success` },
          ],
        ];
  for (const [condition, disabled] of rules) {
    const updated = await Webhook.updateOne({ ...key, active: true, ...condition }, { $set: { active: false, disabledReason: disabled.reason, disabledAt: now } });
    if (updated.modifiedCount > 0) return disabled;
  }
  return null;
}
