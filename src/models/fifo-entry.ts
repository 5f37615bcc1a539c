import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * A delivery waiting in a FIFO webhook's line (delivery/fifo-line.ts), until its sequencer
 * workflow has run it to its end. Inserted under a unique `_id` (the delivery id for an event's
 * delivery, a new id for a retry or resend), so a hand-over made twice is one entry: a unique
 * insert is what FerretDB 1.x makes atomic. Removed once its run has closed.
 */
const fifoEntrySchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    webhookId: { type: String, required: true },
    deliveryId: { type: String, required: true },
    eventId: { type: String, required: true },
    /** Its place in the line: the event's acceptance time; a retry's or resend's is when it was asked for. */
    acceptedAt: { type: Date, required: true },
    /** `event`: the event's delivery; `retry`: a failed delivery run again; `resend`: a delivered one sent again. */
    kind: { type: String, required: true, enum: ['event', 'retry', 'resend'] },
    /** The DeliveryWorkflow input its turn starts. */
    input: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'fifo_entries' },
);
// A webhook's line: an equality FerretDB pushes down; the line is sorted in memory (it holds only what waits).
fifoEntrySchema.index({ webhookId: 1 });

export type FifoEntryDoc = InferSchemaType<typeof fifoEntrySchema> & { _id: string };

export const fifoEntryModel = (conn: Connection) => conn.model('FifoEntry', fifoEntrySchema);
