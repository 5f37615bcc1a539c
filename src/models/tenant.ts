import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/** A name as the tenant search compares it: Unicode-normalised and lower-cased (`Acme` and `ACME` match `acme`). */
export const tenantNameKey = (name: string): string => name.normalize('NFKC').toLowerCase();

const tenantSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    /** `tenantNameKey(name)`: the admin list searches it by prefix, as an index range. */
    nameKey: { type: String },
    /**
     * `live`, or `deleted` by an admin: a string, whose equality FerretDB v1 pushes down (a null
     * `deletedAt` it would not), so the admin list of live tenants reads no deleted one.
     */
    state: { type: String, enum: ['live', 'deleted'], default: 'live' },
    /**
     * When an admin deleted the tenant (null: live). Its keys, webhooks, sources and portal
     * links go at once; the record stays until the retention sweep removes it with its data.
     */
    deletedAt: { type: Date, default: null },
  },
  { timestamps: true, versionKey: false },
);
// The admin list: live tenants newest first, the id breaking ties, and the cursor a (createdAt,
// _id) position; a name search is a prefix (an index range on MongoDB) of nameKey.
tenantSchema.index({ state: 1, createdAt: -1, _id: -1 });
tenantSchema.index({ state: 1, nameKey: 1, createdAt: -1, _id: -1 });

export type TenantDoc = InferSchemaType<typeof tenantSchema> & { _id: string; createdAt: Date; updatedAt: Date };

export const tenantModel = (conn: Connection) => conn.model('Tenant', tenantSchema);
