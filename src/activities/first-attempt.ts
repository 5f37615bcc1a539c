import { log } from '@temporalio/activity';
import { retryDelayAfter } from '../delivery/retry-schedule';
import type { AttemptRecord, EventRef, FirstAttemptNotMade, FirstAttemptResult, FirstAttemptsRecord, RecordedFirstAttempts } from '../delivery/types';
import { claimSlotSend, RATE_LIMITED_REASON, RATE_SLOT_LATE_MS, RATE_WAIT_INLINE_MS, slotKey, waitForSlot } from '../delivery/rate-limit';
import { circuitWaits, inFlightHandovers, rateLimitWaits, retriesScheduled } from '../metrics/metrics';
import { openAttemptRecord } from '../delivery/attempt-log';
import type { HeldAttempt, SentAttempt } from './in-flight-attempts';
import { sendInSlot } from './scheduled-attempt';
import { endsThere } from '../delivery/first-attempt-outcomes';
import type { HeldEndRecord } from './held-end-record';
import { HOLD_MAX_MS } from '../delivery/held-attempts';
import { CIRCUIT_OPEN_REASON } from '../delivery/circuit-breaker';
import type { WebhookDoc } from '../models/webhook';
import { loadEvent, sendAttempt, type AttemptDeps } from './send-attempt';

export interface FirstAttemptInput extends EventRef {
  deliveryId: string;
  webhookId: string;
  /** See FirstAttemptsInput. */
  holdSlots?: boolean;
}

/** Several deliveries of one event: their first attempts, made at once by one local activity. */
export interface FirstAttemptsInput extends EventRef {
  deliveries: { deliveryId: string; webhookId: string }[];
  /** The fan-out holds deliveries: one whose rate-limit slot is up to `HOLD_MAX_MS` away is sent in it by this worker. */
  holdSlots?: boolean;
}

/**
 * How long an inline first attempt waits for the receiver's answer before its delivery goes to
 * its workflow with the request still in flight: a healthy receiver answers well within it, and
 * a silent one holds its fan-out no longer (bench/README.md, noisy neighbours).
 */
export const INLINE_ATTEMPT_BUDGET_MS = 1000;

/** The workflow of a delivery handed over in flight looks for the outcome this long after the request's timeout. */
const IN_FLIGHT_MARGIN_MS = 500;

/** What a delivery handed over in flight shows until its workflow has the outcome. */
export const IN_FLIGHT_REASON = 'the receiver had not answered within 1 s; the attempt goes on in its delivery workflow';

function budget(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

/**
 * What a request that outlived the inline budget leaves behind when it ends, in whatever worker
 * its delivery's workflow runs: the circuit breaker's count, and a 2xx kept on the delivery
 * (`answered`), so no attempt sends it again (the page record sets the webhook's last trigger from
 * the open attempt's start). Never fails: the outcome is
 * also the deliver activity's to take, from this process (InFlightAttempts).
 */
export async function keepLateOutcome(deps: AttemptDeps, webhook: WebhookDoc, deliveryId: string, sent: SentAttempt): Promise<SentAttempt> {
  const { record, outcome } = sent;
  const warn = (what: string) => (err: Error) => log.warn(what, { deliveryId, webhookId: webhook._id, error: err.message });
  await Promise.all([
    deps.breakers.record(webhook, outcome, record.startedAt),
    outcome.kind === 'delivered' && keepAnswer(deps, deliveryId, record).catch(warn('2xx answer not kept')),
  ]);
  return sent;
}

/**
 * Keeps a late 2xx on its delivery. The delivery is indexed by its fan-out's page record, which
 * may come a little after the answer: the write is tried again until it finds the delivery.
 */
async function keepAnswer({ models }: AttemptDeps, deliveryId: string, record: AttemptRecord): Promise<void> {
  for (let tries = 0; tries < 60; tries++) {
    const { matchedCount } = await models.Delivery.updateOne({ _id: deliveryId }, { $set: { answered: record } });
    if (matchedCount) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the delivery was not indexed within 30 s');
}

/**
 * The first attempt of a delivery, made by the event's fan-out as a local activity: no workflow
 * of its own unless it must be retried. The webhook and event come from what the page read;
 * the result is the attempt's record and outcome, which the fan-out's history keeps (never the
 * secret, which is decrypted and dropped inside `sendAttempt`).
 */
/** What first attempts need: a held one's final outcome is recorded by `recordHeldEnd` as soon as its answer comes. */
export type FirstAttemptDeps = AttemptDeps & { retryAfterMaxMs: number; recordHeldEnd?: HeldEndRecord };

/**
 * What a held request leaves behind when it ends: a late outcome's (keepLateOutcome), and, for
 * one that ends its delivery (2xx, 410, refused), its record at once, so the index does not wait
 * for the fan-out's settle (which records it again, changing nothing). Runs in the continuation of
 * the local activity that held it, whose context (the fan-out's run) the record's ledger keys use.
 */
function whenHeldAnswered(deps: FirstAttemptDeps, event: EventRef, deliveryId: string) {
  return async (webhook: WebhookDoc, sent: SentAttempt): Promise<SentAttempt> => {
    await keepLateOutcome(deps, webhook, deliveryId, sent);
    const { record, outcome } = sent;
    const result: FirstAttemptResult | null =
      outcome.kind === 'delivered' ? { deliveryId, webhookId: webhook._id, outcome: 'delivered', attempt: record }
      : outcome.kind === 'gone' ? { deliveryId, webhookId: webhook._id, outcome: 'gone', attempt: record, reason: outcome.reason ?? 'HTTP 410 Gone' }
      : outcome.kind === 'refused' ? { deliveryId, webhookId: webhook._id, outcome: 'refused', attempt: record, reason: outcome.reason }
      : null;
    if (result && deps.recordHeldEnd) {
      await deps.recordHeldEnd(event, result).catch((err: Error) => log.warn('held delivery\'s outcome not recorded at once; its fan-out records it', { deliveryId, error: err.message }));
    }
    return sent;
  };
}

/**
 * `liveWebhook`: the webhook is read from the database, never from what its page read: a held
 * delivery's attempt comes up to HOLD_MAX_MS after its page, and its webhook (or its tenant) may
 * have been deleted meanwhile.
 */
export function deliverFirstAttemptActivity(deps: FirstAttemptDeps, { rateWaitMs = RATE_WAIT_INLINE_MS, liveWebhook = false } = {}) {
  return async function deliverFirstAttempt(input: FirstAttemptInput): Promise<FirstAttemptResult> {
    const { deliveryId, webhookId, tenantId } = input;
    const logContext = { deliveryId, eventId: input.eventId, webhookId, attempt: 1 };
    const webhook =
      (liveWebhook ? undefined : deps.cache.webhook(tenantId, webhookId)) ??
      (await deps.models.Webhook.findOne({ _id: webhookId, tenantId }).lean<WebhookDoc>()) ??
      undefined;
    if (!webhook || !webhook.active) {
      const reason = !webhook ? 'the webhook was deleted' : `the webhook is disabled: ${webhook.disabledReason ?? 'deactivated'}`;
      log.info('delivery canceled', { ...logContext, reason });
      return { deliveryId, webhookId, outcome: 'inactive', attempt: null, reason };
    }
    const event = await loadEvent(deps, tenantId, input.eventId);
    // Its circuit breaker open: no request. Its workflow waits for the breaker (or makes the due
    // probe), with no attempt on record meanwhile.
    const circuit = await deps.breakers.gate(webhook, { probe: false });
    if (!circuit.go) {
      log.info('webhook\'s circuit breaker open; handed to its workflow without an attempt', { ...logContext, circuit: circuit.state });
      circuitWaits.inc({ wait: 'first' });
      return { deliveryId, webhookId, outcome: 'unfinished', attempt: null, nextRetryDelayMs: circuit.waitMs, reason: CIRCUIT_OPEN_REASON };
    }
    // Over the webhook's rate limit: no request now. A fan-out that holds deliveries has this worker
    // send it in the slot reserved for it (scheduled-attempt.ts); otherwise its workflow does. No
    // attempt is on record meanwhile (attempt null: whoever sends it makes attempt 1).
    const perSecond = webhook.rateLimitPerSecond;
    const sleep = (ms: number) => {
      rateLimitWaits.inc({ wait: 'sleep' });
      return new Promise<void>((resolve) => setTimeout(resolve, ms));
    };
    let slotAt = 0;
    const waitMs = perSecond ? await waitForSlot(deps.models, { deliveryId, webhookId, perSecond }, rateWaitMs, sleep, (at) => (slotAt = at)) : 0;
    if (waitMs && perSecond && input.holdSlots && waitMs <= HOLD_MAX_MS) {
      const request = { deliveryId, webhook, event, at: slotAt, perSecond };
      deps.inFlight.hold(deliveryId, sendInSlot(deps, request, whenHeldAnswered(deps, input, deliveryId)));
      log.info('waiting for the webhook\'s rate limit; sent in its slot by this worker', { ...logContext, waitMs });
      rateLimitWaits.inc({ wait: 'scheduled' });
      const settleInMs = waitMs + webhook.timeoutSeconds * 1000 + IN_FLIGHT_MARGIN_MS;
      return { deliveryId, webhookId, outcome: 'unfinished', attempt: null, nextRetryDelayMs: waitMs, reason: RATE_LIMITED_REASON, rateLimited: true, scheduled: { at: slotAt, perSecond }, settleInMs };
    }
    if (waitMs) {
      log.info('waiting for the webhook\'s rate limit; handed to its workflow without an attempt', { ...logContext, waitMs });
      rateLimitWaits.inc({ wait: 'handover' });
      return { deliveryId, webhookId, outcome: 'unfinished', attempt: null, nextRetryDelayMs: waitMs, reason: RATE_LIMITED_REASON, rateLimited: true };
    }
    // Its slot come, the send is claimed as a held request's is (scheduled-attempt.ts): this batch,
    // made again after a lost workflow task, found the slot its delivery kept, whose request the
    // first run may be sending. Then the fan-out settles it as made elsewhere, after its timeout.
    if (perSecond && !(await claimSlotSend(deps.models, slotKey(webhookId, perSecond, slotAt), slotAt))) {
      log.info('its slot\'s request is sent by another holder; settled from what that one keeps', logContext);
      const settleInMs = webhook.timeoutSeconds * 1000 + IN_FLIGHT_MARGIN_MS;
      return input.holdSlots
        ? { deliveryId, webhookId, outcome: 'unfinished', attempt: null, nextRetryDelayMs: 0, reason: RATE_LIMITED_REASON, rateLimited: true, scheduled: { at: slotAt, perSecond }, settleInMs }
        : { deliveryId, webhookId, outcome: 'unfinished', attempt: null, nextRetryDelayMs: settleInMs, reason: RATE_LIMITED_REASON, rateLimited: true };
    }
    // A claim slow enough to miss the slot: not sent late, in a bunch; a new slot is its fan-out's (or workflow's) to take.
    if (perSecond && Date.now() - slotAt > RATE_SLOT_LATE_MS) {
      log.info('its slot passed while its send was claimed; handed on without an attempt', logContext);
      return { deliveryId, webhookId, outcome: 'unfinished', attempt: null, nextRetryDelayMs: 0, reason: RATE_LIMITED_REASON, rateLimited: true };
    }
    // A receiver slow to answer must not hold the fan-out (its batch, and with it a workflow-task
    // slot of the worker): past the budget the request goes on here and its delivery goes to its
    // workflow, which takes the outcome over (deliver.ts).
    let startedAt = new Date();
    const sending = sendAttempt(deps, { deliveryId, webhook, event, attempt: 1 }, (at) => void (startedAt = at));
    const sent = await Promise.race([sending, budget(INLINE_ATTEMPT_BUDGET_MS)]);
    if (sent && 'notSent' in sent) {
      log.info('delivery canceled', { ...logContext, reason: sent.reason });
      return { deliveryId, webhookId, outcome: 'inactive', attempt: null, reason: sent.reason };
    }
    if (!sent) {
      // Held by its fan-out, or (fan-outs begun before holds) handed to its workflow: either way
      // an answer that ends the delivery is recorded at once, and whoever settles it finds it so.
      const answered = whenHeldAnswered(deps, input, deliveryId);
      deps.inFlight.hold(deliveryId, sending.then((late): HeldAttempt | Promise<HeldAttempt> => ('notSent' in late ? late : answered(webhook, late))));
      const waitMs = Math.max(0, startedAt.getTime() + webhook.timeoutSeconds * 1000 - Date.now()) + IN_FLIGHT_MARGIN_MS;
      log.info('receiver slow to answer; the attempt goes on, handed to its workflow', { ...logContext, waitMs });
      inFlightHandovers.inc();
      return { deliveryId, webhookId, outcome: 'unfinished', attempt: openAttemptRecord(1, startedAt), nextRetryDelayMs: waitMs, inFlight: true, reason: IN_FLIGHT_REASON };
    }
    await deps.breakers.record(webhook, sent.outcome, sent.record.startedAt);
    return firstAttemptResult(deps, webhook, deliveryId, sent, logContext);
  };
}

/** A first attempt's answered request as the fan-out's result: ended there, or a retry after the schedule's first delay (or a longer `Retry-After`). */
export function firstAttemptResult(
  deps: { retryAfterMaxMs: number },
  webhook: Pick<WebhookDoc, '_id' | 'retrySchedule'>,
  deliveryId: string,
  { record, outcome }: SentAttempt,
  logContext: Record<string, unknown>,
): FirstAttemptResult {
  const webhookId = webhook._id;
  switch (outcome.kind) {
    case 'delivered':
      log.info('delivered', { ...logContext, statusCode: record.statusCode, durationMs: record.durationMs });
      return { deliveryId, webhookId, outcome: 'delivered', attempt: record };
    case 'gone':
      log.warn('receiver answered that the webhook is gone', { ...logContext, reason: outcome.reason ?? 'HTTP 410 Gone' });
      return { deliveryId, webhookId, outcome: 'gone', attempt: record, reason: outcome.reason ?? 'HTTP 410 Gone' };
    case 'refused':
      log.warn('URL refused', { ...logContext, reason: outcome.reason });
      return { deliveryId, webhookId, outcome: 'refused', attempt: record, reason: outcome.reason };
    case 'retry': {
      const scheduled = retryDelayAfter(webhook.retrySchedule, 1, deliveryId) ?? 0;
      const nextRetryDelayMs = Math.max(scheduled, Math.min(outcome.retryAfterMs ?? 0, deps.retryAfterMaxMs));
      log.info('attempt failed, retry scheduled', { ...logContext, reason: outcome.reason, nextRetryDelay: nextRetryDelayMs });
      retriesScheduled.inc();
      return { deliveryId, webhookId, outcome: 'retry', attempt: record, nextRetryDelayMs, reason: outcome.reason };
    }
  }
}

/**
 * The first attempts of a batch of an event's deliveries, all at once, as one local activity of
 * the fan-out: each local activity costs the worker a dispatch and a workflow activation, which
 * for a page of 100 took more time than the attempts themselves (bench/README.md, run N). One
 * attempt that cannot be made does not fail the others: it comes back as `notMade`, and the
 * fan-out hands it to a retry as it does a batch that could not complete.
 */
export function deliverFirstAttemptsActivity(deps: AttemptDeps & { retryAfterMaxMs: number }) {
  const deliverFirstAttempt = deliverFirstAttemptActivity(deps);
  return async function deliverFirstAttempts({ deliveries, ...event }: FirstAttemptsInput): Promise<(FirstAttemptResult | FirstAttemptNotMade)[]> {
    return await Promise.all(
      deliveries.map(({ deliveryId, webhookId }) =>
        deliverFirstAttempt({ ...event, deliveryId, webhookId }).catch((err: unknown): FirstAttemptNotMade => {
          log.warn('first attempt not made', { deliveryId, eventId: event.eventId, webhookId, error: (err as Error).message });
          return { deliveryId, webhookId, notMade: (err as Error).message };
        }),
      ),
    );
  };
}

/** A batch's first attempts (workflow version 2), and where their record goes if the batch is to make it. */
export interface FirstAttemptsToRecordInput extends FirstAttemptsInput {
  record: { fanoutRunId: string; firstPage: boolean } | null;
}


/**
 * Longest the record of a batch may take inside its local activity. With the attempts (each at
 * most 30 s) it stays under the activity's 1-minute backstop, whose expiry would hand the whole
 * batch to retries and send it again; a slower record is left to the fan-out.
 */
export const RECORD_IN_BATCH_MS = 15_000;

/**
 * A batch's first attempts, then the record of those that ended there (index, counters,
 * auto-disable, operational events), in one local activity: the fan-out of an event whose
 * deliveries all end on their first attempt needs no record activity of its own, one workflow
 * activation less. A record that fails or is slow is the fan-out's to make, as before (the record
 * is idempotent, so one that finishes late counts nothing twice); a failed record never fails the
 * attempts, which were made.
 */
export function deliverAndRecordFirstAttemptsActivity(
  deps: AttemptDeps & { retryAfterMaxMs: number },
  record: (record: FirstAttemptsRecord) => Promise<void>,
) {
  const deliverFirstAttempts = deliverFirstAttemptsActivity(deps);
  return async function deliverAndRecordFirstAttempts({ record: to, ...batch }: FirstAttemptsToRecordInput): Promise<RecordedFirstAttempts> {
    const results = await deliverFirstAttempts(batch);
    const ended = results.filter((r): r is FirstAttemptResult => !('notMade' in r) && endsThere(r));
    if (!to || !ended.length) return { results, recorded: [] };
    const { fanoutRunId, firstPage } = to;
    const { tenantId, eventId, eventType } = batch;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not recorded within ${RECORD_IN_BATCH_MS} ms`)), RECORD_IN_BATCH_MS);
    });
    try {
      await Promise.race([record({ tenantId, eventId, eventType, fanoutRunId, firstPage, results: ended }), late]);
      return { results, recorded: ended.map((r) => r.deliveryId) };
    } catch (err) {
      log.warn('first attempts made, their record is left to the fan-out', { eventId, deliveries: ended.length, error: (err as Error).message });
      return { results, recorded: [] };
    } finally {
      clearTimeout(timer);
    }
  };
}
