import { ApplicationFailure, CancelledFailure, Context, log } from '@temporalio/activity';
import { markRetrying } from '../delivery-records/delivery-index';
import { mergeAttemptLogs, openAttemptRecord, restoreAttemptLog } from '../delivery/attempt-log';
import { DeliveryFailureType, OWN_FAILURE_REASON } from '../delivery/failure-types';
import { ownFailureDelayMs, retryDelayAfter, scheduleSpanMs } from '../delivery/retry-schedule';
import { CIRCUIT_OPEN_REASON, type CircuitGate } from '../delivery/circuit-breaker';
import type { AttemptOutcome } from '../delivery/outcome';
import type { AttemptRecord, DeliveryInput, DeliveryResult } from '../delivery/types';
import { circuitWaits, deliveriesFinished, rateLimitWaits, retriesScheduled } from '../metrics/metrics';
import { RATE_LIMITED_REASON, RATE_WAIT_IN_ACTIVITY_MS, rateRetryDelayMs, waitForSlot } from '../delivery/rate-limit';
import type { Models } from '../models';
import { writeCounters } from '../delivery/counter-writes';
import type { EventDoc } from '../models/event';
import type { WebhookDoc } from '../models/webhook';
import { attemptFailedSignal } from '../temporal/delivery-signals';
import { EventMissingError, loadEvent, sendAttempt, type AttemptDeps } from './send-attempt';
import { IN_FLIGHT_UNKNOWN } from './in-flight-attempts';

/**
 * How often the activity heartbeats while it runs (the SDK throttles what it sends): a heartbeat
 * is how it learns of a cancellation, and its `heartbeatTimeout` (delivery-workflow.ts) how
 * Temporal learns that its worker died.
 */
export const DELIVER_HEARTBEAT_MS = 2000;

/**
 * How long an attempt that found its webhook inactive waits for the cancellation it requested
 * (it arrives with a heartbeat response): 20 s was too short once on a starved test machine, and
 * the delivery then failed instead of ending canceled. Within the 1-minute start-to-close timeout.
 */
const INACTIVE_CANCEL_WAIT_MS = 45_000;

/** Failures that retry the activity: the schedule's, and waits that spend no attempt. */
const WAITS: ReadonlySet<DeliveryFailureType> = new Set([
  DeliveryFailureType.Retryable,
  DeliveryFailureType.OwnFailure,
  DeliveryFailureType.RateLimited,
  DeliveryFailureType.CircuitOpen,
]);


/** An attempt record with no outcome yet: its request in flight (or its worker lost). */
const isOpen = (record: AttemptRecord) => record.statusCode === null && record.durationMs === null && record.errorClass === null;

/** Shortest delay of a retry that waits (for a circuit breaker, or for its schedule after an attempt handed over in flight). */
const WAIT_MIN_DELAY_MS = 500;

export interface DeliverDeps extends AttemptDeps {
  /** Upper bound on a receiver's `Retry-After`. */
  retryAfterMaxMs: number;
}

/** Asks Temporal to cancel this delivery's workflow, with the reason on record in its history. */
async function cancelOwnWorkflow(reason: string): Promise<void> {
  const { info, client } = Context.current();
  await client.workflowService.requestCancelWorkflowExecution({
    namespace: info.workflowNamespace,
    workflowExecution: info.workflowExecution,
    identity: `deliver activity ${info.activityId}`,
    reason,
  });
}

/** A resend's attempt was made: it is never made again for that resend id, and the index counts it. */
async function markResent(models: Models, deliveryId: string, resendId: string): Promise<void> {
  await models.Delivery.updateOne({ _id: deliveryId, resends: { $ne: resendId } }, { $push: { resends: resendId }, $inc: { attempts: 1 } });
}

/** Best effort: the delivery's outcome never depends on it, only its `retrying` status does. */
async function reportFailedAttempt(record: AttemptRecord): Promise<void> {
  const { info, client } = Context.current();
  if (!info.workflowExecution) return;
  try {
    const { workflowId, runId } = info.workflowExecution;
    await client.workflow.getHandle(workflowId, runId).signal(attemptFailedSignal, record);
  } catch (err) {
    log.warn('could not report the failed attempt to the workflow', { attempt: record.attempt, error: (err as Error).message });
  }
}

/**
 * One HTTP attempt of a delivery. The webhook is read live (URL, secret, headers, state), so a
 * change made while a delivery is retrying applies from its next attempt. Throws an
 * `ApplicationFailure` of one of the `DeliveryFailureType`s for anything but a 2xx; a retryable
 * one carries the schedule's `nextRetryDelay`, so the activity's RetryPolicy runs the schedule.
 *
 * An attempt is an HTTP request: attempts are numbered from the attempt log (the requests made,
 * an open record of one whose worker died included), never from the activity's own attempt
 * count. A failure of the service's own parts before the request leaves (database, Temporal, the
 * signing key) is an `OwnFailure`: retried after a short back-off, with no record and no attempt
 * spent; the delivery ends `Exhausted` only when its log reaches the end of the schedule.
 */
export function deliverActivity(deps: DeliverDeps) {
  const { models, retryAfterMaxMs } = deps;
  return async function deliver(input: DeliveryInput): Promise<DeliveryResult> {
    const context = Context.current();
    // The log so far: what the activity's earlier attempts heartbeated, and the fan-out's inline attempt.
    const previous = mergeAttemptLogs(restoreAttemptLog(context.info.heartbeatDetails), input.firstAttempt ? [input.firstAttempt] : []);
    // Requests made so far; this one is the delivery's `made + 1`-th, the schedule's position.
    const made = previous.length;
    const nth = made + 1;
    // Its record's number: after the last one on record (runs begun by older code may have gaps).
    const attempt = Math.max(made, previous.at(-1)?.attempt ?? 0) + 1;
    const logContext = { deliveryId: input.deliveryId, eventId: input.eventId, webhookId: input.webhookId, attempt: nth };
    const fail = (type: DeliveryFailureType, message: string, attempts: AttemptRecord[], nextRetryDelay?: number) =>
      ApplicationFailure.create({
        type,
        message,
        details: [attempts],
        nonRetryable: !WAITS.has(type),
        nextRetryDelay,
      });

    // Answered 2xx before its worker could report it: delivered, never sent again.
    if (previous.some((r) => r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300)) {
      log.info('delivered by an earlier attempt, not sent again', logContext);
      return { status: 'delivered', attempts: previous };
    }
    // The schedule ran out. Its last request's answer is unknown when its worker died mid-request:
    // the receiver may have answered 2xx, so one more request (the same webhook-id) learns the
    // answer; a delivery never ends failed on an answer nobody saw (the chaos run's receiver
    // counted two such deliveries delivered that the product said failed).
    if (made >= input.maxAttempts && previous.at(-1)?.errorClass !== 'worker_lost') {
      log.warn('delivery exhausted', { ...logContext, attempt: made });
      throw fail(DeliveryFailureType.Exhausted, `${previous.at(-1)?.error ?? 'no answer'} (attempt ${made}, the last)`, previous);
    }

    /** A part of the service failed before the request left: tried again soon, no attempt spent. */
    const ownFailure = (err: unknown): never => {
      if (err instanceof ApplicationFailure || err instanceof CancelledFailure) throw err;
      // Not an outage: no retry brings a swept payload back, so the delivery ends rather than waiting forever.
      if (err instanceof EventMissingError) {
        log.warn('event payload no longer stored; delivery ends failed', logContext);
        throw fail(DeliveryFailureType.EventExpired, 'the event is no longer stored (past the retention period): nothing left to send', previous);
      }
      // Activity attempts that made no request: the failures of our own parts so far, this one included.
      const failures = Math.max(0, context.info.attempt - 1 - (made - (input.firstAttempt ? 1 : 0))) + 1;
      const nextRetryDelay = ownFailureDelayMs(failures);
      log.warn('attempt not made: a part of the service failed; tried again without spending an attempt', {
        ...logContext,
        error: (err as Error)?.message ?? String(err),
        failures,
        nextRetryDelay,
      });
      // The log goes with the failure (its last heartbeat details): the next attempt starts from it.
      context.heartbeat(previous);
      throw fail(DeliveryFailureType.OwnFailure, OWN_FAILURE_REASON, previous, nextRetryDelay);
    };

    // The attempt log so far, heartbeated until the activity ends: its progress and cancellation
    // channel. Not at once: the SDK sends an activity's first heartbeat at once and throttles the
    // next ones, and the first must be the open record of the request, on the server before a
    // worker that dies mid-request is gone (the next attempt then counts that request).
    let progress = previous;
    const beat = setInterval(() => context.heartbeat(progress), DELIVER_HEARTBEAT_MS);
    try {
      const ready = await prepare().catch(ownFailure);
      if (ready === 'delivered') return { status: 'delivered', attempts: previous };
      if ('answered' in ready) return { status: 'delivered', attempts: mergeAttemptLogs([ready.answered], previous) };
      const { webhook, event } = ready;
      if (input.firstAttemptInFlight && made === 1 && isOpen(previous[0])) return await takeOverFirstAttempt(webhook);
      const circuit = await deps.breakers.gate(webhook).catch(ownFailure);
      if (!circuit.go) waitForCircuit(circuit, webhook, event);
      if (webhook.rateLimitPerSecond) {
        if ((await waitForRateLimit(webhook)) === 'gone') return await cancelDelivery('the webhook was deleted');
      }
      // Canceled before the request: nothing is sent.
      if (context.cancellationSignal.aborted) throw new CancelledFailure('canceled before the attempt was sent', [previous]);
      let sent = false;
      const tried = await sendAttempt(
        deps,
        { deliveryId: input.deliveryId, webhook, event, attempt },
        (startedAt) => {
          sent = true;
          progress = [...previous, openAttemptRecord(attempt, startedAt)];
          context.heartbeat(progress);
        },
        context.cancellationSignal,
      ).catch((err: unknown) => {
        // Before the request left (the request could not be signed): ours. After: its open record counts.
        if (!sent) return ownFailure(err);
        throw err;
      });
      // Canceled by the webhook's transformation: no request was made.
      if ('notSent' in tried) return await cancelDelivery(tried.reason);
      const { record, outcome } = tried;
      const attempts = (progress = [...previous, record]);
      // Sent with the failure too (last heartbeat details), so the next attempt starts from this log.
      context.heartbeat(attempts);
      // Aborted before the receiver answered: the delivery ends canceled, and the log says so.
      if (record.errorClass === 'canceled') {
        log.info('attempt aborted by the delivery\'s cancellation', logContext);
        throw new CancelledFailure(record.error ?? 'canceled', [attempts]);
      }
      // A 2xx is kept first, where a later attempt finds it if this result never reaches Temporal.
      if (outcome.kind === 'delivered' && !input.resendId) {
        await models.Delivery.updateOne({ _id: input.deliveryId }, { $set: { answered: record } }).catch((err: Error) =>
          log.warn('2xx answer not kept', { ...logContext, error: err.message }),
        );
      }
      // Best effort: the receiver has answered, and nothing may turn that answer into a resend.
      await Promise.all([
        deps.breakers.record(webhook, outcome, record.startedAt, circuit.probe),
        // In the webhook's counter write queue: on FerretDB two writes of one document must not overlap.
        sent &&
          writeCounters(models, [{ tenantId: webhook.tenantId, webhookId: webhook._id, triggeredAt: new Date(record.startedAt) }]).catch((err: Error) =>
            log.warn('lastTriggeredAt not updated', { ...logContext, error: err.message }),
          ),
        input.resendId && markResent(models, input.deliveryId, input.resendId).catch((err: Error) => log.warn('resend not marked as sent', { ...logContext, error: err.message })),
      ]);
      return await settle(outcome, record, attempts, webhook);
    } finally {
      clearInterval(beat);
    }

    /**
     * Waits for this request's slot under the webhook's rate limit (delivery/rate-limit.ts): asleep
     * when it is near, else the activity is retried shortly before it (`RateLimited`: no request,
     * no attempt spent), the slot staying reserved for this delivery meanwhile.
     */
    async function waitForRateLimit(webhook: WebhookDoc): Promise<'go' | 'gone'> {
      const owner = { deliveryId: input.deliveryId, webhookId: input.webhookId, perSecond: webhook.rateLimitPerSecond as number };
      let gone = false;
      const sleep = async (ms: number) => {
        rateLimitWaits.inc({ wait: 'sleep' });
        const canceled = await context.sleep(ms).then(() => false, () => true);
        if (canceled) throw new CancelledFailure('canceled before the attempt was sent', [previous]);
        // Deleted while it waited (or its tenant): nothing is sent. Read before the slot's lateness
        // is judged, so a slow read makes it take a later slot, never leave late in a bunch.
        gone = !(await models.Webhook.exists({ _id: webhook._id, tenantId: webhook.tenantId }));
        if (gone) throw new Error('the webhook was deleted');
      };
      const waitMs = await waitForSlot(models, owner, RATE_WAIT_IN_ACTIVITY_MS, sleep).catch((err: unknown) => (gone ? 0 : ownFailure(err)));
      if (gone) return 'gone';
      if (!waitMs) return 'go';
      const nextRetryDelay = rateRetryDelayMs(waitMs);
      log.info('waiting for the webhook\'s rate limit; tried again at its slot without spending an attempt', { ...logContext, waitMs, nextRetryDelay });
      rateLimitWaits.inc({ wait: 'retry' });
      context.heartbeat(previous);
      throw fail(DeliveryFailureType.RateLimited, RATE_LIMITED_REASON, previous, nextRetryDelay);
    }

    /**
     * The webhook's circuit breaker is open: the activity is retried at its next probe (`CircuitOpen`:
     * no request, no attempt spent), unless that is past the time the delivery's last scheduled
     * attempt would have been made; then it ends failed, as an exhausted delivery does.
     */
    function waitForCircuit(gate: Extract<CircuitGate, { go: false }>, webhook: WebhookDoc, event: EventDoc): never {
      const dueAt = Math.max(event.acceptedAt.getTime(), input.dueAt ? Date.parse(input.dueAt) : 0);
      const anchor = previous.length ? Date.parse(previous[0].startedAt) : dueAt;
      const deadline = anchor + scheduleSpanMs(webhook.retrySchedule, input.deliveryId);
      const now = Date.now();
      if (now >= deadline) {
        log.warn('delivery failed: its webhook\'s circuit breaker stayed open past its last scheduled attempt', { ...logContext, attempts: made });
        throw fail(
          DeliveryFailureType.Exhausted,
          `the webhook's circuit breaker stayed open past this delivery's last scheduled attempt (${made} attempt${made === 1 ? '' : 's'} made${made ? `, the last: ${previous.at(-1)?.error ?? 'no answer'}` : ''})`,
          previous,
        );
      }
      const nextRetryDelay = Math.max(WAIT_MIN_DELAY_MS, Math.min(gate.waitMs, deadline - now));
      log.info('waiting for the webhook\'s circuit breaker; tried again at its next probe without spending an attempt', { ...logContext, circuit: gate.state, nextRetryDelay });
      circuitWaits.inc({ wait: 'retry' });
      context.heartbeat(previous);
      throw fail(DeliveryFailureType.CircuitOpen, CIRCUIT_OPEN_REASON, previous, nextRetryDelay);
    }

    /** What the request needs, read live; 'delivered' when the delivery is on record as such. */
    async function prepare(): Promise<'delivered' | { answered: AttemptRecord } | { webhook: WebhookDoc; event: EventDoc }> {
      // A delivered delivery is never sent again, whatever reset or replay runs this activity; a
      // deliberate resend is sent once per resend id.
      const recorded = await models.Delivery.findById(input.deliveryId).select({ status: 1, resends: 1, answered: 1 }).lean();
      if (input.resendId ? recorded?.resends?.includes(input.resendId) : recorded?.status === 'delivered') {
        log.info('already delivered, not sent again', { ...logContext, resendId: input.resendId });
        return 'delivered';
      }
      // An earlier attempt was answered 2xx and its result lost on the way to Temporal.
      const answered = recorded?.answered as AttemptRecord | undefined;
      if (!input.resendId && answered) {
        log.info('answered 2xx by an earlier attempt whose result was lost; not sent again', { ...logContext, answeredAttempt: answered.attempt });
        return { answered };
      }
      const webhook = await models.Webhook.findOne({ _id: input.webhookId, tenantId: input.tenantId }).lean<WebhookDoc>();
      if (!webhook || !webhook.active) return await cancelDelivery(!webhook ? 'the webhook was deleted' : `the webhook is disabled: ${webhook.disabledReason ?? 'deactivated'}`);
      return { webhook, event: await loadEvent(deps, input.tenantId, input.eventId) };
    }

    /** Ends the delivery canceled, with `reason` on record: its webhook is gone or inactive, or its transformation canceled it. */
    async function cancelDelivery(reason: string): Promise<never> {
      log.info('delivery canceled', { ...logContext, reason });
      await cancelOwnWorkflow(reason);
      deliveriesFinished.inc({ outcome: 'canceled' });
      // The workflow now waits for this activity's cancellation (WAIT_CANCELLATION_COMPLETED):
      // it arrives with a heartbeat, and is answered as such; a run without that wait fails it.
      const canceled = await context.sleep(INACTIVE_CANCEL_WAIT_MS).then(() => false, () => true);
      if (canceled) throw new CancelledFailure(reason, [previous]);
      throw fail(DeliveryFailureType.WebhookInactive, reason, previous);
    }

    /**
     * The first attempt, handed over with its request in flight (first-attempt.ts): its outcome,
     * from this process, is settled as if this activity had made it. Made in another process (or
     * one restarted since), its answer is unknown here (a 2xx would have been kept, and found by
     * `prepare`): the delivery waits for the schedule's next attempt, spending nothing more.
     */
    async function takeOverFirstAttempt(webhook: WebhookDoc): Promise<DeliveryResult> {
      const held = await deps.inFlight.take(input.deliveryId)?.catch(() => undefined);
      // Only requests already sent are handed over in flight: a scheduled one is its fan-out's to settle.
      const sent = held && !('notSent' in held) ? held : undefined;
      if (sent) {
        const attempts = (progress = mergeAttemptLogs([sent.record], previous));
        context.heartbeat(attempts);
        log.info('took over the first attempt\'s outcome', { ...logContext, attempt: 1, statusCode: sent.record.statusCode });
        return await settle(sent.outcome, sent.record, attempts, webhook, 1);
      }
      const unknown = [{ ...previous[0], errorClass: 'worker_lost' as const, error: IN_FLIGHT_UNKNOWN }];
      const due = Date.parse(previous[0].startedAt) + (retryDelayAfter(webhook.retrySchedule, 1, input.deliveryId) ?? 0);
      const nextRetryDelay = Math.max(WAIT_MIN_DELAY_MS, due - Date.now());
      log.info('first attempt\'s outcome unknown here; the next attempt waits for its schedule', { ...logContext, nextRetryDelay });
      context.heartbeat(unknown);
      throw fail(DeliveryFailureType.Retryable, IN_FLIGHT_UNKNOWN, unknown, nextRetryDelay);
    }

    /** The outcome of the attempt (the `position`-th of the schedule) as the activity's result or failure. */
    async function settle(outcome: AttemptOutcome, record: AttemptRecord, attempts: AttemptRecord[], webhook: WebhookDoc, position = nth): Promise<DeliveryResult> {
      switch (outcome.kind) {
        case 'delivered':
          log.info('delivered', { ...logContext, statusCode: record.statusCode, durationMs: record.durationMs });
          return { status: 'delivered', attempts };
        case 'gone':
          log.warn('receiver answered that the webhook is gone', { ...logContext, reason: outcome.reason ?? 'HTTP 410 Gone' });
          throw fail(DeliveryFailureType.Gone, outcome.reason ?? 'HTTP 410 Gone', attempts);
        case 'refused':
          if (record.errorClass === 'transformation_failed') {
            log.warn('transformation failed; no request made', { ...logContext, error: outcome.reason });
            throw fail(DeliveryFailureType.TransformationFailed, outcome.reason, attempts);
          }
          log.warn('URL refused', { ...logContext, reason: outcome.reason });
          throw fail(DeliveryFailureType.UrlRefused, outcome.reason, attempts);
        case 'retry': {
          const scheduled = retryDelayAfter(webhook.retrySchedule, position, input.deliveryId);
          if (scheduled === undefined || position >= input.maxAttempts) {
            log.warn('delivery exhausted', { ...logContext, reason: outcome.reason });
            throw fail(DeliveryFailureType.Exhausted, `${outcome.reason} (attempt ${position}, the last)`, attempts);
          }
          const nextRetryDelay = Math.max(scheduled, Math.min(outcome.retryAfterMs ?? 0, retryAfterMaxMs));
          log.info('attempt failed, retry scheduled', { ...logContext, reason: outcome.reason, nextRetryDelay });
          retriesScheduled.inc();
          await Promise.all([
            reportFailedAttempt(record),
            markRetrying(models, input.deliveryId, attempts.length, new Date(Date.now() + nextRetryDelay)).catch(() => undefined),
          ]);
          throw fail(DeliveryFailureType.Retryable, outcome.reason, attempts, nextRetryDelay);
        }
      }
    }
  };
}
