import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** A delivery workflow started by a fan-out that was running at the deletion shows up within this; the second pass cancels it. */
const STRAGGLERS_AFTER = '1 minute';

const { removeTenantAccess, cancelTenantDeliveries } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  // The database or Temporal being down delays the deletion, never drops it.
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export interface TenantDeletionResult {
  webhooksRemoved: number;
  deliveriesCanceled: number;
}

/**
 * A tenant's deletion (admin `DELETE /v1/admin/tenants/{id}`), after the API has revoked its keys
 * and removed its webhooks: removes them again (whatever raced that), then cancels its running
 * delivery workflows, once at once and once more a minute later for those a fan-out still running
 * at the deletion started. Its events and deliveries stay, on the retention clock.
 */
export async function TenantDeletionWorkflow(tenantId: string): Promise<TenantDeletionResult> {
  let webhooksRemoved = await removeTenantAccess(tenantId);
  let deliveriesCanceled = await cancelTenantDeliveries(tenantId);
  await sleep(STRAGGLERS_AFTER);
  webhooksRemoved += await removeTenantAccess(tenantId);
  deliveriesCanceled += await cancelTenantDeliveries(tenantId);
  return { webhooksRemoved, deliveriesCanceled };
}
