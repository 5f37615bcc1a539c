import pLimit from 'p-limit';
import type { DeliveryStatus, EventEnvelope } from '../delivery/types';
import type { Models } from '../models';
import type { EventDoc } from '../models/event';
import { walkHours, type FindPage } from '../models/hour-walk';
import { eventEnvelope } from './event-envelope';

/** How many of an event's deliveries are in each status, and in all. */
export type DeliveryCounts = Record<DeliveryStatus | 'total', number>;

/** One event as the tenant's event list shows it: the envelope receivers get, with its deliveries' counts. */
export type EventSummary = EventEnvelope & { deliveries: DeliveryCounts };

export interface EventFilter {
  tenantId: string;
  /** Events of exactly this type. */
  type?: string;
  /** Accepted at or after this time. */
  since?: Date;
  /** Accepted before this time. */
  until?: Date;
}

/** Where the previous page ended: its last event's (acceptedAt, event id). */
export interface EventPosition {
  createdAt: Date;
  id: string;
}

export interface EventPage {
  events: EventSummary[];
  /** Position of the last event when more may follow. */
  next: EventPosition | null;
}

/** Events whose deliveries are counted at once, of a page. */
const COUNT_CONCURRENCY = 10;

const STATUSES: readonly DeliveryStatus[] = ['pending', 'retrying', 'delivered', 'failed', 'canceled'];

/**
 * The counts of one event's deliveries: its statuses read by the equalities `{tenantId, eventId}`
 * (the `{tenantId, eventId, _id}` index; pushed down by FerretDB), so a page of events costs a
 * read of its own deliveries, never of the tenant's.
 */
async function deliveryCounts(models: Models, tenantId: string, eventId: string): Promise<DeliveryCounts> {
  const docs = await models.Delivery.find({ tenantId, eventId }).select({ _id: 0, status: 1 }).lean<{ status: DeliveryStatus }[]>();
  const counts = Object.fromEntries([['total', docs.length], ...STATUSES.map((s) => [s, 0])]) as DeliveryCounts;
  for (const { status } of docs) counts[status] += 1;
  return counts;
}

/**
 * A tenant's events newest first (acceptance time, then id), an hour at a time by `acceptedHour`
 * (walkHours), each with its deliveries' counts by status.
 */
export async function listEvents(models: Models, filter: EventFilter, limit: number, after?: EventPosition): Promise<EventPage> {
  const query: Record<string, unknown> = { tenantId: filter.tenantId };
  if (filter.type) query.type = filter.type;
  if (after) query.$or = [{ acceptedAt: { $lt: after.createdAt } }, { acceptedAt: after.createdAt, eventId: { $lt: after.id } }];
  const find: FindPage<EventDoc> = (q, n) => models.Event.find(q).sort({ acceptedAt: -1, eventId: -1 }).limit(n).lean<EventDoc[]>();
  const docs = await walkHours(find, query, { hourField: 'acceptedHour', timeField: 'acceptedAt', since: filter.since, until: filter.until, after: after?.createdAt }, limit + 1);
  const page = docs.slice(0, limit);
  const limitCounts = pLimit(COUNT_CONCURRENCY);
  const events = await Promise.all(page.map((e) => limitCounts(async () => ({ ...eventEnvelope(e), deliveries: await deliveryCounts(models, e.tenantId, e.eventId) }))));
  const last = page.at(-1);
  return { events, next: docs.length > limit && last ? { createdAt: last.acceptedAt, id: last.eventId } : null };
}
