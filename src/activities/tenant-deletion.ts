import { Context, log } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Models } from '../models';
import { WORKFLOW_TYPES } from '../temporal/workflow-types';
import { removeTenantAccess, TENANT_DELETED_REASON } from '../tenants/tenant-removal';

/** Cancellations requested at once: each is one request to Temporal. */
const CANCEL_CONCURRENCY = 20;
/** How long a canceled delivery may take to close before its index reason is left as its run wrote it. */
const CLOSE_WAIT_MS = 30_000;

/** Activities of a tenant's deletion (workflows/tenant-deletion-workflow.ts). */
export const createTenantDeletionActivities = (models: Models) => ({
  /** Keys revoked, webhooks, sources and portal links gone (again: whatever raced the API's own run). */
  async removeTenantAccess(tenantId: string): Promise<number> {
    const { webhooks } = await removeTenantAccess(models, tenantId);
    return webhooks;
  },

  /**
   * Cancels the tenant's running delivery workflows (found by their TenantId), each with the
   * reason on record in its history, and once each has closed sets its index reason: a retrying
   * delivery ends now, not at its next attempt. Returns how many it canceled.
   */
  async cancelTenantDeliveries(tenantId: string): Promise<number> {
    const { client, info } = Context.current();
    const query = `WorkflowType = '${WORKFLOW_TYPES.delivery}' AND TenantId = '${tenantId}' AND ExecutionStatus = 'Running'`;
    const ids: string[] = [];
    for await (const execution of client.workflow.list({ query })) {
      // Heartbeats while listing too (the SDK throttles them): a tenant may have thousands retrying.
      if (ids.push(execution.workflowId) % 100 === 0) Context.current().heartbeat(0);
    }
    let canceled = 0;
    for (let i = 0; i < ids.length; i += CANCEL_CONCURRENCY) {
      const batch = ids.slice(i, i + CANCEL_CONCURRENCY);
      const done = await Promise.all(batch.map(async (workflowId) => {
        try {
          await client.workflowService.requestCancelWorkflowExecution({
            namespace: info.workflowNamespace,
            workflowExecution: { workflowId },
            identity: `tenant deletion ${info.workflowExecution?.workflowId ?? info.activityId}`,
            reason: TENANT_DELETED_REASON,
          });
        } catch (err) {
          // Closed meanwhile (delivered, failed, or canceled by its own attempt finding its webhook gone).
          if (err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 5) return null;
          throw err;
        }
        await Promise.race([
          client.workflow.getHandle(workflowId).result().catch(() => undefined),
          new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref()),
        ]);
        return workflowId;
      }));
      const closed = done.filter((id): id is string => id !== null);
      canceled += closed.length;
      // The run wrote its own cause (the activity's cancellation); the index says why.
      await models.Delivery.updateMany({ _id: { $in: closed }, tenantId, status: 'canceled' }, { $set: { reason: TENANT_DELETED_REASON } });
      Context.current().heartbeat(i + batch.length);
    }
    if (canceled) log.info('tenant deleted: its retrying deliveries canceled', { tenantId, canceled });
    return canceled;
  },
});
