import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { WEBHOOK_FORMATS } from '../connectors/render';

/** An `EncryptedSecret` of crypto/secret-box.ts. */
const encryptedSecretSchema = new Schema(
  {
    keyId: { type: String, required: true },
    iv: { type: String, required: true },
    tag: { type: String, required: true },
    ciphertext: { type: String, required: true },
  },
  { _id: false },
);

/**
 * Free-form user maps (custom headers, metadata) are stored as name/value lists: FerretDB and
 * older MongoDB refuse keys with `.` or a leading `$`, and a list keeps any key intact.
 */
const nameValueSchema = new Schema({ name: String, value: String }, { _id: false });
/** A custom header: a sensitive one's value is `sealed` (crypto/sealed-headers.ts), never `value`. */
const headerSchema = new Schema({ name: String, value: String, sealed: { type: encryptedSecretSchema, default: undefined } }, { _id: false });

/**
 * A webhook's configuration, written by the API. The delivery engine's counters live in
 * `webhook_counters` (models/webhook-counter.ts), so its frequent writes never rewrite this
 * document; the engine writes here only to disable a failing webhook.
 */
const transformationSchema = new Schema({ code: { type: String, required: true }, enabled: { type: Boolean, required: true } }, { _id: false });

const webhookSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    url: { type: String, required: true },
    events: { type: [String], required: true },
    description: { type: String, default: null },
    active: { type: Boolean, default: true },
    headers: { type: [headerSchema], default: [] },
    metadata: { type: [nameValueSchema], default: [] },
    retrySchedule: { type: [String], default: undefined },
    timeoutSeconds: { type: Number, required: true },
    /**
     * Whether attempts carry the legacy `X-Webhook-Signature` (no timestamp: replayable). New
     * webhooks: false unless asked for; absent on webhooks created before the field: sent.
     */
    legacySignature: { type: Boolean, default: undefined },
    /**
     * The payload filter (delivery/event-filter.ts) as JSON text: its keys (`data.amount`, `$gte`)
     * are what FerretDB and older MongoDB refuse as field names. Null: every event of its types.
     */
    filter: { type: String, default: null },
    /** Most requests per second to this webhook, across workers (delivery/rate-limit.ts); null: none. */
    rateLimitPerSecond: { type: Number, default: null },
    /** `fifo`: one delivery at a time, in acceptance order (workflows/fifo-sequencer-workflow.ts); absent on older webhooks: unordered. */
    ordering: { type: String, enum: ['unordered', 'fifo'], default: 'unordered' },
    /** What the body is: the envelope, or a chat service's message (connectors/render.ts); absent on older webhooks: standard. */
    format: { type: String, enum: WEBHOOK_FORMATS, default: 'standard' },
    /** JavaScript run on each attempt's request (transformations/), and whether it runs; null: none. */
    transformation: { type: transformationSchema, default: null },
    secret: { type: encryptedSecretSchema, required: true },
    previousSecret: { type: encryptedSecretSchema, default: null },
    previousSecretExpiresAt: { type: Date, default: null },
    /** Why the delivery engine disabled the webhook (410 Gone, too many failures), and when. */
    disabledReason: { type: String, default: null },
    disabledAt: { type: Date, default: null },
  },
  { timestamps: true, versionKey: false },
);
// Fan-out matching: active webhooks of a tenant whose patterns include one of the candidates.
webhookSchema.index({ tenantId: 1, active: 1, events: 1 });
webhookSchema.index({ tenantId: 1, _id: 1 });
// Listing: newest first, the id breaking ties, and the cursor a (createdAt, _id) position.
webhookSchema.index({ tenantId: 1, createdAt: -1, _id: -1 });

export type WebhookDoc = InferSchemaType<typeof webhookSchema> & { _id: string; createdAt: Date; updatedAt: Date };

export const webhookModel = (conn: Connection) => conn.model('Webhook', webhookSchema);
