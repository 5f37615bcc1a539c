import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { AttemptRecord, DeliveryInput, FanoutInput, FanoutResult, FirstAttemptResult, FirstAttemptsRecord, MatchedWebhook, RecordedFirstAttempts } from '../delivery/types';
import { DeliveryStatus, EventId, EventType, TenantId, WebhookId } from '../temporal/search-attributes';
import { retryTaskQueue } from '../temporal/task-queues';
import { WORKFLOW_VERSION, startedAtVersion } from '../temporal/workflow-version';
import { deliveryWorkflowId } from '../temporal/workflow-ids';
import { DeliveryWorkflow, RECORD_REJECTED } from './delivery-workflow';
import { failureMessage, isRecordRejected } from './record-rejected';
import { OWN_FAILURE_REASON } from '../delivery/failure-types';
import { literal } from '../temporal/literal';
import { handOverOrdered } from './fifo-handover';
import { holdSlow, holdsSlots, resumeUnsettled, settleHeld, type Held, type HeldHandlers } from './held-first-attempts';

/** Webhooks per page: each page's first attempts run in parallel, and its record is one bulk write. */
export const FANOUT_PAGE_SIZE = 100;

/**
 * Pages per run, then the fan-out continues as new: each run's history stays bounded (about
 * 500 attempt markers) whatever the fan-out. Several pages per run because the server delays a
 * run that continues as new less than a second after it started (`ContinueAsNewMinInterval`,
 * default 1 s): at one page per run that capped a big fan-out at 100 deliveries/s.
 */
export const FANOUT_PAGES_PER_RUN = 5;

/** The patch that moved first attempts into the fan-out; runs begun before it replay the old path. */
export const FIRST_ATTEMPTS_INLINE = 'first-attempts-inline';

/**
 * The patch that records a page's first attempts in the next run, beside that run's attempts
 * (the record is half a page's time, all of it database writes); runs begun before it record
 * their own page before continuing as new.
 */
export const RECORD_IN_NEXT_RUN = 'record-in-next-run';

/** The patch that makes a run page through `FANOUT_PAGES_PER_RUN` pages; runs begun before it make one. */
export const PAGES_PER_RUN = 'pages-per-run';

/**
 * The patch that makes a page's first attempts in batches of `FIRST_ATTEMPT_BATCH`, one local
 * activity each, and lets a page's record run beside the next pages instead of holding them
 * back; runs begun before it make one local activity per delivery and keep one record in flight.
 */
export const FIRST_ATTEMPT_BATCHES = 'first-attempt-batches';

/**
 * The patch that hands a first attempt that was not made (its webhook or event unreadable, its
 * request unsigned: a failure of the service's own parts) to its DeliveryWorkflow with no attempt
 * on record, so the delivery still gets every attempt of its schedule; before it, such a
 * delivery carried a first attempt that never reached the receiver.
 */
export const NOT_MADE_IS_NO_ATTEMPT = 'not-made-is-no-attempt';

/** First attempts per local activity: a page of 100 is 4 of them. */
export const FIRST_ATTEMPT_BATCH = 25;

/** Reading and recording a page: MongoDB being down must delay a fan-out, never drop it, so retried without a limit. */
const { loadFanoutPage, recordFirstAttempts } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * A page's record. One refused for good (`RecordRejected`) is logged with its ids and the fan-out
 * goes on: its deliveries' outcomes stay in this history, and a retry could never pass.
 */
async function recordPage(record: FirstAttemptsRecord): Promise<void> {
  try {
    await recordFirstAttempts(record);
  } catch (err) {
    if (!isRecordRejected(err) || !patched(RECORD_REJECTED)) throw err;
    const { tenantId, eventId, fanoutRunId } = record;
    log.error('first attempts not recorded: the record was rejected', {
      tenantId,
      eventId,
      fanoutRunId,
      deliveryIds: record.results.map((r) => r.deliveryId),
      error: failureMessage(err),
    });
  }
}

/**
 * Fans one accepted event out to every matching active webhook, a page at a time. The first
 * attempt of each delivery is a local activity of this workflow, all of a page in parallel: a
 * delivered one ends there, on record in this history. One that must be retried, or whose
 * attempt could not complete, becomes a child DeliveryWorkflow that runs the rest of the
 * schedule. Each page's outcomes are then written to the deliveries index in bulk while the next
 * page makes its attempts (by the next run, for a run's last page), or by the last run before it
 * completes.
 */
export async function EventFanoutWorkflow(input: FanoutInput): Promise<FanoutResult> {
  // Started at version 1 or later: every patch below is in, with no marker to record.
  const current = startedAtVersion(input, 1);
  if (!current && !patched(FIRST_ATTEMPTS_INLINE)) return await childPerDelivery(input);
  const recordInNextRun = current || patched(RECORD_IN_NEXT_RUN);
  const pagesPerRun = current || patched(PAGES_PER_RUN) ? FANOUT_PAGES_PER_RUN : 1;
  const batches = current || patched(FIRST_ATTEMPT_BATCHES);
  // Since version 2, the batches of the fan-out's last page record the outcomes that end there.
  const recordsInBatch = startedAtVersion(input, 2);
  // Before batches, at most one page's record in flight; since, every page's of this run. A
  // worker lost mid-run sends again only what is not on record: at most this run's pages.
  let recording = input.unrecorded ? recordPage(input.unrecorded) : Promise.resolve();
  let cursor = input.cursor;
  let started = input.started ?? 0;
  // First attempts this run holds (held-first-attempts.ts): settled before it ends, beside its last record.
  const held: Held[] = [];
  const settle = (recorded: Promise<unknown>) => (held.length ? settleHeld(input, held, recorded, heldHandlers(input)) : undefined);
  for (let pages = 1; ; pages++) {
    const page = await attemptPage(input, cursor, batches, recordsInBatch);
    started += page.webhooks;
    held.push(...page.held);
    if (!page.nextCursor) {
      const recorded = Promise.all([recording, page.record && recordPage(page.record)]);
      await Promise.all([recorded, settle(recorded)]);
      return { deliveries: started };
    }
    cursor = page.nextCursor;
    if (pages >= pagesPerRun) {
      // Held deliveries are settled in this run, after their record: the next run's record comes too late.
      const recordHere = !recordInNextRun || held.length > 0;
      const recorded = recordHere ? Promise.all([recording, page.record && recordPage(page.record)]) : recording;
      await Promise.all([recorded, settle(recorded)]);
      const unrecorded = !recordHere && page.record ? withoutResponses(page.record) : undefined;
      return await continueAsNew<typeof EventFanoutWorkflow>({ ...input, cursor, started, unrecorded });
    }
    if (!batches) await recording;
    recording = Promise.all([recording, page.record && recordPage(page.record)]).then(() => undefined);
  }
}

/**
 * One page: its webhooks' first attempts, and the retrying ones handed to their children.
 * Returns how many webhooks the page had, where the next page starts, and the page's record: of
 * every attempt, or (`recordsInBatch`, the fan-out's last page) of those its batches did not record.
 */
async function attemptPage(
  input: FanoutInput,
  cursor: string | null | undefined,
  batches: boolean,
  recordsInBatch: boolean,
): Promise<{ webhooks: number; nextCursor: string | null; record?: FirstAttemptsRecord; held: Held[] }> {
  const { tenantId, eventId, eventType } = input;
  const page = await loadFanoutPage({ tenantId, eventId, eventType, after: cursor ?? null, limit: FANOUT_PAGE_SIZE });
  // Recorded already: this is a reset or replayed run, and those deliveries are never sent again;
  // one an earlier run held and never settled goes to its workflow.
  const todo = page.webhooks.filter((webhook) => !webhook.recorded);
  if (page.webhooks.some((webhook) => webhook.unsettled)) await resumeUnsettled(input, page.webhooks, heldHandlers(input));
  // FIFO webhooks' deliveries join their lines; only the others get an inline first attempt.
  const { inline, queued } = await handOverOrdered(input, todo);
  // Only the fan-out's last page: a record of a page with more to come runs beside the next
  // pages' attempts instead, where inside the batches it would hold those pages back.
  const recordTo = recordsInBatch ? (page.nextCursor ? null : { fanoutRunId: workflowInfo().runId, firstPage: !cursor }) : undefined;
  const holdSlots = batches && holdsSlots(inline);
  const attempted = batches
    ? await Promise.all(chunk(inline, FIRST_ATTEMPT_BATCH).map((batch) => firstAttempts(input, batch, recordTo, holdSlots)))
    : [{ results: await Promise.all(inline.map((webhook) => firstAttempt(input, webhook))), recorded: [] }];
  const recorded = new Set(attempted.flatMap((batch) => batch.recorded));
  const byDelivery = new Map(todo.map((webhook) => [webhook.deliveryId, webhook]));
  // Slow and rate-limited first attempts stay with the fan-out until due; the rest go on as before.
  const { results: made, held } = holdSlow(attempted.flatMap((batch) => batch.results), byDelivery);
  const results = [...made, ...queued];

  // Retrying deliveries get their workflow before the index says "retrying", so the index never
  // names a retry that has no workflow to run it.
  await Promise.all(
    results
      .filter((result) => result.outcome === 'retry' || result.outcome === 'unfinished')
      .map((result) => startRetrying(input, byDelivery.get(result.deliveryId) as MatchedWebhook, result)),
  );
  const unrecorded = results.filter((result) => !recorded.has(result.deliveryId));
  const record: FirstAttemptsRecord | undefined = unrecorded.length
    ? { tenantId, eventId, eventType, fanoutRunId: workflowInfo().runId, firstPage: !cursor, results: unrecorded }
    : undefined;
  return { webhooks: page.webhooks.length, nextCursor: page.nextCursor, record, held };
}

/** The record carried to the next run: response excerpts are not recorded, and stay in this history only. */
function withoutResponses(record: FirstAttemptsRecord): FirstAttemptsRecord {
  return { ...record, results: record.results.map((r) => (r.attempt ? { ...r, attempt: { ...r.attempt, response: null } } : r)) };
}

/** `items` in consecutive slices of at most `size`. */
function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * A batch of inline first attempts, one local activity. Since version 2 (`recordTo` not
 * undefined), `deliverAndRecordFirstAttempts`, which with a `recordTo` also records those that
 * end there and says which. A batch that cannot complete (timeout, worker lost) hands each of its
 * deliveries to a retry, as does an attempt that was not made.
 */
async function firstAttempts(
  { tenantId, eventId, eventType }: FanoutInput,
  webhooks: MatchedWebhook[],
  recordTo: { fanoutRunId: string; firstPage: boolean } | null | undefined,
  holdSlots: boolean,
): Promise<{ results: FirstAttemptResult[]; recorded: string[] }> {
  const { deliverFirstAttempts, deliverAndRecordFirstAttempts } = proxyLocalActivities<Activities>({
    // Each attempt's own HTTP timeout (≤ 30 s) ends it first; this is the backstop.
    startToCloseTimeout: '1 minute',
    // Never sent twice by this workflow: a retry of an attempt is its child's job, on the schedule.
    retry: { maximumAttempts: 1 },
    summary: `first attempts: ${byHost(webhooks)}`,
  });
  const startedAt = new Date().toISOString();
  const deliveries = webhooks.map(({ deliveryId, webhookId }) => ({ deliveryId, webhookId }));
  // Only when set: the input of a batch with no rate-limited webhook stays what it was.
  const batch = { tenantId, eventId, eventType, deliveries, ...(holdSlots ? { holdSlots } : {}) };
  let made: RecordedFirstAttempts;
  try {
    made =
      recordTo === undefined
        ? { results: await deliverFirstAttempts(batch), recorded: [] }
        : await deliverAndRecordFirstAttempts({ ...batch, record: recordTo });
  } catch (err) {
    log.warn('a batch of first attempts did not complete; its deliveries go to retries', { tenantId, eventId, error: failureMessage(err) });
    const results = webhooks.map((webhook) => unfinished(webhook, startedAt, LOST));
    return { results, recorded: [] };
  }
  const results = made.results.map((result, i) => ('notMade' in result ? notMade(webhooks[i], startedAt, result.notMade) : result));
  return { results, recorded: made.recorded };
}

/**
 * A first attempt that was not made: a failure of the service's own parts, logged here. Since
 * NOT_MADE_IS_NO_ATTEMPT its delivery goes to a retry with no attempt on record, at once.
 */
function notMade(webhook: MatchedWebhook, startedAt: string, why: string): FirstAttemptResult {
  log.warn('first attempt not made; its delivery goes to a retry', { deliveryId: webhook.deliveryId, webhookId: webhook.webhookId, error: why });
  if (!patched(NOT_MADE_IS_NO_ATTEMPT)) return unfinished(webhook, startedAt, `the first attempt was not made (${why})`);
  const { deliveryId, webhookId } = webhook;
  return { deliveryId, webhookId, outcome: 'unfinished', attempt: null, nextRetryDelayMs: 0, reason: OWN_FAILURE_REASON };
}

/** `POST a.example (dlv_1, dlv_2), POST b.example (dlv_3)`: what the Web UI shows of a batch (ids as code). */
function byHost(webhooks: MatchedWebhook[]): string {
  const hosts = new Map<string, string[]>();
  for (const { host, deliveryId } of webhooks) {
    if (!hosts.has(host)) hosts.set(host, []);
    hosts.get(host)!.push(deliveryId);
  }
  return [...hosts].map(([host, ids]) => `POST ${host} (${ids.map(literal).join(', ')})`).join(', ');
}

/** What the fan-out's held deliveries need of it: their hand-over to their workflows. */
function heldHandlers(input: FanoutInput): HeldHandlers {
  return { handOver: (webhook, result) => startRetrying(input, webhook, result), lost: (webhook, at) => unfinished(webhook, at, LOST) };
}

/** Why a first attempt that could not complete (its batch timed out, its worker was lost) has no outcome. */
const LOST = 'the first attempt did not complete; its outcome is unknown';

/** A first attempt handed to a retry without an outcome of its own: its child waits the schedule's first delay. */
function unfinished({ deliveryId, webhookId, firstDelayMs }: MatchedWebhook, startedAt: string, error: string): FirstAttemptResult {
  const attempt: AttemptRecord = { attempt: 1, startedAt, durationMs: null, statusCode: null, errorClass: 'worker_lost', error, response: null };
  return { deliveryId, webhookId, outcome: 'unfinished', attempt, nextRetryDelayMs: firstDelayMs, reason: error };
}

/** One inline first attempt (fan-outs begun before batches); an attempt that cannot complete (timeout, worker lost) becomes a retry. */
async function firstAttempt({ tenantId, eventId, eventType }: FanoutInput, webhook: MatchedWebhook): Promise<FirstAttemptResult> {
  const { deliverFirstAttempt } = proxyLocalActivities<Activities>({
    // The attempt's own HTTP timeout (≤ 30 s) ends it first; this is the backstop.
    startToCloseTimeout: '1 minute',
    // Never sent twice by this workflow: a retry of the attempt is the child's job, on the schedule.
    retry: { maximumAttempts: 1 },
    summary: `first attempt: POST ${webhook.host} (${literal(webhook.deliveryId)})`,
  });
  const { deliveryId, webhookId } = webhook;
  const startedAt = new Date().toISOString();
  try {
    return await deliverFirstAttempt({ tenantId, eventId, eventType, deliveryId, webhookId });
  } catch (err) {
    log.warn('a first attempt did not complete; its delivery goes to a retry', { deliveryId, webhookId, error: failureMessage(err) });
    return unfinished(webhook, startedAt, LOST);
  }
}

/** A delivery's input: a new execution, so started at this code's version whatever the fan-out's. */
function deliveryInput({ tenantId, eventId, eventType }: FanoutInput, { deliveryId, webhookId, maxAttempts, host }: MatchedWebhook): DeliveryInput {
  return { tenantId, eventId, eventType, deliveryId, webhookId, maxAttempts, host, version: WORKFLOW_VERSION };
}

async function startDelivery(input: FanoutInput, webhook: MatchedWebhook, args: DeliveryInput, status: 'pending' | 'retrying'): Promise<void> {
  const { tenantId, eventId, eventType } = input;
  try {
    await startChild(DeliveryWorkflow, {
      workflowId: deliveryWorkflowId(webhook.deliveryId),
      args: [args],
      // Deliveries outlive the fan-out run that started them (it continues as new).
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // Retries have a workflow-task budget of their own, so a storm of them leaves first attempts theirs.
      taskQueue: retryTaskQueue(workflowInfo().taskQueue),
      // A replayed or reset fan-out must never deliver the same event to a webhook twice.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `${eventType} → ${webhook.host}`,
      staticDetails: `Event ${literal(eventId)} of tenant ${literal(tenantId)} to webhook ${literal(webhook.webhookId)}`,
      typedSearchAttributes: [
        { key: TenantId, value: tenantId },
        { key: EventId, value: eventId },
        { key: EventType, value: eventType },
        { key: WebhookId, value: webhook.webhookId },
        { key: DeliveryStatus, value: status },
      ],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Hands a delivery whose first attempt failed over to its DeliveryWorkflow, carrying that attempt. */
function startRetrying(input: FanoutInput, webhook: MatchedWebhook, result: FirstAttemptResult): Promise<void> {
  const args: DeliveryInput = {
    ...deliveryInput(input, webhook),
    firstAttempt: result.attempt ?? undefined,
    firstDelayMs: result.nextRetryDelayMs ?? webhook.firstDelayMs ?? 0,
    ...(result.inFlight ? { firstAttemptInFlight: true } : {}),
  };
  // No attempt made (NOT_MADE_IS_NO_ATTEMPT): its workflow makes attempt 1.
  return startDelivery(input, webhook, args, result.attempt ? 'retrying' : 'pending');
}

/** Fan-outs begun before first attempts moved inline: one DeliveryWorkflow per delivery. */
async function childPerDelivery(input: FanoutInput): Promise<FanoutResult> {
  const { matchWebhooks } = proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
    summary: `webhooks subscribed to ${input.eventType}${input.cursor ? ` after ${literal(input.cursor)}` : ''}`,
  });
  const page = await matchWebhooks({
    tenantId: input.tenantId,
    eventId: input.eventId,
    eventType: input.eventType,
    after: input.cursor ?? null,
    limit: FANOUT_PAGE_SIZE,
  });
  await Promise.all(page.webhooks.map((webhook) => startDelivery(input, webhook, deliveryInput(input, webhook), 'pending')));
  const started = (input.started ?? 0) + page.webhooks.length;
  if (page.nextCursor) {
    return await continueAsNew<typeof EventFanoutWorkflow>({ ...input, cursor: page.nextCursor, started });
  }
  return { deliveries: started };
}
