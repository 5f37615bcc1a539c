import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { SOURCE_TYPES } from '../sources/registry';

/** An `EncryptedSecret` of crypto/secret-box.ts. */
const encryptedSecretSchema = new Schema(
  { keyId: { type: String, required: true }, iv: { type: String, required: true }, tag: { type: String, required: true }, ciphertext: { type: String, required: true } },
  { _id: false },
);

/** A generic `hmac` source's settings (sources/verifier.ts HmacSettings). */
const hmacSettingsSchema = new Schema(
  {
    header: { type: String, required: true },
    algorithm: { type: String, enum: ['sha256', 'sha512'], required: true },
    encoding: { type: String, enum: ['hex', 'base64'], required: true },
    prefix: { type: String, default: '' },
    eventType: { type: String, required: true },
    eventTypeHeader: { type: String, default: null },
    idHeader: { type: String, default: null },
  },
  { _id: false },
);

/**
 * An inbound source: a provider (GitHub, Stripe, ...) that POSTs signed requests to the source's
 * ingest URL, each accepted as an event of the tenant. The provider's secret is sealed
 * (SecretBox). The URL's token is kept twice, never in clear: as a SHA-256 hash, the only thing
 * an ingest request is checked against (sources/ingest-token.ts), and sealed (SecretBox), so that
 * reads can show the URL. A source created before sealed tokens has `sealedToken: null`: it still
 * ingests, and its reads show `ingestUrl: null` until its URL is rotated.
 */
const sourceSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    name: { type: String, required: true },
    type: { type: String, enum: SOURCE_TYPES, required: true },
    secret: { type: encryptedSecretSchema, required: true },
    hmac: { type: hmacSettingsSchema, default: null },
    tokenHash: { type: String, required: true },
    previousTokenHash: { type: String, default: null },
    previousTokenExpiresAt: { type: Date, default: null },
    sealedToken: { type: encryptedSecretSchema, default: null },
    previousSealedToken: { type: encryptedSecretSchema, default: null },
  },
  { timestamps: true, versionKey: false },
);
sourceSchema.index({ tenantId: 1, _id: 1 });
// Listing: newest first, the id breaking ties, and the cursor a (createdAt, _id) position.
sourceSchema.index({ tenantId: 1, createdAt: -1, _id: -1 });

export type SourceDoc = InferSchemaType<typeof sourceSchema> & { _id: string; createdAt: Date; updatedAt: Date };

export const sourceModel = (conn: Connection) => conn.model('Source', sourceSchema);
