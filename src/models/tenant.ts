import { Schema, type Connection, type InferSchemaType } from 'mongoose';

const tenantSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
  },
  { timestamps: true, versionKey: false },
);

export type TenantDoc = InferSchemaType<typeof tenantSchema> & { _id: string; createdAt: Date; updatedAt: Date };

export const tenantModel = (conn: Connection) => conn.model('Tenant', tenantSchema);
