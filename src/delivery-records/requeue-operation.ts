import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { newId } from '../ids';
import { literal } from '../temporal/literal';
import { TenantId, WebhookId } from '../temporal/search-attributes';
import { RequeueWorkflow, requeueProgressQuery } from '../workflows/requeue-workflow';
import type { RequeueInput, RequeueProgress } from './requeue-types';

/**
 * Bulk requeue operations (RequeueWorkflow, workflow id = operation id), started and read here
 * for both their starters: an admin's requeue (any filter) and a tenant's recover of one webhook.
 * A recover carries its tenant and webhook as search attributes (an admin's requeue carries none):
 * that is what scopes it to the tenant that started it, and what tells the two kinds apart.
 */

export type OperationType = 'requeue' | 'recover';

/** An operation as `GET /v1/admin/operations/{id}` and `GET /v1/operations/{id}` show it. */
export interface OperationView {
  id: string;
  type: OperationType;
  status: 'running' | 'completed' | 'failed';
  filter: Record<string, string>;
  limit: number;
  dryRun: boolean;
  progress: { matched: number; requeued: number; skipped: number; errors: number } | null;
  createdAt: string;
  completedAt: string | null;
}

/** Starts an operation; `recover` names the tenant and webhook it is scoped to. Answers its id. */
export async function startRequeueOperation(
  temporal: Client,
  taskQueue: string,
  input: RequeueInput,
  recover?: { tenantId: string; webhookId: string },
): Promise<string> {
  const operationId = newId('op');
  await temporal.workflow.start(RequeueWorkflow, {
    workflowId: operationId,
    taskQueue,
    args: [input],
    staticSummary: `${input.dryRun ? 'dry run: ' : ''}${recover ? 'recover' : 'requeue'} failed deliveries ${literal(JSON.stringify(input.filter))}`,
    // Search attributes carry over when the workflow continues as new, so every run is scoped.
    typedSearchAttributes: recover
      ? [
          { key: TenantId, value: recover.tenantId },
          { key: WebhookId, value: recover.webhookId },
        ]
      : undefined,
  });
  return operationId;
}

const quoted = (value: string) => `'${value.replace(/[\\']/g, '')}'`;

/**
 * The id of a recover of this webhook still running, if any. Read from visibility, which lags
 * the start of a workflow by a moment: two recovers asked for within it may both start (harmless:
 * the second finds the deliveries the first restarted pending and counts them skipped).
 */
export async function runningRecover(temporal: Client, tenantId: string, webhookId: string): Promise<string | undefined> {
  const query = `WorkflowType = 'RequeueWorkflow' AND ExecutionStatus = 'Running' AND TenantId = ${quoted(tenantId)} AND WebhookId = ${quoted(webhookId)}`;
  for await (const execution of temporal.workflow.list({ query, pageSize: 1 })) return execution.workflowId;
  return undefined;
}

/**
 * An operation with its progress (the running workflow's query, or its result), or undefined
 * when there is none by that id, or (`tenantId` given) it is not a recover that tenant started.
 */
export async function readRequeueOperation(temporal: Client, operationId: string, scope: { tenantId?: string } = {}): Promise<OperationView | undefined> {
  const handle = temporal.workflow.getHandle<typeof RequeueWorkflow>(operationId);
  const description = await handle.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  });
  if (!description || description.type !== 'RequeueWorkflow') return undefined;
  const owner = description.typedSearchAttributes.get(TenantId);
  if (scope.tenantId !== undefined && owner !== scope.tenantId) return undefined;
  const running = description.status.name === 'RUNNING';
  let progress: RequeueProgress | undefined;
  if (running) progress = await handle.query(requeueProgressQuery);
  else if (description.status.name === 'COMPLETED') progress = await handle.result();
  const history = await handle.fetchHistory();
  const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const { filter, limit, dryRun } = temporal.workflow.options.loadedDataConverter.payloadConverter.fromPayload<RequeueInput>(input!);
  return {
    id: operationId,
    type: owner ? 'recover' : 'requeue',
    status: running ? 'running' : description.status.name === 'COMPLETED' ? 'completed' : 'failed',
    filter: filter as Record<string, string>,
    limit,
    dryRun,
    progress: progress ? { matched: progress.matched, requeued: progress.requeued, skipped: progress.skipped, errors: progress.errors } : null,
    createdAt: description.startTime.toISOString(),
    completedAt: description.closeTime?.toISOString() ?? null,
  };
}
