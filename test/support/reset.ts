import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';

type ResetRequest = Parameters<Client['workflowService']['resetWorkflowExecution']>[0];

/**
 * What an operator's Reset does (Web UI or CLI): the workflow's latest run is reset to the
 * workflow task that ended with event `workflowTaskFinishEventId`, which runs again. Returns the
 * new run's id.
 */
export async function resetWorkflow(client: Client, workflowId: string, workflowTaskFinishEventId: ResetRequest['workflowTaskFinishEventId'], reason: string): Promise<string> {
  const reset = client.workflowService.resetWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId },
    workflowTaskFinishEventId,
    reason,
    requestId: randomUUID(),
  }) as Promise<{ runId?: string | null }>;
  return (await reset).runId as string;
}
