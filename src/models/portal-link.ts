import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * A customer portal link not yet opened (docs/portal.md). Only the SHA-256 hash of its token is
 * stored. Opening it creates the PortalSession whose `_id` is this link's id: the primary key
 * makes a link open at most one session, on every MongoDB-wire server (FerretDB v1 has no atomic
 * find-and-modify to lean on).
 */
const portalLinkSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    /** The API key that asked for it: revoking the key ends its sessions. */
    apiKeyId: { type: String, required: true },
    readOnly: { type: Boolean, required: true },
    linkHash: { type: String, required: true, unique: true },
    expiresAt: { type: Date, required: true },
  },
  { timestamps: true, versionKey: false },
);

export type PortalLinkDoc = InferSchemaType<typeof portalLinkSchema> & { _id: string; createdAt: Date };

export const portalLinkModel = (conn: Connection) => conn.model('PortalLink', portalLinkSchema);
