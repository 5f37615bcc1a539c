import { log, patched, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EventRef, FirstAttemptNotMade, FirstAttemptResult, MatchedWebhook, RecordedFirstAttempts } from '../delivery/types';
import { OWN_FAILURE_REASON } from '../delivery/failure-types';
import { HOLD_MAX_MS } from '../delivery/held-attempts';
import { endsThere, FINAL_OUTCOME_OF } from '../delivery/first-attempt-outcomes';
import { failureMessage, isRecordRejected } from './record-rejected';

/**
 * The patch that makes a fan-out hold a first attempt that cannot end within its batch (its
 * request in flight past the inline budget, or its webhook's rate-limit slot a little later)
 * and settle it itself once due, on a timer, instead of starting a workflow for it at once: a
 * delivery gets a workflow of its own only when it must be retried. Asked only for a page with
 * such an attempt.
 */
export const HOLD_FIRST_ATTEMPTS = 'hold-first-attempts';


/** Times a delivery may be held again (a missed slot, a slow receiver after its slot) before it goes to its workflow. */
const MOST_SETTLES = 5;

/** How much before its slot a rate-limited delivery is settled: the timer may fire late, and the activity sleeps the rest. */
export const HELD_RATE_EARLY_MS = 500;

/** What a held delivery with its request in flight shows until its answer is settled. */
export const HELD_IN_FLIGHT_REASON = 'the receiver had not answered within 1 s; the request goes on, and its answer is settled by the fan-out';

/** A delivery the fan-out holds, and when it is due (workflow time, epoch ms). */
export interface Held {
  webhook: MatchedWebhook;
  result: FirstAttemptResult;
  dueAt: number;
  /** Times it was settled and held again. */
  rounds?: number;
}

/** What the fan-out does with what it does not hold: hand it to its workflow, or make up a lost attempt's result. */
export interface HeldHandlers {
  handOver(webhook: MatchedWebhook, result: FirstAttemptResult): Promise<void>;
  lost(webhook: MatchedWebhook, startedAt: string): FirstAttemptResult;
}

/**
 * Whether a page's first attempts may leave a rate-limited delivery to be sent in its slot by its
 * worker, held by the fan-out (the batch's `holdSlots`). Asked only for a page with such a webhook.
 */
export function holdsSlots(webhooks: readonly MatchedWebhook[]): boolean {
  return webhooks.some((webhook) => webhook.rateLimited) && patched(HOLD_FIRST_ATTEMPTS);
}

const holdable = (r: FirstAttemptResult): boolean =>
  r.outcome === 'unfinished' && (r.inFlight === true || r.rateLimited === true) && (r.nextRetryDelayMs ?? 0) <= HOLD_MAX_MS;

/**
 * Splits a page's results: those the fan-out holds come back in `held`, and `results` has them as
 * `held` for the page record (pending in the index, with when they are due). Fan-outs begun
 * before the patch hand them all to their workflows, as before.
 */
export function holdSlow(results: FirstAttemptResult[], byDelivery: ReadonlyMap<string, MatchedWebhook>): { results: FirstAttemptResult[]; held: Held[] } {
  if (!results.some(holdable) || !patched(HOLD_FIRST_ATTEMPTS)) return { results, held: [] };
  const now = Date.now();
  const held = results.filter(holdable).map((result) => ({ webhook: byDelivery.get(result.deliveryId) as MatchedWebhook, result, dueAt: now + dueInMs(result) }));
  return {
    results: results.map((r) => (holdable(r) ? { ...r, outcome: 'held' as const, reason: r.inFlight ? HELD_IN_FLIGHT_REASON : r.reason } : r)),
    held,
  };
}

/** When a held delivery is settled: its scheduled request's slot and timeout past, else when it is due. */
const dueInMs = (r: FirstAttemptResult): number => r.settleInMs ?? r.nextRetryDelayMs ?? 0;

/** A rate-limited delivery its fan-out sends itself is settled a little before its slot; the others when due. */
const startsAt = ({ dueAt, result }: Held): number => dueAt - (result.rateLimited && !result.scheduled ? HELD_RATE_EARLY_MS : 0);


/**
 * Hands deliveries to their workflows, then (once their page record is there) tells the index:
 * `retrying` for those with an attempt on record, still `pending` for the others, and no longer held.
 */
async function handOverAll(handed: { webhook: MatchedWebhook; result: FirstAttemptResult }[], handOver: HeldHandlers['handOver'], recorded: Promise<unknown>): Promise<void> {
  if (!handed.length) return;
  const { markHandedOver } = proxyLocalActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });
  await Promise.all(handed.map(({ webhook, result }) => handOver(webhook, result)));
  await recorded;
  await markHandedOver(
    handed.map(({ result }) => ({
      deliveryId: result.deliveryId,
      firstAttempt: result.attempt,
      nextAttemptAt: new Date(Date.now() + (result.nextRetryDelayMs ?? 0)).toISOString(),
    })),
  );
}

/**
 * Deliveries a run of this fan-out held and never settled (its worker was lost before the task
 * that held them completed, so this run found them recorded): each goes to its workflow, a request
 * that left as an attempt whose answer is unknown, one that had not as no attempt.
 */
export async function resumeUnsettled(event: EventRef, webhooks: MatchedWebhook[], { handOver, lost }: HeldHandlers): Promise<void> {
  const handed = webhooks.flatMap((webhook) => {
    if (!webhook.unsettled) return [];
    const { attempt } = webhook.unsettled;
    const result: FirstAttemptResult = attempt
      ? lost(webhook, attempt.startedAt)
      : { deliveryId: webhook.deliveryId, webhookId: webhook.webhookId, outcome: 'unfinished', attempt: null, nextRetryDelayMs: 0, reason: OWN_FAILURE_REASON };
    return [{ webhook, result }];
  });
  if (handed.length) log.warn('held deliveries found unsettled; they go to their workflows', { eventId: event.eventId, deliveries: handed.length });
  await handOverAll(handed, handOver, Promise.resolve());
}

/**
 * Settles what the fan-out held, as each comes due: waits on a timer (no workflow task, and no
 * worker slot, is held meanwhile), then one local activity for those due. Each ends there, is
 * held again (a new slot; a request that outlived the budget again) or goes to its workflow,
 * which runs the rest of its schedule, and only then is `retrying` in the index. Runs beside the
 * record of the held deliveries' page (`recorded`), so a slot soon is not missed waiting for it:
 * the settle's own record waits for the page's.
 */
export async function settleHeld(event: EventRef, held: Held[], recorded: Promise<unknown>, { handOver, lost }: HeldHandlers): Promise<void> {
  const { settleHeldFirstAttempts } = proxyLocalActivities<Activities>({
    // A request's own timeout (≤ 30 s) ends it first; this is the backstop.
    startToCloseTimeout: '1 minute',
    // Never sent twice by this workflow: an attempt that cannot complete goes to its workflow, as unknown.
    retry: { maximumAttempts: 1 },
    summary: `held first attempts (${held.length})`,
  });
  const { recordDeliveryOutcome } = proxyLocalActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });
  let waiting = held;
  while (waiting.length) {
    const next = Math.min(...waiting.map(startsAt));
    if (next > Date.now()) await sleep(next - Date.now());
    const due = waiting.filter((h) => startsAt(h) <= Date.now());
    waiting = waiting.filter((h) => startsAt(h) > Date.now());
    const startedAt = new Date().toISOString();
    let settled: RecordedFirstAttempts;
    try {
      settled = await settleHeldFirstAttempts({
        ...event,
        deliveries: due.map(({ webhook, result }) => ({
          deliveryId: webhook.deliveryId,
          webhookId: webhook.webhookId,
          ...(result.inFlight && result.attempt ? { inFlight: result.attempt } : {}),
          ...(result.scheduled ? { scheduled: result.scheduled } : {}),
        })),
      });
    } catch (err) {
      log.warn('held first attempts did not settle; their deliveries go to retries', { eventId: event.eventId, error: failureMessage(err) });
      settled = { results: due.map(({ webhook }) => lost(webhook, startedAt)), recorded: [] };
    }
    const settledHere = new Set(settled.results.length === due.length ? settled.recorded : []);
    const handed: { webhook: MatchedWebhook; result: FirstAttemptResult }[] = [];
    const toRecord: FirstAttemptResult[] = [];
    due.forEach(({ webhook, result: was, rounds = 0 }, i) => {
      const r: FirstAttemptResult | FirstAttemptNotMade = settled.results[i];
      if ('notMade' in r) {
        // Its request made (in flight): unknown. None made yet: its workflow makes attempt 1.
        const result = was.inFlight && was.attempt ? lost(webhook, was.attempt.startedAt) : { ...was, outcome: 'unfinished' as const, nextRetryDelayMs: 0, reason: OWN_FAILURE_REASON };
        handed.push({ webhook, result });
      } else if (endsThere(r)) {
        if (!settledHere.has(r.deliveryId)) toRecord.push(r);
      } else if (holdable(r) && rounds + 1 < MOST_SETTLES) {
        waiting.push({ webhook, result: r, dueAt: Date.now() + dueInMs(r), rounds: rounds + 1 });
      } else {
        handed.push({ webhook, result: r });
      }
    });
    await handOverAll(handed, handOver, recorded);
    // What follows changes the deliveries' page record: it must be there.
    if (toRecord.length) await recorded;
    await Promise.all(
      toRecord.map((r) =>
        recordDeliveryOutcome({
          ...event,
          deliveryId: r.deliveryId,
          webhookId: r.webhookId,
          outcome: FINAL_OUTCOME_OF[r.outcome]!,
          attempts: r.attempt ? 1 : 0,
          lastError: r.attempt?.error ?? null,
          firstAttemptAt: r.attempt?.startedAt ?? null,
          durationMs: r.outcome === 'delivered' ? (r.attempt?.durationMs ?? null) : null,
          reason: r.reason ?? null,
        }).catch((err: unknown) => {
          // Refused for good: logged, and the outcome stays the one in this history.
          if (!isRecordRejected(err)) throw err;
          log.error('held delivery\'s outcome not recorded: the record was rejected', { eventId: event.eventId, deliveryId: r.deliveryId, error: failureMessage(err) });
        }),
      ),
    );
  }
}
