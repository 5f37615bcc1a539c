import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import type { FinalOutcome } from '../delivery/types';
import { hourOf, hourStart } from './hour-walk';

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
    /**
     * Held by its fan-out (its first attempt's request in flight, or scheduled for a rate-limit
     * slot): while `pending` with this set, its fan-out is still to settle it, so a rerun of that
     * fan-out hands it to its workflow instead of skipping it as recorded.
     */
    held: { type: Boolean, default: undefined },
    /** Resends of this delivered delivery whose attempt was made: each is sent once. */
    resends: { type: [String], default: undefined },
    /**
     * A retried attempt the receiver answered 2xx, kept the moment the answer came: an activity
     * whose result never reached Temporal (its worker died, or the server timed it out) finds it,
     * and the delivery ends delivered instead of on the next attempts' answers.
     */
    answered: { type: Schema.Types.Mixed, default: undefined },
    /**
     * The inline first attempt's record (its response excerpt left out), written with the page's
     * record inside the local activity that made it: when that workflow task never completed (its
     * worker died), the fan-out's next try finds the delivery recorded and sends nothing, so its
     * history never holds the attempt, and the audit log reads it here.
     */
    firstAttempt: { type: Schema.Types.Mixed, default: undefined },
    createdAt: { type: Date, required: true },
    /**
     * The hour of `createdAt` (hours since the epoch, createdHourOf): an equality FerretDB v1
     * pushes down, where it runs ranges and sorts in memory. A page of a webhook's deliveries
     * reads an hour at a time, not all of the webhook's deliveries (delivery-list.ts).
     */
    createdHour: { type: Number, required: true },
    completedAt: { type: Date, default: null },
    /** What the webhook's counters count this delivery as: `delivered`, `failed`, or null (neither). Absent before it was kept. */
    counted: { type: String, default: undefined },
    /** The outbox: what the last status change still owes (counters, auto-disable, operational events), until all of it is done. */
    effects: { type: Schema.Types.Mixed, default: undefined },
    /** Which record wrote `effects` (the run of a retried delivery's, a hash for a page's): its clear is conditional on it, and a page's clears its own in one update. */
    effectsKey: { type: String, default: undefined },
  },
  { versionKey: false },
);
// Lists: a webhook's deliveries newest first (status filter), an event's deliveries.
deliverySchema.index({ tenantId: 1, webhookId: 1, createdAt: -1, _id: -1 });
deliverySchema.index({ tenantId: 1, eventId: 1, _id: 1 });
// The tenant's delivery log (GET /v1/deliveries), all of it or of one status, newest first: an
// hour at a time (createdHour is in an index so that FerretDB's launcher gives it a GIN index,
// which PostgreSQL combines with the tenant's: an hour's rows, not the tenant's), then the rest.
deliverySchema.index({ tenantId: 1, createdHour: 1, createdAt: -1, _id: -1 });
deliverySchema.index({ tenantId: 1, createdAt: -1, _id: -1 });
deliverySchema.index({ tenantId: 1, status: 1, createdAt: -1, _id: -1 });
// Stats (last 24 h), the bulk requeue (failed ones in a time range) and the retention sweep
// (finished ones of each status older than the retention).
deliverySchema.index({ tenantId: 1, createdAt: -1, status: 1 });
deliverySchema.index({ status: 1, createdAt: -1 });
// Gone from lists with its history: the worker's retention sweep (RETENTION_DAYS) deletes a
// finished delivery that old (models/retention-sweep.ts).

/** The `createdHour` of a delivery created at `createdAt`. */
export const createdHourOf = (createdAt: Date): number => hourOf(createdAt);

/** When hour `hour` (a `createdHour`) begins. */
export { hourStart };

export type DeliveryDoc = Omit<InferSchemaType<typeof deliverySchema>, 'counted' | 'effects' | 'effectsKey'> & { _id: string; counted?: Counted | null; effects?: PendingEffects | null; effectsKey?: string | null };

/** How a delivery counts on its webhook's counters: each delivery once, by its current final status. */
export type Counted = 'delivered' | 'failed';

/** The counter a delivery that ended so counts in (a canceled one counts in none). */
export const countedAs = (outcome: FinalOutcome): Counted | null => (outcome === 'delivered' ? 'delivered' : outcome === 'canceled' ? null : 'failed');

/** What counters counted a delivery indexed before `counted` was kept as: its final status. */
export const countedOf = (doc: Pick<DeliveryDoc, 'status' | 'counted'>): Counted | null =>
  doc.counted !== undefined ? doc.counted : doc.status === 'delivered' || doc.status === 'failed' ? doc.status : null;

/**
 * The side effects a delivery's status change owes, written with that change (the outbox) and
 * cleared once all are done: a record that fails midway redoes them from here, each idempotent.
 */
export interface PendingEffects {
  /** The run that recorded the change: the ledger key of its counter change and its operational events' ids derive from it. */
  runId: string;
  outcome: FinalOutcome;
  /** What the counters counted the delivery as before the change: the count moves from there. */
  from: Counted | null;
  attempts: number;
  lastError: string | null;
  /** Start of the delivery's first attempt (ISO 8601): a failing streak begins there. */
  firstAttemptAt: string | null;
  /** When the change was recorded. */
  at: Date;
  /** Auto-disable's decision, kept before the webhook is disabled so a redo sends its event once. */
  disable?: { rule: string; reason: string; at: Date };
}

export const deliveryModel = (conn: Connection) => conn.model('Delivery', deliverySchema);
