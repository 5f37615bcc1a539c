/**
 * What a tenant's deletion takes away at once: every way in (API keys, portal links and sessions,
 * inbound sources' ingest URLs) and every way out (its webhooks, so nothing more is sent to them).
 * Its events and deliveries stay, on the retention clock. Idempotent: the API runs it when the
 * tenant is deleted, and the deletion workflow runs it again, durably, to catch what raced it.
 */
import type { Models } from '../models';

/** Why the tenant's deliveries still open end canceled (their index reason, and the Web UI's cancel request). */
export const TENANT_DELETED_REASON = 'the tenant was deleted';

export interface TenantRemoval {
  /** Ids of the tenant's keys (revoked now or before), for the callers' caches. */
  keyIds: string[];
  webhooks: number;
}

/** Revokes the tenant's keys and deletes its webhooks (with their counters and breakers), sources, portal links and sessions. */
export async function removeTenantAccess(models: Models, tenantId: string, at = new Date()): Promise<TenantRemoval> {
  // Keys first: nothing new comes in (a webhook created with a key meanwhile is caught by the workflow's run).
  await models.ApiKey.updateMany({ tenantId, revokedAt: null }, { $set: { revokedAt: at } });
  const [keys, webhooks] = await Promise.all([
    models.ApiKey.find({ tenantId }).select({ _id: 1 }).lean(),
    models.Webhook.deleteMany({ tenantId }),
    models.Source.deleteMany({ tenantId }),
    models.PortalLink.deleteMany({ tenantId }),
    models.PortalSession.deleteMany({ tenantId }),
  ]);
  // After the webhooks: a counter write racing the deletion may upsert one again; it is never read (ids are never reused).
  await Promise.all([models.WebhookCounter.deleteMany({ tenantId }), models.WebhookCircuit.deleteMany({ tenantId })]);
  return { keyIds: keys.map((k) => k._id), webhooks: webhooks.deletedCount };
}
