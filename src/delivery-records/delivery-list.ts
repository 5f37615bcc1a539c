import type { DeliveryStatus } from '../delivery/types';
import type { Models } from '../models';
import type { DeliveryDoc } from '../models/delivery';
import { timeRange, walkHours, type FindPage } from '../models/hour-walk';

/** One delivery as lists show it: from the deliveries index alone, no history read. */
export interface DeliverySummary {
  id: string;
  eventId: string;
  eventType: string;
  webhookId: string;
  status: DeliveryStatus;
  createdAt: string;
  completedAt: string | null;
}

export interface DeliveryFilter {
  /** Always set on tenant routes; only admin operations (bulk requeue) may span tenants. */
  tenantId?: string;
  webhookId?: string;
  eventId?: string;
  eventType?: string;
  status?: DeliveryStatus;
  /** Deliveries started at or after this time. */
  since?: Date;
  /** Deliveries started before this time. */
  until?: Date;
}

/** Where the previous page ended: its last delivery's (createdAt, id). */
export interface DeliveryPosition {
  createdAt: Date;
  id: string;
}

export interface DeliveryPage {
  deliveries: DeliverySummary[];
  /** Position of the last delivery when more may follow. */
  next: DeliveryPosition | null;
}

export function deliveryFilter(filter: DeliveryFilter): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  if (filter.tenantId) query.tenantId = filter.tenantId;
  if (filter.webhookId) query.webhookId = filter.webhookId;
  if (filter.eventId) query.eventId = filter.eventId;
  if (filter.eventType) query.eventType = filter.eventType;
  if (filter.status) query.status = filter.status;
  if (filter.since || filter.until) query.createdAt = timeRange(filter.since, filter.until);
  return query;
}

/** The equalities (and cursor) of a query, its time range left to the hour walk. */
function withoutTime(query: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...query };
  delete rest.createdAt;
  return rest;
}

export function deliverySummary(doc: DeliveryDoc): DeliverySummary {
  return {
    id: doc._id,
    eventId: doc.eventId,
    eventType: doc.eventType,
    webhookId: doc.webhookId,
    status: doc.status as DeliveryStatus,
    createdAt: doc.createdAt.toISOString(),
    completedAt: doc.completedAt?.toISOString() ?? null,
  };
}

/**
 * Deliveries newest first (creation time, then id), indexed queries only: a tenant's (all of
 * them, or a webhook's, or of a status) an hour at a time by `createdHour` (walkHours: FerretDB
 * v1 reads the hours a page spans, not every delivery of the tenant), an event's in one query
 * (at most one per webhook), and the admin's across tenants in one query.
 */
export async function listDeliveries(models: Models, filter: DeliveryFilter, limit: number, after?: DeliveryPosition): Promise<DeliveryPage> {
  const query = deliveryFilter(filter);
  if (after) {
    query.$or = [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }];
  }
  const find: FindPage<DeliveryDoc> = (q, n) => models.Delivery.find(q).sort({ createdAt: -1, _id: -1 }).limit(n).lean<DeliveryDoc[]>();
  const docs =
    filter.tenantId && !filter.eventId
      ? await walkHours(find, withoutTime(query), { hourField: 'createdHour', timeField: 'createdAt', since: filter.since, until: filter.until, after: after?.createdAt }, limit + 1)
      : await find(query, limit + 1);
  const page = docs.slice(0, limit);
  const last = page.at(-1);
  return {
    deliveries: page.map(deliverySummary),
    next: docs.length > limit && last ? { createdAt: last.createdAt, id: last._id } : null,
  };
}

/** How many deliveries match `filter`. */
export function countDeliveries(models: Models, filter: DeliveryFilter): Promise<number> {
  return models.Delivery.countDocuments(deliveryFilter(filter));
}
