import type { Connection } from 'mongoose';
import { isDuplicateKey } from './duplicate-key';
import { acceptedHourOf } from './event';

/**
 * Gives `acceptedHour` to events stored before it existed, once per database: the tenant's event
 * list is read an hour at a time by it, and an event without it would be missing from the list. A
 * marker in `migrations` makes later starts one `_id` lookup. Idempotent: processes starting
 * together both write the same values (as delivery-hour-backfill.ts does for deliveries).
 */
const MARKER = 'events.acceptedHour';
/** Updates per bulk write: FerretDB v1 stopped answering larger bulk updates (docs/database.md). */
const BATCH = 20;

export async function backfillAcceptedHour(conn: Connection): Promise<number> {
  const migrations = conn.collection<{ _id: string; doneAt: Date }>('migrations');
  if (await migrations.findOne({ _id: MARKER })) return 0;
  const events = conn.collection<{ _id: string; acceptedAt: Date }>('events');
  const missing = await events.find({ acceptedHour: { $exists: false } }, { projection: { acceptedAt: 1 } }).toArray();
  for (let i = 0; i < missing.length; i += BATCH) {
    await events.bulkWrite(
      missing.slice(i, i + BATCH).map((e) => ({ updateOne: { filter: { _id: e._id }, update: { $set: { acceptedHour: acceptedHourOf(e.acceptedAt) } } } })),
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
