/**
 * Temporal Cloud's billable Actions, counted from real histories by the rules of Temporal's
 * "Temporal Cloud Actions" page: a workflow started (a child's start counts 2 at its parent, for
 * the start and the attempted execution), a timer started, a search-attribute upsert (not one of
 * TemporalChangeVersion alone), a signal, an execution-options update, an accepted update, each
 * activity attempt (the last attempt's number is on its started event), and all the markers of
 * one workflow task (local activities) as one. Activity heartbeats reach the server outside the
 * history: each attempt of an activity that heartbeats sends its first at once (the SDK throttles
 * the others to 80 % of the heartbeat timeout), so they are counted as one per such attempt, a
 * lower bound for attempts slower than that. Queries (the API's and the Web UI's) are not per
 * delivery, and not counted.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Activity types whose attempts heartbeat at once (src/activities/deliver.ts). */
const HEARTBEATING_ACTIVITIES = new Set(['deliver']);

export interface ActionCount {
  workflows: number;
  total: number;
  byKind: Record<string, number>;
}

/** The search attributes an upsert sets, by name. */
function upsertedNames(event: HistoryEvent): string[] {
  return Object.keys(event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
}

/** The Actions of one run's history, added to `count`. */
export function countActions(events: readonly HistoryEvent[], count: ActionCount): void {
  const add = (kind: string, n = 1) => {
    if (n <= 0) return;
    count.byKind[kind] = (count.byKind[kind] ?? 0) + n;
    count.total += n;
  };
  count.workflows++;
  const activityTypes = new Map<string, string>();
  let markersInTask = false;
  for (const event of events) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        // A child's start was counted (twice) at its parent's initiation.
        if (!event.workflowExecutionStartedEventAttributes?.parentWorkflowExecution) add('workflow started');
        break;
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        add('child workflow started', 2);
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED:
        add('timer started');
        break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        if (upsertedNames(event).some((name) => name !== 'TemporalChangeVersion')) add('search attributes upserted');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        add('signal');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
        add('execution options updated');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        add('update');
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        activityTypes.set(String(event.eventId), event.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attempts = event.activityTaskStartedEventAttributes?.attempt ?? 1;
        add('activity attempt', attempts);
        const type = activityTypes.get(String(event.activityTaskStartedEventAttributes?.scheduledEventId ?? ''));
        if (type && HEARTBEATING_ACTIVITIES.has(type)) add('activity heartbeat (estimate)', attempts);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        markersInTask = false;
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED:
        // Every marker of one workflow task (its local activities' results) is one Action.
        if (!markersInTask) add('local activities (markers of one workflow task)');
        markersInTask = true;
        break;
    }
  }
}

/** Every run of every workflow of `tenantIds` (their search attribute), read from visibility and counted. */
export async function tenantActions(client: Client, tenantIds: readonly string[]): Promise<ActionCount> {
  const count: ActionCount = { workflows: 0, total: 0, byKind: {} };
  for (const tenantId of tenantIds) {
    const handles: { workflowId: string; runId: string }[] = [];
    for await (const run of client.workflow.list({ query: `TenantId = '${tenantId.replace(/'/g, '')}'` })) handles.push({ workflowId: run.workflowId, runId: run.runId });
    for (let i = 0; i < handles.length; i += 16) {
      const histories = await Promise.all(handles.slice(i, i + 16).map((h) => client.workflow.getHandle(h.workflowId, h.runId).fetchHistory()));
      for (const history of histories) countActions(history.events ?? [], count);
    }
  }
  return count;
}

/** `count` per delivery, by kind and in total, to 2 decimals. */
export function perDelivery(count: ActionCount, deliveries: number): { total: number; byKind: Record<string, number> } {
  const per = (n: number) => (deliveries ? Math.round((n / deliveries) * 100) / 100 : 0);
  return { total: per(count.total), byKind: Object.fromEntries(Object.entries(count.byKind).map(([kind, n]) => [kind, per(n)])) };
}
