import { log } from '@temporalio/activity';
import { retryDelayAfter } from '../delivery/retry-schedule';
import type { AttemptRecord, EventRef, FirstAttemptNotMade, FirstAttemptResult, RecordedFirstAttempts } from '../delivery/types';
import type { WebhookDoc } from '../models/webhook';
import { deliverFirstAttemptActivity, firstAttemptResult, RECORD_IN_BATCH_MS, type FirstAttemptDeps } from './first-attempt';
import type { HeldEndRecord } from './held-end-record';
import { endsThere } from '../delivery/first-attempt-outcomes';
import { IN_FLIGHT_UNKNOWN, type HeldAttempt, type NotSent } from './in-flight-attempts';
import { openAttemptRecord } from '../delivery/attempt-log';
import { OWN_FAILURE_REASON } from '../delivery/failure-types';
import { slotKey, slotSentAt } from '../delivery/rate-limit';

/**
 * A delivery its fan-out held instead of handing it to a workflow of its own
 * (workflows/held-first-attempts.ts): its first request in flight past the inline budget
 * (`inFlight`, its open record), or waiting for its rate-limit slot (no request yet).
 */
export interface HeldDelivery {
  deliveryId: string;
  webhookId: string;
  inFlight?: AttemptRecord;
  /** Its request scheduled for this rate-limit slot by the worker that reserved it. */
  scheduled?: { at: number; perSecond: number };
}

/** A scheduled request this process did not send, for a reason of its own (not sent by another holder of its slot). */
type NotSentHere = NotSent & { notSent: Exclude<NotSent['notSent'], 'elsewhere'> };
const notSentHere = (held: HeldAttempt | undefined): held is NotSentHere => !!held && 'notSent' in held && held.notSent !== 'elsewhere';

export interface SettleHeldInput extends EventRef {
  deliveries: HeldDelivery[];
}

/**
 * How long a held delivery's first attempt waits in this activity for a rate-limit slot: the
 * fan-out's timer fires `HELD_RATE_EARLY_MS` before the slot and may be late on a busy worker.
 */
export const RATE_WAIT_HELD_MS = 1000;


/**
 * Settles the deliveries a fan-out held, as one local activity once they are due: a request in
 * flight gives its answer (from this process, else the 2xx its process kept on the delivery,
 * else unknown: its retry waits for the schedule); a rate-limited one makes its first attempt
 * in its slot. Those that end there are recorded here, in the deliveries index (each a page
 * record left `pending`) with their counters, as their fan-out's batches record theirs; the rest
 * come back for the fan-out to hand to their workflows, or to hold again.
 */
export function settleHeldActivity(deps: FirstAttemptDeps & { recordHeldEnd: HeldEndRecord }) {
  const firstAttempt = deliverFirstAttemptActivity(deps, { rateWaitMs: RATE_WAIT_HELD_MS, liveWebhook: true });

  /** A scheduled request that was not sent, as the fan-out's result: ended, held again (its slot missed), or for its workflow. */
  async function notSentResult(event: EventRef, { deliveryId, webhookId }: HeldDelivery, { notSent, reason, waitMs }: NotSentHere): Promise<FirstAttemptResult> {
    switch (notSent) {
      case 'inactive':
        return { deliveryId, webhookId, outcome: 'inactive', attempt: null, reason };
      case 'rate':
        return await firstAttempt({ ...event, deliveryId, webhookId, holdSlots: true });
      case 'circuit':
        return { deliveryId, webhookId, outcome: 'unfinished', attempt: null, nextRetryDelayMs: waitMs ?? 0, reason };
      case 'own':
        return { deliveryId, webhookId, outcome: 'unfinished', attempt: null, nextRetryDelayMs: 0, reason };
    }
  }

  /** A held request's answer: from this process, else the 2xx its process kept on the delivery, else unknown (or, scheduled and never marked sent, no attempt). */
  async function answerOf(event: EventRef, held: HeldDelivery): Promise<FirstAttemptResult> {
    const { deliveryId, webhookId } = held;
    const logContext = { deliveryId, eventId: event.eventId, webhookId, attempt: 1 };
    const webhook: Pick<WebhookDoc, '_id' | 'retrySchedule'> = deps.cache.webhook(event.tenantId, webhookId) ??
      (await deps.models.Webhook.findOne({ _id: webhookId, tenantId: event.tenantId }).select({ retrySchedule: 1 }).lean<WebhookDoc>()) ?? { _id: webhookId };
    const here = await deps.inFlight.take(deliveryId)?.catch(() => undefined);
    if (notSentHere(here)) return await notSentResult(event, held, here);
    if (here && !('notSent' in here)) return firstAttemptResult(deps, webhook, deliveryId, here, { ...logContext, held: true });
    return await madeElsewhere(held, webhook, logContext);
  }

  /**
   * A held request made by another process (this one restarted, the fan-out moved, or its batch was
   * made again there and sent in the slot first): its 2xx was kept on the delivery, else its answer
   * is unknown here (or, scheduled and never marked sent, no attempt was made).
   */
  async function madeElsewhere(held: HeldDelivery, webhook: Pick<WebhookDoc, '_id' | 'retrySchedule'>, logContext: Record<string, unknown>): Promise<FirstAttemptResult> {
    const { deliveryId, webhookId, inFlight, scheduled } = held;
    const kept = await deps.models.Delivery.findById(deliveryId).select({ answered: 1 }).lean<{ answered?: AttemptRecord }>();
    if (kept?.answered) return { deliveryId, webhookId, outcome: 'delivered', attempt: kept.answered };
    const sentAt = scheduled ? await slotSentAt(deps.models, slotKey(webhookId, scheduled.perSecond, scheduled.at)) : null;
    if (scheduled && !sentAt) {
      log.info('held first attempt never sent (its worker was lost); its workflow makes it', logContext);
      return { deliveryId, webhookId, outcome: 'unfinished', attempt: null, nextRetryDelayMs: 0, reason: OWN_FAILURE_REASON };
    }
    const startedAt = inFlight?.startedAt ?? sentAt!.toISOString();
    const nextRetryDelayMs = Math.max(0, Date.parse(startedAt) + (retryDelayAfter(webhook.retrySchedule, 1, deliveryId) ?? 0) - Date.now());
    log.info('held first attempt\'s answer unknown here; its retry waits for the schedule', { ...logContext, nextRetryDelay: nextRetryDelayMs });
    const attempt: AttemptRecord = { ...(inFlight ?? openAttemptRecord(1, new Date(startedAt))), errorClass: 'worker_lost', error: IN_FLIGHT_UNKNOWN };
    return { deliveryId, webhookId, outcome: 'unfinished', attempt, nextRetryDelayMs, reason: IN_FLIGHT_UNKNOWN };
  }

  async function settle(event: EventRef, held: HeldDelivery): Promise<FirstAttemptResult | FirstAttemptNotMade> {
    try {
      return held.inFlight || held.scheduled
        ? await answerOf(event, held)
        : await firstAttempt({ ...event, deliveryId: held.deliveryId, webhookId: held.webhookId, holdSlots: true });
    } catch (err) {
      log.warn('held first attempt not settled', { deliveryId: held.deliveryId, eventId: event.eventId, error: (err as Error).message });
      return { deliveryId: held.deliveryId, webhookId: held.webhookId, notMade: (err as Error).message };
    }
  }

  return async function settleHeldFirstAttempts({ deliveries, ...event }: SettleHeldInput): Promise<RecordedFirstAttempts> {
    const results = await Promise.all(deliveries.map((held) => settle(event, held)));
    const ended = results.filter((r): r is FirstAttemptResult => !('notMade' in r) && endsThere(r));
    if (!ended.length) return { results, recorded: [] };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not recorded within ${RECORD_IN_BATCH_MS} ms`)), RECORD_IN_BATCH_MS);
    });
    try {
      await Promise.race([Promise.all(ended.map((result) => deps.recordHeldEnd(event, result))), late]);
      return { results, recorded: ended.map((result) => result.deliveryId) };
    } catch (err) {
      // Each record is idempotent: the fan-out records them again, one by one.
      log.warn('held first attempts settled, their record is left to the fan-out', { eventId: event.eventId, deliveries: ended.length, error: (err as Error).message });
      return { results, recorded: [] };
    } finally {
      clearTimeout(timer);
    }
  };
}
