import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * One send slot of a rate-limited webhook (delivery/rate-limit.ts), reserved by inserting it:
 * `_id` = `<webhook id>:<rate>:<slot number>`, so of any number of processes reserving the same
 * slot exactly one insert succeeds (a unique key is what FerretDB 1.x, whose updates are
 * read-modify-write, makes atomic). `deliveryId` is the delivery it is kept for until it sends.
 */
const webhookRateSlotSchema = new Schema(
  {
    _id: { type: String, required: true },
    webhookId: { type: String, required: true },
    deliveryId: { type: String, required: true },
    /** When the slot's request may leave, epoch milliseconds. */
    at: { type: Number, required: true },
    expiresAt: { type: Date, required: true },
    /** Set just before the request is sent in the slot by a worker that scheduled it: another worker settling it knows an attempt was made. */
    sentAt: { type: Date },
  },
  { versionKey: false, collection: 'webhook_rate_slots' },
);
// A delivery coming back for the slot it kept.
webhookRateSlotSchema.index({ deliveryId: 1 });

export type WebhookRateSlotDoc = InferSchemaType<typeof webhookRateSlotSchema> & { _id: string };

export const webhookRateSlotModel = (conn: Connection) => conn.model('WebhookRateSlot', webhookRateSlotSchema);

/**
 * The send of a slot's request, claimed by inserting it (`_id` = the slot's id) just before it
 * leaves: a first attempt scheduled for its slot in two processes at once (its fan-out's batch made
 * again after a lost workflow task finds the slot its delivery kept) leaves from the one whose
 * insert succeeds.
 */
const webhookRateSendSchema = new Schema(
  {
    _id: { type: String, required: true },
    sentAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'webhook_rate_sends' },
);

export const webhookRateSendModel = (conn: Connection) => conn.model('WebhookRateSend', webhookRateSendSchema);

/**
 * Where a rate-limited webhook's reservations have got to (`_id` = its id; `nextAt`, epoch ms, the
 * slot after the last reserved): only a hint to start looking from, so a lost update (FerretDB)
 * costs a few more inserts, never a shared slot.
 */
const webhookRatePaceSchema = new Schema(
  {
    _id: { type: String, required: true },
    nextAt: { type: Number, required: true },
  },
  { versionKey: false, collection: 'webhook_rate_pace' },
);

export const webhookRatePaceModel = (conn: Connection) => conn.model('WebhookRatePace', webhookRatePaceSchema);
