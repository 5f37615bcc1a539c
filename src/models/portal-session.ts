import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * A customer portal session (docs/portal.md). It starts as an unopened single-use link and
 * becomes a browser session when the link is opened. Only SHA-256 hashes of the link token and
 * of the session cookie are stored. `expiresAt` is the link's expiry until it is opened, then the
 * session's; every read checks it, and the TTL index only sweeps expired records away (FerretDB
 * v1 keeps TTL indexes without enforcing them, which is why the read checks it too).
 */
const portalSessionSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    /** The API key that asked for it: revoking the key ends its sessions. */
    apiKeyId: { type: String, required: true },
    readOnly: { type: Boolean, required: true },
    linkHash: { type: String, required: true, unique: true },
    sessionHash: { type: String, default: null, index: true },
    openedAt: { type: Date, default: null },
    expiresAt: { type: Date, required: true, index: { expireAfterSeconds: 0 } },
  },
  { timestamps: true, versionKey: false },
);

export type PortalSessionDoc = InferSchemaType<typeof portalSessionSchema> & { _id: string; createdAt: Date };

export const portalSessionModel = (conn: Connection) => conn.model('PortalSession', portalSessionSchema);
