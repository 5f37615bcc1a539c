import type { Connection } from 'mongoose';
import { tenantNameKey } from './tenant';

/**
 * Gives `nameKey` and `state` to tenants created before they existed (none of them deleted then),
 * so the admin list finds them. Tenants are few (one read of those without it at each start);
 * idempotent: processes starting together write the same values.
 */
export async function backfillTenantListFields(conn: Connection): Promise<number> {
  const tenants = conn.collection<{ _id: string; name: string; nameKey?: string; state?: string }>('tenants');
  const missing = await tenants.find({ state: { $exists: false } }, { projection: { name: 1 } }).toArray();
  for (const tenant of missing) await tenants.updateOne({ _id: tenant._id }, { $set: { nameKey: tenantNameKey(tenant.name), state: 'live' } });
  return missing.length;
}
