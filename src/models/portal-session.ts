import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * A customer portal browser session (docs/portal.md), created when its link is opened: `_id` is
 * the link's id (one session per link). Only the SHA-256 hash of the session cookie is stored.
 */
const portalSessionSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    apiKeyId: { type: String, required: true },
    readOnly: { type: Boolean, required: true },
    sessionHash: { type: String, required: true, unique: true },
    expiresAt: { type: Date, required: true },
  },
  { timestamps: true, versionKey: false },
);

export type PortalSessionDoc = InferSchemaType<typeof portalSessionSchema> & { _id: string; createdAt: Date };

export const portalSessionModel = (conn: Connection) => conn.model('PortalSession', portalSessionSchema);
