import { WorkflowNotFoundError, isGrpcServiceError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { tsToDate } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { mergeAttemptLogs } from '../delivery/attempt-log';
import type { AttemptRecord, DeliveryStatus as Status, FirstAttemptResult } from '../delivery/types';
import type { Models } from '../models';
import type { DeliveryDoc } from '../models/delivery';
import { attemptFailedSignal } from '../temporal/delivery-signals';
import { DeliveryStatus, EventId, EventType, TenantId, WebhookId } from '../temporal/search-attributes';
import { eventWorkflowId } from '../temporal/workflow-ids';
import { WORKFLOW_TYPES } from '../temporal/workflow-types';
import { deliverySummary, type DeliverySummary } from './delivery-list';
import { deliveryStatus } from './delivery-status';

/** A Temporal execution that holds some of a delivery's attempts: where to look in the Web UI. */
export interface AuditLogRun {
  workflowId: string;
  runId: string;
}

/** One delivery with every attempt, read from the histories that hold them (the audit log). */
export interface DeliveryDetail extends DeliverySummary {
  /** Every attempt in the order made, numbered across the inline first attempt, retries and requeues. */
  attempts: AttemptRecord[];
  /** When the next attempt is due, while the delivery is retrying. */
  nextAttemptAt: string | null;
  /** Why it failed or was canceled. */
  reason: string | null;
  /** The executions whose histories hold its attempts: the fan-out (inline first attempt), then each DeliveryWorkflow run. */
  auditLog: AuditLogRun[];
}

type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
type Failure = temporal.api.failure.v1.IFailure | null | undefined;

interface RunLog {
  attempts: AttemptRecord[];
  reason: string | null;
  nextAttemptAt: string | null;
}

function decoder(client: Client) {
  const converter = client.workflow.options.loadedDataConverter.payloadConverter;
  return (payloads: Payloads): unknown => (payloads?.payloads?.[0] ? converter.fromPayload(payloads.payloads[0]) : undefined);
}

type History = temporal.api.history.v1.IHistory;

/**
 * The histories one request reads: a fan-out run's history (it holds the first attempts of up to
 * a page of deliveries per batch) is fetched once, however many of its deliveries the request reads.
 */
export class RunHistories {
  private readonly fetched = new Map<string, Promise<History>>();

  constructor(private readonly client: Client) {}

  /** The run's history; `fresh` fetches it again (it was read before what is looked for was written). */
  get(workflowId: string, runId: string, fresh = false): Promise<History> {
    const key = `${workflowId}\n${runId}`;
    let history = fresh ? undefined : this.fetched.get(key);
    if (!history) {
      history = this.client.workflow.getHandle(workflowId, runId).fetchHistory();
      this.fetched.set(key, history);
      // A failed fetch is not kept: the next reader tries again.
      history.catch(() => this.fetched.get(key) === history && this.fetched.delete(key));
    }
    return history;
  }
}

/**
 * A run's history, or none when Temporal no longer has the run (its retention ended before the
 * index's, or the cluster's data was replaced): the delivery is then read from the index alone,
 * with the attempts that history held missing, instead of failing the read.
 */
const GRPC_NOT_FOUND = 5;

async function historyUnlessGone(history: Promise<History>): Promise<History> {
  try {
    return await history;
  } catch (err) {
    // fetchHistory passes the server's NOT_FOUND through as it is.
    if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND)) return { events: [] };
    throw err;
  }
}

/** Whether the run has ended (its last event closes it): nothing more will be recorded in it. */
function closed(history: History): boolean {
  const last = history.events?.at(-1);
  return Boolean(
    last &&
      (last.workflowExecutionCompletedEventAttributes ||
        last.workflowExecutionFailedEventAttributes ||
        last.workflowExecutionTimedOutEventAttributes ||
        last.workflowExecutionCanceledEventAttributes ||
        last.workflowExecutionTerminatedEventAttributes ||
        last.workflowExecutionContinuedAsNewEventAttributes),
  );
}

const logIn = (value: unknown): AttemptRecord[] => (Array.isArray(value) ? (value as AttemptRecord[]) : []);

/**
 * The attempts in one DeliveryWorkflow run's history: the deliver activity's result or failure
 * details, the `attemptFailed` signals, and, while it runs, its pending activity's heartbeat.
 */
async function runLog(client: Client, workflowId: string, runId: string, description?: WorkflowExecutionDescription): Promise<RunLog> {
  const first = decoder(client);
  const failureLog = (failure: Failure) => logIn(first(failure?.applicationFailureInfo?.details));
  let attempts: AttemptRecord[] = [];
  let reason: string | null = null;
  const history = await historyUnlessGone(client.workflow.getHandle(workflowId, runId).fetchHistory());
  for (const event of history.events ?? []) {
    if (event.activityTaskCompletedEventAttributes) {
      attempts = mergeAttemptLogs(logIn((first(event.activityTaskCompletedEventAttributes.result) as { attempts?: unknown })?.attempts), attempts);
    } else if (event.activityTaskFailedEventAttributes) {
      const failure = event.activityTaskFailedEventAttributes.failure;
      attempts = mergeAttemptLogs(failureLog(failure), attempts);
      reason = failure?.message ?? reason;
    } else if (event.activityTaskCanceledEventAttributes) {
      attempts = mergeAttemptLogs(logIn(first(event.activityTaskCanceledEventAttributes.details)), attempts);
    } else if (event.workflowExecutionSignaledEventAttributes?.signalName === attemptFailedSignal.name) {
      attempts = mergeAttemptLogs(attempts, [first(event.workflowExecutionSignaledEventAttributes.input) as AttemptRecord]);
    } else if (event.workflowExecutionStartedEventAttributes) {
      // A run handed over by the fan-out carries its inline first attempt in its input.
      const input = first(event.workflowExecutionStartedEventAttributes.input) as { firstAttempt?: AttemptRecord } | undefined;
      if (input?.firstAttempt) attempts = mergeAttemptLogs(attempts, [input.firstAttempt]);
    } else if (event.workflowExecutionCancelRequestedEventAttributes) {
      reason = event.workflowExecutionCancelRequestedEventAttributes.cause || 'canceled on request';
    } else if (event.workflowExecutionTerminatedEventAttributes) {
      reason = event.workflowExecutionTerminatedEventAttributes.reason || 'terminated';
    }
  }
  let nextAttemptAt: string | null = null;
  const pending = description?.runId === runId ? description.raw.pendingActivities?.[0] : undefined;
  if (pending) {
    attempts = mergeAttemptLogs(attempts, mergeAttemptLogs(logIn(first(pending.heartbeatDetails)), failureLog(pending.lastFailure)));
    nextAttemptAt = pending.nextAttemptScheduleTime ? (tsToDate(pending.nextAttemptScheduleTime).toISOString() ?? null) : null;
  }
  return { attempts, reason, nextAttemptAt };
}

/**
 * The inline first attempt of `deliveryId`: in the result of its local activity (its own, or its
 * batch's) in the fan-out run's history. The index is written during the workflow task that
 * records that result, so for a few milliseconds the index can be ahead of the history: a missing
 * attempt is looked for again while the run is open. The index's record (`kept`, without the
 * response excerpt) stands in when the history does not hold it: the workflow task that made it
 * never completed (its worker died after the record), or the history is gone.
 */
/** An attempt with no outcome on record: its request was in flight. */
const isOpen = (a: Partial<AttemptRecord>): boolean => a.durationMs === null && a.statusCode === null && a.errorClass === null;

async function inlineAttempt(
  client: Client,
  histories: RunHistories,
  workflowId: string,
  runId: string,
  deliveryId: string,
  kept: AttemptRecord | undefined,
): Promise<AttemptRecord[]> {
  const first = decoder(client);
  for (let tries = 0; tries < 20; tries++) {
    const history = await historyUnlessGone(histories.get(workflowId, runId, tries > 0));
    if (!history.events?.length) return kept ? [kept] : [];
    // The last result naming the delivery: a first attempt its fan-out held is settled by a later
    // local activity, whose result completes the open record (or holds the attempt a slot waited for).
    let found: Partial<FirstAttemptResult> | undefined;
    for (const event of history.events ?? []) {
      const marker = event.markerRecordedEventAttributes;
      if (!marker?.details?.result) continue;
      // One delivery's first attempt, a batch of them (fan-outs since first-attempt batches), or
      // a batch with what it recorded (since workflow version 2, and held attempts settled).
      const value = first(marker.details.result) as Partial<FirstAttemptResult> | Partial<FirstAttemptResult>[] | { results?: Partial<FirstAttemptResult>[] } | undefined;
      const batch = Array.isArray(value) ? value : value && 'results' in value ? value.results : undefined;
      const result = batch ? batch.find((r) => r?.deliveryId === deliveryId) : (value as Partial<FirstAttemptResult> | undefined);
      if (result?.deliveryId === deliveryId && (result.attempt || !found)) found = result;
    }
    if (found) {
      const told = found.attempt ?? null;
      if (told && !isOpen(told)) return [told];
      // A held delivery recorded before its fan-out's history has its settle (its answer recorded
      // at once by the worker that saw it): the index's copy is the attempt.
      if (kept && (!told || !isOpen(kept))) return [kept];
      return told ? [told] : [];
    }
    if (kept && closed(history)) return [kept];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return kept ? [kept] : [];
}

/** Every run of a delivery's workflow id, oldest first (requeues and retries start new runs). */
async function deliveryRuns(client: Client, id: string, latest?: WorkflowExecutionDescription): Promise<AuditLogRun[]> {
  const runs = new Map<string, number>();
  try {
    for await (const run of client.workflow.list({ query: `WorkflowId = '${id.replace(/'/g, '')}'` })) runs.set(run.runId, run.startTime.getTime());
  } catch {
    // A server without visibility queries (the time-skipping test server): the latest run only.
  }
  // Visibility may lag a run just started.
  if (latest) runs.set(latest.runId, latest.startTime.getTime());
  return [...runs.entries()].sort((a, b) => a[1] - b[1]).map(([runId]) => ({ workflowId: id, runId }));
}

async function describe(client: Client, id: string): Promise<WorkflowExecutionDescription | undefined> {
  try {
    const description = await client.workflow.getHandle(id).describe();
    return description.type === WORKFLOW_TYPES.delivery ? description : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** Attempts of all runs in the order made; the same attempt seen in two places counts once. */
function numbered(logs: AttemptRecord[][]): AttemptRecord[] {
  const byStart = new Map<string, AttemptRecord>();
  for (const log of logs) for (const attempt of log) if (!byStart.has(attempt.startedAt) || attempt.durationMs !== null) byStart.set(attempt.startedAt, attempt);
  return [...byStart.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt)).map((attempt, i) => ({ ...attempt, attempt: i + 1 }));
}

/**
 * Reads a delivery: its status from the deliveries index, its attempts from every history that
 * holds one (the fan-out run of its inline first attempt, each run of its DeliveryWorkflow).
 * A delivery from before the index existed is read from its workflow alone. `undefined` when
 * there is no such delivery or it belongs to another tenant.
 */
export async function readDelivery(
  client: Client,
  models: Models,
  id: string,
  tenantId: string,
  histories = new RunHistories(client),
): Promise<DeliveryDetail | undefined> {
  const doc = await models.Delivery.findOne({ _id: id, tenantId }).lean<DeliveryDoc>();
  return doc ? readIndexedDelivery(client, doc, histories) : readUnindexed(client, id, tenantId);
}

/** What of a delivery's index document says where its attempts are. */
export type AttemptSource = Pick<DeliveryDoc, '_id' | 'tenantId' | 'eventId' | 'retried' | 'fanoutRunId' | 'firstAttempt'>;

/** A delivery's attempts from every history that holds one, and those histories' runs. */
export async function indexedAttempts(
  client: Client,
  doc: AttemptSource,
  histories = new RunHistories(client),
): Promise<{ attempts: AttemptRecord[]; last: RunLog | undefined; auditLog: AuditLogRun[] }> {
  const { _id: id, tenantId } = doc;
  const latest = doc.retried ? await describe(client, id) : undefined;
  const runs = latest ? await deliveryRuns(client, id, latest) : [];
  const inline = doc.fanoutRunId ? { workflowId: eventWorkflowId(tenantId, doc.eventId), runId: doc.fanoutRunId } : undefined;
  const [first, ...logs] = await Promise.all([
    inline ? inlineAttempt(client, histories, inline.workflowId, inline.runId, id, doc.firstAttempt as AttemptRecord | undefined) : Promise.resolve([]),
    ...runs.map((run) => runLog(client, id, run.runId, latest)),
  ]);
  return { attempts: numbered([first, ...logs.map((l) => l.attempts)]), last: logs.at(-1), auditLog: [...(inline ? [inline] : []), ...runs] };
}

async function readIndexedDelivery(client: Client, doc: DeliveryDoc, histories: RunHistories): Promise<DeliveryDetail> {
  const { attempts, last, auditLog } = await indexedAttempts(client, doc, histories);
  const open = doc.status === 'pending' || doc.status === 'retrying';
  return {
    ...deliverySummary(doc),
    attempts,
    nextAttemptAt: open ? (last?.nextAttemptAt ?? doc.nextAttemptAt?.toISOString() ?? null) : null,
    reason: doc.status === 'delivered' ? null : (last?.reason ?? doc.reason ?? null),
    auditLog,
  };
}

/** A delivery whose workflow started before the deliveries index existed: its latest run alone. */
async function readUnindexed(client: Client, id: string, tenantId: string): Promise<DeliveryDetail | undefined> {
  const description = await describe(client, id);
  const attributes = description?.typedSearchAttributes;
  if (!description || !attributes || attributes.get(TenantId) !== tenantId) return undefined;
  const log = await runLog(client, id, description.runId, description);
  const status: Status = deliveryStatus(description.status.name, attributes.get(DeliveryStatus));
  return {
    id,
    eventId: attributes.get(EventId) ?? '',
    eventType: attributes.get(EventType) ?? '',
    webhookId: attributes.get(WebhookId) ?? '',
    status,
    createdAt: description.startTime.toISOString(),
    completedAt: description.closeTime?.toISOString() ?? null,
    attempts: numbered([log.attempts]),
    nextAttemptAt: log.nextAttemptAt,
    reason: status === 'delivered' ? null : log.reason,
    auditLog: [{ workflowId: id, runId: description.runId }],
  };
}
