import type { Connection } from 'mongoose';

/**
 * Copies the counters that older versions kept in the webhook document into `webhook_counters`,
 * once per database, so an upgrade loses no count. A marker in `migrations` makes later starts one
 * `_id` lookup. Safe to rerun and to run from processes starting together (no transactions, no
 * change streams: MongoDB and FerretDB alike): each webhook's copy is one conditional upsert that
 * marks its counters document `legacyCopied`, so a second copy matches nothing, tries to insert
 * and is refused by the unique `_id` (ignored). The copy adds to counts this version may already
 * have written (another process delivering while this one copies), keeps the earlier failing
 * streak start and the later trigger time. The webhook documents keep their old fields, unread: a
 * rollback to the older version finds them as they were.
 */
const MARKER = 'webhooks.counters';
/** Updates per bulk write: FerretDB v1 stopped answering larger bulk updates (docs/database.md). */
const BATCH = 20;

interface LegacyCounters {
  _id: string;
  tenantId: string;
  deliverySuccessCount?: number | null;
  deliveryFailureCount?: number | null;
  consecutiveFailureCount?: number | null;
  failingSince?: Date | null;
  lastTriggeredAt?: Date | null;
}

const FIELDS = ['deliverySuccessCount', 'deliveryFailureCount', 'consecutiveFailureCount', 'failingSince', 'lastTriggeredAt'] as const;

function copyUpdate(w: LegacyCounters) {
  const $inc = {
    deliverySuccessCount: w.deliverySuccessCount ?? 0,
    deliveryFailureCount: w.deliveryFailureCount ?? 0,
    consecutiveFailureCount: w.consecutiveFailureCount ?? 0,
  };
  return {
    updateOne: {
      filter: { _id: w._id, tenantId: w.tenantId, legacyCopied: { $exists: false } },
      update: {
        $inc,
        $set: { legacyCopied: true },
        ...(w.failingSince ? { $min: { failingSince: w.failingSince } } : {}),
        ...(w.lastTriggeredAt ? { $max: { lastTriggeredAt: w.lastTriggeredAt } } : {}),
      },
      upsert: true,
    },
  };
}

/** Copies what is left to copy; returns how many webhooks' counters this call copied. */
export async function copyLegacyWebhookCounters(conn: Connection): Promise<number> {
  const migrations = conn.collection<{ _id: string; doneAt: Date }>('migrations');
  if (await migrations.findOne({ _id: MARKER })) return 0;
  const webhooks = conn.collection<LegacyCounters>('webhooks');
  const counters = conn.collection<{ _id: string }>('webhook_counters');
  const legacy = await webhooks
    .find({ $or: FIELDS.map((f) => ({ [f]: { $exists: true } })) }, { projection: { tenantId: 1, ...Object.fromEntries(FIELDS.map((f) => [f, 1])) } })
    .toArray();
  let copied = 0;
  for (let i = 0; i < legacy.length; i += BATCH) {
    try {
      const result = await counters.bulkWrite(legacy.slice(i, i + BATCH).map(copyUpdate), { ordered: false });
      copied += result.upsertedCount + result.modifiedCount;
    } catch (err) {
      // Already copied (by an earlier run or another process): the marked document is kept as it is.
      const { writeErrors, result } = err as { writeErrors?: { code?: number }[] | { code?: number }; result?: { upsertedCount: number; modifiedCount: number } };
      const errors = writeErrors === undefined ? [] : Array.isArray(writeErrors) ? writeErrors : [writeErrors];
      if (!errors.length || errors.some((e) => e.code !== 11000)) throw err;
      copied += (result?.upsertedCount ?? 0) + (result?.modifiedCount ?? 0);
    }
  }
  try {
    await migrations.updateOne({ _id: MARKER }, { $set: { doneAt: new Date() } }, { upsert: true });
  } catch (err) {
    // Two processes' upserts raced (FerretDB): the other one wrote the marker.
    if ((err as { code?: number }).code !== 11000) throw err;
  }
  return copied;
}
