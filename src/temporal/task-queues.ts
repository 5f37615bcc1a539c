/**
 * Deliveries that are retried (a `DeliveryWorkflow` and its deliver activity) run on a task queue
 * of their own beside the fan-outs' queue, so a worker gives them a workflow-task budget of their
 * own (`WORKER_RETRY_MAX_CONCURRENT_WORKFLOW_TASKS`): a retry storm cannot take the slots that
 * fresh events' first attempts need. Derived, not configured, so the API (requeue, resend) and the
 * workflows always agree with the workers.
 */
export function retryTaskQueue(taskQueue: string): string {
  return `${taskQueue}-retries`;
}
