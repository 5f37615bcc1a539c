import mongoose, { type Connection } from 'mongoose';
import { apiKeyModel } from './api-key';
import { deliveryModel } from './delivery';
import { backfillAcceptedHour, backfillCreatedHour } from './hour-backfill';
import { dropExpiryIndex, ensureExpiryIndex } from './expiry-index';
import { eventModel } from './event';
import { fifoEntryModel } from './fifo-entry';
import { portalLinkModel } from './portal-link';
import { portalSessionModel } from './portal-session';
import { sourceModel } from './source';
import { webhookRatePaceModel, webhookRateSendModel, webhookRateSlotModel } from './rate-slot';
import { tenantModel } from './tenant';
import { backfillTenantListFields } from './tenant-name-backfill';
import { webhookModel } from './webhook';
import { webhookCircuitClaimModel, webhookCircuitModel } from './webhook-circuit';
import { webhookCounterModel } from './webhook-counter';
import { copyLegacyWebhookCounters } from './webhook-counters-copy';

export function createModels(conn: Connection) {
  return {
    Tenant: tenantModel(conn),
    ApiKey: apiKeyModel(conn),
    Webhook: webhookModel(conn),
    WebhookCounter: webhookCounterModel(conn),
    Event: eventModel(conn),
    PortalLink: portalLinkModel(conn),
    PortalSession: portalSessionModel(conn),
    Delivery: deliveryModel(conn),
    WebhookRateSlot: webhookRateSlotModel(conn),
    WebhookRatePace: webhookRatePaceModel(conn),
    WebhookRateSend: webhookRateSendModel(conn),
    WebhookCircuit: webhookCircuitModel(conn),
    WebhookCircuitClaim: webhookCircuitClaimModel(conn),
    FifoEntry: fifoEntryModel(conn),
    Source: sourceModel(conn),
  };
}
export type Models = ReturnType<typeof createModels>;

export interface MongoConnection {
  conn: Connection;
  models: Models;
  /** False where the server has no TTL indexes (FerretDB v1): expired portal links and sessions must be swept. */
  expiresByItself: boolean;
}

/** Opens a connection, builds the indexes the queries rely on and fills the fields they read. */
export async function connectMongo(uri: string): Promise<MongoConnection> {
  const conn = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5000 });
  try {
    await conn.asPromise();
    const models = createModels(conn);
    await Promise.all(Object.values(models).map((m) => m.init()));
    const [expiresByItself] = await Promise.all([
      ensureExpiryIndex(models.PortalLink.collection),
      // Deliveries and events expire by the worker's retention sweep (models/retention-sweep.ts).
      dropExpiryIndex(models.Delivery.collection, 'createdAt'),
      ensureExpiryIndex(models.PortalSession.collection),
      // Without TTL indexes (FerretDB v1) the retention sweep deletes the expired ones.
      ensureExpiryIndex(models.WebhookRateSlot.collection),
      ensureExpiryIndex(models.WebhookRateSend.collection),
      ensureExpiryIndex(models.WebhookCircuitClaim.collection),
      backfillCreatedHour(conn),
      backfillAcceptedHour(conn),
      copyLegacyWebhookCounters(conn),
      backfillTenantListFields(conn),
    ]);
    return { conn, models, expiresByItself };
  } catch (err) {
    // A connection that came up but could not be prepared (PostgreSQL under FerretDB down) is not kept.
    await conn.close().catch(() => undefined);
    throw err;
  }
}
