import type { Connection } from 'mongoose';
import { createdHourOf } from './delivery';
import { isDuplicateKey } from './duplicate-key';

/**
 * Gives `createdHour` to deliveries indexed before it existed, once per database: a webhook's
 * deliveries are listed an hour at a time by it, and one without it would be missing from its
 * list. A marker in `migrations` makes later starts one `_id` lookup. Idempotent: processes
 * starting together both write the same values.
 */
const MARKER = 'deliveries.createdHour';
/** Updates per bulk write: FerretDB v1 stopped answering larger bulk updates (docs/database.md). */
const BATCH = 20;

export async function backfillCreatedHour(conn: Connection): Promise<number> {
  const migrations = conn.collection<{ _id: string; doneAt: Date }>('migrations');
  if (await migrations.findOne({ _id: MARKER })) return 0;
  const deliveries = conn.collection<{ _id: string; createdAt: Date }>('deliveries');
  const missing = await deliveries.find({ createdHour: { $exists: false } }, { projection: { createdAt: 1 } }).toArray();
  for (let i = 0; i < missing.length; i += BATCH) {
    await deliveries.bulkWrite(
      missing.slice(i, i + BATCH).map((d) => ({ updateOne: { filter: { _id: d._id }, update: { $set: { createdHour: createdHourOf(d.createdAt) } } } })),
      { ordered: false },
    );
  }
  try {
    await migrations.updateOne({ _id: MARKER }, { $set: { doneAt: new Date() } }, { upsert: true });
  } catch (err) {
    // Two processes' upserts raced (FerretDB): the other one wrote the marker.
    if (!isDuplicateKey(err)) throw err;
  }
  return missing.length;
}
