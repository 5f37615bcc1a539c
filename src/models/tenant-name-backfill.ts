import type { Connection } from 'mongoose';
import { tenantNameKey } from './tenant';

/**
 * Gives `nameKey` to tenants created before it existed, so the admin list's name search finds
 * them. Tenants are few (one read of those without it at each start); idempotent: processes
 * starting together write the same values.
 */
export async function backfillTenantNameKeys(conn: Connection): Promise<number> {
  const tenants = conn.collection<{ _id: string; name: string; nameKey?: string }>('tenants');
  const missing = await tenants.find({ nameKey: { $exists: false } }, { projection: { name: 1 } }).toArray();
  for (const tenant of missing) await tenants.updateOne({ _id: tenant._id }, { $set: { nameKey: tenantNameKey(tenant.name) } });
  return missing.length;
}
