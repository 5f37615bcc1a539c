import type { Logger } from 'pino';
import type { DeliveryDoc } from './delivery';
import { eventKey } from './event';
import { sweepExpired } from './expiry-index';
import type { Models } from './index';

/**
 * Data expires on one clock (RETENTION_DAYS): a delivery leaves the index, and an event's payload
 * and idempotency record are deleted, once created that long ago (a deleted tenant's record, once
 * deleted that long ago); never while one of the event's
 * deliveries is pending or retrying, whose attempts still read the payload. The worker runs it on
 * every server: a TTL index could not spare those (and FerretDB v1 has none).
 */

/** Statuses of a delivery whose run may still send its event's payload. */
const LIVE: readonly DeliveryDoc['status'][] = ['pending', 'retrying'];
const FINAL: readonly DeliveryDoc['status'][] = ['delivered', 'failed', 'canceled'];

/** How often the worker sweeps. */
export const RETENTION_SWEEP_EVERY_MS = 3_600_000;

export interface RetentionSweepResult {
  deliveries: number;
  events: number;
  /** Deleted tenants whose records (and revoked keys) went: deleted longer ago than the retention, so their data has gone too. */
  tenants: number;
}

/** Deletes what is older than `retentionDays` at `now` and needed by no live delivery. */
export async function sweepRetention(models: Models, retentionDays: number, now = new Date()): Promise<RetentionSweepResult> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  // One equality per status: FerretDB pushes an equality down, where it runs `$in` in memory.
  let deliveries = 0;
  for (const status of FINAL) deliveries += (await models.Delivery.deleteMany({ status, createdAt: { $lt: cutoff } })).deletedCount;
  // Read after the finished ones are gone: a requeue can then only reopen a delivery the index still
  // holds, which is live (kept below) or younger than the cutoff.
  const live = (await Promise.all(LIVE.map((status) => models.Delivery.find({ status }).select({ _id: 0, tenantId: 1, eventId: 1 }).lean()))).flat();
  const needed = [...new Set(live.map((d) => eventKey(d.tenantId, d.eventId)))];
  const events = (await models.Event.deleteMany({ acceptedAt: { $lt: cutoff }, ...(needed.length ? { _id: { $nin: needed } } : {}) })).deletedCount;
  // A tenant deleted before the cutoff: what it created before its deletion is older than the cutoff, swept above.
  const tenants = await models.Tenant.find({ state: 'deleted', deletedAt: { $lt: cutoff } }).select({ _id: 1 }).lean();
  for (const tenant of tenants) {
    await models.ApiKey.deleteMany({ tenantId: tenant._id });
    await models.Tenant.deleteOne({ _id: tenant._id });
  }
  // Rate-limit slots long past (a TTL index does it where there is one).
  await sweepExpired(models.WebhookRateSlot.collection, 'expiresAt', 0, now);
  await sweepExpired(models.WebhookRateSend.collection, 'expiresAt', 0, now);
  await sweepExpired(models.WebhookCircuitClaim.collection, 'expiresAt', 0, now);
  return { deliveries, events, tenants: tenants.length };
}

/** Sweeps now and every `everyMs`, in the background; clear the timer it returns to stop. */
export function startRetentionSweep(models: Models, retentionDays: number, logger: Logger, everyMs = RETENTION_SWEEP_EVERY_MS): NodeJS.Timeout {
  const sweep = () =>
    sweepRetention(models, retentionDays).then(
      (deleted) => (deleted.deliveries || deleted.events || deleted.tenants) && logger.info({ ...deleted, retentionDays }, 'expired deliveries and events swept'),
      (err: unknown) => logger.warn({ err }, 'retention sweep failed; will try again'),
    );
  void sweep();
  const timer = setInterval(() => void sweep(), everyMs);
  timer.unref();
  return timer;
}
