import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * The delivery engine's counters of one webhook, in a document of their own (`_id` = the webhook's
 * id): FerretDB 1.x rewrites the whole document on every update, so counters kept in the webhook
 * document made the engine's frequent writes put back an API edit that landed meanwhile
 * (docs/database.md). The engine writes only here; the API writes only the webhook document,
 * except to reset the failing streak when a webhook is enabled again.
 *
 * No defaults: the engine upserts the document with its first change, and a missing field reads
 * as zero (counts) or null (times). `failingSince` is absent, not null, while the webhook is
 * healthy, so a failure can start a streak with `$min` in the same single update.
 */
const webhookCounterSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    deliverySuccessCount: Number,
    deliveryFailureCount: Number,
    /** Failed deliveries since the last successful one (auto-disable, see delivery/webhook-health.ts). */
    consecutiveFailureCount: Number,
    /** Start of the first failed attempt since the last successful delivery; absent while healthy. */
    failingSince: Date,
    lastTriggeredAt: Date,
    /** Set by the one-time copy of counters that older versions kept in the webhook document. */
    legacyCopied: Boolean,
  },
  { versionKey: false, collection: 'webhook_counters' },
);
// A list page's counters: `{_id: {$in}, tenantId}`; FerretDB 1.x pushes down only the tenant's equality.
webhookCounterSchema.index({ tenantId: 1, _id: 1 });

export type WebhookCounterDoc = InferSchemaType<typeof webhookCounterSchema> & { _id: string };

/** What the API shows and auto-disable reads: missing counters are zero, missing times null. */
export interface WebhookCounters {
  deliverySuccessCount: number;
  deliveryFailureCount: number;
  consecutiveFailureCount: number;
  failingSince: Date | null;
  lastTriggeredAt: Date | null;
}

export function countersOf(doc: Partial<WebhookCounterDoc> | null | undefined): WebhookCounters {
  return {
    deliverySuccessCount: doc?.deliverySuccessCount ?? 0,
    deliveryFailureCount: doc?.deliveryFailureCount ?? 0,
    consecutiveFailureCount: doc?.consecutiveFailureCount ?? 0,
    failingSince: doc?.failingSince ?? null,
    lastTriggeredAt: doc?.lastTriggeredAt ?? null,
  };
}

export const webhookCounterModel = (conn: Connection) => conn.model('WebhookCounter', webhookCounterSchema);
