import { Schema, type Connection } from 'mongoose';

/** A tenant's API key: only its lookup part and its hash are stored, never the key. */
const apiKeySchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true, index: true },
    lookup: { type: String, required: true, unique: true },
    hash: { type: String, required: true },
    revokedAt: { type: Date, default: null },
  },
  { timestamps: true, versionKey: false },
);

export const apiKeyModel = (conn: Connection) => conn.model('ApiKey', apiKeySchema);
