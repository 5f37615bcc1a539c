import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * The index of deliveries: one small document per delivery (event × webhook), written in bulk a
 * page of the fan-out at a time. Lists, counts and stats read it, so they count deliveries, never
 * workflow runs. The attempts themselves (status codes, response excerpts, times) stay in
 * Temporal history, the audit log; `attempts` here is only their number. `status` moves from
 * pending/retrying to a final one once per run, by a conditional update: the webhook's counters
 * change only when that update did, so a replayed record is a no-op.
 */
const deliverySchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    webhookId: { type: String, required: true },
    eventId: { type: String, required: true },
    eventType: { type: String, required: true },
    status: { type: String, required: true, enum: ['pending', 'retrying', 'delivered', 'failed', 'canceled'] },
    attempts: { type: Number, default: 0 },
    /** Duration of the delivered attempt (for the stats' average). */
    durationMs: { type: Number, default: null },
    /** Why it failed or was canceled. */
    reason: { type: String, default: null },
    /** When the next attempt is due while retrying (before the retry's own activity is scheduled). */
    nextAttemptAt: { type: Date, default: null },
    /** The fan-out run whose history holds the first attempt, when it was made inline. */
    fanoutRunId: { type: String, default: null },
    /** A DeliveryWorkflow (same id as the delivery) holds the attempts after the first. */
    retried: { type: Boolean, default: false },
    /** Resends of this delivered delivery whose attempt was made: each is sent once. */
    resends: { type: [String], default: undefined },
    createdAt: { type: Date, required: true },
    /**
     * The hour of `createdAt` (hours since the epoch, createdHourOf): an equality FerretDB v1
     * pushes down, where it runs ranges and sorts in memory. A page of a webhook's deliveries
     * reads an hour at a time, not all of the webhook's deliveries (delivery-list.ts).
     */
    createdHour: { type: Number, required: true },
    completedAt: { type: Date, default: null },
  },
  { versionKey: false },
);
// Lists: a webhook's deliveries newest first (status filter), an event's deliveries.
deliverySchema.index({ tenantId: 1, webhookId: 1, createdAt: -1, _id: -1 });
deliverySchema.index({ tenantId: 1, eventId: 1, _id: 1 });
// Stats (last 24 h), the bulk requeue (failed ones in a time range) and the retention sweep
// (finished ones of each status older than the retention).
deliverySchema.index({ tenantId: 1, createdAt: -1, status: 1 });
deliverySchema.index({ status: 1, createdAt: -1 });
// Gone from lists with its history: the worker's retention sweep (RETENTION_DAYS) deletes a
// finished delivery that old (models/retention-sweep.ts).

const HOUR_MS = 3_600_000;

/** The `createdHour` of a delivery created at `createdAt`. */
export const createdHourOf = (createdAt: Date): number => Math.floor(createdAt.getTime() / HOUR_MS);

/** When hour `hour` (a `createdHour`) begins. */
export const hourStart = (hour: number): Date => new Date(hour * HOUR_MS);

export type DeliveryDoc = InferSchemaType<typeof deliverySchema> & { _id: string };

export const deliveryModel = (conn: Connection) => conn.model('Delivery', deliverySchema);
