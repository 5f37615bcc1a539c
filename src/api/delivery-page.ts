import type { z } from 'zod';
import { listDeliveries } from '../delivery-records/delivery-list';
import type { Models } from '../models';
import { encodeCursor } from './list-cursor';
import type { webhookDeliveriesQuerySchema } from './schemas/delivery';

/** The fields every deliveries list takes (the tenant's log adds its scope's). */
type DeliveryListQuery = z.infer<typeof webhookDeliveriesQuerySchema>;

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
