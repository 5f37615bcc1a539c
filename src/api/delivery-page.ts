import { listDeliveries } from '../delivery-records/delivery-list';
import type { DeliveryStatus } from '../delivery/types';
import type { Models } from '../models';
import { encodeCursor, type ListPosition } from './list-cursor';

interface DeliveryListQuery {
  status?: DeliveryStatus;
  eventType?: string;
  since?: string;
  until?: string;
  limit: number;
  cursor?: ListPosition;
}

/** A page of deliveries as the deliveries lists answer it (the tenant's log, one webhook's): `{deliveries, nextCursor}`. */
export async function deliveryPage(models: Models, scope: { tenantId: string; webhookId?: string; eventId?: string }, query: DeliveryListQuery) {
  const { status, eventType, since, until, limit, cursor } = query;
  const page = await listDeliveries(
    models,
    { ...scope, status, eventType, since: since ? new Date(since) : undefined, until: until ? new Date(until) : undefined },
    limit,
    cursor,
  );
  return { deliveries: page.deliveries, nextCursor: page.next && encodeCursor(page.next) };
}
