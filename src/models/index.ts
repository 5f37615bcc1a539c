import mongoose, { type Connection } from 'mongoose';
import { apiKeyModel } from './api-key';
import { eventModel } from './event';
import { ensurePortalLinkExpiry, portalLinkModel } from './portal-link';
import { ensurePortalSessionExpiry, portalSessionModel } from './portal-session';
import { tenantModel } from './tenant';
import { webhookModel } from './webhook';

export function createModels(conn: Connection) {
  return {
    Tenant: tenantModel(conn),
    ApiKey: apiKeyModel(conn),
    Webhook: webhookModel(conn),
    Event: eventModel(conn),
    PortalLink: portalLinkModel(conn),
    PortalSession: portalSessionModel(conn),
  };
}
export type Models = ReturnType<typeof createModels>;

/** Opens a connection and builds the indexes the queries rely on. */
export async function connectMongo(uri: string): Promise<{ conn: Connection; models: Models }> {
  const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5000 }).asPromise();
  const models = createModels(conn);
  await Promise.all(Object.values(models).map((m) => m.init()));
  await Promise.all([ensurePortalLinkExpiry(models.PortalLink), ensurePortalSessionExpiry(models.PortalSession)]);
  return { conn, models };
}
