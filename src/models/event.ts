import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { hourOf } from './hour-walk';

/**
 * An accepted event. Its payload is stored once here and read by each delivery attempt, so a
 * fan-out to thousands of webhooks does not copy it into thousands of workflow inputs
 * (Temporal caps payload and history sizes). `bodyHash` makes a repeated POST idempotent. The
 * document is the idempotency record too: both go RETENTION_DAYS after `acceptedAt`, once none of
 * the event's deliveries is still pending or retrying (models/retention-sweep.ts).
 */
const eventSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    eventId: { type: String, required: true },
    type: { type: String, required: true },
    /** The JSON text of `data`: stored as text so any key survives on FerretDB and MongoDB. */
    data: { type: String, required: true },
    metadata: { type: [{ name: String, value: String }], default: [] },
    bodyHash: { type: String, required: true },
    acceptedAt: { type: Date, required: true },
    /**
     * The hour of `acceptedAt` (hours since the epoch, acceptedHourOf): the tenant's event list
     * reads a page an hour at a time by this equality, which FerretDB v1 pushes down (hour-walk.ts).
     * Absent on events stored before it existed until the backfill (event-hour-backfill.ts).
     */
    acceptedHour: { type: Number },
    /**
     * The last webhook id of the fan-out's pages whose deliveries are (about to be) in the index:
     * a page that starts after it was never recorded, so the fan-out need not look for its
     * deliveries one by one (only a reset or replayed page does).
     */
    fanoutRecordedThrough: { type: String, default: null },
  },
  { versionKey: false },
);
eventSchema.index({ tenantId: 1, type: 1 });
// The tenant's event list (GET /v1/events), all of it or of one type, newest first: an hour at
// a time (acceptedHour in an index: FerretDB's launcher gives it a GIN index), then the rest.
eventSchema.index({ tenantId: 1, acceptedHour: 1, acceptedAt: -1, eventId: -1 });
eventSchema.index({ tenantId: 1, acceptedAt: -1, eventId: -1 });
eventSchema.index({ tenantId: 1, type: 1, acceptedAt: -1, eventId: -1 });
// The retention sweep's range (on MongoDB; FerretDB v1 runs ranges in memory).
eventSchema.index({ acceptedAt: 1 });

export type EventDoc = InferSchemaType<typeof eventSchema> & { _id: string };

/** The `acceptedHour` of an event accepted at `acceptedAt`. */
export const acceptedHourOf = (acceptedAt: Date): number => hourOf(acceptedAt);

/** Events of all tenants share a collection; the key keeps one tenant's ids apart from another's. */
export const eventKey = (tenantId: string, eventId: string) => `${tenantId}/${eventId}`;

export const eventModel = (conn: Connection) => conn.model('Event', eventSchema);
