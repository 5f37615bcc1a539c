import type { Connection } from 'mongoose';
import pLimit from 'p-limit';
import { isDuplicateKey } from './duplicate-key';

/**
 * Copies the counters that older versions kept in the webhook document into `webhook_counters`,
 * once per database, so an upgrade loses no count. A marker in `migrations` makes later starts one
 * `_id` lookup. Safe to rerun and to run from processes starting together (no transactions, no
 * change streams: MongoDB and FerretDB alike): a webhook's copy marks its counters document
 * `legacyCopied`, and is an update conditional on that mark (adding to counts this version may
 * already have written: another process delivering while this one copies) or, when there is no
 * counters document yet, an insert, which the unique `_id` refuses to a second copier. The copy
 * keeps the earlier failing streak start and the later trigger time. The webhook documents keep
 * their old fields, unread: a rollback to the older version finds them as they were.
 */
const MARKER = 'webhooks.counters';
/** Webhooks copied at once: one or two single-document writes each (FerretDB v1 is slow with big bulk updates). */
const PARALLEL = 16;

interface LegacyCounters {
  _id: string;
  tenantId: string;
  deliverySuccessCount?: number | null;
  deliveryFailureCount?: number | null;
  consecutiveFailureCount?: number | null;
  failingSince?: Date | null;
  lastTriggeredAt?: Date | null;
}

interface CountersDoc {
  _id: string;
  tenantId: string;
  deliverySuccessCount: number;
  deliveryFailureCount: number;
  consecutiveFailureCount: number;
  failingSince?: Date;
  lastTriggeredAt?: Date;
  legacyCopied: boolean;
}

const FIELDS = ['deliverySuccessCount', 'deliveryFailureCount', 'consecutiveFailureCount', 'failingSince', 'lastTriggeredAt'] as const;

/** Copies one webhook's counters unless they were copied before; says whether this call copied them. */
async function copyOne(conn: Connection, w: LegacyCounters): Promise<boolean> {
  const counters = conn.collection<CountersDoc>('webhook_counters');
  const counts = {
    deliverySuccessCount: w.deliverySuccessCount ?? 0,
    deliveryFailureCount: w.deliveryFailureCount ?? 0,
    consecutiveFailureCount: w.consecutiveFailureCount ?? 0,
  };
  const times = { ...(w.failingSince ? { failingSince: w.failingSince } : {}), ...(w.lastTriggeredAt ? { lastTriggeredAt: w.lastTriggeredAt } : {}) };
  const addTo = async () =>
    (
      await counters.updateOne(
        { _id: w._id, tenantId: w.tenantId, legacyCopied: { $exists: false } },
        {
          $inc: counts,
          $set: { legacyCopied: true },
          ...(w.failingSince ? { $min: { failingSince: w.failingSince } } : {}),
          ...(w.lastTriggeredAt ? { $max: { lastTriggeredAt: w.lastTriggeredAt } } : {}),
        },
      )
    ).matchedCount > 0;
  if (await addTo()) return true;
  try {
    await counters.insertOne({ _id: w._id, tenantId: w.tenantId, ...counts, ...times, legacyCopied: true });
    return true;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // Written meanwhile: by a worker (not copied yet: add to it) or by another copier (done).
    return addTo();
  }
}

/** Copies what is left to copy; returns how many webhooks' counters this call copied. */
export async function copyLegacyWebhookCounters(conn: Connection): Promise<number> {
  const migrations = conn.collection<{ _id: string; doneAt: Date }>('migrations');
  if (await migrations.findOne({ _id: MARKER })) return 0;
  const webhooks = conn.collection<LegacyCounters>('webhooks');
  const found = await webhooks
    .find({ $or: FIELDS.map((f) => ({ [f]: { $exists: true } })) }, { projection: { tenantId: 1, ...Object.fromEntries(FIELDS.map((f) => [f, 1])) } })
    .toArray();
  // A webhook that never had a delivery has nothing to copy: no counters document reads as zeros.
  const legacy = found.filter((w) => FIELDS.some((f) => w[f]));
  const limit = pLimit(PARALLEL);
  const copied = (await Promise.all(legacy.map((webhook) => limit(() => copyOne(conn, webhook))))).filter(Boolean).length;
  try {
    await migrations.updateOne({ _id: MARKER }, { $set: { doneAt: new Date() } }, { upsert: true });
  } catch (err) {
    // Two processes' upserts raced (FerretDB): the other one wrote the marker.
    if (!isDuplicateKey(err)) throw err;
  }
  return copied;
}
