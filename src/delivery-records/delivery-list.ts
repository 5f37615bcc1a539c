import type { DeliveryStatus } from '../delivery/types';
import type { Models } from '../models';
import { createdHourOf, hourStart, type DeliveryDoc } from '../models/delivery';

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

/** `{ $gte, $lt }` of the range [from, to), either end open. */
const timeRange = (from: Date | undefined, to: Date | undefined) => ({ ...(from && { $gte: from }), ...(to && { $lt: to }) });
const later = (a: Date | undefined, b: Date) => (a && a > b ? a : b);
const earlier = (a: Date | undefined, b: Date) => (a && a < b ? a : b);

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
 * How many hours of a webhook's deliveries are read at once (in parallel), round by round, before
 * the rest is read in one query: the first round is the next hour (clock skew) and this one; few
 * hours while a busy webhook's page is likely full, more for quieter ones. 25 hours in all.
 */
const WALK_ROUNDS = [2, 1, 2, 4, 4, 4, 4, 4];

type FindPage = (query: Record<string, unknown>, limit: number) => Promise<DeliveryDoc[]>;

/**
 * A page of one webhook's deliveries, read an hour (`createdHour`) at a time from the newest hour
 * the page may start in: an equality FerretDB v1 pushes down, so a page reads the deliveries of
 * the hours it spans, not every delivery of the webhook (FerretDB sorts and runs ranges in
 * memory). The `createdAt` range of each hour is MongoDB's index bound. A webhook too sparse to
 * fill the page in the hours of WALK_ROUNDS has its older deliveries read in one query: few of them.
 */
async function byHours(find: FindPage, query: Record<string, unknown>, filter: DeliveryFilter, want: number, after?: DeliveryPosition): Promise<DeliveryDoc[]> {
  // Without a cursor or an end, from the hour after this one: the worker stamps createdAt on
  // another machine, whose clock may be ahead.
  let hour = after ? createdHourOf(after.createdAt) : filter.until ? createdHourOf(new Date(filter.until.getTime() - 1)) : createdHourOf(new Date()) + 1;
  const lowest = filter.since ? createdHourOf(filter.since) : -Infinity;
  const found: DeliveryDoc[] = [];
  for (const size of WALK_ROUNDS) {
    if (hour < lowest || found.length >= want) break;
    const hours = Array.from({ length: size }, (_, i) => hour - i).filter((h) => h >= lowest);
    const pages = await Promise.all(
      hours.map((h) => find({ ...query, createdHour: h, createdAt: timeRange(later(filter.since, hourStart(h)), earlier(filter.until, hourStart(h + 1))) }, want - found.length)),
    );
    found.push(...pages.flat());
    hour -= hours.length;
  }
  if (found.length >= want || hour < lowest) return found.slice(0, want);
  const rest = await find({ ...query, createdAt: timeRange(filter.since, earlier(filter.until, hourStart(hour + 1))) }, want - found.length);
  return [...found, ...rest];
}

/**
 * Deliveries newest first (creation time, then id), indexed queries only: a webhook's an hour
 * at a time (byHours), an event's or a tenant's in one query.
 */
export async function listDeliveries(models: Models, filter: DeliveryFilter, limit: number, after?: DeliveryPosition): Promise<DeliveryPage> {
  const query = deliveryFilter(filter);
  if (after) {
    query.$or = [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }];
  }
  const find: FindPage = (q, n) => models.Delivery.find(q).sort({ createdAt: -1, _id: -1 }).limit(n).lean<DeliveryDoc[]>();
  const docs = filter.webhookId && !filter.eventId ? await byHours(find, query, filter, limit + 1, after) : await find(query, limit + 1);
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
