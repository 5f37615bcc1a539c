import type { Connection } from 'mongoose';
import { isDuplicateKey } from './duplicate-key';
import { hourOf } from './hour-walk';

/**
 * Gives an hour field to documents stored before it existed, once per database: hot lists are
 * read an hour at a time by it (hour-walk.ts), and a document without it would be missing from
 * them. A marker in `migrations` makes later starts one `_id` lookup. Idempotent: processes
 * starting together both write the same values.
 */
interface HourField {
  collection: string;
  /** The time the hour is of. */
  timeField: string;
  hourField: string;
}

/** Updates per bulk write: FerretDB v1 stopped answering larger bulk updates (docs/database.md). */
const BATCH = 20;

async function backfillHour(conn: Connection, { collection, timeField, hourField }: HourField): Promise<number> {
  const marker = `${collection}.${hourField}`;
  const migrations = conn.collection<{ _id: string; doneAt: Date }>('migrations');
  if (await migrations.findOne({ _id: marker })) return 0;
  const docs = conn.collection<{ _id: string } & Record<string, unknown>>(collection);
  const missing = await docs.find({ [hourField]: { $exists: false } }, { projection: { [timeField]: 1 } }).toArray();
  for (let i = 0; i < missing.length; i += BATCH) {
    await docs.bulkWrite(
      missing.slice(i, i + BATCH).map((d) => ({ updateOne: { filter: { _id: d._id }, update: { $set: { [hourField]: hourOf(d[timeField] as Date) } } } })),
      { ordered: false },
    );
  }
  try {
    await migrations.updateOne({ _id: marker }, { $set: { doneAt: new Date() } }, { upsert: true });
  } catch (err) {
    // Two processes' upserts raced (FerretDB): the other one wrote the marker.
    if (!isDuplicateKey(err)) throw err;
  }
  return missing.length;
}

/** `createdHour` of deliveries (a webhook's deliveries and the tenant's delivery log). */
export const backfillCreatedHour = (conn: Connection) => backfillHour(conn, { collection: 'deliveries', timeField: 'createdAt', hourField: 'createdHour' });

/** `acceptedHour` of events (the tenant's event list). */
export const backfillAcceptedHour = (conn: Connection) => backfillHour(conn, { collection: 'events', timeField: 'acceptedAt', hourField: 'acceptedHour' });
